"""What the Python binding costs, beside the Rust figures of the same run (the benchmark suite:
`./scripts/bench.sh` runs it; nothing here is asserted).

- send and receive: a member sends a message of 256 bytes and it is read by the owner and the
  member through the in-process relay, every client's loop driven from Python (tests/harness.py)
  versus the same loop driven from Rust (zfc-client's sim::Network): per message, and the ratio;
- one call: `Client.next_timeout()` from Python versus from Rust;
- `import zfc`: a fresh interpreter importing the package, less one importing nothing.
"""

from __future__ import annotations

import pathlib
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

import zfc  # noqa: E402
from harness import Net  # noqa: E402
from zfc import _testing  # noqa: E402

N = 2000
SIZE = 256
CALLS = 200_000


def python_send_receive(n: int) -> float:
    net = Net(seed=7)
    owner, member = net.add(1), net.add(2)
    room = net.client(owner).create_room(net.address, zfc.RoomSettings(auto_approve=True))
    net.run()
    net.client(member).join_room(net.client(owner).invite(room, 3600), "member")
    net.run()
    text = "x" * SIZE
    start = time.perf_counter()
    for _ in range(n):
        net.client(member).send_text(room, text)
        net.run()
        net.take(owner)
        net.take(member)
    return time.perf_counter() - start


def python_calls(n: int) -> float:
    client = zfc.Client.create(
        b"bench",
        config=zfc.ClientConfig(
            kdf=zfc.Argon2Params(m_cost_kib=8, t_cost=1, p_cost=1),
            insecure_weak_kdf_for_tests=True,
            seed_for_tests=bytes(32),
            manual_clock=True,
        ),
    )
    call = client.next_timeout
    start = time.perf_counter()
    for _ in range(n):
        call()
    return time.perf_counter() - start


def import_ms() -> float:
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    empty = statistics.median(run("pass") for _ in range(5))
    full = statistics.median(run("import zfc") for _ in range(5))
    return (full - empty) * 1000


def best(f, *args):  # type: ignore[no-untyped-def]
    return min(f(*args) for _ in range(3))


def main() -> None:
    global N, CALLS
    if "--quick" in sys.argv:  # the test command's smoke run: the script works, figures aside
        N, CALLS = 20, 1000
    py_msg = best(python_send_receive, N) / N * 1e6
    rs_msg = best(_testing.bench_send_receive, N, SIZE) / N * 1e6
    py_call = best(python_calls, CALLS) / CALLS * 1e9
    rs_call = best(_testing.bench_calls, CALLS) / CALLS * 1e9
    print("| measure | Python | Rust | Python / Rust |")
    print("|---|---:|---:|---:|")
    print(f"| send + receive, {SIZE} B, in-process relay (µs per message) | {py_msg:.1f} | {rs_msg:.1f} | {py_msg / rs_msg:.2f} |")
    print(f"| one call, `next_timeout()` (ns) | {py_call:.0f} | {rs_call:.0f} | {py_call / rs_call:.1f} |")
    print(f"| `import zfc` (ms, beyond an empty interpreter) | {import_ms():.1f} | | |")
    print(f"\nPython {sys.version.split()[0]}, zfc {zfc.__version__}, best of 3 runs of {N} messages / {CALLS} calls.")


if __name__ == "__main__":
    main()
