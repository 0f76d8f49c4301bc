#!/usr/bin/env python3
"""Runs the SQL `tenure sql --dialect duckdb` writes, in DuckDB, and compares its figures with
the in-process engine's report, figure by figure.

usage: sql_check.py TENURE CONFIG.toml TENURE.json
Every metric the SQL backend compiles is checked; metrics it refuses are listed. Exits 1 on the
first difference, printing it.
"""
import json
import subprocess
import sys
import tomllib
from datetime import date, timedelta

import duckdb

tenure, config_path, report_path = sys.argv[1:4]
with open(config_path, "rb") as f:
    config = tomllib.load(f)
with open(report_path) as f:
    report = json.load(f)
week_start = config.get("project", {}).get("week_start", "monday")
EPOCH = date(1970, 1, 1)


def label(grain, index):
    """The engine's label of period `index` (docs/config.md: `YYYY-MM-DD`, `YYYY-MM`, `YYYY-Qn`)."""
    if grain == "day":
        return (EPOCH + timedelta(days=index)).isoformat()
    if grain == "week":
        shift = 3 if week_start == "monday" else 4
        return (EPOCH + timedelta(days=index * 7 - shift)).isoformat()
    if grain == "month":
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    return f"{index // 4:04d}-Q{index % 4 + 1}"


con = duckdb.connect()
con.execute("SET threads = 2")
checked, refused, failed = 0, [], 0
for name, metric in config["metrics"].items():
    run = subprocess.run([tenure, "sql", config_path, "--dialect", "duckdb", "--metric", name],
                         capture_output=True, text=True)
    if run.returncode != 0:
        refused.append(name)
        continue
    rows = con.execute(run.stdout).fetchall()
    expected = report["metrics"][name]
    if metric["type"] == "crr":
        got = [{"period": label(metric.get("grain", "month"), p), "complete": c, "start": s, "end": e, "new": n}
               for p, c, s, e, n in rows]
        want = [{k: p[k] for k in ("period", "complete", "start", "end", "new")} for p in expected["periods"]]
    elif metric["type"] == "retention":
        grain = config["cohorts"][metric["cohort"]]["grain"]
        columns = (len(rows[0]) - 2) // 3 if rows else 0
        got = [{"cohort": label(grain, r[0]), "size": r[1],
                "retained": [r[2 + 3 * i] for i in range(columns)],
                "eligible": [r[3 + 3 * i] for i in range(columns)]} for r in rows]
        want = [{k: c[k] for k in ("cohort", "size", "retained", "eligible")} for c in expected["cohorts"]]
        total = {"size": sum(r[1] for r in rows),
                 "retained": [sum(r[4 + 3 * i] for r in rows) for i in range(columns)],
                 "eligible": [sum(r[3 + 3 * i] for r in rows) for i in range(columns)]}
        got.append(total)
        want.append({k: expected["total"][k] for k in ("size", "retained", "eligible")})
    else:
        raise SystemExit(f"sql_check.py does not know how to compare a `{metric['type']}` metric yet")
    if got != want:
        failed += 1
        for g, w in zip(got, want):
            if g != w:
                print(f"MISMATCH {name}: SQL {g} vs engine {w}")
                break
        else:
            print(f"MISMATCH {name}: SQL has {len(got)} rows, the engine {len(want)}")
    else:
        checked += 1
        print(f"ok {name}: {len(got)} rows, DuckDB running tenure's SQL agrees with the engine")
print(f"sql (duckdb): {checked} passed, {failed} failed; not compiled yet: {', '.join(refused) or 'none'}")
sys.exit(1 if failed or checked == 0 else 0)
