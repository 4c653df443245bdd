"""Every refusal: its exception class (one per error group, rooted at zfc.ZfcError), its
shared code and name (the numbers C and Kotlin report), and that it changed nothing."""

from __future__ import annotations

from typing import Any, Callable, Dict, Tuple, Type

import pytest

import zfc
from harness import Net, weak_config

CODES: Dict[str, Tuple[int, str]] = {name: (code, group) for code, name, group, _ in zfc.error_codes()}
GROUP_CLASS: Dict[str, Type[zfc.ZfcError]] = {
    "PeerMisbehaved": zfc.PeerMisbehavedError,
    "ApiMisuse": zfc.ApiMisuseError,
    "Invite": zfc.InviteError,
    "RoomGone": zfc.RoomGoneError,
    "LocalState": zfc.LocalStateError,
    "Link": zfc.LinkError,
    "RelayRefused": zfc.RelayRefusedError,
    "Closed": zfc.ConnectionClosedError,
}


def refused(call: Callable[[], Any], name: str) -> zfc.ZfcError:
    """`call` raises the class of `name`'s group, with `name`'s code."""
    code, group = CODES[name]
    cls = zfc.ClosedError if name == "CLOSED" else GROUP_CLASS[group]
    with pytest.raises(cls) as info:
        call()
    err = info.value
    assert isinstance(err, zfc.ZfcError)
    assert (err.code, err.name) == (code, name), str(err)
    assert name in str(err) and str(code) in str(err)
    return err


def quiet(client: zfc.Client) -> None:
    assert client.poll_save() is None, "a refused call saved nothing"
    assert client.poll_transmit() is None, "a refused call sent nothing"
    assert client.poll_event() is None, "a refused call said nothing"


def settled() -> Tuple[Net, bytes, str]:
    """A room of alice's with bob in it and carol removed, everything settled."""
    net = Net()
    alice, bob, carol = net.add(1), net.add(2), net.add(3)
    room = net.client(alice).create_room(net.address, zfc.RoomSettings(auto_approve=True))
    net.run()
    invite = net.client(alice).invite(room, 3600)
    for peer, name in ((bob, "bob"), (carol, "carol")):
        net.client(peer).join_room(net.client(alice).invite(room, 3600), name)
        net.run()
    net.client(alice).remove_member(room, 2)
    net.run()
    for p in (alice, bob, carol):
        net.take(p)
    return net, room, invite


def test_the_exception_hierarchy() -> None:
    for cls in GROUP_CLASS.values():
        assert issubclass(cls, zfc.ZfcError) and issubclass(cls, Exception)
        assert cls.__module__ == "zfc", cls
    assert issubclass(zfc.ClosedError, zfc.ApiMisuseError)
    assert {group for _, group in CODES.values()} <= set(GROUP_CLASS), "a class for every group"


def test_room_calls_refuse_with_the_shared_codes_and_change_nothing() -> None:
    net, room, invite = settled()
    alice, bob, carol = net.client(0), net.client(1), net.client(2)
    for c in (alice, bob, carol):
        quiet(c)
    refused(lambda: alice.room_info(b"\x01\x02\x03"), "INVALID_ARGUMENT")
    refused(lambda: alice.room_info(bytes(16)), "NO_SUCH_ROOM")
    refused(lambda: alice.send_text(bytes(16), "x"), "NO_SUCH_ROOM")
    refused(lambda: bob.invite(room, 60), "NOT_OWNER")
    refused(lambda: bob.remove_member(room, 0), "NOT_OWNER")
    refused(lambda: alice.update_key(room), "INVALID_ARGUMENT")
    refused(lambda: alice.approve_join(room, bytes([5]) * 32), "NO_SUCH_JOIN")
    refused(lambda: alice.approve_join(room, bytes(3)), "INVALID_ARGUMENT")
    refused(lambda: alice.fingerprint(room, 99), "NO_SUCH_MEMBER")
    refused(lambda: bob.join_room(invite, "again"), "ROOM_EXISTS")
    refused(lambda: bob.join_room("zfc://join?nonsense", "x"), "BAD_INVITE")
    refused(lambda: bob.join_room("\x00" * 5000, "x"), "BAD_INVITE")
    refused(lambda: bob.send_text(room, "x" * 70_000), "MESSAGE_TOO_LONG")
    refused(lambda: bob.send(room, zfc.Content.DisplayName(name="n" * 1000)), "MESSAGE_TOO_LONG")
    refused(lambda: carol.send_text(room, "still here?"), "REMOVED")
    refused(lambda: carol.leave(room), "REMOVED")
    refused(lambda: alice.state_saved(1_000_000), "INVALID_ARGUMENT")
    refused(lambda: alice.handle_connected(424_242, 0), "INVALID_ARGUMENT")
    refused(lambda: alice.set_admission_token(net.address, bytes(5)), "INVALID_ARGUMENT")
    refused(lambda: alice.change_passphrase(b"not it", b"new"), "WRONG_PASSWORD")
    for c in (alice, bob, carol):
        quiet(c)
    alice.delete_room(room)
    net.run()
    refused(lambda: net.client(0).invite(room, 60), "ROOM_DELETED")
    refused(lambda: net.client(1).send_text(room, "anyone?"), "ROOM_DELETED")


def test_numbers_out_of_range_raise_overflow_not_a_wrong_call() -> None:
    net, room, _ = settled()
    with pytest.raises(OverflowError):
        net.client(0).remove_member(room, -1)
    with pytest.raises(OverflowError):
        net.client(0).remove_member(room, 2**32)
    with pytest.raises(TypeError):
        net.client(0).send_text(room, b"bytes are not text")  # type: ignore[arg-type]
    quiet(net.client(0))


def test_opening_and_creating_refuse_with_the_shared_codes() -> None:
    weak = weak_config(1)
    client = zfc.Client.create(b"pass", config=weak)
    save = client.poll_save()
    assert save is not None
    refused(lambda: zfc.Client.open(save.bytes, b"wrong", config=weak), "WRONG_PASSWORD")
    refused(lambda: zfc.Client.open(b"not a state", b"pass", config=weak), "STATE_MALFORMED")
    refused(lambda: zfc.Client.open(save.bytes[: len(save.bytes) // 2], b"pass", config=weak), "STATE_MALFORMED")
    damaged = bytearray(save.bytes)
    # Inside the sealed manifest (header 33 bytes, nonce 24, length 4): the AEAD refuses it,
    # which a wrong passphrase and damage both are.
    damaged[33 + 24 + 4 + 1] ^= 1
    err = refused(lambda: zfc.Client.open(bytes(damaged), b"pass", config=weak), "WRONG_PASSWORD")
    assert isinstance(err, zfc.LocalStateError)
    unsafe = zfc.ClientConfig(kdf=zfc.Argon2Params(m_cost_kib=8, t_cost=1, p_cost=1))
    refused(lambda: zfc.Client.create(b"pass", config=unsafe), "WEAK_KDF")
    refused(lambda: zfc.Client.create(b"pass", config=zfc.ClientConfig(seed_for_tests=bytes(3))), "INVALID_ARGUMENT")
    refused(lambda: zfc.RelayAddress("http://relay", bytes(32)), "INVALID_ARGUMENT")
    refused(lambda: zfc.RelayAddress("ws://relay", bytes(31)), "INVALID_ARGUMENT")


def test_a_closed_client_refuses_every_call() -> None:
    net, room, _ = settled()
    alice = net.client(0)
    with alice as same:
        assert same is alice
    assert alice.closed
    alice.close()  # twice is fine
    for call in (
        alice.rooms,
        lambda: alice.room_info(room),
        lambda: alice.send_text(room, "x"),
        lambda: alice.invite(room, 60),
        alice.poll_save,
        alice.poll_transmit,
        alice.poll_event,
        lambda: alice.handle_bytes(1, b"x", 0),
        lambda: alice.handle_timeout(0),
        alice.next_timeout,
        lambda: alice.change_passphrase(b"pass", b"new"),
    ):
        refused(call, "CLOSED")
    assert "closed" in repr(alice)


def test_junk_from_a_socket_drops_the_socket_not_the_client() -> None:
    net, room, _ = settled()
    bob = 1
    net.client(bob).handle_bytes(1, b"\xff" * 40, net.now_ms)
    net.run()
    assert any(isinstance(e, zfc.ClientEvent.Disconnected) for e in net.take(bob))
    net.advance(1_000)
    net.client(bob).send_text(room, "back")
    net.run()
    assert net.texts(0, room)[-1] == "back"


def test_the_table_is_whole_and_ordered() -> None:
    rows = zfc.error_codes()
    assert [r[0] for r in rows] == sorted({r[0] for r in rows}), "unique codes, ascending"
    assert CODES["CLOSED"][1] == "ApiMisuse" and CODES["WRONG_PASSWORD"] == (300, "LocalState")
