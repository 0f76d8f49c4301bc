#!/usr/bin/env bash
# The Python package: built with maturin into a virtual environment under target/ and tested
# with pytest against the command line built from the same checkout.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/venv-python
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import maturin, pytest, pyarrow, pandas, polars, matplotlib" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "maturin==1.16.0" "pytest==9.2.0" \
    "pyarrow==26.0.1" "pandas==3.1.1" "polars==2.1.0" "matplotlib==3.11.2"
fi
# The whole workspace, as tests/run.sh builds it: building one package alone would resolve its
# dependencies' features differently and compile them again.
cargo build --quiet --workspace
# Into the environment as an editable install, built with the workspace's debug profile and
# target folder, so that the crates the command line compiled are reused.
VIRTUAL_ENV="$PWD/$venv" PATH="$PWD/$venv/bin:$PATH" \
  "$venv/bin/maturin" develop --quiet --manifest-path crates/tenure-py/Cargo.toml
TENURE_BIN="$PWD/target/debug/tenure" "$venv/bin/python" -m pytest -q tests/python
