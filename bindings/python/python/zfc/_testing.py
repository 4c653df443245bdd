"""What the package's own tests use (an in-process relay, vector hooks); never an app's path."""

from ._zfc import _testing as _native

Relay = _native.Relay
open_message = _native.open_message
open_sealed_state = _native.open_sealed_state
decode_content = _native.decode_content
encode_content = _native.encode_content
bench_send_receive = _native.bench_send_receive
bench_calls = _native.bench_calls

__all__ = ["Relay", "bench_calls", "bench_send_receive", "decode_content", "encode_content", "open_message", "open_sealed_state"]
