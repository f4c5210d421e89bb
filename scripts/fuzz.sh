#!/usr/bin/env bash
# Runs the cargo-fuzz targets (nightly toolchain; `cargo install cargo-fuzz` once).
#   scripts/fuzz.sh [seconds per target] [target ...]
# New inputs go to build/fuzz/<target>; the committed seeds in fuzz/corpus/<target> are read
# only, and CI replays them (crates/alsrec-core/src/robustness_tests.rs). Findings land in
# fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model_file ratings catalog spark_part)
for t in "${targets[@]}"; do
  mkdir -p "build/fuzz/$t"
  (cd fuzz && cargo +nightly fuzz run "$t" "../build/fuzz/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -timeout=10 -print_final_stats=1)
done
