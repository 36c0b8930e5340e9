#!/usr/bin/env bash
# Sets up, builds in release mode, and runs the whole-system benchmarks: this machine's ed25519
# rates, the consensus engines alone, checkpoint certificates, the federation simulation at 10,
# 100 and 1,000 cells, and a live 4-validator cell under increasing load. Arguments go to
# `charter-bench` (see `--help`; `--simulation-only` runs the simulation alone). Figures are
# printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --release --locked --bin charter --bin charter-bench
release="${CARGO_TARGET_DIR:-target}/release"
exec "$release/charter-bench" --charter "$release/charter" "$@"
