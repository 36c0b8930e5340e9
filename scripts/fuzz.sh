#!/usr/bin/env bash
# Fuzzes, with libFuzzer (`cargo fuzz`), everything that decodes bytes from a client or a peer:
# the transaction decoder, the engine's consensus and sync messages, the federation's
# checkpoint messages with the collector behind them, and the HTTP API's request paths through
# the real router (`fuzz/fuzz_targets/`; a target's dictionary, if any, is in
# `fuzz/dictionaries/`). The argument is
# the seconds per target (default 20: the smoke `scripts/test.sh` runs). A finding stops the
# run and is kept in fuzz/artifacts/<target>/, replayable with
# `cd fuzz && cargo fuzz run --sanitizer none <target> <file>`.
#
# No sanitizer: the code fuzzed is safe Rust, so what is looked for is a panic, an abort, a
# hang (over 10 s for one input) or runaway memory, and the build then works on the stable
# toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz@0.13.2
fi
cd fuzz
cargo fuzz build --sanitizer none
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
targets=(transaction engine_message federation_message api_request)
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    dictionary=()
    [ -f "dictionaries/$target.dict" ] && dictionary=(-dict="dictionaries/$target.dict")
    if ! cargo fuzz run --sanitizer none "$target" -- "${dictionary[@]}" \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz: $target failed; the input is kept in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    echo "fuzz: $target: $(grep -E '^Done [0-9]+ runs' "$log")," \
        "$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)"
done
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, nothing found"
