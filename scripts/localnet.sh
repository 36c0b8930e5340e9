#!/usr/bin/env bash
# Sets up, builds, and starts a local cell: four validators as separate processes on 127.0.0.1
# and simulated agents using it through the validators' APIs. Ctrl-C stops everything.
# Arguments go to `charter localnet` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --release --locked --bin charter
exec "${CARGO_TARGET_DIR:-target}/release/charter" localnet "$@"
