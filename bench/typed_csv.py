#!/usr/bin/env python3
"""Run a reference workload script unchanged on a CSV file, with `amount` declared as a number.

usage: typed_csv.py SCRIPT EVENTS_FILE [args...]

The reference scripts let DuckDB and Polars infer CSV column types from the first rows. In an
event log ordered by time, every row they sample in a large file can precede the first payment,
so `amount` is empty there, is inferred as text, and `sum(amount)` fails. A
user would declare the type; this wrapper does exactly that and nothing else: DuckDB's
`read_csv(..., types={'ts': ...})` gains `'amount': 'DOUBLE'`, Polars' `scan_csv` gains a
Float64 override for `amount`. Every query runs as the script wrote it, and the timing still
covers the whole process.
"""
import runpy
import sys

DUCKDB_TYPES = "types={'ts': 'TIMESTAMPTZ'}"
DUCKDB_TYPES_WITH_AMOUNT = "types={'ts': 'TIMESTAMPTZ', 'amount': 'DOUBLE'}"


class _TypedCsvConnection:
    """A DuckDB connection that declares `amount` in the script's `read_csv` call."""

    def __init__(self, inner):
        self._inner = inner

    def execute(self, sql, *args, **kwargs):
        sql = sql.replace(DUCKDB_TYPES, DUCKDB_TYPES_WITH_AMOUNT)
        return self._inner.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _patch_duckdb():
    import duckdb

    connect = duckdb.connect

    def typed_connect(*args, **kwargs):
        return _TypedCsvConnection(connect(*args, **kwargs))

    duckdb.connect = typed_connect


def _patch_polars():
    import polars as pl

    scan_csv = pl.scan_csv

    def typed_scan_csv(*args, **kwargs):
        overrides = dict(kwargs.pop("schema_overrides", None) or {})
        overrides.setdefault("amount", pl.Float64)
        return scan_csv(*args, schema_overrides=overrides, **kwargs)

    pl.scan_csv = typed_scan_csv


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    script = sys.argv[1]
    if "duckdb" in script:
        _patch_duckdb()
    elif "polars" in script:
        _patch_polars()
    else:
        print(f"typed_csv.py: no CSV typing known for {script}", file=sys.stderr)
        return 2
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
