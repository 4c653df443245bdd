"""What the package's own tests use (an in-process relay, vector hooks); never an app's path."""

from ._zfc import _testing as _native

Relay = _native.Relay
open_message = _native.open_message
open_sealed_state = _native.open_sealed_state
decode_content = _native.decode_content
encode_content = _native.encode_content

__all__ = ["Relay", "decode_content", "encode_content", "open_message", "open_sealed_state"]
