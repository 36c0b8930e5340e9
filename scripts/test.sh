#!/usr/bin/env bash
# The test command: sets up the machine, then checks formatting and lints, runs every test, and
# gives each fuzz target a short run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --locked --bin charter
cargo nextest run --workspace --locked --no-fail-fast
scripts/check-dashboard.sh
scripts/test-python-client.sh
scripts/fuzz.sh 20
