#!/usr/bin/env bash
# Reproduces every table of BENCHMARKS.md on this machine: the criterion benchmarks of zfc beside
# their references (primitives, vodozemac's Megolm, OpenMLS), the relay load runs, and the report.
# Output: target/zfc-bench/report.md (criterion tables) and target/zfc-bench/load.txt.
#
#   ./scripts/bench.sh            everything (building the 10 000-member room is the longest part)
#   ZFC_BENCH_MAX_MEMBERS=1000 ./scripts/bench.sh     rooms up to 1 000 members
#   ZFC_BENCH_SKIP_LOAD=1 ./scripts/bench.sh          no relay load runs
#   ZFC_BENCH_SKIP_PYTHON=1 ./scripts/bench.sh        no Python binding run (target/zfc-bench/python.md)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/relay.sh
target="${CARGO_TARGET_DIR:-target}"
out="$target/zfc-bench"
mkdir -p "$out"
rm -f "$out/facts.tsv"

echo "==> criterion benchmarks (cargo bench -p zfc-bench)"
cargo bench --locked -p zfc-bench

if [ -z "${ZFC_BENCH_SKIP_LOAD:-}" ]; then
  echo "==> relay load runs (zfc-load against zfc-relay, release builds, loopback)"
  cargo build --locked --release -q -p zfc-relay --bins
  : >"$out/load.txt"
  load() { # rooms clients rates
    start_relay "$target/release/zfc-relay"
    echo "--- $1 rooms x $2 clients, offered rates $3 msg/s" | tee -a "$out/load.txt"
    "$target/release/zfc-load" --relay "$relay_url" --relay-key "$relay_key" --relay-pid "$relay_pid" \
      --rooms "$1" --clients "$2" --rates "$3" --seconds 5 --drain 2 | tee -a "$out/load.txt"
    stop_relay
  }
  load 1 100 250,500,750,1000,1250
  load 10 10 1000,2000,3000,4000,5000
fi

if [ -z "${ZFC_BENCH_SKIP_PYTHON:-}" ]; then
  echo "==> the Python binding beside Rust (bindings/python/bench/bench.py)"
  ZFC_PYTHON_BUILD_ONLY=1 ./scripts/test-python.sh
  "$target/pyenv/bin/python" bindings/python/bench/bench.py | tee "$out/python.md"
fi

echo "==> report"
cargo run --locked --release -q -p zfc-bench --bin zfc-bench-report | tee "$out/report.md"
