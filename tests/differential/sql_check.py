#!/usr/bin/env python3
"""Runs the SQL `tenure sql` writes on a real engine and compares its figures with the in-process
engine's report, figure by figure.

usage: sql_check.py TENURE ENGINE EVENTS.csv CONFIG.toml TENURE.json [CONFIG.toml TENURE.json …]
                    [--events EVENTS.csv CONFIG.toml TENURE.json … …]
The entity rows are ACCOUNTS.csv beside EVENTS.csv (the table `accounts`, `employees` an
integer column). Each `--events` starts another set of rows with the configs that read them,
checked in the same process (for Spark, the same session: a new one costs half a minute).
ENGINE is `duckdb` (the config's file source, read by DuckDB itself; EVENTS.csv is then unused),
`postgres` (a server at PGHOST/PGPORT, given in the environment), `chdb` (ClickHouse's engine, in
process) or `spark` (Spark SQL in local mode, one session for every config). For the last three
the config's event source must be the table `events`, which this script creates once from
EVENTS.csv. Every metric the SQL backend compiles is checked, for each config and its report;
metrics it refuses are listed. Exits 1 on a difference, printing it.

A config's statements run a few at a time where the engine takes them from several threads
(PostgreSQL, on a connection per thread); the comparisons are made in
the config's order either way.
"""
import csv
import json
import os
import subprocess
import sys
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

tenure, engine = sys.argv[1:3]
EPOCH = date(1970, 1, 1)


def row_sets(args):
    """The command line's sets of rows: (EVENTS.csv, [(CONFIG.toml, TENURE.json), …]) each."""
    sets, start = [], 0
    while start < len(args):
        end = args.index("--events", start) if "--events" in args[start:] else len(args)
        events, rest = args[start], args[start + 1:end]
        sets.append((events, list(zip(rest[0::2], rest[1::2]))))
        start = end + 1
    return sets


def use_rows(events, first_config):
    """Makes `events` (and the ACCOUNTS.csv beside it) the rows the checks read: the events'
    columns (the CSV header; the configs' time column is a timestamp with zone, the others text,
    as a warehouse would type them) in the table the first config names."""
    global events_csv, COLUMNS, TABLE, TIME, accounts_csv, ACCOUNT_COLUMNS
    events_csv = events
    with open(events_csv, newline="") as f:
        COLUMNS = next(csv.reader(f))
    with open(first_config, "rb") as f:
        source = tomllib.load(f)["sources"]["events"]
    TABLE, TIME = source.get("table", "events"), source["time"]
    accounts_csv = events_csv.rsplit("/", 1)[0] + "/accounts.csv"
    with open(accounts_csv, newline="") as f:
        ACCOUNT_COLUMNS = next(csv.reader(f))


def account_schema(types, text):
    """The accounts table's columns as in its header: `employees` an integer, `created` a date,
    the others text, each typed by `types` (integer, date) or `text`."""
    return ", ".join(f"{c} {types.get(c, text)}" for c in ACCOUNT_COLUMNS)



def label(grain, index, week_start):
    """The engine's label of period `index` (docs/config.md: `YYYY-MM-DD`, `YYYY-MM`, `YYYY-Qn`)."""
    if grain == "day":
        return (EPOCH + timedelta(days=index)).isoformat()
    if grain == "week":
        shift = 3 if week_start == "monday" else 4
        return (EPOCH + timedelta(days=index * 7 - shift)).isoformat()
    if grain == "month":
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if grain == "year":
        return f"{index:04d}"
    return f"{index // 4:04d}-Q{index % 4 + 1}"


def duckdb_runner():
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads = 2")

    def run(sql):
        result = con.cursor().execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]

    def store(table, rows):
        con.execute(f"CREATE OR REPLACE TABLE {table} (entity VARCHAR, label VARCHAR)")
        con.executemany(f"INSERT INTO {table} VALUES (?, ?)", rows)
    return run, store


def postgres_runner():
    import psycopg
    con = psycopg.connect(dbname="postgres", autocommit=True)

    def quoted(name):
        return '"' + name.replace('"', '""') + '"'
    con.execute(f"DROP TABLE IF EXISTS {quoted(TABLE)}")
    con.execute(f"CREATE TABLE {quoted(TABLE)} ("
                + ", ".join(f"{quoted(c)} {'timestamptz' if c == TIME else 'text'}" for c in COLUMNS) + ")")
    with open(events_csv, "rb") as f, con.cursor().copy(
            f"COPY {quoted(TABLE)} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
        copy.write(f.read())
    con.execute("DROP TABLE IF EXISTS accounts")
    con.execute(f"CREATE TABLE accounts ({account_schema({'employees': 'integer', 'created': 'date'}, 'text')})")
    with open(accounts_csv, "rb") as f, con.cursor().copy(
            "COPY accounts FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
        copy.write(f.read())

    # One connection per thread that runs statements.
    local = threading.local()

    def run(sql):
        if not hasattr(local, "con"):
            local.con = psycopg.connect(dbname="postgres", autocommit=True)
        cursor = local.con.execute(sql)
        names = [d.name for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def store(table, rows):
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"CREATE TABLE {table} (entity text, label text)")
        con.cursor().executemany(f"INSERT INTO {table} VALUES (%s, %s)", rows)
    return run, store


CHDB_SESSION = None


def chdb_runner():
    global CHDB_SESSION
    from chdb import session
    # One session for every set of rows: chDB keeps one per process.
    if CHDB_SESSION is None:
        CHDB_SESSION = session.Session()
    s = CHDB_SESSION

    def quoted(name):
        return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"
    columns = ", ".join(f"{quoted(c)} " + ("Nullable(DateTime64(6, 'UTC'))" if c == TIME else "Nullable(String)")
                        for c in COLUMNS)
    s.query(f"DROP TABLE IF EXISTS {quoted(TABLE)}")
    s.query(f"CREATE TABLE {quoted(TABLE)} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
    structure = columns.replace("\\", "\\\\").replace("'", "\\'")
    s.query(f"INSERT INTO {quoted(TABLE)} SELECT * FROM file('{events_csv}', CSVWithNames, '{structure}')"
            " SETTINGS input_format_csv_trim_whitespaces = 0")
    s.query("DROP TABLE IF EXISTS accounts")
    accounts = account_schema({"employees": "Nullable(Int64)", "created": "Nullable(Date)"}, "Nullable(String)")
    s.query(f"CREATE TABLE accounts ({accounts}) ENGINE = MergeTree ORDER BY tuple()")
    s.query(f"INSERT INTO accounts SELECT * FROM file('{accounts_csv}', CSVWithNames, '{accounts}')")

    def run(sql):
        result = json.loads(s.query(sql, "JSONCompact").bytes())
        names = [column["name"] for column in result["meta"]]
        return [dict(zip(names, row)) for row in result["data"]]

    def store(table, rows):
        s.query(f"DROP TABLE IF EXISTS {table}")
        s.query(f"CREATE TABLE {table} (entity String, label Nullable(String)) ENGINE = Memory")
        s.query(f"INSERT INTO {table} FORMAT JSONEachRow "
                + "\n".join(json.dumps({"entity": e, "label": l}) for e, l in rows))
    return run, store


def spark_runner():
    from pyspark.sql import SparkSession
    # Spark's timestamps are shown in the session zone; tenure's Spark SQL expects UTC. The
    # optimizer of the longest statements (the `figures` metrics, 50–110 kB of SQL whose shared
    # steps Spark inlines at every use) can outgrow the default 1 GiB heap: 3 GiB. On tables of
    # a few thousand rows a statement's time goes to planning, compiling and parsing the CSV
    # again at every use of the table, not to the rows: one shuffle partition, no adaptive
    # re-planning, no code generation (expressions interpreted: compiling them took a sixth of
    # the time, most of it looking classes up in jars), no constraint propagation in the
    # optimizer, sort-merge joins instead of broadcasts (each broadcast is a job of its own)
    # and the tables cached in memory once read. Seven statements, three rounds in one session:
    # 23.8 s against 35.0 s for the settings before the last four, with the same rows.
    spark = (SparkSession.builder.master("local[2]").appName("tenure-sql-check")
             .config("spark.driver.memory", "3g")
             .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "1").config("spark.sql.adaptive.enabled", "false")
             .config("spark.sql.codegen.wholeStage", "false")
             .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
             .config("spark.sql.constraintPropagation.enabled", "false")
             .config("spark.sql.autoBroadcastJoinThreshold", "-1")
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    def quoted(name):
        return "`" + name.replace("`", "``") + "`"
    schema = ", ".join(f"{quoted(c)} {'timestamp' if c == TIME else 'string'}" for c in COLUMNS)
    # RFC 4180 quoting (a quote doubled inside a quoted field), not Spark's default backslash.
    events = spark.read.csv(events_csv, header=True, schema=schema, escape='"').cache()
    events.createOrReplaceTempView(quoted(TABLE))
    account_types = account_schema({"employees": "int", "created": "date"}, "string")
    accounts = spark.read.csv(accounts_csv, header=True, schema=account_types).cache()
    accounts.createOrReplaceTempView("accounts")
    # Read once here, so that no statement's time includes filling the cache.
    events.count(), accounts.count()

    def store(table, rows):
        spark.createDataFrame(rows, "entity string, label string").createOrReplaceTempView(table)
    return lambda sql: [row.asDict() for row in spark.sql(sql).collect()], store


RUNNERS = {"duckdb": duckdb_runner, "postgres": postgres_runner, "chdb": chdb_runner,
           "spark": spark_runner}
# Statements run at once: DuckDB, chDB and Spark use both cores for one statement, PostgreSQL one
# core per connection. (Spark with three at once was no faster: its statements keep both cores busy.)
WORKERS = {"duckdb": 1, "postgres": 2, "chdb": 1, "spark": 1}[engine]


def store_labels(config_path, config):
    """Each plugin segment's labels, as `tenure segment` prints them over the same rows as files,
    stored in the table a statement printed on its own reads them from (an empty label is none)."""
    text = open(config_path).read()
    on_files = config_path
    if 'table = "events"' in text:
        text = text.replace('table = "events"', f'path = "{os.path.abspath(events_csv)}"')
        text = text.replace('table = "accounts"', f'path = "{os.path.abspath(accounts_csv)}"')
        text = text.split("\n[connections.")[0]
        on_files = config_path + ".files.toml"
        with open(on_files, "w") as f:
            f.write(text)
    for name in config.get("segments", {}):
        run = subprocess.run([tenure, "segment", on_files, "--name", name, "--quiet"],
                             capture_output=True, text=True, check=True)
        rows = [(entity, label or None) for entity, label in
                (line.split(",", 1) for line in run.stdout.splitlines()[1:])]
        store_table(f"tenure_segment_{name}", rows)
dialect = {"duckdb": "duckdb", "postgres": "postgres", "chdb": "clickhouse", "spark": "spark"}[engine]


def as_int(value):
    """Counts come back as text from some engines' JSON (ClickHouse's 64-bit integers)."""
    return int(value)


def segment_value(value):
    """A breakdown value as compared: numbers as floats (a column read as text in DuckDB's
    all-varchar CSV holds the digits the engine types as a number), text as text."""
    if value is None:
        return None
    if isinstance(value, bool) or str(value) in ("true", "false"):
        return str(value).lower() == "true"  # a cohort's `did` split, as each engine returns it
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def breakdowns(cohort):
    """The number of a cohort's breakdown columns: its `by` fields, then `did` when it has one."""
    return len(cohort.get("by", [])) + ("did" in cohort)


def engine_segment(segment):
    return [segment_value(v) for v in segment.values()] if segment else []


def row_key(row):
    return (row["cohort"], [(v is None, isinstance(v, str), str(v) if isinstance(v, str) else v or 0)
                            for v in row["segment"]])


def as_bool(value):
    return value in (True, 1, "1", "true")


def answer(config_path, name):
    """The rows of metric `name`'s statement on the engine, or None when the dialect refuses it."""
    run = subprocess.run([tenure, "sql", config_path, "--dialect", dialect, "--metric", name],
                         capture_output=True, text=True)
    if run.returncode != 0:
        if not run.stderr.startswith("note: "):
            raise SystemExit(f"tenure sql failed on `{name}`:\n{run.stderr}")
        return None
    return run_sql(run.stdout)


def check(config_path, report_path):
    """Compares every compiled metric of one config; (passed, failed, refused names)."""
    with open(config_path, "rb") as f:
        config = tomllib.load(f)
    with open(report_path) as f:
        report = json.load(f)
    week_start = config.get("project", {}).get("week_start", "monday")
    checked, refused, failed = 0, [], 0
    store_labels(config_path, config)
    # The input accounting: as_of, rows by reason, duplicates, excluded, kept, entities.
    run = subprocess.run([tenure, "sql", config_path, "--dialect", dialect, "--input"],
                         capture_output=True, text=True, check=True)
    names = ["as_of", "rows_read", "bad_amount", "bad_encoding", "bad_time", "malformed_row",
             "missing_entity", "missing_event", "missing_time", "readable", "kept", "entities"]
    values = run_sql(run.stdout)[0]
    read = report["input"]
    unreadable = sum(as_int(values[n]) for n in names[2:9])
    got = {"as_of": str(values["as_of"])[:10], "rows": as_int(values["rows_read"]),
           "rejected": {n: as_int(values[n]) for n in names[2:9]},
           "duplicates": as_int(values["rows_read"]) - unreadable - as_int(values["readable"]),
           "excluded": as_int(values["readable"]) - as_int(values["kept"]),
           "kept": as_int(values["kept"]), "entities": as_int(values["entities"])}
    want = {"as_of": report["as_of"], **{k: read[k] for k in ("rows", "rejected", "duplicates", "excluded",
                                                               "kept", "entities")}}
    if got != want:
        failed += 1
        print(f"MISMATCH input accounting ({engine}, {config_path}): SQL {got} vs engine {want}")
    else:
        checked += 1
    with ThreadPoolExecutor(WORKERS) as pool:
        answers = list(pool.map(lambda name: answer(config_path, name), config["metrics"]))
    for (name, metric), named in zip(config["metrics"].items(), answers):
        if named is None:
            refused.append(name)
            continue
        rows = [tuple(r.values()) for r in named]
        expected = report["metrics"][name]
        if metric["type"] == "crr":
            grain = metric.get("grain", "month")
            got = [{"period": label(grain, as_int(p), week_start), "complete": as_bool(c),
                    "start": as_int(s), "end": as_int(e), "new": as_int(n)} for p, c, s, e, n in rows]
            want = [{k: p[k] for k in ("period", "complete", "start", "end", "new")}
                    for p in expected["periods"]]
        elif metric["type"] == "retention":
            cohort = config["cohorts"][metric["cohort"]]
            grain, by = cohort["grain"], breakdowns(cohort)
            cells = len(metric.get("brackets", metric.get("periods", [])))
            valued = "value" in metric

            def retention_row(r):
                row = {"cohort": label(grain, as_int(r["cohort_period"]), week_start),
                       "segment": [segment_value(r[f"by_{i}"]) for i in range(by)], "size": as_int(r["size"]),
                       "retained": [as_int(r[f"retained_{i}"]) for i in range(cells)],
                       "eligible": [as_int(r[f"eligible_{i}"]) for i in range(cells)]}
                if valued:
                    # As the engine reads micro-units back: ÷ 10⁶, per member ÷ size.
                    # Null where no member is eligible, as the rate.
                    row["revenue"] = [as_int(r[f"revenue_micros_{i}"]) / 1e6 if row["eligible"][i] else None
                                      for i in range(cells)]
                    row["ltv"] = [as_int(r[f"cumulative_micros_{i}"]) / 1e6 / row["size"] if row["eligible"][i]
                                  else None for i in range(cells)]
                return row
            keys = ["cohort", "segment", "size", "retained", "eligible"] + (["revenue", "ltv"] if valued else [])
            got = sorted((retention_row(r) for r in named), key=row_key)
            want = sorted(({**{k: c[k] for k in keys}, "segment": engine_segment(c["segment"])}
                           for c in expected["cohorts"]), key=row_key)
            def total_of(members):
                total = {"size": sum(as_int(r["size"]) for r in members),
                         "retained": [sum(as_int(r[f"retained_eligible_{i}"]) for r in members)
                                      for i in range(cells)],
                         "eligible": [sum(as_int(r[f"eligible_{i}"]) for r in members) for i in range(cells)]}
                if valued:
                    total["revenue"] = [sum(as_int(r[f"revenue_micros_{i}"]) for r in members) / 1e6
                                        for i in range(cells)]
                    total["ltv"] = [sum(as_int(r[f"eligible_cumulative_micros_{i}"]) for r in members) / 1e6
                                    / total["eligible"][i] if total["eligible"][i] else None for i in range(cells)]
                return total
            total = total_of(named)
            got.append(total)
            want.append({k: expected["total"][k] for k in total})
            if by:
                # A total row per breakdown value, over that value's rows.
                order = lambda k: [(v is None, isinstance(v, str), str(v)) for v in k]
                values = {}
                for r in named:
                    values.setdefault(tuple(segment_value(r[f"by_{i}"]) for i in range(by)), []).append(r)
                for key in sorted(values, key=order):
                    got.append({"segment": list(key), **total_of(values[key])})
                for t in sorted(expected.get("totals") or [], key=lambda t: order(engine_segment(t["segment"]))):
                    want.append({"segment": engine_segment(t["segment"]), **{k: t[k] for k in total}})
        elif metric["type"] == "revenue" and "cohort" in metric:
            # Per cohort row: members (k = -1) and each period since the start with revenue.
            cohort = config["cohorts"][metric["cohort"]]
            grain, by = cohort["grain"], breakdowns(cohort)
            table = {}
            for r in named:
                last, after = as_int(r["last_period"]), as_int(r["period_after_as_of"])
                period = as_int(r["cohort_period"])
                key = (label(grain, period, week_start), [segment_value(r[f"by_{i}"]) for i in range(by)])
                row = table.setdefault(repr(key), {"cohort": key[0], "segment": key[1], "size": 0, "cells": {},
                                                   "width": last - period + 1, "period": period,
                                                   "complete": after > last, "last": last})
                k = as_int(r["k"])
                if k < 0:
                    row["size"] += as_int(r["members"])
                else:
                    row["cells"][k] = [as_int(r[c]) for c in ("revenue_micros", "customers", "starting_micros",
                                                              "gross_micros", "starting_customers")]

            def share(a, b):
                return None if b == 0 else float(a) / float(b)

            got = []
            for row in sorted(table.values(), key=row_key):
                start = row["cells"].get(0, [0] * 5)
                periods = []
                for k in range(row["width"]):
                    revenue, customers, starting, gross, kept = row["cells"].get(k, [0] * 5)
                    periods.append({"period": k, "complete": row["period"] + k < row["last"] or row["complete"],
                                    "revenue": revenue / 1e6, "customers": customers,
                                    "nrr": share(starting, start[0]), "grr": share(gross, start[0]),
                                    "logo_retention": share(kept, start[1])})
                got.append({"cohort": row["cohort"], "segment": row["segment"], "size": row["size"],
                            "customers_start": start[1], "revenue_start": start[0] / 1e6, "periods": periods})
            want = sorted(({"cohort": c["cohort"], "segment": engine_segment(c["segment"]),
                            **{k: c[k] for k in ("size", "customers_start", "revenue_start", "periods")}}
                           for c in expected["cohorts"]), key=row_key)
        elif metric["type"] == "revenue":
            grain = metric.get("grain", "month")
            by = len(metric.get("by", []))

            def ratio(numerator, denominator):
                # As the engine divides: each side as a float first.
                return None if denominator == 0 else float(numerator) / float(denominator)

            def table(periods):
                """The engine's table from one breakdown's rows: (period, complete, figures)."""
                out, totals = [], []
                for p, complete, f in periods:
                    start, churned, contraction, expansion = (f["start_micros"], f["churned_micros"],
                                                              f["contraction_micros"], f["expansion_micros"])
                    retained = start - churned - contraction
                    out.append({
                        "period": label(grain, p, week_start), "complete": complete,
                        **{k: f[f"{k}_micros"] / 1e6 for k in ("start", "new", "expansion", "contraction",
                                                               "churned", "reactivation", "end")},
                        "customers_end": f["customers_end"],
                        "grr": ratio(retained, start), "nrr": ratio(retained + expansion, start),
                        "customers_start": f["customers_start"], "customers_churned": f["customers_churned"],
                        "customer_churn_rate": ratio(f["customers_churned"], f["customers_start"]),
                        "revenue_churn_rate": ratio(churned + contraction, start)})
                    if complete:
                        totals.append((start, retained, expansion))
                starts = sum(t[0] for t in totals)
                retained_all = sum(t[1] for t in totals)
                return out, {"nrr": ratio(retained_all + sum(t[2] for t in totals), starts),
                             "grr": ratio(retained_all, starts)}

            figures = ["start_micros", "new_micros", "expansion_micros", "contraction_micros", "churned_micros",
                       "reactivation_micros", "end_micros", "customers_start", "customers_churned",
                       "customers_end"]
            overall, groups = [], {}
            for r in named:
                entry = (as_int(r["period"]), as_bool(r["complete"]), {k: as_int(r[k]) for k in figures})
                if by and not as_bool(r["overall"]):
                    key = tuple(segment_value(r[f"by_{i}"]) for i in range(by))
                    groups.setdefault(key, {})[entry[0]] = entry
                else:
                    overall.append(entry)
            overall.sort(key=lambda e: e[0])
            periods, whole = table(overall)
            got = periods + [whole]
            keys = list(periods[0]) if periods else []
            want = [{k: p[k] for k in keys} for p in expected["periods"]]
            want.append({"nrr": expected["nrr"], "grr": expected["grr"]})
            if by:
                # A breakdown value's periods without movement are all zero.
                zero = {k: 0 for k in figures}
                for key in sorted(groups, key=lambda k: [(v is None, isinstance(v, str), str(v)) for v in k]):
                    rows_of = [groups[key].get(p, (p, c, zero)) for p, c, _ in overall]
                    periods, whole = table(rows_of)
                    got.append({"segment": list(key), "periods": periods, **whole})
                want_groups = sorted(expected.get("segments") or [],
                                     key=lambda s: [(v is None, isinstance(v, str), str(v))
                                                    for v in engine_segment(s["segment"])])
                for s in want_groups:
                    want.append({"segment": engine_segment(s["segment"]),
                                 "periods": [{k: p[k] for k in keys} for p in s["periods"]],
                                 "nrr": s["nrr"], "grr": s["grr"]})
        elif metric["type"] == "stickiness":
            grain = metric.get("grain", "week")
            got_days, got_periods = [], {}
            for r in named:
                at = as_int(r["at_index"])
                if as_int(r["part"]) == 0:
                    got_days.append({"day": label("day", at, week_start), "dau": as_int(r["dau"]),
                                     "wau": as_int(r["wau"]), "mau": as_int(r["mau"])})
                else:
                    period = got_periods.setdefault(at, {"period": label(grain, at, week_start),
                                                         "complete": as_bool(r["complete"]), "days": {}})
                    if as_int(r["days_count"]):
                        period["days"][as_int(r["days_count"])] = as_int(r["entities"])
            got = got_days + [got_periods[k] for k in sorted(got_periods)]
            want = [{k: d[k] for k in ("day", "dau", "wau", "mau")} for d in expected["days"]] + \
                [{"period": p["period"], "complete": p["complete"],
                  "days": {i + 1: c for i, c in enumerate(p["days_active"]) if c}} for p in expected["periods"]]
        elif metric["type"] in ("lifecycle", "winback"):
            # Per-period counts, with `by` a table per value over the same periods (zeros where a
            # value has no row).
            grain = metric.get("grain", "month")
            by = len(metric.get("by", []))
            lifecycle = metric["type"] == "lifecycle"
            parts = ["new", "returning", "resurrecting", "dormant"] if lifecycle else ["dormant", "returned"]

            def period_rows(entries):
                rows = [{"period": label(grain, p, week_start), "complete": c, **f} for p, c, f in entries]
                if lifecycle:
                    for row in rows:
                        row["active"] = row["new"] + row["returning"] + row["resurrecting"]
                return rows
            overall, groups = [], {}
            for r in named:
                entry = (as_int(r["period"]), as_bool(r["complete"]), {k: as_int(r[f"{k}_count"]) for k in parts})
                if by and not as_bool(r["overall"]):
                    key = tuple(segment_value(r[f"by_{i}"]) for i in range(by))
                    groups.setdefault(key, {})[entry[0]] = entry
                else:
                    overall.append(entry)
            overall.sort(key=lambda e: e[0])
            got = period_rows(overall)
            keys = ["period", "complete"] + (["active"] if lifecycle else []) + parts
            want = [{k: p[k] for k in keys} for p in expected["periods"]]
            if by:
                zero = {k: 0 for k in parts}
                order = lambda k: [(v is None, isinstance(v, str), str(v)) for v in k]
                for key in sorted(groups, key=order):
                    got.append({"segment": list(key), "periods": period_rows(
                        [groups[key].get(p, (p, c, zero)) for p, c, _ in overall])})
                for s in sorted(expected.get("segments") or [], key=lambda s: order(engine_segment(s["segment"]))):
                    want.append({"segment": engine_segment(s["segment"]),
                                 "periods": [{k: p[k] for k in keys} for p in s["periods"]]})
        elif metric["type"] == "formula":
            def number(value):
                return None if value is None else float(value)
            if "grain" in metric:
                got = [{"period": label(metric["grain"], as_int(g), week_start), "complete": as_bool(c),
                        "value": number(v)} for g, c, v in rows]
                want = [{k: r[k] for k in ("period", "complete", "value")} for r in expected["rows"]]
            elif "cohort" in metric:
                grain = config["cohorts"][metric["cohort"]]["grain"]
                got = sorted(({"cohort": label(grain, as_int(g), week_start), "value": number(v)}
                              for g, c, v in rows), key=lambda r: r["cohort"])
                want = [{k: r[k] for k in ("cohort", "value")} for r in expected["rows"]]
            else:
                got = [number(rows[0][2])]
                want = [expected["value"]]
        elif metric["type"] == "activation":
            cohort = config["cohorts"][metric["cohort"]]
            grain, by = cohort["grain"], breakdowns(cohort)

            def median_days(micros):
                # As the engine computes it: the median in microseconds, then days.
                return None if micros is None else float(micros) / 86_400_000_000

            def values(r):
                return [segment_value(r[f"by_{i}"]) for i in range(by)]

            def figures(r, activated):
                return {"size": as_int(r["size"]), "activated": as_int(r[activated]),
                        "eligible": as_int(r["eligible"]), "median_days": median_days(r["median_delay_us"])}
            keys = ("size", "activated", "eligible", "median_days")
            got = sorted(({"cohort": label(grain, as_int(r["cohort_period"]), week_start), "segment": values(r),
                           **figures(r, "activated")} for r in named if not as_bool(r["all_cohorts"])), key=row_key)
            want = sorted(({**{k: c[k] for k in ("cohort",) + keys}, "segment": engine_segment(c["segment"])}
                           for c in expected["cohorts"]), key=row_key)
            # The totals count activated members who are eligible.
            totals = [r for r in named if as_bool(r["all_cohorts"])]
            overall = next(r for r in totals if not by or as_bool(r["all_values"]))
            got.append(figures(overall, "activated_eligible"))
            want.append({k: expected["total"][k] for k in keys})
            if by:
                order = lambda k: [(v is None, isinstance(v, str), str(v)) for v in k]
                per_value = [r for r in totals if not as_bool(r["all_values"])]
                for r in sorted(per_value, key=lambda r: order(values(r))):
                    got.append({"segment": values(r), **figures(r, "activated_eligible")})
                for t in sorted(expected.get("totals") or [], key=lambda t: order(engine_segment(t["segment"]))):
                    want.append({"segment": engine_segment(t["segment"]), **{k: t[k] for k in keys}})
        elif metric["type"] == "funnel":
            # Rates from the counts as docs/config.md states: a row's over its members, a total's
            # over eligible members; each step also over the step before.
            cohort = config["cohorts"][metric["cohort"]]
            grain, by = cohort["grain"], breakdowns(cohort)

            def funnel_figures(r, total):
                size, eligible = as_int(r["size"]), as_int(r["eligible"])
                base = eligible if total else size
                steps, before = [], base
                for k, step in enumerate(metric["steps"]):
                    reached = as_int(r[f"reached_eligible_{k}" if total else f"reached_{k}"])
                    median = r[f"median_delay_us_{k}"]
                    share = lambda d: None if eligible == 0 or d == 0 else float(reached) / float(d)
                    steps.append({"step": step, "reached": reached, "rate": share(base), "step_rate": share(before),
                                  "median_days": None if median is None else float(median) / 86_400_000_000})
                    before = reached
                return {"size": size, "eligible": eligible, "steps": steps}

            def values(r):
                return [segment_value(r[f"by_{i}"]) for i in range(by)]
            got = sorted(({"cohort": label(grain, as_int(r["cohort_period"]), week_start), "segment": values(r),
                           **funnel_figures(r, False)} for r in named if not as_bool(r["all_cohorts"])), key=row_key)
            want = sorted(({"cohort": c["cohort"], "segment": engine_segment(c["segment"]),
                            **{k: c[k] for k in ("size", "eligible", "steps")}} for c in expected["cohorts"]),
                          key=row_key)
            totals = [r for r in named if as_bool(r["all_cohorts"])]
            got.append(funnel_figures(next(r for r in totals if not by or as_bool(r["all_values"])), True))
            want.append(expected["total"])
            if by:
                order = lambda k: [(v is None, isinstance(v, str), str(v)) for v in k]
                per_value = [r for r in totals if not as_bool(r["all_values"])]
                for r in sorted(per_value, key=lambda r: order(values(r))):
                    got.append({"segment": values(r), **funnel_figures(r, True)})
                for t in sorted(expected.get("totals") or [], key=lambda t: order(engine_segment(t["segment"]))):
                    want.append({"segment": engine_segment(t["segment"]), **t["total"]})
        elif metric["type"] == "survey":
            # The counts, and the score and response rate from them as docs/config.md states.
            def survey_figures(r):
                counts = {k: as_int(r[k]) for k in ("responses", "respondents", "invalid", "positive",
                                                    "neutral", "negative")}
                responses, asked = counts["responses"], r["asked"]
                score = None
                if responses:
                    score = {"nps": (float(counts["positive"]) - float(counts["negative"])) / responses * 100.0,
                             "csat": counts["positive"] / responses,
                             "ces": as_int(r["score_sum"]) / responses}[metric["scale"]]
                asked = None if asked is None else as_int(asked)
                rate = None if not asked else counts["respondents"] / asked
                result = {**counts, "score": score, "asked": asked, "response_rate": rate}
                if "follow_up" in metric:
                    followed, median = as_int(r["followed_up"]), r["follow_up_median_micros"]
                    median = None if median is None or str(median).lower() == "nan" else float(median)
                    result["follow_up"] = {"followed": followed,
                                           "rate": followed / counts["negative"] if counts["negative"] else None,
                                           "median_hours": None if median is None else median / 3_600_000_000}
                return result
            keys = ["responses", "respondents", "invalid", "positive", "neutral", "negative", "score", "asked",
                    "response_rate"] + (["follow_up"] if "follow_up" in metric else [])
            grain, by = metric.get("grain"), len(metric.get("by", []))

            def survey_rows(rows):
                # A table's rows: its total, then its periods.
                out = []
                for r in rows:
                    row = survey_figures(r)
                    if not as_bool(r["overall"]):
                        row = {"period": label(grain, as_int(r["period"]), week_start),
                               "complete": as_bool(r["complete"]), **row}
                        if metric.get("waves"):
                            row["wave"] = wave_figures(r)
                    out.append(row)
                return out

            def wave_figures(r):
                # Each side's score from its counts, as docs/config.md states.
                n = as_int(r["wave_entities"])

                def side(name):
                    if not n:
                        return None
                    pos, neg = as_int(r[f"wave_{name}_positive"]), as_int(r[f"wave_{name}_negative"])
                    return {"nps": (float(pos) - float(neg)) / n * 100.0, "csat": pos / n,
                            "ces": as_int(r[f"wave_{name}_score_sum"]) / n}[metric["scale"]]
                before, now = side("before"), side("now")
                return {"entities": n, "before": before, "now": now,
                        "change": None if before is None or now is None else now - before}

            def engine_rows(table):
                wave = ["wave"] if metric.get("waves") else []
                return [{k: table["total"][k] for k in keys}] + \
                    [{k: p[k] for k in ["period", "complete"] + keys + wave} for p in table.get("periods") or []]
            whole = [r for r in named if not as_bool(r["per_value"])]
            got, want = survey_rows(whole), engine_rows(expected)
            if by:
                order = lambda k: [(v is None, isinstance(v, str), str(v)) for v in k]
                values = {}
                for r in named:
                    if as_bool(r["per_value"]):
                        values.setdefault(tuple(segment_value(r[f"by_{i}"]) for i in range(by)), []).append(r)
                zero = {k: 0 for k in keys[:6]}
                whole_periods = got[1:]
                for key in sorted(values, key=order):
                    rows = survey_rows(values[key])
                    # The periods a value has no row in are zeros.
                    present = {row.get("period") for row in rows}
                    for p in whole_periods:
                        if p["period"] not in present:
                            asked = None if p["asked"] is None else 0
                            rows.append({"period": p["period"], "complete": p["complete"], **zero,
                                         "score": None, "asked": asked, "response_rate": None})
                            if "follow_up" in metric:
                                rows[-1]["follow_up"] = {"followed": 0, "rate": None, "median_hours": None}
                    rows[1:] = sorted(rows[1:], key=lambda row: row["period"])
                    got.append({"segment": list(key), "rows": rows})
                for s in sorted(expected.get("segments") or [], key=lambda s: order(engine_segment(s["segment"]))):
                    want.append({"segment": engine_segment(s["segment"]), "rows": engine_rows(s)})
        elif metric["type"] == "uplift":
            # Counts per cohort row and group value, put on each side as docs/config.md says.
            retention = config["metrics"][metric["retention"]]
            cohort = config["cohorts"][retention["cohort"]]
            grain, by = cohort["grain"], breakdowns(cohort)
            empty = {"members": 0, "eligible": 0, "retained": 0}
            rows_by_key, left_out = {}, {"ungrouped": 0, "conflicting": 0}

            def group_text(value):
                if value is None:
                    return None
                try:
                    number = float(value)
                    return str(int(number)) if number.is_integer() else str(value)
                except ValueError:
                    return str(value)
            for r in named:
                key = (label(grain, as_int(r["cohort_period"]), week_start),
                       tuple(segment_value(r[f"by_{i}"]) for i in range(by)))
                sides = rows_by_key.setdefault(key, {"treatment": dict(empty), "control": dict(empty)})
                counts = {k: as_int(r[k]) for k in empty}
                variant = group_text(r["variant"])
                side = "conflicting" if as_bool(r["conflicting"]) else \
                    "treatment" if variant == metric["treatment"] else \
                    "control" if variant == metric["control"] else "ungrouped"
                if side in left_out:
                    left_out[side] += counts["members"]
                else:
                    sides[side] = {k: sides[side][k] + counts[k] for k in empty}
            got = [left_out] + sorted(({"cohort": k[0], "segment": list(k[1]), **sides}
                                       for k, sides in rows_by_key.items()), key=row_key)
            want = [{k: expected[k] for k in left_out}] + sorted((
                {"cohort": row["cohort"],
                 "segment": engine_segment(row["segment"]) if by else [],
                 **{side: {k: row[side][k] for k in empty} for side in ("treatment", "control")}}
                for row in expected["cohorts"]), key=row_key)
        elif metric["type"] == "ltv" and "revenue" in metric or metric["type"] == "payback":
            # Derived from a revenue metric's statement: ARPA (and customer churn), then the figure.
            r = named[0]
            keys = ["arpa", "value"] + (["churn_rate"] if metric["type"] == "ltv" else [])
            got = [{k: None if r[k] is None else float(r[k]) for k in keys}]
            want = [{k: expected[k] for k in keys}]
        elif metric["type"] == "ltv":
            # The orders form: average order × margin × orders per customer − cost to serve.
            r = named[0]
            average = None if r["average_order"] is None else float(r["average_order"])
            orders, customers = float(r["orders"]), float(r["customers"])
            per_customer = orders / customers if customers > 0 else None
            def constant(value):
                # A number, or the name of one of [constants].
                return config["constants"][value] if isinstance(value, str) else value
            margin, cost = constant(metric["margin"]), constant(metric.get("cost_to_serve", 0.0))
            value = None if average is None or per_customer is None else \
                average * margin * per_customer - cost
            got = [{"average_order": average, "orders_per_customer": per_customer, "value": value}]
            want = [{k: expected[k] for k in got[0]}]
        else:
            raise SystemExit(f"sql_check.py does not know how to compare a `{metric['type']}` metric yet")
        if got != want:
            failed += 1
            difference = next((f"{g} vs engine {w}" for g, w in zip(got, want) if g != w),
                              f"{len(got)} rows vs the engine's {len(want)}")
            print(f"MISMATCH {name} ({engine}, {config_path}): SQL {difference}")
        else:
            checked += 1
    return checked, failed, refused


total_checked = total_failed = 0
for events, pairs in row_sets(sys.argv[3:]):
    use_rows(events, pairs[0][0])
    # The engine's tables of these rows (Spark's session, once made, is the one `getOrCreate` gives).
    run_sql, store_table = RUNNERS[engine]()
    for config_path, report_path in pairs:
        started = time.monotonic()
        checked, failed, refused = check(config_path, report_path)
        total_checked += checked
        total_failed += failed
        zone = tomllib.load(open(config_path, "rb")).get("project", {}).get("timezone", "UTC")
        print(f"sql ({engine}, {zone}): {checked} passed, {failed} failed "
              f"in {time.monotonic() - started:.0f} s; not compiled yet: {', '.join(refused) or 'none'}",
              flush=True)
sys.exit(1 if total_failed or total_checked == 0 else 0)
