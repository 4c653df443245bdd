"""The spec's vectors (spec/vectors/), read from the JSON: invites, the fingerprint, the sealed
state envelope and sealed messages (the last two through zfc._testing: no API opens them),
and the content envelopes as events carry them."""

from __future__ import annotations

import json
import pathlib
from typing import Any, Dict, List

import pytest

import zfc
from zfc import _testing

VECTORS = pathlib.Path(__file__).resolve().parents[3] / "spec" / "vectors"


def load(name: str) -> List[Dict[str, str]]:
    doc: Dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    vectors: List[Dict[str, str]] = doc["vectors"]
    assert vectors, name
    return vectors


INVITES = load("invites.json")


@pytest.mark.parametrize("v", [v for v in INVITES if not v["error"]], ids=lambda v: v["name"])
def test_valid_invites_give_their_fields(v: Dict[str, str]) -> None:
    i = zfc.parse_invite(v["uri"])
    assert i.room.hex() == v["room_id"]
    assert i.owner_sign_key.hex() == v["owner_sign_pk"]
    assert i.owner_kx_key.hex() == v["owner_kx_pk"]
    assert i.salt.hex() == v["salt"]
    assert i.invite_key.hex() == v["invite_pk"]
    assert i.expires_at_secs == int(v["expires_at"])
    assert i.relay_url == v["relay_addr"]
    assert i.relay_key.hex() == v["relay_pk"]
    assert v["token"] not in repr(i), "the token is the invite's secret"


@pytest.mark.parametrize("v", [v for v in INVITES if v["error"]], ids=lambda v: v["name"])
def test_refused_invites_raise_invite_error(v: Dict[str, str]) -> None:
    assert v["error"] == "BadInvite"
    with pytest.raises(zfc.InviteError) as info:
        zfc.parse_invite(v["uri"])
    assert info.value.name == "BAD_INVITE"


def test_every_invite_vector_was_read() -> None:
    assert len(INVITES) >= 10 and any(not v["error"] for v in INVITES) and any(v["error"] for v in INVITES)


def test_the_fingerprint() -> None:
    (v,) = [v for v in load("derivations.json") if v["name"] == "fingerprint"]
    got = zfc.fingerprint(bytes.fromhex(v["room_id"]), bytes.fromhex(v["sign_pk"]))
    assert got == v["fingerprint"]
    with pytest.raises(zfc.ApiMisuseError):
        zfc.fingerprint(bytes(15), bytes(32))


@pytest.mark.parametrize("v", load("state.json"), ids=lambda v: v["name"])
def test_the_sealed_state_envelope_opens(v: Dict[str, str]) -> None:
    sealed = bytes.fromhex(v["sealed"])
    assert _testing.open_sealed_state(sealed, v["password"].encode()) == bytes.fromhex(v["plaintext"])
    with pytest.raises(zfc.LocalStateError) as wrong:
        _testing.open_sealed_state(sealed, b"not the password")
    assert wrong.value.name == "WRONG_PASSWORD"


@pytest.mark.parametrize("v", load("messages.json"), ids=lambda v: v["name"] + " " + v["padded_len"])
def test_sealed_messages_open(v: Dict[str, str]) -> None:
    frame = bytes.fromhex(v["frame"])
    key, signer = bytes.fromhex(v["message_key"]), bytes.fromhex(v["sender_sign_pk"])
    room, epoch, sender, seq, nonce, aad, padded_len, content = _testing.open_message(frame, key, signer)
    assert (room.hex(), epoch, sender, seq, nonce.hex()) == (
        v["room_id"],
        int(v["epoch"]),
        int(v["sender"]),
        int(v["seq"]),
        v["nonce"],
    )
    assert aad.hex() == v["aad"] and padded_len == int(v["padded_len"])
    assert content.hex() == v["content"]
    flipped = bytearray(frame)
    flipped[-70] ^= 1  # inside the ciphertext: the signature no longer verifies
    with pytest.raises(zfc.PeerMisbehavedError):
        _testing.open_message(bytes(flipped), key, signer)
    with pytest.raises(zfc.PeerMisbehavedError):
        _testing.open_message(frame, bytes(32), signer)


@pytest.mark.parametrize("v", load("content.json"), ids=lambda v: v["name"])
def test_content_envelopes_decode_and_encode(v: Dict[str, str]) -> None:
    """Content bytes decode to the vector's content as events carry it; an envelope encodes
    back to the same bytes."""
    data = bytes.fromhex(v["bytes"])
    content, claimed = _testing.decode_content(data)
    expected: zfc.Content
    if v["content"] == "text":
        expected = zfc.Content.Text(body=v["text"])
    elif v["content"] == "display name":
        expected = zfc.Content.DisplayName(name=v["display_name"])
    elif v["content"] == "topic":
        expected = zfc.Content.Topic(topic=v["topic"])
    elif v["content"] == "other":
        expected = zfc.Content.Other(type_code=int(v["type_code"]), body=bytes.fromhex(v["body"]))
    else:
        assert v["content"] == "not an envelope"
        assert content == zfc.Content.NotEnvelope(bytes=data) and claimed is None
        return
    assert content == expected
    sent_at = int(v["sent_at_ms"])
    assert claimed == (sent_at or None)
    assert _testing.encode_content(expected, claimed) == data
