#!/usr/bin/env bash
# The UniFFI exports of zfc-client, carried by libzfc_ffi built with its `uniffi` feature: the
# workspace's pinned uniffi-bindgen generates Kotlin, Swift and Python from the library (a
# generator failure fails the run), and a Python smoke test calls the exports through the
# generated module. The Kotlin and Swift bindings proper are bindings/kotlin and bindings/swift.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "FATAL: '$1' is required ($2)" >&2; exit 1; }; }
need python3 "apt-get install python3"
need nm "apt-get install binutils"

target="${CARGO_TARGET_DIR:-target}"
out="$target/uniffi-gen"
rm -rf "$out"
# The exports' own unit tests (the error mapping), then the library that carries them.
cargo test --locked -q -p zfc-client --features uniffi --lib uniffi_api
cargo build --locked -q -p zfc-ffi --features uniffi
# Built once per target directory; later runs reuse it.
cargo build --locked -q -p uniffi-bindgen
lib="$target/debug/libzfc_ffi.so"
exports=$(nm -D --defined-only "$lib" | grep -c ' uniffi_zfc_client_fn_' || true)
[ "$exports" -gt 0 ] || { echo "FATAL: $lib carries no UniFFI exports" >&2; exit 1; }
echo "UniFFI functions exported: $exports"
for lang in kotlin swift python; do
    "$target/debug/uniffi-bindgen" generate --library "$lib" --language "$lang" \
        --out-dir "$out/$lang" --no-format >/dev/null
done
# Kotlin: no exported type may shadow kotlin.Error / kotlin.Exception.
if grep -Eq '^(public )?(sealed |data |open |enum )*class (Error|Exception)\b' "$out/kotlin/uniffi/zfc/zfc.kt"; then
    echo "FATAL: an exported type is named Error or Exception" >&2; exit 1
fi
cp "$lib" "$out/python/"
python3 zfc-client/tests/uniffi/smoke.py "$out/python"
