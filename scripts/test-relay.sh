#!/usr/bin/env bash
# A short bounded load run against zfc-relay as a separate process; it fails if a message is lost
# or refused, or if no delivery's latency was measured. (The conformance suite against a zfc-relay process runs in `cargo test`: tests/e2e.rs.)
# Uses the debug binaries that `cargo test --workspace` built (builds them if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/relay.sh

cargo build --locked -q -p zfc-relay --bins
target="${CARGO_TARGET_DIR:-target}"
start_relay "$target/debug/zfc-relay"
echo "--- zfc-load smoke run (1 room x 5 clients, 2 s at 50 msg/s; figures are not asserted; losses are)"
"$target/debug/zfc-load" --relay "$relay_url" --relay-key "$relay_key" --relay-pid "$relay_pid" \
  --rooms 1 --clients 5 --rates 50 --seconds 2 --drain 1 --fail-on-loss
stop_relay
