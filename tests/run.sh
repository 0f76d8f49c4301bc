#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/integration/snapshot tests, differential test.
# Each step's wall time is printed as it ends, and all of them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export INSTA_UPDATE=no      # a changed snapshot fails instead of being written
export CARGO_INCREMENTAL=0  # a clean build gains nothing from incremental state but its disk
export PIP_NO_CACHE_DIR=1   # the venv's wheels are installed once; a cache copy only takes disk

timings=()
# step TITLE COMMAND...: runs COMMAND under a heading and notes how long it took.
step() {
  local title=$1 started=$SECONDS
  shift
  echo "== $title"
  "$@"
  local took=$((SECONDS - started))
  timings+=("$(printf '%5d s  %s' "$took" "$title")")
  echo "-- $title: ${took} s"
}

fmt_check() {
  cargo fmt --all -- --check
  rustfmt --edition 2024 --check fuzz/fuzz_targets/*.rs
}
step "cargo fmt --check" fmt_check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "cargo build (the plugins, which tests load dynamically)" cargo build --workspace
step "cargo test" cargo test --workspace
step "the fuzz targets still compile (running them: docs/reliability.md)" \
  cargo check --locked --manifest-path fuzz/Cargo.toml --target-dir target/fuzz-check --bins --no-default-features
step "differential test against DuckDB" bash tests/differential/run.sh
step "the HTML report in headless Chromium" bash tests/report/run.sh
step "the Python package (maturin, pytest)" bash tests/python/run.sh
step "benchmark harness at a small size (agreement of the engines, not speed)" bash bench/run.sh --events 2e5 --check
echo "== wall time of each step (${SECONDS} s in all)"
printf '%s\n' "${timings[@]}"
