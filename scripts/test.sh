#!/usr/bin/env bash
# Every test of rumba: the Rust workspace (`cargo test --workspace`), then the Python package
# (a venv from requirements-ci.txt, `pip install .`, pytest over python/tests).
#
#   bash scripts/test.sh            # what CI runs (.ci/run) and the README's test command
#   bash scripts/test.sh --python   # only the Python part (the Rust tests already ran)
#
# The venv lives at target/py-venv (RUMBA_TEST_VENV overrides) and is rebuilt when
# requirements-ci.txt changes. Works from any directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

if [[ "${1:-}" != "--python" ]]; then
    echo "== cargo test --workspace"
    cargo test --workspace --locked
fi

REQ="requirements-ci.txt"
VENV="${RUMBA_TEST_VENV:-$ROOT/target/py-venv}"
PYTHON="${PYTHON:-python3}"
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$REQ" "$VENV/requirements-ci.txt"; then
    echo "== venv $VENV (from $REQ)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
    cp "$REQ" "$VENV/requirements-ci.txt"
fi

echo "== pip install . (maturin, release build of crates/rumba-py)"
# The pinned maturin of the venv builds it (no download of a build environment).
PATH="$VENV/bin:$PATH" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-build-isolation --no-deps --force-reinstall .

echo "== pytest python/tests"
# From outside the source tree, so `import rumba` is the installed package.
cd "$ROOT/python/tests"
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider .
