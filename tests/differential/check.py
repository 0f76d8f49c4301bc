#!/usr/bin/env python3
"""Recomputes tenure's retention tables in DuckDB SQL and compares them figure by figure.

usage: check.py CONFIG.toml TENURE.json
Reads the same config tenure ran (sources, zone, week start, as_of, value events of the forms
`event == 'x'` / `event in [...]` / `a or b`, cohorts, metrics) and builds one SQL query per
metric. Exits 1 on the first difference, printing it.
"""
import json
import os
import re
import sys
import tomllib

import duckdb

config_path, tenure_path = sys.argv[1], sys.argv[2]
with open(config_path, "rb") as f:
    config = tomllib.load(f)
with open(tenure_path) as f:
    tenure = json.load(f)

project = config["project"]
tz = project.get("timezone", "UTC")
week_start = project.get("week_start", "monday")
as_of = project["as_of"]
base = os.path.dirname(os.path.abspath(config_path))
events_file = os.path.join(base, config["sources"]["events"]["path"])

con = duckdb.connect()
con.execute("SET threads = 2")
con.execute(f"SET TimeZone = '{tz}'")
con.execute(f"""
CREATE TABLE ev AS
SELECT DISTINCT account_id, ts, event, amount, plan, user_agent, score
FROM read_csv('{events_file}', types={{'ts': 'TIMESTAMPTZ'}})
WHERE NOT coalesce(lower(user_agent) LIKE '%bot%', false)""")
# Local calendar date of every row in the project zone.
con.execute(f"CREATE TABLE rows AS SELECT account_id, ts, event, CAST(timezone('{tz}', ts) AS DATE) AS d FROM ev")


def event_sql(name, seen=()):
    """SQL predicate for a value event written as event == 'x', event in [...], or names joined by `or`."""
    where = config["events"][name]["where"].strip()
    m = re.fullmatch(r"event\s*==\s*'([^']*)'", where)
    if m:
        return f"event = '{m.group(1)}'"
    m = re.fullmatch(r"event\s+in\s+\[(.*)\]", where)
    if m:
        names = [s.strip() for s in m.group(1).split(",")]
        return f"event IN ({', '.join(names)})"
    parts = [p.strip() for p in where.split(" or ")]
    if all(p in config["events"] for p in parts):
        return "(" + " OR ".join(event_sql(p) for p in parts) + ")"
    raise SystemExit(f"check.py cannot translate value event `{name}`: {where}")


def week_first(expr):
    # DuckDB's dayofweek: Sunday = 0 … Saturday = 6.
    if week_start == "sunday":
        return f"({expr} - CAST(dayofweek({expr}) AS INTEGER))"
    return f"({expr} - CAST((dayofweek({expr}) + 6) % 7 AS INTEGER))"


def cohort_label(grain):
    return {
        "day": "strftime(d0, '%Y-%m-%d')",
        "week": f"strftime({week_first('d0')}, '%Y-%m-%d')",
        "month": "strftime(d0, '%Y-%m')",
        "quarter": "strftime(d0, '%Y') || '-Q' || CAST(quarter(d0) AS VARCHAR)",
    }[grain]


def offset_sql(unit, align):
    if unit == "day":
        return "(d - d0)"
    if unit == "week" and align == "calendar":
        return f"(({week_first('d')} - {week_first('d0')}) // 7)"
    if unit == "week":
        return "((d - d0) // 7)"
    return "((year(d) * 12 + month(d)) - (year(d0) * 12 + month(d0)))"


def period_end_sql(unit, align, k):
    if unit == "day":
        return f"(d0 + {k})"
    if unit == "week" and align == "calendar":
        return f"({week_first('d0')} + {7 * k + 6})"
    if unit == "week":
        return f"(d0 + {7 * k + 6})"
    return f"CAST(last_day(date_trunc('month', d0) + to_months({k})) AS DATE)"


failures = 0
checked = 0
metrics_checked = 0
for name, metric in config["metrics"].items():
    if metric["type"] != "retention":
        continue
    cohort = config["cohorts"][metric["cohort"]]
    mode, unit = metric.get("mode", "n-day"), metric.get("unit", "day")
    align = metric.get("align", "entity")
    cells = metric["brackets"] if mode == "bracket" else metric["periods"]
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE members AS
    SELECT account_id, t0, CAST(timezone('{tz}', t0) AS DATE) AS d0 FROM (
      SELECT account_id, min(ts) AS t0 FROM rows
      WHERE {event_sql(cohort['start'])} AND d <= DATE '{as_of}' GROUP BY account_id)""")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE offsets AS
    SELECT DISTINCT m.account_id, {offset_sql(unit, align)} AS k
    FROM members m JOIN rows r USING (account_id)
    WHERE {event_sql(metric['return'])} AND r.d <= DATE '{as_of}' AND {offset_sql(unit, align)} >= 0""")
    columns = []
    for i, cell in enumerate(cells):
        if mode == "n-day":
            test, last = f"k = {cell}", cell
        elif mode == "unbounded":
            test, last = f"k >= {cell}", cell
        else:
            test, last = f"k BETWEEN {cell[0]} AND {cell[1]}", cell[1]
        retained = f"EXISTS (SELECT 1 FROM offsets o WHERE o.account_id = m.account_id AND o.{test})"
        eligible = f"{period_end_sql(unit, align, last)} <= DATE '{as_of}'"
        columns.append(f"count(*) FILTER (WHERE {retained}) AS r{i}")
        columns.append(f"count(*) FILTER (WHERE {eligible}) AS e{i}")
        columns.append(f"count(*) FILTER (WHERE {retained} AND {eligible}) AS re{i}")
    rows = con.execute(f"""
    SELECT {cohort_label(cohort['grain'])} AS cohort, count(*) AS size, {', '.join(columns)}
    FROM members m GROUP BY 1 ORDER BY 1""").fetchall()
    got = tenure["metrics"][name]
    expected_cohorts = [
        {"cohort": r[0], "size": r[1],
         "retained": [r[2 + 3 * i] for i in range(len(cells))],
         "eligible": [r[3 + 3 * i] for i in range(len(cells))]}
        for r in rows
    ]
    actual_cohorts = [{k: c[k] for k in ("cohort", "size", "retained", "eligible")} for c in got["cohorts"]]
    if expected_cohorts != actual_cohorts:
        failures += 1
        for e, a in zip(expected_cohorts, actual_cohorts):
            if e != a:
                print(f"MISMATCH {name}: duckdb {e}\n{' ' * (10 + len(name))}tenure {a}")
                break
        if len(expected_cohorts) != len(actual_cohorts):
            print(f"MISMATCH {name}: duckdb has {len(expected_cohorts)} cohorts, tenure {len(actual_cohorts)}")
        continue
    total_retained = [sum(r[4 + 3 * i] for r in rows) for i in range(len(cells))]
    total_eligible = [sum(r[3 + 3 * i] for r in rows) for i in range(len(cells))]
    total = got["total"]
    if total["retained"] != total_retained or total["eligible"] != total_eligible:
        failures += 1
        print(f"MISMATCH {name} total: duckdb {total_retained} / {total_eligible}, tenure {total['retained']} / {total['eligible']}")
        continue
    for c in got["cohorts"]:
        if c["rate"] != [r / c["size"] for r in c["retained"]]:
            failures += 1
            print(f"MISMATCH {name} rate in {c['cohort']}")
    checked += sum(len(c["retained"]) for c in expected_cohorts)
    metrics_checked += 1
    print(f"ok {name}: {len(expected_cohorts)} cohorts, {len(cells)} columns ({mode}, {unit}, {align}, {cohort['grain']} cohorts)")

print(f"{checked} cells checked in zone {tz} with {week_start} weeks: {'all agree' if failures == 0 else f'{failures} metric(s) differ'}")
print(f"differential: {metrics_checked} passed, {failures} failed")
sys.exit(1 if failures else 0)
