#!/usr/bin/env bash
# The C tests of zfc-ffi: built with gcc, run under AddressSanitizer + UBSan and under valgrind
# (no errors, no definite or indirect leaks), plus the example and the pkg-config file.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "FATAL: '$1' is required ($2)" >&2; exit 1; }; }
if ! command -v valgrind >/dev/null 2>&1 || ! command -v pkg-config >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind pkg-config >/dev/null
    fi
fi
need gcc "apt-get install gcc"
need valgrind "apt-get install valgrind"
need pkg-config "apt-get install pkg-config"
need python3 "apt-get install python3"

cargo build --locked -q -p zfc-ffi
# Where cargo puts its builds: CARGO_TARGET_DIR when set (a shared cache), else ./target.
target="${CARGO_TARGET_DIR:-target}"
lib="$target/debug"
out="$target/ffi-tests"
mkdir -p "$out"
lib=$(cd "$lib" && pwd) # absolute: it goes into rpaths and the .pc file
python3 scripts/vectors-to-tsv.py > "$out/vectors.tsv"

cflags=(-std=gnu11 -Wall -Wextra -Werror -g -Izfc-ffi/include)
total=0
for t in client_life room_life errors vectors; do
    src=zfc-ffi/tests/c/$t.c
    args=()
    [ "$t" = vectors ] && args=("$out/vectors.tsv")

    gcc "${cflags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
        "$src" "$lib/libzfc_ffi.a" -lpthread -ldl -lm -o "$out/$t.asan"
    echo "--- $t under AddressSanitizer + UBSan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$out/$t.asan" "${args[@]}"

    gcc "${cflags[@]}" "$src" -L"$lib" -lzfc_ffi -Wl,-rpath,"$lib" -o "$out/$t.vg"
    echo "--- $t under valgrind"
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=1 "$out/$t.vg" "${args[@]}" 2> "$out/$t.valgrind.log" || { cat "$out/$t.valgrind.log"; exit 1; }
    valgrind --leak-check=full "$out/$t.vg" "${args[@]}" 2>&1 >/dev/null | grep -E "ERROR SUMMARY|definitely lost|indirectly lost|in use at exit" | sed "s/^==[0-9]*== /    valgrind $t: /"
    total=$((total + 1))
done

echo "--- example, built through pkg-config"
sed -e "s|@PREFIX@|$PWD|" -e "s|@LIBDIR@|$lib|" zfc-ffi/zfc.pc.in > "$out/zfc.pc"
PKG_CONFIG_PATH="$out" gcc -std=c11 -Wall -Wextra -Werror zfc-ffi/examples/chat.c $(PKG_CONFIG_PATH="$out" pkg-config --cflags --libs zfc) \
    -Wl,-rpath,"$lib" -o "$out/chat"
"$out/chat" > "$out/chat.log"
grep -q "carol read: hello from the C example" "$out/chat.log" || { cat "$out/chat.log"; echo "example did not chat" >&2; exit 1; }
echo "C tests: $total programs clean under ASan/UBSan and valgrind; example ran"
