#!/usr/bin/env bash
# Kotlin on the JVM (bindings/kotlin, Maven): the build generates the Kotlin sources from
# libzfc_ffi with the workspace's uniffi-bindgen, compiles them with the hand-written layer
# (zfc.okhttp), runs the JUnit tests (vectors, room life, errors, threads, end to end against a
# zfc-relay process) and packages the jar with the native library inside. Then, outside Maven:
# the library's LOAD segments are 16 KB aligned (Android 15+), and the jar alone (no
# jna.library.path, no LD_LIBRARY_PATH, run from another directory) chats through a relay:
# the README's example, two processes, a message each way.
# Maven fetches its dependencies on a fresh machine (Maven Central).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need() { command -v "$1" >/dev/null 2>&1 || { echo "FATAL: '$1' is required ($2)" >&2; exit 1; }; }
if ! command -v mvn >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq maven >/dev/null
fi
need java "a JDK 17: apt-get install openjdk-17-jdk-headless"
need mvn "Maven 3.8+: apt-get install maven"
need readelf "apt-get install binutils"

target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
mvn_args=(-B -q -f bindings/kotlin/pom.xml "-Dzfc.target=$target")

mvn "${mvn_args[@]}" verify
reports=bindings/kotlin/target/surefire-reports
tests=$(cat "$reports"/TEST-*.xml | grep -Eo '<testsuite [^>]*' | grep -Eo ' tests="[0-9]+"' | grep -Eo '[0-9]+' | awk '{s += $1} END {print s + 0}')
[ "$tests" -gt 0 ] || { echo "FATAL: no Kotlin test ran" >&2; exit 1; }
echo "Kotlin tests passed: $tests"

lib="$target/debug/libzfc_ffi.so"
aligns=$(readelf -lW "$lib" | awk '$1 == "LOAD" {print $NF}')
[ -n "$aligns" ] || { echo "FATAL: readelf found no LOAD segment in $lib" >&2; exit 1; }
for a in $aligns; do
    (( a >= 16384 )) || { readelf -lW "$lib" >&2; echo "FATAL: $lib has a LOAD segment aligned to $a" >&2; exit 1; }
done
echo "libzfc_ffi.so: every LOAD segment 16 KB aligned"

# The jar alone, from a directory with no library in it.
jar="$root/bindings/kotlin/target/zfc-0.1.0.jar"
cp="$jar:$(cat bindings/kotlin/target/classpath.txt)"
work=$(mktemp -d)
relay_pid=""
cleanup() {
    [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null || true
    jobs -p | xargs -r kill 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
ZFC_LOG=warn "$target/debug/zfc-relay" --listen 127.0.0.1:0 --data-dir relay >relay.out 2>relay.err &
relay_pid=$!
for _ in $(seq 100); do [ "$(wc -l <relay.out)" -ge 2 ] && break; sleep 0.1; done
url=$(sed -n 1p relay.out | awk '{print $NF}')
key=$(sed -n 2p relay.out | awk '{print $NF}')
[[ "$url" == ws://* ]] || { cat relay.out relay.err >&2; echo "FATAL: zfc-relay did not start" >&2; exit 1; }

chat() { env -u LD_LIBRARY_PATH ZFC_PASSPHRASE="jar test" java -cp "$cp" zfc.example.ChatKt "$@"; }
mkfifo alice.in
chat alice "$url" "$key" <alice.in >alice.out 2>alice.err &
alice_pid=$!
exec 3>alice.in # alice's stdin stays open until the end
wait_for() { # FILE TEXT: waits up to 60 s for TEXT in FILE
    for _ in $(seq 600); do grep -qF "$2" "$1" && return 0; sleep 0.1; done
    echo "FATAL: '$2' never appeared in $1:" >&2; cat "$1" "${1%.out}.err" >&2; return 1
}
wait_for alice.out "invite: zfc:"
invite=$(grep -m1 '^invite: ' alice.out | cut -d' ' -f2)
echo "hello from bob" | chat bob "$url" "$key" "$invite" >bob.out 2>bob.err &
bob_pid=$!
wait_for alice.out "member 1: hello from bob"
echo "hello from alice" >&3
wait_for alice.out "member 0: hello from alice"
exec 3>&-
wait "$alice_pid" || { cat alice.err >&2; echo "FATAL: alice's chat failed" >&2; exit 1; }
wait "$bob_pid" || { cat bob.err >&2; echo "FATAL: bob's chat failed" >&2; exit 1; }
grep -qF "* joined as member 1" bob.out || { cat bob.out bob.err >&2; echo "FATAL: bob never joined" >&2; exit 1; }
if grep -q "jna.library.path\|UnsatisfiedLinkError" alice.err bob.err; then
    cat alice.err bob.err >&2; echo "FATAL: the jar did not load its own library" >&2; exit 1
fi
echo "the jar alone chats through zfc-relay (no library path)"
