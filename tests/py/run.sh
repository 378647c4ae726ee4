#!/usr/bin/env bash
# Runs one tests/py/test_*.py with the venv of the build ($LUCID_BUILD_DIR/venv,
# made by scripts/test.sh). Exit 77 (CTest: skipped) without it, unless CI=true.
set -euo pipefail
python=${LUCID_TEST_PYTHON:-$LUCID_BUILD_DIR/venv/bin/python}
if [[ ! -x $python ]]; then
  echo "skipped: no Python venv at $python (scripts/test.sh makes it: tensorboard, safetensors, Debian's python3-torch)"
  [[ ${CI:-} == true ]] && { echo "CI=true: the Python read-back tests must run"; exit 1; }
  exit 77
fi
cd "$(dirname "$1")"
exec "$python" "$1"
