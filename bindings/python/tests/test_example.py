"""examples/chat.py, run as a newcomer would, without a terminal: alice creates a room and
prints an invite, bob joins with it and says hello, alice reads it, both quit."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
from typing import IO, List

import pytest

from relay import RelayProcess

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "chat.py"



def chat(args: List[str]) -> "subprocess.Popen[str]":
    env = {**os.environ, "ZFC_PASSPHRASE": "example passphrase", "ZFC_INSECURE_FAST_KDF_FOR_TESTS": "1"}
    return subprocess.Popen(
        [sys.executable, str(EXAMPLE), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def wait_for(out: IO[str], needle: str, seen: List[str], timeout: float = 30) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = out.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} never came; saw {seen!r}")


def test_the_chat_example_runs_to_the_end(relay: RelayProcess, tmp_path: pathlib.Path) -> None:
    alice = chat(["--dir", str(tmp_path / "a"), "create", "--relay", relay.url, "--relay-key", relay.key.hex(),
                  "--name", "alice", "--auto-approve", "--print-invite"])
    assert alice.stdout is not None and alice.stdin is not None
    a_seen: List[str] = []
    invite = wait_for(alice.stdout, "zfc:join?", a_seen).strip()
    bob = chat(["--dir", str(tmp_path / "b"), "join", invite, "--name", "bob"])
    assert bob.stdout is not None and bob.stdin is not None
    b_seen: List[str] = []
    wait_for(bob.stdout, "joined as member 1", b_seen)
    bob.stdin.write("hello alice\x1b[31m\n/quit\n")
    bob.stdin.flush()
    line = wait_for(alice.stdout, "hello alice", a_seen)
    assert line.strip() == "<bob> hello alice\\u001b[31m", "named, and the escape shown, not obeyed"
    alice.stdin.write("/quit\n")
    alice.stdin.flush()
    assert alice.wait(30) == 0 and bob.wait(30) == 0
