#!/usr/bin/env bash
# Reproduces every table of BENCHMARKS.md on this machine: the criterion benchmarks of zfc beside
# their references (primitives, vodozemac's Megolm, OpenMLS), the relay load runs, and the report.
# Output: target/zfc-bench/report.md (criterion tables) and target/zfc-bench/load.txt.
#
#   ./scripts/bench.sh            everything (about 30 minutes here, most of it building a 10 000-member room)
#   ZFC_BENCH_MAX_MEMBERS=1000 ./scripts/bench.sh     rooms up to 1 000 members (about 12 minutes)
#   ZFC_BENCH_SKIP_LOAD=1 ./scripts/bench.sh          criterion only
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/zfc-bench
mkdir -p "$out"
rm -f "$out/facts.tsv"

echo "==> criterion benchmarks (cargo bench -p zfc-bench)"
cargo bench --locked -p zfc-bench

if [ -z "${ZFC_BENCH_SKIP_LOAD:-}" ]; then
  echo "==> relay load runs (zfc-load against zfc-relay, release builds, loopback)"
  cargo build --locked --release -q -p zfc-relay --bins
  : >"$out/load.txt"
  load() { # rooms clients rates
    local dir; dir=$(mktemp -d)
    ./target/release/zfc-relay --listen 127.0.0.1:0 --data-dir "$dir/data" >"$dir/out" 2>"$dir/err" &
    local pid=$!
    for _ in $(seq 100); do grep -q '^relay key:' "$dir/out" && break; sleep 0.1; done
    local url key
    url=$(sed -n 's/^zfc-relay listening on //p' "$dir/out")
    key=$(sed -n 's/^relay key: //p' "$dir/out")
    [ -n "$url" ] && [ -n "$key" ] || { echo "FATAL: zfc-relay did not start" >&2; cat "$dir/err" >&2; exit 1; }
    echo "--- $1 rooms x $2 clients, offered rates $3 msg/s" | tee -a "$out/load.txt"
    ./target/release/zfc-load --relay "$url" --relay-key "$key" --relay-pid "$pid" \
      --rooms "$1" --clients "$2" --rates "$3" --seconds 5 --drain 2 | tee -a "$out/load.txt"
    kill -TERM "$pid"; wait "$pid" || true
    rm -rf "$dir"
  }
  load 1 100 250,500,750,1000,1250
  load 10 10 1000,2000,3000,4000,5000
fi

echo "==> report"
cargo run --locked --release -q -p zfc-bench --bin zfc-bench-report | tee "$out/report.md"
