"""An asyncio client: a :class:`zfc.Client` driven on ``websockets``, its sealed state kept in
a directory under a lock held for the client's life.

    async with await zfc.aio.Client.open("alice-state", b"passphrase") as client:
        room = await client.create_room(zfc.RelayAddress(url, relay_key))
        print(await client.invite(room))
        async for event in client.events():
            ...

The loop keeps the order that makes a crash at any point safe: every state the native client
hands out is written atomically (temporary file, fsync, rename, directory fsync) and confirmed
before the records that need it are sent; acknowledgements wait likewise. Reconnects, backoff,
keep-alives and resends are the native client's; this module only carries bytes and time.
Needs the ``aio`` extra: ``pip install './bindings/python[aio]'``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import time
from typing import AsyncIterator, Callable, Dict, List, Optional, Union

from websockets.asyncio.client import ClientConnection, connect

from . import (
    Client as NativeClient,
    ClientConfig,
    ClientEvent,
    Content,
    RelayAddress,
    RoomInfo,
    RoomSettings,
    Transmit,
    ZfcError,
)

__all__ = ["Client", "StateLockedError", "STATE_FILE", "LOCK_FILE"]

STATE_FILE = "state.zfc"
LOCK_FILE = "lock"
# Link records are bounded by the protocol (a commit for a full room is the largest); a
# WebSocket message beyond this is refused rather than buffered.
MAX_MESSAGE = 8 * 1024 * 1024

PathLike = Union[str, "os.PathLike[str]"]


class StateLockedError(RuntimeError):
    """Another process (or client) holds the state directory."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class _StateDir:
    """The directory: an exclusive ``flock`` on ``lock`` held until :meth:`release`, and the
    sealed state written atomically."""

    def __init__(self, path: PathLike) -> None:
        self.path = os.fspath(path)
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        self._lock_fd: Optional[int] = os.open(os.path.join(self.path, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.pread(self._lock_fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self._lock_fd)
            self._lock_fd = None
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StateLockedError(f"{self.path} is in use by PID {holder}") from None
            raise
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)

    @property
    def state_path(self) -> str:
        return os.path.join(self.path, STATE_FILE)

    def read(self) -> Optional[bytes]:
        try:
            with open(self.state_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def write(self, data: bytes) -> None:
        tmp = self.state_path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.state_path)
        dir_fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None


class _Socket:
    """One WebSocket the native client asked for: a task that dials and reads, and a queue of
    records written in order."""

    def __init__(self, owner: "Client", conn: int, url: str) -> None:
        self.conn = conn
        self.url = url
        self.outbox: "asyncio.Queue[Optional[bytes]]" = asyncio.Queue()
        self.task = asyncio.create_task(self._run(owner), name=f"zfc socket {conn}")

    async def _run(self, owner: "Client") -> None:
        try:
            async with connect(
                self.url,
                max_size=MAX_MESSAGE,
                compression=None,
                # The native client has its own dial timeout and keep-alive.
                open_timeout=None,
                ping_interval=None,
            ) as ws:
                owner._report(lambda c, now: c.handle_connected(self.conn, now), self.conn)
                writer = asyncio.create_task(self._write(ws))
                try:
                    async for message in ws:
                        if isinstance(message, str):
                            break  # the link speaks binary only; text ends the socket
                        data: bytes = message
                        owner._report(lambda c, now: c.handle_bytes(self.conn, data, now), self.conn)
                finally:
                    writer.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await writer
        except asyncio.CancelledError:
            return
        except Exception:  # noqa: BLE001 - any socket failure is a closed socket to the client
            pass
        owner._report(lambda c, now: c.handle_closed(self.conn, now), self.conn, gone=True)

    async def _write(self, ws: ClientConnection) -> None:
        while (record := await self.outbox.get()) is not None:
            await ws.send(record)

    def close(self) -> None:
        self.task.cancel()


class Client:
    """A :class:`zfc.Client` on asyncio, with its state in a locked directory.

    Not thread-safe: use it from one event loop. Calls that take long (opening, a commit for a
    large room, a passphrase change) run in a worker thread; the rest return at once, and their
    effects reach the relay from the client's loop task.
    """

    def __init__(self, native: NativeClient, state: _StateDir) -> None:
        self._native = native
        self._state = state
        self._sockets: Dict[int, _Socket] = {}
        self._events: "asyncio.Queue[Union[ClientEvent, BaseException, None]]" = asyncio.Queue()
        self._wake = asyncio.Event()
        # One writer of the state at a time: the loop's saves and a passphrase change (two
        # writes in flight would share the temporary file, or land out of order).
        self._save_lock = asyncio.Lock()
        self._closed = False
        self._failure: Optional[BaseException] = None
        self._task = asyncio.create_task(self._loop(), name="zfc client loop")

    @classmethod
    async def open(
        cls,
        directory: PathLike,
        passphrase: bytes,
        *,
        config: Optional[ClientConfig] = None,
    ) -> "Client":
        """Opens the client whose state is in ``directory``, or creates one there. Takes the
        directory's lock (``StateLockedError`` when another holds it). Slow: Argon2id, in a
        worker thread."""
        state = _StateDir(directory)
        try:
            blob = state.read()
            if blob is None:
                native = await asyncio.to_thread(NativeClient.create, passphrase, config=config)
                # The new state is on disk before the client is handed out.
                save = native.poll_save()
                if save is not None:
                    await asyncio.to_thread(state.write, save.bytes)
                    native.state_saved(save.generation)
            else:
                native = await asyncio.to_thread(NativeClient.open, blob, passphrase, config=config)
        except BaseException:
            state.release()
            raise
        return cls(native, state)

    @property
    def native(self) -> NativeClient:
        """The native client (for calls this class does not wrap)."""
        return self._native

    # ------------------------------------------------------------ calls

    def _poke(self) -> None:
        self._wake.set()

    async def _slow(self, fn: Callable[..., None], *args: object) -> None:
        """A call that can take long (a commit for a large room), run in a worker thread."""
        try:
            await asyncio.to_thread(fn, *args)
        finally:
            self._poke()

    def set_admission_token(self, relay: RelayAddress, token: bytes) -> None:
        """The token the relay asks of room creators (sent before a creation there)."""
        self._native.set_admission_token(relay, token)
        self._poke()

    async def create_room(self, relay: RelayAddress, settings: Optional[RoomSettings] = None) -> bytes:
        """Creates a room on ``relay``; the creation lands once connected."""
        room = self._native.create_room(relay, settings)
        self._poke()
        return room

    async def invite(self, room: bytes, ttl_secs: int = 86400) -> str:
        """A new invite (owner)."""
        invite = self._native.invite(room, ttl_secs)
        self._poke()
        return invite

    async def join_room(self, invite: str, name: str) -> bytes:
        """Asks to join; ``Joined`` follows once the owner approves (it may be offline)."""
        room = self._native.join_room(invite, name)
        self._poke()
        return room

    async def send_text(self, room: bytes, text: str) -> int:
        """Sends a text message; returns its local id."""
        local_id = self._native.send_text(room, text)
        self._poke()
        return local_id

    async def send(self, room: bytes, content: Content) -> int:
        """Sends ``content``; returns its local id."""
        local_id = self._native.send(room, content)
        self._poke()
        return local_id

    async def approve_join(self, room: bytes, joiner: bytes) -> None:
        """Approves a join (owner): a commit, in a worker thread."""
        await self._slow(self._native.approve_join, room, joiner)

    async def reject_join(self, room: bytes, joiner: bytes) -> None:
        """Rejects a join (owner)."""
        self._native.reject_join(room, joiner)
        self._poke()

    async def remove_member(self, room: bytes, member: int) -> None:
        """Removes a member (owner): a commit, in a worker thread."""
        await self._slow(self._native.remove_member, room, member)

    async def rotate(self, room: bytes) -> None:
        """Rotates the room key (owner): a commit, in a worker thread."""
        await self._slow(self._native.rotate, room)

    async def leave(self, room: bytes) -> None:
        """Leaves the room (member)."""
        self._native.leave(room)
        self._poke()

    async def delete_room(self, room: bytes) -> None:
        """Deletes the room (owner)."""
        self._native.delete_room(room)
        self._poke()

    async def fetch_history(self, room: bytes, limit: int = 100) -> None:
        """Fetches earlier messages this party may read."""
        self._native.fetch_history(room, limit)
        self._poke()

    async def change_passphrase(self, current: bytes, new: bytes) -> None:
        """Re-seals the state under ``new`` and writes it before returning (worker thread)."""
        async with self._save_lock:
            save = await asyncio.to_thread(self._native.change_passphrase, current, new)
            await asyncio.to_thread(self._state.write, save.bytes)
            self._native.state_saved(save.generation)
        self._poke()

    def rooms(self) -> List[bytes]:
        """Every room's id."""
        return self._native.rooms()

    def room_info(self, room: bytes) -> RoomInfo:
        """What this party knows of ``room``."""
        return self._native.room_info(room)

    def fingerprint(self, room: bytes, member: int) -> str:
        """A member's fingerprint, to compare out of band."""
        return self._native.fingerprint(room, member)

    async def events(self) -> AsyncIterator[ClientEvent]:
        """The client's events, in order, until it is closed. A failure of the loop (a state
        that cannot be written) is raised here."""
        while True:
            item = await self._events.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def next_event(self, timeout: Optional[float] = None) -> ClientEvent:
        """The next event (``asyncio.TimeoutError`` after ``timeout`` seconds)."""
        item = await asyncio.wait_for(self._events.get(), timeout)
        if item is None:
            raise ZfcError("the client is closed")
        if isinstance(item, BaseException):
            raise item
        return item

    async def close(self) -> None:
        """Stops the loop, closes the sockets, erases the keys and releases the directory."""
        if self._closed:
            return
        self._closed = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for s in self._sockets.values():
            s.close()
        await asyncio.gather(*(s.task for s in self._sockets.values()), return_exceptions=True)
        self._sockets.clear()
        self._native.close()
        self._state.release()
        self._events.put_nowait(None)

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ the loop

    def _report(self, call: Callable[[NativeClient, int], None], conn: int, gone: bool = False) -> None:
        """A socket's news, unless the client gave that socket up (a late report)."""
        # A socket the client gave up (Transmit.Close) is no longer in _sockets.
        if self._closed or conn not in self._sockets:
            return
        if gone:
            del self._sockets[conn]
        try:
            call(self._native, _now_ms())
        except ZfcError:
            # The native client refused the socket's news (it dropped that connection).
            pass
        self._poke()

    async def _loop(self) -> None:
        try:
            while True:
                # Cleared before the pump: a call made while it runs wakes the next wait.
                self._wake.clear()
                await self._pump()
                timeout = self._native.next_timeout()
                delay = None if timeout is None else max(0.0, (timeout - _now_ms()) / 1000)
                # asyncio.wait, not wait_for: 3.11's wait_for can swallow the cancellation
                # close() sends when the wake-up lands at the same moment (the loop then never
                # stops).
                waiter = asyncio.ensure_future(self._wake.wait())
                try:
                    done, _ = await asyncio.wait({waiter}, timeout=delay)
                finally:
                    waiter.cancel()
                if not done:
                    self._native.handle_timeout(_now_ms())
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # noqa: BLE001 - handed to whoever reads the events
            self._failure = e
            self._events.put_nowait(e)

    async def _pump(self) -> None:
        """Saves first (written, then confirmed), then transmits, then events, until idle."""
        while True:
            busy = False
            async with self._save_lock:
                while (save := self._native.poll_save()) is not None:
                    busy = True
                    await asyncio.to_thread(self._state.write, save.bytes)
                    self._native.state_saved(save.generation)
            while (t := self._native.poll_transmit()) is not None:
                busy = True
                if isinstance(t, Transmit.Connect):
                    self._sockets[t.conn] = _Socket(self, t.conn, t.url)
                elif isinstance(t, Transmit.Send):
                    sock = self._sockets.get(t.conn)
                    if sock is not None:
                        sock.outbox.put_nowait(t.bytes)
                elif isinstance(t, Transmit.Close):
                    sock = self._sockets.pop(t.conn, None)
                    if sock is not None:
                        sock.outbox.put_nowait(None)
                        sock.close()
            while (e := self._native.poll_event()) is not None:
                busy = True
                self._events.put_nowait(e)
            if not busy:
                return
