#!/usr/bin/env bash
# Installs what building and testing Charter needs on a Debian machine: the system RocksDB the
# build links against (compiling RocksDB's C++ from source would take ~12 minutes), libclang
# for bindgen, and cargo-nextest. Safe to run repeatedly.
set -euo pipefail

packages=(librocksdb-dev libclang-dev clang pkg-config)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is not installed; install a Rust toolchain (rustup) first" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
# The cross-language wire-format check (scripts/check_wire_format.py) uses these.
if ! python3 -c "import blake3, cryptography" 2>/dev/null; then
  echo "setup: installing Python blake3 and cryptography"
  python3 -m pip install --quiet blake3 cryptography
fi
echo "setup: ready"
