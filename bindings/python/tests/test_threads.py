"""Threads: a Client may be shared. Each call releases the GIL before it takes the client's
lock, so one thread in a long call (Argon2id) stops neither other Python threads nor other
calls (which wait for the lock without the GIL), and nothing deadlocks."""

from __future__ import annotations

import threading
import time
from typing import List

import zfc
from harness import Net


def largest_gap(ticks: List[float], t0: float, t1: float) -> float:
    """The longest stretch of [t0, t1] in which this thread ran no Python at all."""
    inside = [t0] + [t for t in ticks if t0 < t < t1] + [t1]
    return max(b - a for a, b in zip(inside, inside[1:]))


def test_a_long_call_releases_the_gil() -> None:
    # Production Argon2id: a long call.
    spans: List[float] = []

    def long_call() -> None:
        t0 = time.monotonic()
        zfc.Client.create(b"passphrase").close()
        spans.extend([t0, time.monotonic()])

    worker = threading.Thread(target=long_call)
    ticks: List[float] = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.monotonic())
    worker.join()
    t0, t1 = spans
    # Holding the GIL through Argon2id would stop this thread for the whole call (less the
    # few ms of one switch interval before the call began); released, it never stops long.
    assert largest_gap(ticks, t0, t1) < (t1 - t0) / 2, (largest_gap(ticks, t0, t1), t1 - t0)


def test_calls_on_one_client_wait_for_a_long_call_without_the_gil() -> None:
    client = zfc.Client.create(b"first")  # production KDF: change_passphrase is long
    results: List[object] = []
    errors: List[BaseException] = []

    spans: List[float] = []

    def change() -> None:
        try:
            spans.append(time.monotonic())
            results.append(client.change_passphrase(b"first", b"second"))
            spans.append(time.monotonic())
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def read() -> None:
        try:
            for _ in range(200):
                results.append(client.rooms())
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=change), threading.Thread(target=read), threading.Thread(target=read)]
    for t in threads:
        t.start()
    ticks: List[float] = []
    while any(t.is_alive() for t in threads):
        ticks.append(time.monotonic())
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a call deadlocked"
    assert not errors, errors
    assert len(results) == 401
    # Readers wait for the client's lock without the GIL: this thread kept running.
    t0, t1 = spans
    assert largest_gap(ticks, t0, t1) < (t1 - t0) / 2, (largest_gap(ticks, t0, t1), t1 - t0)
    (save,) = [r for r in results if isinstance(r, zfc.Save)]
    client.close()
    zfc.Client.open(save.bytes, b"second").close()


def test_threads_on_separate_rooms_and_on_one_room() -> None:
    net = Net()
    alice, bob = net.add(1), net.add(2)
    a = net.client(alice)
    rooms = [a.create_room(net.address, zfc.RoomSettings(auto_approve=True)) for _ in range(4)]
    net.run()
    for room in rooms:
        net.client(bob).join_room(a.invite(room), "bob")
    net.run()
    errors: List[BaseException] = []

    def sender(room: bytes, tag: str, n: int) -> None:
        try:
            for k in range(n):
                net.client(bob).send_text(room, f"{tag} {k}")
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    # Four threads, one per room, and two more on the first room.
    threads = [threading.Thread(target=sender, args=(room, f"r{i}", 25)) for i, room in enumerate(rooms)]
    threads += [threading.Thread(target=sender, args=(rooms[0], tag, 25)) for tag in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    net.run()
    for i, room in enumerate(rooms):
        got = net.texts(alice, room)
        mine = [t for t in got if t.startswith(f"r{i} ")]
        assert mine == [f"r{i} {k}" for k in range(25)], "each thread's messages in its order"
    first = net.texts(alice, rooms[0])
    assert len(first) == 75 and [t for t in first if t.startswith("x ")] == [f"x {k}" for k in range(25)]
