#!/usr/bin/env bash
# The UniFFI exports of zfc-client, carried by libzfc_ffi built with its `uniffi` feature (and
# `uniffi-testing`, the hooks Kotlin's tests call: the one build bindings/kotlin uses too): the
# workspace's pinned uniffi-bindgen generates Kotlin, Swift and Python from the library (a
# generator failure fails the run), a Python smoke test calls the exports through the generated
# module, and the Swift sources committed in bindings/swift must be what the generator writes
# (so every API change regenerates them: ./scripts/test-uniffi.sh --write-swift).
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
cargo build --locked -q -p zfc-ffi --features uniffi-testing
# Built once per target directory; later runs reuse it.
cargo build --locked -q -p uniffi-bindgen
lib="$target/debug/libzfc_ffi.so"
exports=$(nm -D --defined-only "$lib" | grep -c ' uniffi_zfc_client_fn_' || true)
[ "$exports" -gt 0 ] || { echo "FATAL: $lib carries no UniFFI exports" >&2; exit 1; }
echo "UniFFI functions exported: $exports"
for lang in kotlin swift python; do
    "$target/debug/uniffi-bindgen" generate --library "$lib" --crate zfc_client --language "$lang" \
        --out-dir "$out/$lang" --no-format >/dev/null
done
# Swift: not compiled here (no Swift toolchain), but kept in step with the library.
if [ "${1:-}" = "--write-swift" ]; then
    rm -rf bindings/swift/Sources && mkdir -p bindings/swift/Sources/zfc bindings/swift/Sources/zfcFFI/include
    cp "$out/swift/zfc.swift" bindings/swift/Sources/zfc/
    cp "$out/swift/zfcFFI.h" "$out/swift/zfcFFI.modulemap" bindings/swift/Sources/zfcFFI/include/
    echo "bindings/swift regenerated"
fi
for f in Sources/zfc/zfc.swift Sources/zfcFFI/include/zfcFFI.h Sources/zfcFFI/include/zfcFFI.modulemap; do
    name=$(basename "$f")
    if ! cmp -s "$out/swift/$name" "bindings/swift/$f"; then
        diff -u "bindings/swift/$f" "$out/swift/$name" | head -40 >&2 || true
        echo "FATAL: bindings/swift/$f is not what uniffi-bindgen generates from this library;" \
             "run ./scripts/test-uniffi.sh --write-swift and commit the result" >&2
        exit 1
    fi
done
echo "Swift sources in bindings/swift match the library"
# Kotlin: no exported type may shadow kotlin.Error / kotlin.Exception.
if grep -Eq '^(public )?(sealed |data |open |enum )*class (Error|Exception)\b' "$out/kotlin/zfc/zfc.kt"; then
    echo "FATAL: an exported type is named Error or Exception" >&2; exit 1
fi
cp "$lib" "$out/python/"
python3 zfc-client/tests/uniffi/smoke.py "$out/python"
