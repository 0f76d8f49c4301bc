#!/usr/bin/env bash
# Benchmark tenure against DuckDB and Polars on the same files, each Parquet file as several
# writers write it, at 2 and 1 threads: `bash bench/run.sh` (20 M events),
# `bash bench/run.sh --events 5e6 10e6 20e6 40e6`, `bash bench/run.sh --events 2e5 --check` (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
if ! "$venv/bin/python" -c "import duckdb, polars, pyarrow, pyspark" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "duckdb==1.5.6" "polars==2.1.0" \
    "pyarrow==26.0.1" "pyspark==4.3.0"
fi
if ! command -v java >/dev/null; then
  echo "installing Java 17 for Spark's Parquet parts (Debian package openjdk-17-jre-headless)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
if [[ " $* " == *" --check "* ]]; then
  # A correctness check of the comparison: the debug build the tests use is enough (the whole
  # workspace, as tests/run.sh builds it, so that no dependency is compiled again).
  cargo build --quiet --workspace
  export TENURE_BIN="$PWD/target/debug/tenure"
else
  cargo build --quiet --release -p tenure-cli
fi
"$venv/bin/python" bench/bench.py "$@"
