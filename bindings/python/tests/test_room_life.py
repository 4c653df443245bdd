"""A whole room life in process: owner, two members, a removal, a rotation, history for a
newcomer, crashes and restores; every client driven through its public loop."""

from __future__ import annotations

from typing import List

import pytest

import zfc
from harness import Net


def landed(events: List[zfc.ClientEvent], room: bytes, op: zfc.RoomOperation) -> bool:
    return any(isinstance(e, zfc.ClientEvent.OperationLanded) and e.room == room and e.op == op for e in events)


@pytest.mark.parametrize("per_room", [False, True])
def test_room_life(per_room: bool) -> None:
    net = Net()
    alice, bob, carol = (net.add(s, connection_per_room=per_room) for s in (1, 2, 3))
    a = net.client(alice)

    r1 = a.create_room(net.address)
    r2 = a.create_room(net.address, zfc.RoomSettings(auto_approve=True))
    assert len(r1) == 16 and r1 != r2
    net.run()
    ev = net.take(alice)
    assert landed(ev, r1, zfc.RoomOperation.CreateRoom()) and landed(ev, r2, zfc.RoomOperation.CreateRoom())

    for peer, name in ((bob, "bob"), (carol, "carol")):
        for room in (r1, r2):
            assert net.client(peer).join_room(a.invite(room, ttl_secs=3600), name) == room
    net.run()
    asks = [e for e in net.take(alice) if isinstance(e, zfc.ClientEvent.JoinRequested) and e.room == r1]
    assert sorted(e.name for e in asks) == ["bob", "carol"], "the room that asks names each joiner"
    for e in asks:
        assert len(e.fingerprint) > 0
        a.approve_join(r1, e.joiner)
    net.run()
    for peer in (bob, carol):
        ev = net.take(peer)
        for room in (r1, r2):
            assert any(isinstance(e, zfc.ClientEvent.Joined) and e.room == room for e in ev)
            assert net.client(peer).room_info(room).role == zfc.RoomRole.MEMBER
    assert a.room_info(r1).members == [0, 1, 2]
    assert a.fingerprint(r1, 1) == net.client(bob).fingerprint(r1, 1), "both sides see one fingerprint"

    local_id = net.client(bob).send_text(r1, "hello r1")
    net.client(carol).send(r2, zfc.Content.Text(body="hello r2"))
    net.run()
    for peer in (alice, bob, carol):
        assert net.texts(peer, r1) == ["hello r1"]
        assert net.texts(peer, r2) == ["hello r2"]
    assert any(isinstance(e, zfc.ClientEvent.MessageSent) and e.local_id == local_id for e in net.peers[bob].events)
    msg = next(e.message for e in net.peers[alice].events if isinstance(e, zfc.ClientEvent.Message) and e.room == r1)
    assert msg.sender == 1 and msg.claimed_sent_at_ms == net.now_ms and not msg.from_history

    # Removal: carol is out of r1 and still in r2; what follows in r1 she cannot read.
    a.remove_member(r1, 2)
    net.run()
    assert landed(net.peers[alice].events, r1, zfc.RoomOperation.Remove(member=2))
    assert any(isinstance(e, zfc.ClientEvent.RemovedFromRoom) and e.room == r1 for e in net.peers[carol].events)
    assert net.client(carol).room_info(r1).role == zfc.RoomRole.GONE
    with pytest.raises(zfc.RoomGoneError) as gone:
        net.client(carol).send_text(r1, "still here?")
    assert gone.value.name == "REMOVED"
    net.client(bob).send_text(r1, "carol cannot read this")
    net.client(bob).send_text(r2, "carol reads this")
    net.run()
    assert net.texts(carol, r1) == ["hello r1"]
    assert net.texts(carol, r2) == ["hello r2", "carol reads this"]
    assert net.texts(alice, r1) == ["hello r1", "carol cannot read this"]

    # A rotation and a leave land.
    a.rotate(r2)
    net.client(bob).leave(r2)
    net.run()
    assert landed(net.peers[alice].events, r2, zfc.RoomOperation.Rotate())
    assert landed(net.peers[bob].events, r2, zfc.RoomOperation.Leave())
    assert any(
        isinstance(e, zfc.ClientEvent.EpochChanged) and e.room == r2 and e.change == zfc.EpochChange.Rotation()
        for e in net.peers[carol].events
    )


def test_a_newcomer_reads_history_by_the_rooms_policy() -> None:
    net = Net()
    alice, bob, dave = net.add(1), net.add(2), net.add(4)
    a = net.client(alice)
    open_room = a.create_room(net.address, zfc.RoomSettings(auto_approve=True))
    closed_room = a.create_room(
        net.address, zfc.RoomSettings(auto_approve=True, history=zfc.HistoryPolicy.SINCE_JOIN)
    )
    assert zfc.RoomSettings().history == zfc.HistoryPolicy.SINCE_LAST_EPOCH
    net.run()
    for room in (open_room, closed_room):
        net.client(bob).join_room(a.invite(room), "bob")
    net.run()
    for room in (open_room, closed_room):
        net.client(bob).send_text(room, "before dave")
    net.run()
    for room in (open_room, closed_room):
        net.client(dave).join_room(a.invite(room), "dave")
    net.run()
    for room in (open_room, closed_room):
        net.client(dave).fetch_history(room, limit=50)
    net.run()
    assert net.texts(dave, open_room) == ["before dave"]
    assert net.texts(dave, closed_room) == []
    read = [e.message for e in net.peers[dave].events if isinstance(e, zfc.ClientEvent.Message)]
    assert read and all(m.from_history for m in read)
    assert any(isinstance(e, zfc.ClientEvent.HistoryDone) for e in net.peers[dave].events)


def test_a_client_restored_from_its_last_save_carries_on() -> None:
    net = Net()
    alice, bob = net.add(1), net.add(2)
    room = net.client(alice).create_room(net.address, zfc.RoomSettings(auto_approve=True))
    net.run()
    net.client(bob).join_room(net.client(alice).invite(room), "bob")
    net.run()
    net.client(bob).send_text(room, "one")
    net.run()
    net.crash(bob)
    net.crash(alice)
    net.run()
    assert net.client(bob).rooms() == [room]
    net.client(bob).send_text(room, "two")
    net.run()
    assert net.texts(alice, room) == ["one", "two"]
    # A wrong passphrase opens nothing and says so with the shared code.
    with pytest.raises(zfc.LocalStateError) as wrong:
        zfc.Client.open(net.peers[bob].saved or b"", b"not the passphrase", config=net.peers[bob].config)
    assert (wrong.value.code, wrong.value.name) == (300, "WRONG_PASSWORD")
