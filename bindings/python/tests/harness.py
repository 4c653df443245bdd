"""An in-process network for the tests: clients on `zfc._testing.Relay`, each driven through
its public loop exactly as an app drives it (write each save, confirm it, do the transmits,
feed the sockets' bytes, collect the events), on a manual clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import zfc
from zfc import _testing

URL = "ws://relay.test:5103"
PASSPHRASE = b"a passphrase for tests"
START_MS = 1_800_000_000_000


def weak_config(seed: int, *, connection_per_room: bool = False) -> zfc.ClientConfig:
    """Seeded randomness, a manual clock and the cheapest KDF: tests only."""
    return zfc.ClientConfig(
        connection_per_room=connection_per_room,
        kdf=zfc.Argon2Params(m_cost_kib=8, t_cost=1, p_cost=1),
        insecure_weak_kdf_for_tests=True,
        seed_for_tests=bytes([seed]) * 32,
        manual_clock=True,
    )


@dataclass
class Peer:
    client: zfc.Client
    config: zfc.ClientConfig
    events: List[zfc.ClientEvent] = field(default_factory=list)
    saved: Optional[bytes] = None
    generation: int = 0


class Net:
    """A relay and clients in one process."""

    def __init__(self, seed: int = 99) -> None:
        self.relay = _testing.Relay(seed)
        self.address = zfc.RelayAddress(URL, self.relay.public_key)
        self.now_ms = START_MS
        self.peers: List[Peer] = []
        # relay socket -> (peer index, the client's conn id), and back
        self.socks: Dict[int, Tuple[int, int]] = {}

    def add(self, seed: int, **kw: bool) -> int:
        config = weak_config(seed, **kw)
        client = zfc.Client.create(PASSPHRASE, config=config)
        client.handle_timeout(self.now_ms)
        self.peers.append(Peer(client, config))
        return len(self.peers) - 1

    def client(self, i: int) -> zfc.Client:
        return self.peers[i].client

    def take(self, i: int) -> List[zfc.ClientEvent]:
        events, self.peers[i].events = self.peers[i].events, []
        return events

    def advance(self, ms: int) -> None:
        self.now_ms += ms
        for p in self.peers:
            p.client.handle_timeout(self.now_ms)
        self.run()

    def run(self) -> None:
        for _ in range(10_000):
            if not any([self.step(i) for i in range(len(self.peers))]):
                return
        raise AssertionError("the network never went quiet")

    def crash(self, i: int) -> None:
        """Peer `i` dies and starts again from the last state it wrote."""
        p = self.peers[i]
        for sock, (peer, _) in list(self.socks.items()):
            if peer == i:
                del self.socks[sock]
                self.relay.close(sock)
        p.client.close()
        assert p.saved is not None
        p.client = zfc.Client.open(p.saved, PASSPHRASE, config=p.config)
        p.client.handle_timeout(self.now_ms)

    def step(self, i: int) -> bool:
        p = self.peers[i]
        busy = False
        while (save := p.client.poll_save()) is not None:
            busy = True
            p.saved, p.generation = save.bytes, save.generation
            p.client.state_saved(save.generation)
        while (t := p.client.poll_transmit()) is not None:
            busy = True
            if isinstance(t, zfc.Transmit.Connect):
                assert t.url == URL, t.url
                sock = self.relay.open()
                self.socks[sock] = (i, t.conn)
                p.client.handle_connected(t.conn, self.now_ms)
            elif isinstance(t, zfc.Transmit.Send):
                self.relay_receives(i, t.conn, t.bytes)
            elif isinstance(t, zfc.Transmit.Close):
                for sock, (peer, conn) in list(self.socks.items()):
                    if (peer, conn) == (i, t.conn):
                        del self.socks[sock]
                        self.relay.close(sock)
        while (e := p.client.poll_event()) is not None:
            busy = True
            p.events.append(e)
        return busy

    def relay_receives(self, i: int, conn: int, data: bytes) -> None:
        sock = next((s for s, pc in self.socks.items() if pc == (i, conn)), None)
        if sock is None:
            return
        records, closed = self.relay.receive(sock, data, self.now_ms)
        for to, record in records:
            if to in self.socks:
                peer, peer_conn = self.socks[to]
                self.peers[peer].client.handle_bytes(peer_conn, record, self.now_ms)
        if closed:
            del self.socks[sock]
            self.peers[i].client.handle_closed(conn, self.now_ms)

    def texts(self, i: int, room: bytes) -> List[str]:
        """The texts peer `i` read in `room`, each log position once."""
        seen = set()
        out = []
        for e in self.peers[i].events:
            if isinstance(e, zfc.ClientEvent.Message) and e.room == room and e.message.position not in seen:
                seen.add(e.message.position)
                content = e.message.content
                if isinstance(content, zfc.Content.Text):
                    out.append(content.body)
        return out
