#!/usr/bin/env bash
# The Python client (clients/python), written from docs/ alone: installs it with pip from the
# repository into a virtual environment, checks its types, and runs its tests against live
# localnets of the `charter` binary `cargo build --bin charter` made (a cell, and a federation
# of three). Its tests reproduce every worked example in docs/ and verify proofs and
# certificates in Python.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
charter="$target/debug/charter"
[ -x "$charter" ] || { echo "python client: build charter first (cargo build --bin charter)" >&2; exit 1; }
venv="$target/python-client-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade "./clients/python[test]"
"$venv/bin/mypy" --strict --cache-dir "$target/python-client-mypy" clients/python/charter_client
CHARTER_BIN="$charter" "$venv/bin/pytest" -q -p no:cacheprovider clients/python/tests
