#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/integration/snapshot tests, differential test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export INSTA_UPDATE=no      # a changed snapshot fails instead of being written
export CARGO_INCREMENTAL=0  # a clean build gains nothing from incremental state but its disk
export PIP_NO_CACHE_DIR=1   # the venv's wheels are installed once; a cache copy only takes disk

echo "== cargo fmt --check"
cargo fmt --all -- --check
rustfmt --edition 2024 --check fuzz/fuzz_targets/*.rs
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo build (the plugins, which tests load dynamically)"
cargo build --workspace
echo "== cargo test"
cargo test --workspace
echo "== the fuzz targets still compile (running them: docs/reliability.md)"
cargo check --locked --manifest-path fuzz/Cargo.toml --target-dir target/fuzz-check --bins
echo "== differential test against DuckDB"
bash tests/differential/run.sh
echo "== the HTML report in headless Chromium"
bash tests/report/run.sh
echo "== the Python package (maturin, pytest)"
bash tests/python/run.sh
echo "== benchmark harness at a small size (agreement of the engines, not speed)"
bash bench/run.sh --events 2e5 --check
