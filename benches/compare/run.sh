#!/usr/bin/env bash
# rumba vs Numba vs NumPy on every BLITZ workload, in one run (see benches/compare/NOTES.md).
#
#   bash benches/compare/run.sh                      # full run: BLITZ's shapes, 7 rounds, 1 and 2 threads
#   bash benches/compare/run.sh --small --check-only --threads 1 --dtypes u8   # what CI runs
#   bash benches/compare/run.sh --only 'median|window' --rounds 3
#
# Creates (or reuses) a venv at target/compare-venv from benches/compare/requirements.txt,
# builds the rumba side (`cargo build --release --example compare_rumba`), then runs
# `python benches/compare/compare.py "$@"` (flags: compare.py --help). Works from any directory.
# Honours CARGO_TARGET_DIR like cargo does (default: target/ of the repository).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$(pwd)"
REQ="benches/compare/requirements.txt"
VENV="${COMPARE_VENV:-$ROOT/target/compare-venv}"
PYTHON="${PYTHON:-python3}"

# The venv is rebuilt when requirements.txt changes (its copy inside the venv differs).
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$REQ" "$VENV/requirements.txt"; then
    echo "== venv $VENV (from $REQ)" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
    cp "$REQ" "$VENV/requirements.txt"
fi

# The Python package, for the "rumba py" column (maturin from the venv; the release build is
# shared with target/ and the test script's venv).
echo "== pip install . (the rumba package)" >&2
PATH="$VENV/bin:$PATH" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-build-isolation --no-deps --force-reinstall . >&2

echo "== cargo build --release --example compare_rumba" >&2
cargo build --release --example compare_rumba >&2
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export RUMBA_COMPARE_BIN="$TARGET_DIR/release/examples/compare_rumba"
# Numba's on-disk cache (cache=True) goes under target/, not beside the sources.
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$ROOT/target/compare-numba-cache}"

exec "$VENV/bin/python" benches/compare/compare.py "$@"
