#!/usr/bin/env bash
# Installs what building and testing Charter needs on a Debian machine: the system RocksDB the
# build links against (compiling RocksDB's C++ from source would take ~12 minutes), libclang
# for bindgen, Python's venv, the browser and Prometheus the explorer's and dashboard's tests
# run, and cargo-nextest. Safe to run repeatedly.
set -euo pipefail

# python3-venv: the Python client's tests and the dashboard check run in virtual environments.
# chromium, chromium-driver: the explorer's tests drive a headless browser.
# prometheus: the dashboard's test evaluates every query against live nodes.
packages=(librocksdb-dev libclang-dev clang pkg-config python3-venv chromium chromium-driver prometheus)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is not installed; install a Rust toolchain (rustup) first" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
echo "setup: ready"
