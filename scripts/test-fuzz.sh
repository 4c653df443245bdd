#!/usr/bin/env bash
# Smoke run of every cargo-fuzz target for a fixed time (ZFC_FUZZ_SECONDS, default 10), from a
# copy of its committed corpus. Stable Rust: cargo-fuzz's -Z flags need RUSTC_BOOTSTRAP=1, set
# for every cargo call here (a run without it caches a failed probe in fuzz/target/.rustc_info.json).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz 0.13.2"
    cargo install cargo-fuzz --locked --version 0.13.2 -q
fi
cargo fuzz --version >/dev/null 2>&1 || { echo "FATAL: cargo-fuzz unavailable" >&2; exit 1; }
seconds=${ZFC_FUZZ_SECONDS:-10}
cargo fuzz build -O
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in $(cargo fuzz list); do
    mkdir -p "$work/$target"
    log="$work/$target.log"
    if ! cargo fuzz run -O "$target" "$work/$target" "corpus/$target" -- \
            -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 >"$log" 2>&1; then
        tail -40 "$log"
        echo "FATAL: fuzz target $target failed; the crashing input is in fuzz/artifacts/$target" >&2
        exit 1
    fi
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 || true)
    echo "fuzz $target: $runs executions in ${seconds}s, $cov"
done
