#!/usr/bin/env bash
# Sets up, builds, and runs one cell's ledger on RocksDB under simulated agents. Arguments go
# to `charter simulate` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --release --locked --bin charter
exec target/release/charter simulate "$@"
