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
rfm_path = sys.argv[3] if len(sys.argv) > 3 else None
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
# The entity rows, as text, when the config has an entities source.
entity_source = next((s for s in config["sources"].values() if s.get("kind") == "entities"), None)
if entity_source:
    con.execute(f"""CREATE TABLE accounts AS SELECT * FROM read_csv('{os.path.join(base, entity_source['path'])}', all_varchar = true)""")
# Local calendar date of every row in the project zone.
con.execute(f"CREATE TABLE rows AS SELECT account_id, ts, event, amount, score, plan, CAST(timezone('{tz}', ts) AS DATE) AS d FROM ev")


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
    if where.startswith("event == if(") and "attr." not in where:
        # `if` over the event name and the rows' own columns: DuckDB has the same function.
        return "(" + where.replace("==", "=").replace("props.", "") + ")"
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


def period_index_sql(grain, expr):
    """An integer per period; consecutive periods differ by one."""
    return {
        "day": f"({expr} - DATE '1970-01-01')",
        "week": f"(({week_first(expr)} - DATE '1970-01-01' + 4) // 7)",
        "month": f"(year({expr}) * 12 + month({expr}) - 1)",
        "quarter": f"(year({expr}) * 4 + (month({expr}) - 1) // 3)",
        "year": f"year({expr})",
    }[grain]


def period_label(grain, index):
    import datetime
    if grain == "day":
        return str(datetime.date(1970, 1, 1) + datetime.timedelta(days=index))
    if grain == "week":
        # Week 0 starts on Monday 1969-12-29 (or Sunday 1969-12-28), see period_index_sql.
        shift = 4 if week_start == "sunday" else 3
        return str(datetime.date(1970, 1, 1) + datetime.timedelta(days=index * 7 - shift))
    if grain == "month":
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if grain == "year":
        return f"{index:04d}"
    return f"{index // 4:04d}-Q{index % 4 + 1}"


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def spread_payments_sql(event, spread):
    """Rows (account_id, d, micros, months) of the payments of `event` on or before as_of, with
    the months each covers: `spread` is a number, `props.amount`, or
    `if(attr.<column> == '<value>', <months>, <months>)`, rounded and held within 1 to 1200."""
    condition = re.fullmatch(r"if\(attr\.(\w+) == '([^']*)', (\d+), (\d+)\)", spread.strip())
    if condition:
        column, value, then, otherwise = condition.groups()
        months = f"CASE WHEN a.{column} = '{value}' THEN {then} ELSE {otherwise} END"
        join = "LEFT JOIN accounts a USING (account_id)"
    elif spread.strip() == "props.amount":
        months = "floor(amount + 0.5)"
        join = ""
    else:
        months = f"floor({float(spread)} + 0.5)"
        join = ""
    return f"""SELECT account_id, d, CAST(round(amount * 1000000) AS HUGEINT) AS micros,
                  CAST(least(greatest(coalesce({months}, 1), 1), 1200) AS BIGINT) AS months
           FROM rows {join} WHERE {event_sql(event)} AND d <= DATE '{as_of}' AND amount IS NOT NULL"""


def period_start_segment(by):
    """The segment a breakdown reads at each period's start, when `by` is exactly one such."""
    if by and len(by) == 1 and by[0].startswith("segment."):
        segment = config["segments"][by[0].removeprefix("segment.")]
        if segment.get("as_of") == "period_start":
            return by[0].removeprefix("segment."), segment
    return None


def create_period_start_labels(segment, grain):
    """Table `labels` (p, account_id, label): each entity's RFM score at the start of each
    period of `grain`, from the segment event's rows before that period's first day only, scored
    with that day's eve as as_of (NTILE as in the `rfm` check below)."""
    bins = segment.get("params", {}).get("bins", 5)
    first_day = con.execute("SELECT min(d) FROM rows").fetchone()[0]
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE labels AS
    WITH days AS (SELECT CAST(x AS DATE) AS day FROM range(DATE '{first_day}', DATE '{as_of}' + 1, INTERVAL 1 DAY) t(x)),
    cut AS (SELECT {period_index_sql(grain, "day")} AS p, min(day) - 1 AS eve FROM days GROUP BY 1),
    f AS (SELECT cut.p, cut.eve, account_id, count(*) AS freq,
                 sum(CAST(amount AS DECIMAL(18, 6))) AS mon, max(d) AS last_d
          FROM cut JOIN rows ON {event_sql(segment['event'])} AND d <= cut.eve GROUP BY ALL)
    SELECT p, account_id,
      CAST(NTILE({bins}) OVER (PARTITION BY p ORDER BY (eve - last_d) DESC, account_id) AS VARCHAR) ||
      CAST(NTILE({bins}) OVER (PARTITION BY p ORDER BY freq, account_id) AS VARCHAR) ||
      CAST(NTILE({bins}) OVER (PARTITION BY p ORDER BY coalesce(mon, 0), account_id) AS VARCHAR) AS label
    FROM f""")


def check_revenue(name, metric):
    grain = metric.get("grain", "month")
    event = metric["amount"]
    idx = period_index_sql(grain, "d")
    as_of_date = f"DATE '{as_of}'"
    last = con.execute(f"SELECT {period_index_sql(grain, as_of_date)}").fetchone()[0]
    if "spread" in metric and grain in ("day", "week"):
        # Each payment as one row per day it covers (from its day up to the same day n months
        # later, clamped to the month's end): an equal share in micro-units, the first days one
        # more until the remainder is used up; a period sums its days.
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE r AS
        WITH pay AS (
          SELECT account_id, d, micros, CAST(CAST(d + to_months(months) AS DATE) - d AS BIGINT) AS len
          FROM ({spread_payments_sql(event, metric["spread"])})),
        days AS (SELECT account_id, micros, len, CAST(d + CAST(i AS INTEGER) AS DATE) AS day, i
                 FROM pay, LATERAL (SELECT unnest(range(0, len)) AS i))
        SELECT account_id, {period_index_sql(grain, "day")} AS p,
               sum(micros // len + CASE WHEN i < micros % len THEN 1 ELSE 0 END) / 1000000.0 AS m
        FROM days GROUP BY 1, 2 HAVING sum(micros // len + CASE WHEN i < micros % len THEN 1 ELSE 0 END) > 0""")
    elif "spread" in metric:
        # Each payment as one row per calendar month it covers, from its own: an equal share in
        # micro-units, the first months one more until the remainder is used up; a period sums
        # its months.
        month = "(year(d) * 12 + month(d) - 1 + i)"
        period = {"month": month, "quarter": f"({month} // 3)", "year": f"({month} // 12)"}[grain]
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE r AS
        WITH parts AS (
          SELECT account_id, d, i, micros // months + CASE WHEN i < micros % months THEN 1 ELSE 0 END AS share
          FROM ({spread_payments_sql(event, metric["spread"])}), LATERAL (SELECT unnest(range(0, months)) AS i))
        SELECT account_id, {period} AS p, sum(share) / 1000000.0 AS m
        FROM parts GROUP BY 1, 2 HAVING sum(share) > 0""")
    else:
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE r AS
        SELECT account_id, {idx} AS p, sum(amount) AS m FROM rows
        WHERE {event_sql(event)} AND d <= DATE '{as_of}' AND amount IS NOT NULL
        GROUP BY 1, 2 HAVING sum(amount) > 0""")
        # The warning of a table whose periods are shorter than the typical interval between a
        # customer's payments (docs/config.md, "Payments longer than a period").
        gap = con.execute("""SELECT median(p - previous) FROM (
            SELECT p, lag(p) OVER (PARTITION BY account_id ORDER BY p) AS previous FROM r)
            WHERE previous IS NOT NULL""").fetchone()[0]
        warnings = tenure["metrics"][name].get("warnings", [])
        expected = gap is not None and gap > 1
        if expected != bool(warnings) or (expected and f"a median of {gap:g} " not in warnings[0]):
            print(f"MISMATCH {name}: median interval between payments {gap}, tenure warns {warnings}")
            return 1, 0
    first = con.execute("SELECT min(p) FROM r").fetchone()[0]
    # With a breakdown by a segment labelled at each period's start, an entity's figures of
    # period p count under its label at p's start.
    split = period_start_segment(metric.get("by"))
    if split:
        create_period_start_labels(split[1], grain)
    label, join = ("l.label", "LEFT JOIN labels l ON l.account_id = g.account_id AND l.p = g.p") if split else ("NULL", "")
    result = con.execute(f"""
    WITH firsts AS (SELECT account_id, min(p) AS fp FROM r GROUP BY 1),
    g AS (SELECT DISTINCT account_id, p FROM (SELECT account_id, p FROM r UNION ALL SELECT account_id, p + 1 FROM r)
          WHERE p > {first} AND p <= {last}),
    j AS (SELECT g.p, {label} AS label, coalesce(c.m, 0) AS cur, coalesce(pr.m, 0) AS prev, f.fp
          FROM g LEFT JOIN r c ON c.account_id = g.account_id AND c.p = g.p
                 LEFT JOIN r pr ON pr.account_id = g.account_id AND pr.p = g.p - 1
                 JOIN firsts f ON f.account_id = g.account_id {join})
    SELECT p, label, sum(prev),
      sum(CASE WHEN prev > 0 AND cur = 0 THEN prev ELSE 0 END),
      sum(CASE WHEN prev > 0 AND cur > 0 AND cur < prev THEN prev - cur ELSE 0 END),
      sum(CASE WHEN prev > 0 AND cur > prev THEN cur - prev ELSE 0 END),
      sum(CASE WHEN prev = 0 AND fp = p THEN cur ELSE 0 END),
      sum(CASE WHEN prev = 0 AND fp < p THEN cur ELSE 0 END),
      sum(cur),
      count(*) FILTER (WHERE prev > 0),
      count(*) FILTER (WHERE prev > 0 AND cur = 0)
    FROM j GROUP BY p, label ORDER BY p""").fetchall()
    figures = ["start", "churned", "contraction", "expansion", "new", "reactivation", "end",
               "customers_start", "customers_churned"]
    by_period = {}
    by_label = {}
    for row in result:
        by_label.setdefault(row[1], {})[row[0]] = row[2:]
        summed = by_period.get(row[0], (0,) * len(figures))
        by_period[row[0]] = tuple(a + b for a, b in zip(summed, row[2:]))
    got = tenure["metrics"][name]["periods"]
    expected_periods = list(range(first + 1, last + 1))
    if [p["period"] for p in got] != [period_label(grain, i) for i in expected_periods]:
        print(f"MISMATCH {name}: periods {[p['period'] for p in got][:3]}… vs {[period_label(grain, i) for i in expected_periods][:3]}…")
        return 1, 0
    tables = [(None, by_period, got)]
    if split:
        key = f"segment.{split[0]}"
        segments = tenure["metrics"][name]["segments"]
        # A value with no figure in any period (only zeros) has no DuckDB group to compare with.
        nonzero = lambda periods: any(float(v) for values in periods.values() for v in values)
        expected_labels = sorted((l for l, p in by_label.items() if nonzero(p)), key=lambda l: (l is not None, l or ""))
        actual_labels = [s["segment"][key] for s in segments
                         if any(float(p[f]) for p in s["periods"] for f in figures)]
        if expected_labels != actual_labels:
            print(f"MISMATCH {name}: labels {expected_labels[:6]}… in DuckDB, {actual_labels[:6]}… in tenure")
            return 1, 0
        tables += [(s["segment"][key], by_label.get(s["segment"][key], {}), s["periods"]) for s in segments]
    cells = 0
    for label, expected, got in tables:
        failed, counted = compare_movements(name, label, expected_periods, expected, got, figures)
        cells += counted
        if failed:
            return 1, cells
    by = f" and {len(tables) - 1} tables by `{split[0]}` at each period's start" if split else ""
    print(f"ok {name}: {len(got)} periods, every revenue figure of docs/config.md (by {grain}){by}")
    return 0, cells


def compare_movements(name, label, expected_periods, by_period, got, figures):
    """Compares one revenue table with DuckDB's sums per period; (failed, cells compared)."""
    where = f" [{label}]" if label else ""
    cells = 0
    for index, row in zip(expected_periods, got):
        values = by_period.get(index, (0,) * len(figures))
        for figure, value in zip(figures, values):
            if not close(float(value), float(row[figure])):
                print(f"MISMATCH {name}{where} {row['period']} {figure}: duckdb {value}, tenure {row[figure]}")
                return 1, cells
            cells += 1
        start, churned, contraction, expansion = (float(v) for v in values[:4])
        rates = {
            "grr": (start - churned - contraction) / start if start else None,
            "nrr": (start - churned - contraction + expansion) / start if start else None,
            "revenue_churn_rate": (churned + contraction) / start if start else None,
            "customer_churn_rate": values[8] / values[7] if values[7] else None,
        }
        for figure, value in rates.items():
            if not close(value, row[figure]):
                print(f"MISMATCH {name}{where} {row['period']} {figure}: duckdb {value}, tenure {row[figure]}")
                return 1, cells
            cells += 1
    return 0, cells


def check_cohort_revenue(name, metric):
    """Revenue retention by cohort: per cohort row and period k since its start, the members'
    revenue and payers, and the starting customers' NRR, GRR and logo retention."""
    cohort = config["cohorts"][metric["cohort"]]
    grain = cohort["grain"]
    as_of_date = f"DATE '{as_of}'"
    last, after = con.execute(f"""SELECT {period_index_sql(grain, as_of_date)},
        {period_index_sql(grain, f"({as_of_date} + 1)")}""").fetchone()
    con.execute(f"CREATE OR REPLACE TEMP TABLE members AS {members_sql(cohort)}")
    rows = con.execute(f"""
    WITH r AS (SELECT account_id, {period_index_sql(grain, "d")} AS p, sum(amount) AS m FROM rows
               WHERE {event_sql(metric['amount'])} AND d <= {as_of_date} AND amount IS NOT NULL
               GROUP BY 1, 2 HAVING sum(amount) > 0),
    mem AS (SELECT account_id, {cohort_label(grain)} AS cohort, {period_index_sql(grain, "d0")} AS p0 FROM members),
    cells AS (SELECT mem.cohort, r.p - mem.p0 AS k, r.m, base.m AS b
              FROM mem JOIN r ON r.account_id = mem.account_id AND r.p BETWEEN mem.p0 AND {last}
              LEFT JOIN r AS base ON base.account_id = mem.account_id AND base.p = mem.p0)
    SELECT cohort, k, sum(m), count(*), coalesce(sum(m) FILTER (WHERE b IS NOT NULL), 0),
           coalesce(sum(least(m, b)) FILTER (WHERE b IS NOT NULL), 0), count(*) FILTER (WHERE b IS NOT NULL)
    FROM cells GROUP BY 1, 2""").fetchall()
    sizes = dict(con.execute(f"SELECT {cohort_label(grain)}, count(*) FROM members GROUP BY 1").fetchall())
    p0s = dict(con.execute(f"SELECT {cohort_label(grain)}, min({period_index_sql(grain, 'd0')}) FROM members GROUP BY 1").fetchall())
    cells = {(c, k): (float(m), n, float(sm), float(g), sn) for c, k, m, n, sm, g, sn in rows}

    def ratio(a, b):
        return a / b if b else None

    expected = []
    for cohort_name in sorted(sizes):
        start = cells.get((cohort_name, 0), (0.0, 0, 0.0, 0.0, 0))
        periods = []
        for k in range(last - p0s[cohort_name] + 1):
            m, n, sm, g, sn = cells.get((cohort_name, k), (0.0, 0, 0.0, 0.0, 0))
            complete = p0s[cohort_name] + k < last or after > last
            periods.append({"period": k, "complete": complete, "revenue": m, "customers": n,
                            "nrr": ratio(sm, start[0]), "grr": ratio(g, start[0]), "logo_retention": ratio(sn, start[1])})
        expected.append({"cohort": cohort_name, "size": sizes[cohort_name], "customers_start": start[1],
                         "revenue_start": start[0], "periods": periods})
    got = tenure["metrics"][name]["cohorts"]
    figures = 0
    if len(got) != len(expected):
        print(f"MISMATCH {name}: duckdb {len(expected)} cohorts, tenure {len(got)}")
        return 1, 0
    for want, row in zip(expected, got):
        same = [want[k] == row[k] for k in ("cohort", "size", "customers_start")] + [close(want["revenue_start"], row["revenue_start"])]
        same.append(len(want["periods"]) == len(row["periods"]))
        for w, g in zip(want["periods"], row["periods"]):
            same += [w[k] == g[k] for k in ("period", "complete", "customers")]
            same += [close(w[k], g[k]) for k in ("revenue", "nrr", "grr", "logo_retention")]
            figures += 7
        if not all(same):
            print(f"MISMATCH {name}: duckdb {want}\n{' ' * (10 + len(name))}tenure {row}")
            return 1, figures
    print(f"ok {name}: {len(got)} cohorts by {grain}, {figures} figures (revenue retention by cohort)")
    return 0, figures


def check_funnel(name, metric):
    """Funnels: each step the first of its event at or after the step before (t0 first), within
    the window of t0; per cohort row size, eligible, reached, rates and median days."""
    cohort = config["cohorts"][metric["cohort"]]
    count, unit = re.fullmatch(r"(\d+)(h|d|w|mo)", metric["within"]).groups()
    interval = f"INTERVAL '{count} {dict(h='hours', d='days', w='weeks', mo='months')[unit]}'"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE members AS
        SELECT account_id, t0, d0, t0 + {interval} AS deadline FROM ({members_sql(cohort)})""")
    previous, joins, columns = "m.t0", "", []
    for k, step in enumerate(metric["steps"]):
        con.execute(f"""CREATE OR REPLACE TEMP TABLE step_{k} AS
            SELECT m.account_id, min(r.ts) AS reached FROM members m JOIN rows r USING (account_id)
            {joins.replace(' LEFT JOIN', ' JOIN')}
            WHERE {event_sql(step)} AND r.d <= DATE '{as_of}' AND r.ts >= {previous} AND r.ts <= m.deadline
            GROUP BY 1""")
        joins += f" LEFT JOIN step_{k} s{k} ON s{k}.account_id = m.account_id"
        columns.append(f"count(s{k}.reached), count(s{k}.reached) FILTER (WHERE eligible), "
                       f"median(epoch_us(s{k}.reached) - epoch_us({previous}))")
        previous = f"s{k}.reached"
    rows = con.execute(f"""
    SELECT {cohort_label(cohort['grain'])} AS cohort, count(*), count(*) FILTER (WHERE eligible), {', '.join(columns)}
    FROM (SELECT *, CAST(timezone('{tz}', deadline) AS DATE) <= DATE '{as_of}' AS eligible FROM members) m {joins}
    GROUP BY ROLLUP (1) ORDER BY 1 NULLS LAST""").fetchall()

    def share(a, b, open_):
        return a / b if open_ and b else None

    def figures(row, total):
        size, eligible = row[1], row[2]
        base = eligible if total else size
        steps, before = [], base
        for k, step in enumerate(metric["steps"]):
            reached = row[3 + 3 * k + (1 if total else 0)]
            median = row[5 + 3 * k]
            steps.append({"step": step, "reached": reached, "rate": share(reached, base, eligible > 0),
                          "step_rate": share(reached, before, eligible > 0),
                          "median_days": None if median is None else float(median) / 86_400_000_000})
            before = reached
        return {"size": size, "eligible": eligible, "steps": steps}

    got = tenure["metrics"][name]
    expected = [{"cohort": r[0], **figures(r, False)} for r in rows if r[0] is not None]
    expected.append(figures(next(r for r in rows if r[0] is None), True))
    actual = [{k: c[k] for k in ("cohort", "size", "eligible", "steps")} for c in got["cohorts"]] + [got["total"]]

    def same(a, b):
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        if isinstance(a, float) or isinstance(b, float):
            return close(a, b)
        return a == b

    if len(expected) != len(actual) or not all(same(e, a) for e, a in zip(expected, actual)):
        diff = next(((e, a) for e, a in zip(expected, actual) if not same(e, a)), "rows differ")
        print(f"MISMATCH {name}: duckdb vs tenure {diff}")
        return 1, 0
    cells = sum(2 + 5 * len(metric["steps"]) for _ in expected)
    print(f"ok {name}: {len(expected) - 1} cohorts, {len(metric['steps'])} steps within {metric['within']} (funnel)")
    return 0, cells


def check_crr(name, metric):
    grain = metric.get("grain", "month")
    idx = period_index_sql(grain, "d")
    as_of_date = f"DATE '{as_of}'"
    last = con.execute(f"SELECT {period_index_sql(grain, as_of_date)}").fetchone()[0]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE a AS SELECT DISTINCT account_id, {idx} AS p FROM rows
                    WHERE {event_sql(metric['active'])} AND d <= DATE '{as_of}'""")
    first = con.execute("SELECT min(p) FROM a").fetchone()[0]
    active = dict(con.execute("SELECT p, count(*) FROM a GROUP BY p").fetchall())
    new = dict(con.execute("SELECT fp, count(*) FROM (SELECT min(p) AS fp FROM a GROUP BY account_id) GROUP BY fp").fetchall())
    got = tenure["metrics"][name]["periods"]
    expected = []
    for p in range(first + 1, last + 1):
        s, e, n = active.get(p - 1, 0), active.get(p, 0), new.get(p, 0)
        expected.append({"period": period_label(grain, p), "start": s, "end": e, "new": n,
                         "crr": (e - n) / s if s else None})
    actual = [{k: row[k] for k in ("period", "start", "end", "new", "crr")} for row in got]
    if expected != actual:
        for e, a in zip(expected, actual):
            if e != a:
                print(f"MISMATCH {name}: duckdb {e}, tenure {a}")
                break
        return 1, 0
    print(f"ok {name}: {len(got)} periods (crr by {grain})")
    return 0, 4 * len(got)
def check_survey(name, metric):
    """Each answer read in Python from DuckDB's rows: on the scale when a whole number within it,
    then positive, neutral or negative by the thresholds of docs/config.md."""
    scale, grain = metric["scale"], metric.get("grain")
    top = metric.get("max", 5)
    low, high = {"nps": (0, 10), "csat": (1, top), "ces": (1, 7)}[scale]
    positive, negative = {"nps": (9, 6), "csat": (top - 1, 2), "ces": (5, 3)}[scale]
    idx = period_index_sql(grain, "d") if grain else "0"
    # With `follow_up`: each answer's microseconds to its entity's first follow-up at or after it.
    follow = metric.get("follow_up")
    delay = "NULL"
    if follow:
        delay = (f"(SELECT epoch_us(min(f.ts)) - epoch_us(r.ts) FROM rows AS f WHERE f.account_id = r.account_id "
                 f"AND {event_sql(follow).replace('event', 'f.event')} AND f.d <= DATE '{as_of}' AND f.ts >= r.ts)")
    answers = con.execute(f"SELECT account_id, {idx}, TRY_CAST(trim(CAST(score AS VARCHAR)) AS DOUBLE), {delay}, epoch_us(ts) "
                          f"FROM rows AS r WHERE {event_sql(metric['response'])} AND d <= DATE '{as_of}'").fetchall()
    within = days_of(metric["follow_up_within"]) * 86_400_000_000 if follow else None
    asks = con.execute(f"SELECT DISTINCT account_id, {idx} FROM rows WHERE {event_sql(metric['asked'])} "
                       f"AND d <= DATE '{as_of}'").fetchall() if "asked" in metric else None

    def figures(period):
        mine = [a for a in answers if period is None or a[1] == period]
        valid = [a for a in mine if a[2] is not None and a[2] == int(a[2]) and low <= a[2] <= high]
        counts = {"responses": len(valid), "respondents": len({a[0] for a in valid}),
                  "invalid": len(mine) - len(valid),
                  "positive": sum(a[2] >= positive for a in valid),
                  "neutral": sum(negative < a[2] < positive for a in valid),
                  "negative": sum(a[2] <= negative for a in valid)}
        n = counts["responses"]
        score = None if not n else {"nps": (counts["positive"] - counts["negative"]) / n * 100.0,
                                    "csat": counts["positive"] / n,
                                    "ces": sum(int(a[2]) for a in valid) / n}[scale]
        asked = None if asks is None else len({a[0] for a in asks if period is None or a[1] == period})
        rate = counts["respondents"] / asked if asked else None
        result = {**counts, "score": score, "asked": asked, "response_rate": rate}
        if follow:
            delays = sorted(a[3] for a in valid if a[2] <= negative and a[3] is not None)
            followed = sum(1 for d in delays if d <= within)
            middle = len(delays) // 2
            median = None if not delays else delays[middle] if len(delays) % 2 else (delays[middle - 1] + delays[middle]) / 2
            result["follow_up"] = {"followed": followed,
                                   "rate": followed / counts["negative"] if counts["negative"] else None,
                                   "median_hours": None if median is None else median / 3_600_000_000}
        if metric.get("waves") and period is not None:
            # Each entity's latest valid answer in this period and the one before (ties: the
            # higher score); the score of those present in both.
            def latest(p):
                best = {}
                for a in answers:
                    if a[1] == p and a[2] is not None and a[2] == int(a[2]) and low <= a[2] <= high:
                        key = (a[4], a[2])
                        if a[0] not in best or key > best[a[0]]:
                            best[a[0]] = key
                return {e: k[1] for e, k in best.items()}
            now, before = latest(period), latest(period - 1)
            both = sorted(set(now) & set(before))

            def wave_score(scores):
                if not scores:
                    return None
                n = len(scores)
                return {"nps": (sum(s >= positive for s in scores) - sum(s <= negative for s in scores)) / n * 100.0,
                        "csat": sum(s >= positive for s in scores) / n,
                        "ces": sum(int(s) for s in scores) / n}[scale]
            b, w = wave_score([before[e] for e in both]), wave_score([now[e] for e in both])
            result["wave"] = {"entities": len(both), "before": b, "now": w,
                              "change": None if b is None or w is None else w - b}
        return result

    got = tenure["metrics"][name]
    expected = [figures(None)]
    actual = [got["total"]]
    if grain:
        as_of_date = f"DATE '{as_of}'"
        last = con.execute(f"SELECT {period_index_sql(grain, as_of_date)}").fetchone()[0]
        touched = [a[1] for a in answers] + [a[1] for a in asks or []]
        expected += [{"period": period_label(grain, p), **figures(p)} for p in range(min(touched, default=last), last + 1)]
        actual += [{k: v for k, v in p.items() if k != "complete"} for p in got["periods"]]
    if "cohort" in metric:
        # Per cohort row: the figures of its members' answers and asks only.
        cohort = config["cohorts"][metric["cohort"]]
        con.execute(f"CREATE OR REPLACE TEMP TABLE members AS {members_sql(cohort)}")
        label_of = dict(con.execute(f"SELECT account_id, {cohort_label(cohort['grain'])} FROM members m").fetchall())
        all_answers, all_asks = answers, asks
        for label in sorted(set(label_of.values())):
            answers = [a for a in all_answers if label_of.get(a[0]) == label]
            asks = None if all_asks is None else [a for a in all_asks if label_of.get(a[0]) == label]
            if answers or asks:
                expected.append({"cohort": label, **figures(None)})
        actual += [{"cohort": s["segment"]["cohort"], **s["total"]} for s in got.get("segments", [])]
    if "revenue_bands" in metric:
        # Per band: the answers and asks whose entity's revenue in the 30 days up to them falls
        # in it (the band's lower bound, 0 below the first, None without revenue).
        bounds, window = metric["revenue_bands"], 30 * 86_400_000_000
        payments = {}
        for account, time, micros in con.execute(
                f"SELECT account_id, epoch_us(ts), CAST(round(amount * 1000000) AS HUGEINT) FROM rows "
                f"WHERE {event_sql(metric['revenue'])} AND d <= DATE '{as_of}' AND amount IS NOT NULL").fetchall():
            payments.setdefault(account, []).append((time, micros))

        def band(account, time):
            micros = sum(m for t, m in payments.get(account, []) if time - window < t <= time)
            if micros <= 0:
                return None
            reached = [float(b) for b in bounds if micros / 1e6 >= b]
            return reached[-1] if reached else 0.0
        ask_rows = con.execute(f"SELECT account_id, {idx}, epoch_us(ts) FROM rows WHERE {event_sql(metric['asked'])} "
                               f"AND d <= DATE '{as_of}'").fetchall() if "asked" in metric else []
        all_answers = answers
        keyed_answers = [(band(a[0], a[4]), a) for a in all_answers]
        keyed_asks = [(band(a[0], a[2]), (a[0], a[1])) for a in ask_rows]
        keys = {k for k, _ in keyed_answers} | {k for k, _ in keyed_asks}
        for key in sorted(keys, key=lambda k: (k is not None, k or 0.0)):
            answers = [a for k, a in keyed_answers if k == key]
            asks = [a for k, a in keyed_asks if k == key] if "asked" in metric else None
            expected.append({"revenue_band": key, **figures(None)})
        actual += [{"revenue_band": s["segment"]["revenue_band"], **s["total"]} for s in got.get("segments", [])]
    if expected != actual:
        difference = next((f"duckdb {e}, tenure {a}" for e, a in zip(expected, actual) if e != a),
                          f"{len(expected)} rows vs tenure's {len(actual)}")
        print(f"MISMATCH {name}: {difference}")
        return 1, 0
    print(f"ok {name}: {len(expected)} rows of {scale.upper()} figures")
    return 0, 9 * len(expected)


def check_lifecycle(name, metric):
    """Counts by set arithmetic over distinct (entity, period) pairs, joins instead of the
    window functions tenure's SQL uses."""
    grain = metric.get("grain", "month")
    idx = period_index_sql(grain, "d")
    as_of_date = f"DATE '{as_of}'"
    last = con.execute(f"SELECT {period_index_sql(grain, as_of_date)}").fetchone()[0]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE a AS SELECT DISTINCT account_id, {idx} AS p FROM rows
                    WHERE {event_sql(metric['active'])} AND d <= DATE '{as_of}'""")
    first = con.execute("SELECT min(p) FROM a").fetchone()[0]
    count = lambda sql: dict(con.execute(sql).fetchall())
    active = count("SELECT p, count(*) FROM a GROUP BY p")
    new = count("SELECT fp, count(*) FROM (SELECT min(p) AS fp FROM a GROUP BY account_id) GROUP BY fp")
    returning = count("SELECT now.p, count(*) FROM a AS now JOIN a AS before "
                      "ON before.account_id = now.account_id AND before.p = now.p - 1 GROUP BY now.p")
    dormant = count("SELECT before.p + 1, count(*) FROM a AS before LEFT JOIN a AS now "
                    "ON now.account_id = before.account_id AND now.p = before.p + 1 "
                    "WHERE now.account_id IS NULL GROUP BY before.p + 1")
    expected = []
    for p in range(first, last + 1) if first is not None else []:
        n, r, e = new.get(p, 0), returning.get(p, 0), active.get(p, 0)
        expected.append({"period": period_label(grain, p), "active": e, "new": n, "returning": r,
                         "resurrecting": e - n - r, "dormant": dormant.get(p, 0)})
    got = [{k: row[k] for k in ("period", "active", "new", "returning", "resurrecting", "dormant")}
           for row in tenure["metrics"][name]["periods"]]
    if expected != got:
        for e, a in zip(expected, got):
            if e != a:
                print(f"MISMATCH {name}: duckdb {e}, tenure {a}")
                break
        else:
            print(f"MISMATCH {name}: duckdb {len(expected)} periods, tenure {len(got)}")
        return 1, 0
    print(f"ok {name}: {len(got)} periods (lifecycle by {grain})")
    return 0, 5 * len(got)


def members_sql(cohort):
    """The members of a cohort: account_id, t0 and the local date d0."""
    if cohort["start"].startswith("attr."):
        # Every entity of the accounts file with a date on or before as_of, from its midnight.
        source = next(s for s in config["sources"].values() if s.get("kind") == "entities")
        column = cohort["start"].removeprefix("attr.")
        return f"""SELECT "{source['entity']}" AS account_id, timezone('{tz}', CAST(d0 AS TIMESTAMP)) AS t0, d0
            FROM (SELECT *, TRY_CAST("{column}" AS DATE) AS d0
                  FROM read_csv('{os.path.join(base, source['path'])}', all_varchar = true))
            WHERE d0 <= DATE '{as_of}'"""
    # A recurring cohort has a member per entity and period with a start: its first start there.
    per_period = f", {period_index_sql(cohort['grain'], 'd')}" if cohort.get("recurring") else ""
    return f"""SELECT account_id, t0, CAST(timezone('{tz}', t0) AS DATE) AS d0 FROM (
        SELECT account_id, min(ts) AS t0 FROM rows
        WHERE {event_sql(cohort['start'])} AND d <= DATE '{as_of}' GROUP BY account_id{per_period})"""


def retention_members(metric):
    """Tables `members` (account_id, t0, d0) of a retention metric's cohort and `offsets`
    (account_id, t0, k) of its returns, a member told by its entity and t0; the metric's
    columns."""
    cohort = config["cohorts"][metric["cohort"]]
    mode, unit = metric.get("mode", "n-day"), metric.get("unit", "day")
    align = metric.get("align", "entity")
    members = members_sql(cohort)
    con.execute(f"CREATE OR REPLACE TEMP TABLE members AS {members}")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE offsets AS
    SELECT DISTINCT m.account_id, m.t0, {offset_sql(unit, align)} AS k
    FROM members m JOIN rows r USING (account_id)
    WHERE {event_sql(metric['return'])} AND r.d <= DATE '{as_of}' AND {offset_sql(unit, align)} >= 0""")
    return metric["brackets"] if mode == "bracket" else metric["periods"]


def add_did(cohort):
    """Adds column `did` to table `members`: whether the member's first `did` event at or after
    t0 comes by t0 + did_within (local calendar), false once that deadline's day is over by
    as_of, else null."""
    count, unit = re.fullmatch(r"(\d+)(h|d|w|mo)", cohort["did_within"]).groups()
    interval = f"INTERVAL '{count} {dict(h='hours', d='days', w='weeks', mo='months')[unit]}'"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE members AS
        SELECT m.*, CASE WHEN f.first_did <= m.t0 + {interval} THEN true
                         WHEN CAST(timezone('{tz}', m.t0 + {interval}) AS DATE) <= DATE '{as_of}' THEN false END AS did
        FROM members m LEFT JOIN (
            SELECT account_id, min(r.ts) AS first_did FROM members m JOIN rows r USING (account_id)
            WHERE {event_sql(cohort['did'])} AND r.d <= DATE '{as_of}' AND r.ts >= m.t0 GROUP BY 1) f
        USING (account_id)""")


def cell_sql(metric, cell):
    """Predicates over member `m`: retained in column `cell`, and that column over by as_of."""
    mode, unit = metric.get("mode", "n-day"), metric.get("unit", "day")
    align = metric.get("align", "entity")
    if mode == "n-day":
        test, last = f"k = {cell}", cell
    elif mode == "unbounded":
        test, last = f"k >= {cell}", cell
    else:
        test, last = f"k BETWEEN {cell[0]} AND {cell[1]}", cell[1]
    retained = f"EXISTS (SELECT 1 FROM offsets o WHERE o.account_id = m.account_id AND o.t0 = m.t0 AND o.{test})"
    eligible = f"{period_end_sql(unit, align, last)} <= DATE '{as_of}'"
    return retained, eligible


def proportions_compared(treated, control):
    """Uplift, Newcombe's hybrid score interval (method 10) and the pooled z-test's p-value of
    two (retained, eligible) pairs, written from the formulas, not from tenure's code."""
    import math
    z = 1.959963984540054
    if not treated[1] or not control[1]:
        return None, None, None, None
    def wilson(x, n):
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        spread = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return max(0.0, centre - spread), min(1.0, centre + spread)
    p1, p2 = treated[0] / treated[1], control[0] / control[1]
    (l1, u1), (l2, u2) = wilson(*treated), wilson(*control)
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (treated[0] + control[0]) / (treated[1] + control[1])
    variance = pooled * (1 - pooled) * (1 / treated[1] + 1 / control[1])
    p_value = 1.0 if variance <= 0 else math.erfc(abs(p1 - p2) / math.sqrt(variance) / math.sqrt(2))
    return p1 - p2, low, high, p_value


def check_uplift(name, metric):
    """Each group's members, eligible and retained members per cohort, in DuckDB; the interval
    and p-value from the counts in Python."""
    retention = config["metrics"][metric["retention"]]
    cohort = config["cohorts"][retention["cohort"]]
    cells = retention_members(retention)
    cell = next(c for c in cells if (c[0] if isinstance(c, list) else c) == metric["period"])
    retained, eligible = cell_sql(retention, cell)
    if "group" in metric:
        column = metric["group"].removeprefix("attr.")
        source = next(s for s in config["sources"].values() if s.get("kind") == "entities")
        path = os.path.join(base, source["path"])
        groups = f"""SELECT "{source['entity']}" AS account_id, min("{column}") AS variant, false AS conflicting
                      FROM read_csv('{path}', all_varchar = true) GROUP BY 1"""
    else:
        column = metric["variant"].removeprefix("props.")
        groups = f"""SELECT account_id, min({column}) AS variant, count(DISTINCT {column}) > 1 AS conflicting
                      FROM rows WHERE {event_sql(metric['assignment'])} AND d <= DATE '{as_of}'
                      AND {column} IS NOT NULL GROUP BY 1"""
    rows = con.execute(f"""
    WITH g AS ({groups})
    SELECT {cohort_label(cohort['grain'])} AS cohort,
           CASE WHEN g.conflicting THEN 'conflicting'
                WHEN g.variant = '{metric['treatment']}' THEN 'treatment'
                WHEN g.variant = '{metric['control']}' THEN 'control' ELSE 'ungrouped' END AS side,
           count(*), count(*) FILTER (WHERE {eligible}), count(*) FILTER (WHERE {retained} AND {eligible})
    FROM members m LEFT JOIN g USING (account_id) GROUP BY 1, 2""").fetchall()
    got = tenure["metrics"][name]
    counts = {}
    for label, side, members, eligible_count, retained_count in rows:
        counts.setdefault(label, {})[side] = {"members": members, "eligible": eligible_count,
                                              "retained": retained_count}
    empty = {"members": 0, "eligible": 0, "retained": 0}
    left_out = {side: sum(c.get(side, empty)["members"] for c in counts.values())
                for side in ("ungrouped", "conflicting")}
    if left_out != {"ungrouped": got["ungrouped"], "conflicting": got["conflicting"]}:
        print(f"MISMATCH {name}: left out duckdb {left_out}, tenure {got['ungrouped']}, {got['conflicting']}")
        return 1, 0
    pooled = {side: {k: sum(c.get(side, empty)[k] for c in counts.values()) for k in empty}
              for side in ("treatment", "control")}
    expected = [(label, counts[label]) for label in sorted(counts)] + [("total", pooled)]
    actual = [(row["cohort"], row) for row in got["cohorts"]] + [("total", got["total"])]
    if [label for label, _ in expected] != [label for label, _ in actual]:
        print(f"MISMATCH {name}: cohorts duckdb {[l for l, _ in expected]}, tenure {[l for l, _ in actual]}")
        return 1, 0
    for (label, want), (_, row) in zip(expected, actual):
        sides = {side: {k: row[side][k] for k in empty} for side in ("treatment", "control")}
        if sides != {side: want.get(side, empty) for side in ("treatment", "control")}:
            print(f"MISMATCH {name} {label}: duckdb {want}, tenure {sides}")
            return 1, 0
        figures = proportions_compared(
            *((want.get(side, empty)["retained"], want.get(side, empty)["eligible"]) for side in ("treatment", "control")))
        mine = (row["uplift"], row["low"], row["high"], row["p_value"])
        if not all(close(a, b) for a, b in zip(figures, mine)):
            print(f"MISMATCH {name} {label}: python (uplift, low, high, p) {figures}, tenure {mine}")
            return 1, 0
    print(f"ok {name}: {len(expected) - 1} cohorts and the total, treatment against control (uplift)")
    return 0, 4 * len(expected)


def check_winback(name, metric):
    """For each period's first day, each entity's last event day before it and first one from
    it, by correlated subqueries: dormant, back within the window."""
    grain = metric.get("grain", "month")
    dormant, within = (int(metric[k][:-1]) * (7 if metric[k].endswith("w") else 1)
                       for k in ("dormant", "within"))
    first_of = {"day": "x", "week": week_first("x"), "month": "CAST(date_trunc('month', x) AS DATE)",
                "quarter": "CAST(date_trunc('quarter', x) AS DATE)",
                "year": "CAST(date_trunc('year', x) AS DATE)"}[grain]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE a AS SELECT DISTINCT account_id, d FROM rows
                    WHERE {event_sql(metric['active'])} AND d <= DATE '{as_of}'""")
    rows = con.execute(f"""
    WITH starts AS (
      SELECT DISTINCT {first_of} AS s FROM (
        SELECT CAST(unnest(range((SELECT min(d) FROM a) + 1, DATE '{as_of}' + 1, INTERVAL 1 DAY)) AS DATE) AS x)
      WHERE {first_of} > (SELECT min(d) FROM a)),
    marks AS (
      SELECT s, e.account_id,
        (SELECT max(d) FROM a WHERE a.account_id = e.account_id AND a.d < s) AS before,
        (SELECT min(d) FROM a WHERE a.account_id = e.account_id AND a.d >= s) AS after
      FROM starts CROSS JOIN (SELECT DISTINCT account_id FROM a) AS e)
    SELECT {period_index_sql(grain, 's')}, s + {within - 1} <= DATE '{as_of}',
           count(*) FILTER (WHERE s - before >= {dormant}),
           count(*) FILTER (WHERE s - before >= {dormant} AND after <= s + {within - 1})
    FROM marks GROUP BY s ORDER BY s""").fetchall()
    got = tenure["metrics"][name]
    expected = [{"period": period_label(grain, p), "complete": c, "dormant": n, "returned": r}
                for p, c, n, r in rows]
    actual = [{k: row[k] for k in ("period", "complete", "dormant", "returned")} for row in got["periods"]]
    total = {"dormant": sum(e["dormant"] for e in expected if e["complete"]),
             "returned": sum(e["returned"] for e in expected if e["complete"])}
    if expected != actual or total != {k: got["total"][k] for k in total}:
        diff = next(((e, a) for e, a in zip(expected, actual) if e != a), (total, got["total"]))
        print(f"MISMATCH {name}: duckdb vs tenure {diff}")
        return 1, 0
    print(f"ok {name}: {len(actual)} {grain}s of dormant entities won back (winback)")
    return 0, 2 * len(actual)


def days_of(text):
    return int(text[:-1]) * (7 if text.endswith("w") else 1)


def health_population(metric, date):
    """Each entity scored at `date`: its signals measured in DuckDB, in component name order."""
    population, window = days_of(metric.get("population", "90d")), days_of(metric.get("window", "30d"))
    t = f"DATE '{date}'"
    inside = f"d > {t} - {window} AND d <= {t}"
    entities = {r[0]: {"last": r[1], "churned": r[2]} for r in con.execute(f"""
        SELECT account_id, max(d) FILTER (WHERE d <= {t}),
               count(*) FILTER (WHERE d > {t} AND d <= DATE '{as_of}') = 0
        FROM rows WHERE {event_sql(metric['active'])} AND d <= DATE '{as_of}' GROUP BY 1
        HAVING max(d) FILTER (WHERE d <= {t}) > {t} - {population}""").fetchall()}
    revenue = dict(con.execute(f"""SELECT account_id, sum(CAST(amount AS DECIMAL(18, 6))) FROM rows
        WHERE {event_sql(metric['revenue'])} AND {inside} GROUP BY 1""").fetchall()) if "revenue" in metric else {}
    values = {}
    for component, spec in sorted(metric["components"].items()):
        signal, event = spec["signal"], spec.get("event")
        where = f"{event_sql(event)} AND d <= {t}" if event else ""
        if signal == "count":
            query = f"SELECT account_id, count(*) FILTER (WHERE d > {t} - {window}) FROM rows WHERE {where} GROUP BY 1"
        elif signal == "recency":
            query = f"SELECT account_id, {t} - max(d) FROM rows WHERE {where} GROUP BY 1"
        elif signal == "frequency_break":
            query = f"""SELECT account_id, ({t} - max(d)) / quantile_cont(gap, 0.5) FROM (
                SELECT account_id, d, d - lag(d) OVER (PARTITION BY account_id ORDER BY d) AS gap
                FROM (SELECT DISTINCT account_id, d FROM rows WHERE {where})) GROUP BY 1
                HAVING count(gap) > 0"""
        elif signal in ("amount", "trend"):
            money = "sum(CAST(amount AS DECIMAL(18, 6)))"
            now = f"coalesce({money} FILTER (WHERE d > {t} - {window}), 0)"
            before = f"coalesce({money} FILTER (WHERE d > {t} - {2 * window} AND d <= {t} - {window}), 0)"
            figure = now if signal == "amount" else f"CASE WHEN {before} = 0 THEN NULL ELSE {now} / {before} END"
            query = f"SELECT account_id, CAST({figure} AS DOUBLE) FROM rows WHERE {where} GROUP BY 1"
        elif signal == "latest":
            column = spec["value"].removeprefix("props.")
            query = f"""SELECT account_id, arg_max(CAST({column} AS DOUBLE), (ts, CAST({column} AS DOUBLE)))
                FROM rows WHERE {where} AND TRY_CAST({column} AS DOUBLE) IS NOT NULL GROUP BY 1"""
        else:
            source = next(s for s in config["sources"].values() if s.get("kind") == "entities")
            column = spec["value"].removeprefix("attr.")
            query = f"""SELECT "{source['entity']}", TRY_CAST("{column}" AS DOUBLE)
                FROM read_csv('{os.path.join(base, source['path'])}', all_varchar = true)"""
        found = {k: (None if v is None else float(v)) for k, v in con.execute(query).fetchall()}
        # An entity without rows has no value, except a count or an amount, which is 0.
        default = 0.0 if signal in ("count", "amount") else None
        values[component] = {e: found.get(e, default) for e in entities}
    return entities, revenue, values


def health_scores(metric, entities, values):
    """Each entity's score and band (by index), from the formulas of docs/config.md."""
    bands = metric.get("bands") or [{"name": "green", "min": 70}, {"name": "yellow", "min": 40},
                                     {"name": "red", "min": 0}]
    scored = {}
    for entity in entities:
        parts = []
        for component, spec in sorted(metric["components"].items()):
            value = values[component][entity]
            if value is None:
                continue
            if "scale" in spec:
                worst, best = spec["scale"]
                score = min(max((value - worst) / (best - worst), 0.0), 1.0) * 100.0
            else:
                population = [v for v in values[component].values() if v is not None]
                below = sum(1 for v in population if v < value)
                equal = sum(1 for v in population if v == value)
                above = len(population) - below - equal
                better = below if spec["percentile"] == "higher" else above
                score = (better + equal / 2) / len(population) * 100.0
            parts.append((spec["weight"], score))
        if parts:
            total = sum(w for w, _ in parts)
            score = min(max(sum(w / total * s for w, s in parts), 0.0), 100.0)
            scored[entity] = (score, next(i for i, b in enumerate(bands) if score >= b["min"]))
    return bands, scored


def check_health(name, metric):
    """Signals in DuckDB, scores and bands in Python; the bands' counts, the at-risk list and the
    backtest compared with tenure's."""
    import datetime
    got = tenure["metrics"][name]
    dates = [as_of]
    if "backtest" in metric:
        dates.append(str(datetime.date.fromisoformat(as_of) - datetime.timedelta(days=days_of(metric["backtest"]))))
    results = []
    for date in dates:
        entities, revenue, values = health_population(metric, date)
        bands, scored = health_scores(metric, entities, values)
        results.append((entities, revenue, scored))
    entities, revenue, scored = results[0]
    counts = [sum(1 for _, b in scored.values() if b == i) for i in range(len(bands))]
    problems = []
    if got["population"] != len(entities) or got["unscored"] != len(entities) - len(scored):
        problems.append(f"population {len(entities)}/{len(entities) - len(scored)} unscored")
    if [row["entities"] for row in got["distribution"]] != counts:
        problems.append(f"bands {counts} vs {[row['entities'] for row in got['distribution']]}")
    at_risk_band = next(i for i, b in enumerate(bands) if b["name"] == metric.get("at_risk", bands[-1]["name"]))
    expected = {e: s for e, (s, b) in scored.items() if b == at_risk_band}
    listed = {row["entity"]: row for row in got["at_risk"]}
    if set(expected) != set(listed) or not all(close(expected[e], listed[e]["score"]) and
                                               close(float(revenue.get(e, 0)), listed[e]["revenue"]) for e in expected):
        problems.append(f"at risk {len(expected)} vs {len(listed)}")
    order = [(-row["revenue"], row["score"], row["entity"]) for row in got["at_risk"]]
    if order != sorted(order):
        problems.append("the at-risk list is not by revenue, then score")
    if len(results) > 1:
        earlier, _, then = results[1]
        churn = [(sum(1 for e, (_, b) in then.items() if b == i),
                  sum(1 for e, (_, b) in then.items() if b == i and earlier[e]["churned"])) for i in range(len(bands))]
        if [(c["entities"], c["churned"]) for c in got["backtest"]["churn"]] != churn:
            problems.append(f"backtest churn {churn}")
        moves = {}
        for e, (_, b) in then.items():
            to = bands[scored[e][1]]["name"] if e in scored else None
            moves[(bands[b]["name"], to)] = moves.get((bands[b]["name"], to), 0) + 1
        if {(t["from"], t["to"]): t["entities"] for t in got["backtest"]["transitions"]} != moves:
            problems.append("backtest transitions")
    if "history" in metric:
        # The last history_periods periods over by as_of, each scored at its last day.
        grain, periods = metric["history"], metric.get("history_periods", 6)
        last_days = con.execute(f"""
            WITH p AS (SELECT DISTINCT {period_index_sql(grain, 'd')} AS p, max(d) OVER (PARTITION BY {period_index_sql(grain, 'd')}) AS last_day
                       FROM (SELECT unnest(range(DATE '{as_of}' - INTERVAL 800 DAY, DATE '{as_of}' + INTERVAL 400 DAY, INTERVAL 1 DAY))::DATE AS d))
            SELECT p, last_day FROM p WHERE last_day <= DATE '{as_of}' ORDER BY p DESC LIMIT {periods}""").fetchall()[::-1]
        expected_history = []
        for index, last_day in last_days:
            people = health_population(metric, str(last_day))
            bands_then, scored_then = health_scores(metric, people[0], people[2])
            expected_history.append((period_label(grain, index), str(last_day), len(people[0]),
                                     [sum(1 for _, b in scored_then.values() if b == i) for i in range(len(bands_then))]))
        got_history = [(h["period"], h["date"], h["population"], [row["entities"] for row in h["distribution"]])
                       for h in got.get("history", [])]
        if got_history != expected_history:
            problems.append(f"history {expected_history[:2]}… vs {got_history[:2]}…")
    if problems:
        print(f"MISMATCH {name}: duckdb vs tenure: {'; '.join(problems)}")
        return 1, 0
    print(f"ok {name}: {len(scored)} entities scored, {len(expected)} at risk, bands {counts}"
          f"{', ' + str(len(got.get('history', []))) + ' periods of history' if 'history' in metric else ''} (health)")
    return 0, len(entities)


def check_stickiness(name, metric):
    """Rolling windows as a range join with distinct counts; days per period by grouping."""
    grain = metric.get("grain", "week")
    got = tenure["metrics"][name]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE a AS SELECT DISTINCT account_id, d FROM rows
                    WHERE {event_sql(metric['active'])} AND d <= DATE '{as_of}'""")
    daily = con.execute(f"""
    WITH days AS (SELECT CAST(unnest(range(min(d), DATE '{as_of}' + 1, INTERVAL 1 DAY)) AS DATE) AS day FROM a)
    SELECT strftime(day, '%Y-%m-%d'), count(DISTINCT account_id) FILTER (WHERE a.d = day),
           count(DISTINCT account_id) FILTER (WHERE a.d > day - 7), count(DISTINCT account_id)
    FROM days LEFT JOIN a ON a.d BETWEEN day - 29 AND day GROUP BY day ORDER BY day""").fetchall()
    expected = [{"day": day, "dau": dau, "wau": wau, "mau": mau} for day, dau, wau, mau in daily]
    actual = [{k: row[k] for k in ("day", "dau", "wau", "mau")} for row in got["days"]]
    histogram = con.execute(f"""
    SELECT p, n, count(*) FROM (SELECT account_id, {period_index_sql(grain, "d")} AS p, count(*) AS n
                                FROM a GROUP BY 1, 2) GROUP BY p, n""").fetchall()
    periods = {}
    for p, n, count in histogram:
        periods.setdefault(period_label(grain, p), {})[n] = count
    expected_periods = [periods.get(row["period"], {}) for row in got["periods"]]
    actual_periods = [{i + 1: c for i, c in enumerate(row["days_active"]) if c} for row in got["periods"]]
    if expected != actual or expected_periods != actual_periods or set(periods) - {r["period"] for r in got["periods"]}:
        diff = next(((e, a) for e, a in zip(expected, actual) if e != a), None) or \
            next(((e, a) for e, a in zip(expected_periods, actual_periods) if e != a), "periods differ")
        print(f"MISMATCH {name}: duckdb vs tenure {diff}")
        return 1, 0
    print(f"ok {name}: {len(actual)} days, {len(actual_periods)} {grain}s (stickiness)")
    return 0, 4 * len(actual) + len(actual_periods)


for name, metric in config["metrics"].items():
    if metric["type"] == "revenue" and "cohort" in metric:
        if not config["cohorts"][metric["cohort"]].get("by") and "spread" not in metric:
            failed, cells = check_cohort_revenue(name, metric)
            failures += failed
            checked += cells
            metrics_checked += 1 - failed
        continue  # breakdowns and spread are compared by the SQL engines (sql_check.py)
    if metric["type"] == "revenue" and any(key in metric for key in ("reactivation_within", "window")):
        continue  # compared by the SQL engines (sql_check.py, warehouse_check.py)
    if metric["type"] == "funnel" and config["cohorts"][metric["cohort"]].get("by"):
        continue  # breakdowns are compared by the SQL engines (sql_check.py, warehouse_check.py)
    if metric["type"] == "winback" and metric.get("by"):
        continue  # breakdowns are compared by the SQL engines (sql_check.py, warehouse_check.py)
    if metric["type"] == "uplift" and config["cohorts"][config["metrics"][metric["retention"]]["cohort"]].get("by"):
        continue  # breakdowns are compared by the SQL engines (sql_check.py, warehouse_check.py)
    checker = {"stickiness": check_stickiness, "survey": check_survey, "lifecycle": check_lifecycle,
               "revenue": check_revenue, "crr": check_crr, "uplift": check_uplift,
               "winback": check_winback, "health": check_health, "funnel": check_funnel}.get(metric["type"])
    if checker:
        failed, cells = checker(name, metric)
        failures += failed
        checked += cells
        metrics_checked += 1 - failed
        continue
    if metric["type"] != "retention":
        continue
    cohort = config["cohorts"][metric["cohort"]]
    split = period_start_segment(cohort.get("by"))
    if cohort.get("by") and not split:
        continue  # breakdowns are compared by the SQL engines (sql_check.py, warehouse_check.py)
    cells = retention_members(metric)
    mode, unit = metric.get("mode", "n-day"), metric.get("unit", "day")
    align = metric.get("align", "entity")
    columns = []
    for i, cell in enumerate(cells):
        retained, eligible = cell_sql(metric, cell)
        columns.append(f"count(*) FILTER (WHERE {retained}) AS r{i}")
        columns.append(f"count(*) FILTER (WHERE {eligible}) AS e{i}")
        columns.append(f"count(*) FILTER (WHERE {retained} AND {eligible}) AS re{i}")
    did = cohort.get("did")
    if did:
        add_did(cohort)
    # A member's label at the start of its cohort period, for a segment labelled so.
    label, join = "NULL", ""
    if split:
        create_period_start_labels(split[1], cohort["grain"])
        label = "l.label"
        join = f"LEFT JOIN labels l ON l.account_id = m.account_id AND l.p = {period_index_sql(cohort['grain'], 'm.d0')}"
    rows = con.execute(f"""
    SELECT {cohort_label(cohort['grain'])} AS cohort, {'did' if did else label} AS did, count(*) AS size,
      {', '.join(columns)}
    FROM members m {join} GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST""").fetchall()
    rows = [(r[0],) + r[2:] + (r[1],) for r in rows]
    got = tenure["metrics"][name]
    expected_cohorts = [
        {"cohort": r[0], "size": r[1],
         "retained": [r[2 + 3 * i] for i in range(len(cells))],
         "eligible": [r[3 + 3 * i] for i in range(len(cells))],
         "did": r[-1]}
        for r in rows
    ]
    split_key = f"did.{did}" if did else f"segment.{split[0]}" if split else None
    actual_cohorts = [{**{k: c[k] for k in ("cohort", "size", "retained", "eligible")},
                       "did": c["segment"][split_key] if split_key else None} for c in got["cohorts"]]
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
        if c["rate"] != [r / c["size"] if e else None for r, e in zip(c["retained"], c["eligible"])]:
            failures += 1
            print(f"MISMATCH {name} rate in {c['cohort']}")
    checked += sum(len(c["retained"]) for c in expected_cohorts)
    metrics_checked += 1
    print(f"ok {name}: {len(expected_cohorts)} cohorts, {len(cells)} columns ({mode}, {unit}, {align}, {cohort['grain']} cohorts)")

if rfm_path:
    # RFM scores: NTILE over recency (descending), frequency and monetary, ties by entity id.
    segment = config["segments"]["rfm"]
    bins = segment.get("params", {}).get("bins", 5)
    rows = con.execute(f"""
    WITH f AS (SELECT account_id, count(*) AS freq, sum(CAST(amount AS DECIMAL(18, 6))) AS mon, max(d) AS last_d
               FROM rows WHERE {event_sql(segment['event'])} AND d <= DATE '{as_of}' GROUP BY 1)
    SELECT account_id,
      NTILE({bins}) OVER (ORDER BY (DATE '{as_of}' - last_d) DESC, account_id) AS r,
      NTILE({bins}) OVER (ORDER BY freq, account_id) AS f,
      NTILE({bins}) OVER (ORDER BY coalesce(mon, 0), account_id) AS m
    FROM f ORDER BY account_id""").fetchall()
    expected = {a: f"{r}{f_}{m}" for a, r, f_, m in rows}
    with open(rfm_path) as f:
        lines = f.read().splitlines()[1:]
    actual = {e: l for e, l in (line.split(",", 1) for line in lines) if l}
    if expected != actual:
        failures += 1
        diff = sorted(set(expected.items()) ^ set(actual.items()))[:6]
        print(f"MISMATCH rfm: {len(expected)} scored in DuckDB, {len(actual)} by the plugin; first differences {diff}")
    else:
        metrics_checked += 1
        checked += len(expected)
        print(f"ok rfm: {len(expected)} entities scored alike by the plugin and by DuckDB NTILE({bins})")

print(f"{checked} cells checked in zone {tz} with {week_start} weeks: {'all agree' if failures == 0 else f'{failures} metric(s) differ'}")
print(f"differential: {metrics_checked} passed, {failures} failed")
sys.exit(1 if failures else 0)
