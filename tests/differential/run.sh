#!/usr/bin/env bash
# Differential test: tenure and DuckDB compute the same retention tables on a generated dataset.
# DuckDB is installed into a virtual environment under target/ on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/differential-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "duckdb==1.5.6"
fi
cargo build --quiet -p tenure-cli -p tenure-rfm
tenure=target/debug/tenure
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$tenure" gen --accounts 800 --days 240 --seed 11 --out "$work/data"

# Pass 1: UTC, Monday weeks. Pass 2: a zone west of UTC, Sunday weeks.
plugins="$PWD/target/debug"
sed -e "s|PLUGIN_DIR|$plugins|" tests/differential/metrics.toml > "$work/utc.toml"
sed -e "s|PLUGIN_DIR|$plugins|" -e 's|timezone = "UTC"|timezone = "America/Los_Angeles"|' \
  -e 's|week_start = "monday"|week_start = "sunday"|' tests/differential/metrics.toml > "$work/la.toml"
for config in utc la; do
  "$tenure" run "$work/$config.toml" --format json --quiet > "$work/$config.json"
  "$tenure" segment "$work/$config.toml" --name rfm > "$work/$config.rfm.csv"
  "$venv/bin/python" tests/differential/check.py "$work/$config.toml" "$work/$config.json" "$work/$config.rfm.csv"
done
