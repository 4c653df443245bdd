"""End to end: zfc.aio clients against a zfc-relay process on a loopback port. Three clients
chat, one is removed and reads nothing after, the relay restarts mid-conversation and nothing
acknowledged is lost, a client restored from its saved state carries on, and a second process
cannot take a state directory in use."""

from __future__ import annotations

import asyncio
import pathlib
from typing import Callable, Dict, List

import pytest

import zfc
import zfc.aio
from relay import RelayProcess

PASS = b"end to end passphrase"


def config() -> zfc.ClientConfig:
    # A cheap KDF so that tests run fast; quick reconnects so that a relay restart heals soon.
    return zfc.ClientConfig(
        kdf=zfc.Argon2Params(m_cost_kib=8, t_cost=1, p_cost=1),
        insecure_weak_kdf_for_tests=True,
        reconnect_initial_ms=100,
        reconnect_max_ms=1000,
    )



class Party:
    """A client and everything it has said so far."""

    def __init__(self, client: zfc.aio.Client) -> None:
        self.client = client
        self.seen: List[zfc.ClientEvent] = []

    async def until(self, pred: Callable[[zfc.ClientEvent], bool], timeout: float = 20.0) -> zfc.ClientEvent:
        for e in self.seen:
            if pred(e):
                return e
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            e = await self.client.next_event(max(0.01, deadline - loop.time()))
            self.seen.append(e)
            if pred(e):
                return e

    def texts(self, room: bytes) -> List[str]:
        seen: Dict[int, str] = {}
        for e in self.seen:
            if isinstance(e, zfc.ClientEvent.Message) and e.room == room:
                c = e.message.content
                if isinstance(c, zfc.Content.Text):
                    seen.setdefault(e.message.position, c.body)
        return [seen[p] for p in sorted(seen)]

    async def read(self, room: bytes, text: str) -> None:
        await self.until(
            lambda e: isinstance(e, zfc.ClientEvent.Message)
            and e.room == room
            and e.message.content == zfc.Content.Text(body=text)
        )


async def open_party(path: pathlib.Path) -> Party:
    return Party(await zfc.aio.Client.open(path, PASS, config=config()))


async def test_three_clients_a_removal_a_relay_restart_and_a_restore(
    relay: RelayProcess, tmp_path: pathlib.Path
) -> None:
    address = zfc.RelayAddress(relay.url, relay.key)
    alice, bob, carol = [await open_party(tmp_path / n) for n in ("alice", "bob", "carol")]
    room = await alice.client.create_room(address)
    await alice.until(lambda e: isinstance(e, zfc.ClientEvent.OperationLanded) and e.room == room)

    for party, name in ((bob, "bob"), (carol, "carol")):
        assert await party.client.join_room(await alice.client.invite(room, 600), name) == room
        ask = await alice.until(lambda e: isinstance(e, zfc.ClientEvent.JoinRequested) and e.name == name)
        assert isinstance(ask, zfc.ClientEvent.JoinRequested)
        await alice.client.approve_join(room, ask.joiner)
        await party.until(lambda e: isinstance(e, zfc.ClientEvent.Joined) and e.room == room)

    await bob.client.send_text(room, "hello from bob")
    await carol.client.send_text(room, "hello from carol")
    for p in (alice, bob, carol):
        await p.read(room, "hello from bob")
        await p.read(room, "hello from carol")

    # Carol is removed and reads nothing after.
    await alice.client.remove_member(room, 2)
    await carol.until(lambda e: isinstance(e, zfc.ClientEvent.RemovedFromRoom) and e.room == room)
    await bob.until(lambda e: isinstance(e, zfc.ClientEvent.EpochChanged) and e.room == room)
    await bob.client.send_text(room, "carol is gone")
    await alice.read(room, "carol is gone")

    # The relay restarts mid-conversation: what was acknowledged is kept, the clients come back.
    sent = await bob.client.send_text(room, "just before the restart")
    await bob.until(lambda e: isinstance(e, zfc.ClientEvent.MessageSent) and e.local_id == sent)
    relay.restart()
    await bob.until(lambda e: isinstance(e, zfc.ClientEvent.Disconnected))
    await alice.client.send_text(room, "after the restart")
    for p in (alice, bob):
        await p.read(room, "just before the restart")
        await p.read(room, "after the restart")

    # Bob stops and comes back from his saved state (the directory), and carries on.
    await bob.client.close()
    bob = await open_party(tmp_path / "bob")
    assert bob.client.rooms() == [room]
    await bob.client.send_text(room, "bob restored")
    await alice.read(room, "bob restored")
    await bob.read(room, "bob restored")

    await asyncio.sleep(0.5)
    while True:
        try:
            carol.seen.append(await carol.client.next_event(0.2))
        except asyncio.TimeoutError:
            break
    assert sorted(carol.texts(room)) == ["hello from bob", "hello from carol"], "nothing after the removal"
    for p in (alice, bob, carol):
        await p.client.close()


async def test_a_state_directory_is_held_by_one_client(tmp_path: pathlib.Path) -> None:
    first = await zfc.aio.Client.open(tmp_path / "s", PASS, config=config())
    assert (tmp_path / "s" / zfc.aio.STATE_FILE).exists(), "a new state is on disk before open returns"
    with pytest.raises(zfc.aio.StateLockedError, match="in use by PID"):
        await zfc.aio.Client.open(tmp_path / "s", PASS, config=config())
    await first.close()
    with pytest.raises(zfc.LocalStateError) as wrong:
        await zfc.aio.Client.open(tmp_path / "s", b"wrong", config=config())
    assert wrong.value.name == "WRONG_PASSWORD"
    # The refused open let go of the directory.
    again = await zfc.aio.Client.open(tmp_path / "s", PASS, config=config())
    await again.close()
