#!/usr/bin/env bash
# Coverage-guided fuzzing of the statement parsers with libFuzzer, on the
# stable toolchain (neither nightly nor cargo-fuzz is needed; cargo fuzz
# also works on this folder where nightly is at hand).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]    targets: csv ofx qif camt
#
# Runs each target for SECONDS (default 60) from tests/fuzz/seeds plus the
# corpus it grew before (tests/fuzz/corpus, not committed), then prints the
# coverage it reached. A crash or a broken promise (fin_fuzz::check) stops
# the target and leaves the input in tests/fuzz/artifacts/TARGET/: turn it
# into a regression test next to the parser, then fix the parser.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv ofx qif camt)

# What cargo fuzz passes to rustc: edge coverage with 8-bit counters and
# compared values for libFuzzer, overflow checks and debug assertions on.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# With an explicit --target, RUSTFLAGS reach only the fuzzed code, not the
# build scripts and proc macros (which would not link against libFuzzer).
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --bins --target "$host"

for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    echo "== $target: $seconds s"
    # One process, bounded memory and input size (the daemon refuses files
    # over its import limit long before the parsers see them).
    "target/$host/release/$target" "corpus/$target" "seeds/$target" \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 2>"artifacts/$target/log" || {
        echo "$target: stopped on a finding, see tests/fuzz/artifacts/$target/"
        tail -40 "artifacts/$target/log"
        exit 1
    }
    grep -E '^#[0-9]+.*(cov|DONE)' "artifacts/$target/log" | tail -1 || true
done
