#!/usr/bin/env bash
# The conformance suite against zfc-relay as separate processes, then a short bounded load run.
# Uses the debug binaries that `cargo test --workspace` built (builds them if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked -q -p zfc-relay --bins
dir=$(mktemp -d)
out="$dir/relay.out"
./target/debug/zfc-relay --listen 127.0.0.1:0 --data-dir "$dir/data" >"$out" 2>"$dir/relay.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q '^relay key:' "$out" && break; sleep 0.1; done
url=$(sed -n 's/^zfc-relay listening on //p' "$out")
key=$(sed -n 's/^relay key: //p' "$out")
[ -n "$url" ] && [ -n "$key" ] || { echo "FATAL: zfc-relay did not start" >&2; cat "$dir/relay.err" >&2; exit 1; }

echo "--- zfc-conformance against zfc-relay at $url"
./target/debug/zfc-conformance --relay "$url" --relay-key "$key"

echo "--- zfc-load smoke run (1 room x 5 clients, 2 s at 50 msg/s; figures are not asserted)"
./target/debug/zfc-load --relay "$url" --relay-key "$key" --relay-pid "$pid" --rooms 1 --clients 5 --rates 50 --seconds 2 --drain 1

kill -TERM $pid
wait $pid || { echo "FATAL: zfc-relay did not stop cleanly" >&2; cat "$dir/relay.err" >&2; exit 1; }
