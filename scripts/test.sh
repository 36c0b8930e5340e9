#!/usr/bin/env bash
# The test command: sets up the machine, then checks formatting and lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --locked --bin charter
cargo nextest run --workspace --locked --no-fail-fast
python3 scripts/check_wire_format.py
