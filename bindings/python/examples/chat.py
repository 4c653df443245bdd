"""A line-based chat room on zfc.aio: create a room or join one, then every line you type is
sent and every message read is printed.

    ZFC_PASSPHRASE=... python examples/chat.py --dir alice create --relay ws://127.0.0.1:5103 \\
        --relay-key "$(cat zfc-relay-data/relay.pub)" --name alice
    ZFC_PASSPHRASE=... python examples/chat.py --dir bob join 'zfc:join?...' --name bob

Lines starting with / are commands: /invite prints an invite, /members lists the members,
/quit leaves the program (not the room). The owner approves every join request itself
(--auto-approve) or is asked with /approve N. Text from peers is untrusted: control and
bidirectional-formatting characters are shown escaped, never sent to the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import threading
import unicodedata
from typing import Dict, List, Optional, Set

import zfc
import zfc.aio


def shown(text: str) -> str:
    """`text` safe for a terminal: control, format (bidi) and line-breaking characters escaped."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


class Chat:
    def __init__(self, client: zfc.aio.Client, room: bytes, name: str, auto_approve: bool) -> None:
        self.client = client
        self.room = room
        self.name = name
        self.auto_approve = auto_approve
        self.names: Dict[int, str] = {}
        self.pending: List[zfc.ClientEvent.JoinRequested] = []
        self.unconfirmed: Set[int] = set()  # local ids of messages the relay has not taken yet

    def say(self, line: str) -> None:
        print(line, flush=True)

    def who(self, member: int) -> str:
        return shown(self.names.get(member, f"member {member}"))

    async def on_event(self, e: zfc.ClientEvent) -> None:
        if isinstance(e, (zfc.ClientEvent.MessageSent, zfc.ClientEvent.MessageRefused)):
            self.unconfirmed.discard(e.local_id)
        if isinstance(e, zfc.ClientEvent.Message) and e.room == self.room:
            c = e.message.content
            if isinstance(c, zfc.Content.DisplayName):
                self.names[e.message.sender] = c.name
                self.say(f"* member {e.message.sender} is {shown(c.name)}")
            elif isinstance(c, zfc.Content.Text):
                self.say(f"<{self.who(e.message.sender)}> {shown(c.body)}")
        elif isinstance(e, zfc.ClientEvent.JoinRequested) and e.room == self.room:
            if self.auto_approve:
                await self.client.approve_join(self.room, e.joiner)
                self.say(f"* approved {shown(e.name)} ({e.fingerprint})")
            else:
                self.pending.append(e)
                self.say(f"* {shown(e.name)} asks to join ({e.fingerprint}): /approve {len(self.pending)}")
        elif isinstance(e, zfc.ClientEvent.Joined) and e.room == self.room:
            self.say(f"* joined as member {e.member}")
            await self.client.send(self.room, zfc.Content.DisplayName(name=self.name))
        elif isinstance(e, zfc.ClientEvent.RemovedFromRoom) and e.room == self.room:
            self.say("* you were removed from the room")
        elif isinstance(e, zfc.ClientEvent.Disconnected):
            self.say(f"* disconnected ({shown(e.reason)}), retrying in {e.retry_in_ms} ms")
        elif isinstance(e, zfc.ClientEvent.Connected):
            self.say("* connected")

    async def on_line(self, line: str) -> bool:
        """Handles one typed line; False to stop."""
        line = line.rstrip("\n")
        if line == "/quit":
            return False
        if line == "/invite":
            self.say(await self.client.invite(self.room, 3600))
        elif line == "/members":
            info = self.client.room_info(self.room)
            self.say("* members: " + ", ".join(f"{m} {self.who(m)}" for m in info.members))
        elif line.startswith("/approve "):
            ask = self.pending.pop(int(line.split()[1]) - 1)
            await self.client.approve_join(self.room, ask.joiner)
        elif line:
            self.unconfirmed.add(await self.client.send_text(self.room, line))
        return True


async def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="the state directory (created, then locked while running)")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create", help="create a room and chat in it")
    c.add_argument("--relay", required=True, help="the relay's URL, ws://host:port")
    c.add_argument("--relay-key", required=True, help="the relay's key, 64 hex digits (relay.pub)")
    c.add_argument("--name", default="owner")
    c.add_argument("--auto-approve", action="store_true", help="approve every valid join request")
    c.add_argument("--print-invite", action="store_true", help="print an invite once the room exists")
    j = sub.add_parser("join", help="join a room with an invite and chat in it")
    j.add_argument("invite")
    j.add_argument("--name", required=True)
    args = p.parse_args(argv)

    passphrase = os.environ.get("ZFC_PASSPHRASE") or getpass.getpass("passphrase: ")
    config = None
    if os.environ.get("ZFC_INSECURE_FAST_KDF_FOR_TESTS") == "1":
        config = zfc.ClientConfig(kdf=zfc.Argon2Params(m_cost_kib=8, t_cost=1, p_cost=1), insecure_weak_kdf_for_tests=True)
    client = await zfc.aio.Client.open(args.dir, passphrase.encode(), config=config)
    try:
        rooms = client.rooms()
        if rooms:
            room = rooms[0]
        elif args.command == "create":
            relay = zfc.RelayAddress(args.relay, bytes.fromhex(args.relay_key))
            room = await client.create_room(relay, zfc.RoomSettings(auto_approve=False))
        else:
            room = await client.join_room(args.invite, args.name)
            print("* asked to join; waiting for the owner", flush=True)
        chat = Chat(client, room, args.name, getattr(args, "auto_approve", False))
        if args.command == "create" and getattr(args, "print_invite", False):
            print(await client.invite(room, 3600), flush=True)

        loop = asyncio.get_running_loop()
        lines: "asyncio.Queue[str]" = asyncio.Queue()

        def read_stdin() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "/quit")

        # A daemon thread: a blocked read of the terminal must not keep the program alive.
        threading.Thread(target=read_stdin, daemon=True).start()
        events = client.events().__aiter__()
        next_event = asyncio.ensure_future(events.__anext__())
        next_line = asyncio.ensure_future(lines.get())
        while True:
            done, _ = await asyncio.wait({next_event, next_line}, return_when=asyncio.FIRST_COMPLETED)
            if next_event in done:
                await chat.on_event(next_event.result())
                next_event = asyncio.ensure_future(events.__anext__())
            if next_line in done:
                if not await chat.on_line(next_line.result()):
                    break
                next_line = asyncio.ensure_future(lines.get())
        next_line.cancel()
        # What was typed last reaches the relay before the program ends (for up to 10 s).
        try:
            while chat.unconfirmed:
                await chat.on_event(await asyncio.wait_for(next_event, 10))
                next_event = asyncio.ensure_future(events.__anext__())
        except asyncio.TimeoutError:
            print(f"* {len(chat.unconfirmed)} message(s) not yet taken by the relay; they go out next time", flush=True)
        next_event.cancel()
        return 0
    except zfc.ZfcError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
