#!/usr/bin/env bash
# The Python package (bindings/python): builds the abi3 wheel once with maturin into the
# workspace's target directory, installs it by file into a virtual environment there, then runs
# pytest (vectors, room life, errors, threads, end to end against zfc-relay, the example),
# stubtest (the stubs match the module) and mypy --strict over the tests, examples and package.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "FATAL: '$1' is required ($2)" >&2; exit 1; }; }
need python3 "apt-get install python3 (3.9 or later)"
python3 -c 'import sys; assert sys.version_info >= (3, 9), sys.version' \
    || { echo "FATAL: python3 is older than 3.9" >&2; exit 1; }
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 \
        || { echo "FATAL: python3's venv module is missing (apt-get install python3-venv)" >&2; exit 1; }
fi

target="${CARGO_TARGET_DIR:-target}"
target=$(mkdir -p "$target" && cd "$target" && pwd)
venv="$target/pyenv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check -r bindings/python/requirements-test.txt

# zfc-relay for the end-to-end tests (already built by cargo test; a no-op then).
cargo build --locked -q -p zfc-relay --bin zfc-relay
export ZFC_RELAY_BIN="$target/debug/zfc-relay"

# One wheel, built with the workspace's target directory (a plain `pip install ./bindings/python`
# would build the Rust code again in an isolated environment).
rm -rf "$target/wheels"
(cd bindings/python && CARGO_TARGET_DIR="$target" "$venv/bin/maturin" build --locked --release -q -o "$target/wheels")
wheel=$(ls "$target"/wheels/zfc-*-abi3-*.whl)
"$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
echo "wheel: $(basename "$wheel")"
[ -n "${ZFC_PYTHON_BUILD_ONLY:-}" ] && exit 0

cd bindings/python
"$py" -m pytest -q -p no:cacheprovider tests
"$py" -m mypy.stubtest zfc
"$py" -m mypy --strict --no-incremental tests examples
(cd "$target" && "$py" -m mypy --strict --no-incremental -p zfc)
# The benchmark script once, small (./scripts/bench.sh runs it in full).
"$py" bench/bench.py --quick >/dev/null
