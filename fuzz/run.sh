#!/usr/bin/env bash
# Run every fuzz target for RUNS executions (default 10 million) each,
# starting from the seeds in fuzz/seeds/TARGET (kept in the repository)
# plus whatever corpus earlier runs left in fuzz/corpus/TARGET (not kept).
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
#
#   fuzz/run.sh                 # every target, 10,000,000 runs each
#   RUNS=100000 fuzz/run.sh answer saved
#   SANITIZER=none fuzz/run.sh input  # no AddressSanitizer: about 8x the
#                                     # executions/s; the targets are safe
#                                     # Rust, so ASan guards only the three
#                                     # audited unsafe blocks (see DESIGN.md)
#
# Prints one line per target: executions, time, and whether it crashed.
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
SANITIZER=${SANITIZER:-address}
TARGETS=${*:-$(cargo +nightly fuzz list)}
cargo +nightly fuzz build -O -s "$SANITIZER" >/dev/null 2>&1
for t in $TARGETS; do
    mkdir -p "corpus/$t"
    [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
    start=$(date +%s)
    if cargo +nightly fuzz run -O -s "$SANITIZER" "$t" "corpus/$t" -- -runs="$RUNS" -max_len=65536 -print_final_stats=1 > "/tmp/fuzz-$t.log" 2>&1; then
        verdict="no crash"
    else
        verdict="CRASH (see /tmp/fuzz-$t.log and fuzz/artifacts/$t)"
    fi
    runs=$(grep -E '^stat::number_of_executed_units' "/tmp/fuzz-$t.log" | awk '{print $2}')
    echo "$t: ${runs:-?} executions ($SANITIZER sanitizer) in $(( $(date +%s) - start )) s: $verdict"
done
