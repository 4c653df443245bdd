#!/usr/bin/env bash
# Runs every test of the project. Installs what it needs; a missing tool it cannot install fails
# the run loudly. Nothing is skipped in silence.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> [%s] %s\n' "$(date +%T)" "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "FATAL: '$1' is required but not installed ($2)" >&2; exit 1; }; }

need cargo "install Rust with rustup: https://rustup.rs"
need rustc "install Rust with rustup"
cargo fmt --version >/dev/null 2>&1 || { echo "FATAL: rustfmt missing: rustup component add rustfmt" >&2; exit 1; }
cargo clippy --version >/dev/null 2>&1 || { echo "FATAL: clippy missing: rustup component add clippy" >&2; exit 1; }

step "fetch dependencies (locked)"
cargo fetch --locked

step "format"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
# uniffi-bindgen (UniFFI's own CLI, a three-line main) is left to scripts/test-uniffi.sh, which
# builds it once: checking or testing it here would build its large tree twice more.
# zfc-uniffi-testing likewise is linted with the UniFFI build below: in the workspace build its
# features (zfc-client's `uniffi`) would spread to every crate and rebuild them.
cargo clippy --workspace --exclude uniffi-bindgen --exclude zfc-uniffi-testing --all-targets --locked -- -D warnings
# The test-only fault injection (feature of zfc-relay, off above) is linted too.
cargo clippy -p zfc-relay --features fault-injection --all-targets --locked -- -D warnings
# And zfc-client's UniFFI exports (its `uniffi` feature, carried by libzfc_ffi).
cargo clippy -p zfc-client -p zfc-ffi -p zfc-uniffi-testing --features zfc-ffi/uniffi-testing --all-targets --locked -- -D warnings

step "zfc-core's and zfc-client's documentation builds without a broken or private link"
RUSTDOCFLAGS="-D warnings" cargo doc -p zfc-core -p zfc-client --features zfc-client/uniffi --no-deps --locked

step "unit, integration, attack, property, robustness, vector and fixture tests"
log=$(mktemp)
cargo test --workspace --exclude zfc-bench --exclude uniffi-bindgen --exclude zfc-uniffi-testing --locked 2>&1 | tee "$log"

step "reference relay: a removal whose commit the relay failed to store lands after a restart (fault injection)"
# A test-only build: the feature rebuilds zfc-relay (library and binaries, not its dependencies;
# about 10 s) so that ZFC_RELAY_FAIL_COMMIT can fail a chosen batch; release builds never have it.
cargo test --locked -p zfc-relay --features fault-injection --test fault 2>&1 | tee -a "$log"
passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
rm -f "$log"

step "reference relay: load smoke run against zfc-relay (a separate process)"
./scripts/test-relay.sh

step "C ABI: C tests under AddressSanitizer/UBSan and valgrind, example through pkg-config"
./scripts/test-ffi.sh

step "UniFFI: Kotlin, Swift and Python generated from libzfc_ffi by the pinned uniffi-bindgen; the exports called from Python"
./scripts/test-uniffi.sh

step "Kotlin: Maven builds bindings/kotlin from the generated sources, JUnit (vectors, room life, errors, threads, end to end over OkHttp), the jar alone chats"
./scripts/test-kotlin.sh

step "Python: the zfc wheel (maturin, abi3), pytest, stubtest and mypy --strict"
./scripts/test-python.sh

step "fuzz: a smoke run of every cargo-fuzz target (corpora are replayed above by cargo test)"
./scripts/test-fuzz.sh

step "benchmarks: every criterion benchmark once (--test), rooms up to 100 members; each checks what it measured"
bench_log=$(mktemp)
ZFC_BENCH_MAX_MEMBERS=100 cargo bench --locked -p zfc-bench -- --test 2>&1 | tee "$bench_log"
bench_ok=$(grep -c '^Success' "$bench_log" || true)
rm -f "$bench_log"
[ "$bench_ok" -gt 0 ] || { echo "FATAL: no benchmark ran" >&2; exit 1; }
echo "benchmarks run once: $bench_ok"

step "demo runs to the end"
cargo run --locked -q -p zfc-demo -- --seed 7 >/dev/null

echo
echo "tests: $passed passed, $failed failed"
