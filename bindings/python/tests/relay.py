"""A `zfc-relay` process for the end-to-end tests: started on a free loopback port, restarted
on the same port and data directory, stopped at the end."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import threading
from typing import IO, Optional

ROOT = pathlib.Path(__file__).resolve().parents[3]


def relay_binary() -> str:
    """ZFC_RELAY_BIN, or the workspace's debug build (the test command builds it)."""
    path = os.environ.get("ZFC_RELAY_BIN") or str(ROOT / "target" / "debug" / "zfc-relay")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"no zfc-relay at {path}: cargo build -p zfc-relay --bin zfc-relay, or set ZFC_RELAY_BIN")
    return path


class RelayProcess:
    def __init__(self, data_dir: pathlib.Path) -> None:
        self.data_dir = data_dir
        self.proc: Optional[subprocess.Popen[str]] = None
        self.listen = "127.0.0.1:0"
        self.url = ""
        self.key = b""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [relay_binary(), "--listen", self.listen, "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "ZFC_LOG": "warn"},
        )
        out: IO[str] = self.proc.stdout  # type: ignore[assignment]
        url = out.readline().split()[-1]
        key = out.readline().split()[-1]
        if not url.startswith("ws://"):
            raise RuntimeError(f"zfc-relay did not start: {url!r}")
        # Keep draining stdout so the relay never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in out], daemon=True).start()
        self.url, self.key = url, bytes.fromhex(key)
        # Restarts come back on the same port, so clients reconnect to the address they hold.
        self.listen = url[len("ws://") :]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
