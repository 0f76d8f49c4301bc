#!/usr/bin/env python3
"""The SQL backend's cost: W1 + W2 as the SQL `tenure sql` writes, run by DuckDB (reading the
Parquet file itself) and by ClickHouse's engine (chDB, from a MergeTree table loaded from the same
file), next to tenure's in-process engine on that file, in one run.

usage: sql.py [--events N ...] [--threads 2]

For each size: generates the Parquet file (bench.py's, cached under target/bench/), runs
`tenure run` on it, prints the SQL of the input accounting, W1 and W2 for each dialect, and runs
those statements in a child process per engine (so that its peak RSS is its own). chDB's table
is loaded first; the load is timed apart from the statements. Checks that both engines give
tenure's W1 cells (cohort sizes, retained members per day) and W2 movements (micro-units) exactly,
and prints wall time, peak RSS and the ratios to tenure. Exit 1 on a difference.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import DEFAULT_DICTIONARY_KIB, TENURE, config_for, measure  # noqa: E402

PYTHON = sys.executable
EPOCH = date(1970, 1, 1)

# Runs statements in one engine (`python -c CHILD ENGINE THREADS PARQUET STATEMENTS.json`); prints
# {"load": s, "statements": s, "rows": {name: [row dicts]}}.
CHILD = r'''
import json, sys, time
engine, threads, parquet, statements = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.load(open(sys.argv[4]))
rows, load = {}, 0.0
if engine == "duckdb":
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET enable_progress_bar = false")
    def run(sql):
        result = con.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, r)) for r in result.fetchall()]
else:
    from chdb import session
    s = session.Session()
    start = time.perf_counter()
    s.query("CREATE TABLE events ENGINE = MergeTree ORDER BY tuple() AS "
            f"SELECT * FROM file('{parquet}', Parquet) SETTINGS max_threads = {threads}")
    load = time.perf_counter() - start
    def run(sql):
        result = json.loads(s.query(sql + f"\nSETTINGS max_threads = {threads}", "JSONCompact").bytes())
        names = [c["name"] for c in result["meta"]]
        return [dict(zip(names, r)) for r in result["data"]]
start = time.perf_counter()
for name, sql in statements.items():
    rows[name] = run(sql)
print(json.dumps({"load": load, "statements": time.perf_counter() - start, "rows": rows}, default=str))
'''


def statements(config, dialect):
    """The SQL of the input accounting, W1 and W2 in `dialect`."""
    def sql(*args):
        return subprocess.run([str(TENURE), "sql", str(config), "--dialect", dialect, *args],
                              check=True, capture_output=True, text=True).stdout
    return {"input": sql("--input"), "w1": sql("--metric", "w1"), "w2": sql("--metric", "w2")}


def week_label(index):
    return (EPOCH + timedelta(days=index * 7 - 3)).isoformat()


def month_label(index):
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def figures_of_report(report):
    w1 = {row["cohort"]: [row["size"]] + row["retained"] for row in report["metrics"]["w1"]["cohorts"]}
    w2 = {p["period"]: [round(p[k] * 1e6) for k in ("start", "new", "expansion", "contraction", "churned",
                                                     "reactivation", "end")]
          for p in report["metrics"]["w2"]["periods"]}
    return {"kept": report["input"]["kept"], "w1": w1, "w2": w2}


def figures_of_rows(rows):
    columns = sorted((k for k in rows["w1"][0] if k.startswith("retained_") and "eligible" not in k),
                     key=lambda k: int(k.split("_")[1])) if rows["w1"] else []
    w1 = {week_label(int(r["cohort_period"])): [int(r["size"])] + [int(r[c]) for c in columns]
          for r in rows["w1"]}
    w2 = {month_label(int(r["period"])): [int(float(r[f"{k}_micros"])) for k in (
        "start", "new", "expansion", "contraction", "churned", "reactivation", "end")] for r in rows["w2"]}
    return {"kept": int(rows["input"][0]["kept"]), "w1": w1, "w2": w2}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=float, nargs="+", default=[20e6])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    failures = 0
    print(f"{'events':>9}  {'engine':<12} {'load s':>7} {'wall s':>7} {'peak MiB':>9} {'x tenure wall':>14}")
    for events in args.events:
        data, config = config_for(events, "parquet", DEFAULT_DICTIONARY_KIB)
        code, out, wall, _, rss = measure([str(TENURE), "run", str(config), "--format", "json", "--quiet"], env)
        if code != 0:
            return 1
        expected = figures_of_report(json.loads(out))
        print(f"{events / 1e6:>7.2f} M  {'tenure':<12} {'':>7} {wall:>7.2f} {rss:>9.0f}")
        table_config = config.with_name("w1w2-table.toml")
        table_config.write_text(config.read_text().replace(f'path = "{data}"', 'table = "events"')
                                + '\n[connections.bench]\nkind = "clickhouse"\n')
        for engine, dialect, source in (("duckdb", "duckdb", config), ("chdb", "clickhouse", table_config)):
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(statements(source, dialect), f)
            child = [PYTHON, "-c", CHILD, engine, str(args.threads), str(data), f.name]
            code, out, sql_wall, _, sql_rss = measure(child)
            os.unlink(f.name)
            if code != 0:
                return 1
            result = json.loads(out.strip().splitlines()[-1])
            got = figures_of_rows(result["rows"])
            if got != expected:
                failures += 1
                differing = [k for k in expected if got[k] != expected[k]]
                print(f"MISMATCH {engine}-SQL at {events / 1e6:.2f} M: {', '.join(differing)} differ")
            print(f"{events / 1e6:>7.2f} M  {engine + '-SQL':<12} {result['load']:>7.2f} "
                  f"{result['statements']:>7.2f} {sql_rss:>9.0f} {result['statements'] / wall:>14.1f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
