# Sourced by scripts that run a zfc-relay process. The lines parsed here ("zfc-relay listening on
# URL", "relay key: HEX") are what reference-relay/src/bin/zfc-relay.rs prints on start.

# start_relay BIN: starts BIN on a free loopback port with a fresh data directory; sets
# relay_pid, relay_url, relay_key and relay_dir, and a trap that stops it when the script exits.
start_relay() {
  relay_dir=$(mktemp -d)
  "$1" --listen 127.0.0.1:0 --data-dir "$relay_dir/data" >"$relay_dir/out" 2>"$relay_dir/err" &
  relay_pid=$!
  trap 'kill $relay_pid 2>/dev/null || true; rm -rf "$relay_dir"' EXIT
  for _ in $(seq 100); do grep -q '^relay key:' "$relay_dir/out" && break; sleep 0.1; done
  relay_url=$(sed -n 's/^zfc-relay listening on //p' "$relay_dir/out")
  relay_key=$(sed -n 's/^relay key: //p' "$relay_dir/out")
  [ -n "$relay_url" ] && [ -n "$relay_key" ] || { echo "FATAL: zfc-relay did not start" >&2; cat "$relay_dir/err" >&2; exit 1; }
}

# stop_relay: SIGTERM; fails the script if the relay does not exit cleanly.
stop_relay() {
  kill -TERM "$relay_pid"
  wait "$relay_pid" || { echo "FATAL: zfc-relay did not stop cleanly" >&2; cat "$relay_dir/err" >&2; exit 1; }
  rm -rf "$relay_dir"
  trap - EXIT
}
