#!/usr/bin/env bash
# Differential test: tenure and DuckDB compute the same retention tables on a generated dataset.
# DuckDB is installed into a virtual environment under target/ on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb, chdb, psycopg, pyspark" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "duckdb==1.5.6" "polars==2.1.0" \
    "chdb==4.4.0" "psycopg[binary]==3.3.9" "pyspark==4.3.0"
fi
# The whole workspace, as tests/run.sh builds it (the plugins too): building some packages alone
# would resolve their dependencies' features differently and compile them again.
cargo build --quiet --workspace
tenure=target/debug/tenure
work=$(mktemp -d)
# A real PostgreSQL server for the SQL backend's statements, stopped on exit.
source tests/differential/postgres.sh
start_postgres
clickhouse_pid= spark_pid=
# kill_tree PID: stops a process and every process under it (Spark's JVM under its Python).
kill_tree() {
  local child
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
trap 'stop_postgres; [ -z "$clickhouse_pid" ] || kill "$clickhouse_pid" 2>/dev/null;
  [ -z "$spark_pid" ] || kill_tree "$spark_pid"; rm -rf "$work"' EXIT
"$tenure" gen --accounts 800 --days 240 --seed 11 --out "$work/data"

# Pass 1: UTC, Monday weeks. Pass 2: a zone west of UTC. Pass 3: a zone whose offset is not
# whole hours and whose clocks change at half past a UTC hour, with Sunday weeks.
plugins="$PWD/target/debug"
cat tests/differential/metrics.toml tests/differential/figures.toml | sed -e "s|PLUGIN_DIR|$plugins|" > "$work/utc.toml"
sed -e "s|PLUGIN_DIR|$plugins|" -e 's|timezone = "UTC"|timezone = "America/Los_Angeles"|' \
  tests/differential/metrics.toml > "$work/la.toml"
sed -e "s|PLUGIN_DIR|$plugins|" -e 's|timezone = "UTC"|timezone = "America/St_Johns"|' \
  -e 's|week_start = "monday"|week_start = "sunday"|' tests/differential/metrics.toml > "$work/stjohns.toml"
started=$SECONDS
for config in utc la stjohns; do
  "$tenure" run "$work/$config.toml" --format json --quiet > "$work/$config.json"
  "$tenure" segment "$work/$config.toml" --name rfm > "$work/$config.rfm.csv"
  "$venv/bin/python" tests/differential/check.py "$work/$config.toml" "$work/$config.json" "$work/$config.rfm.csv"
done
echo "-- the engine against DuckDB, three zones: $((SECONDS - started)) s"

# For the SQL backend: the generated rows, plus accounts whose only rows carry an amount that is
# not a number within ±10¹⁵ (rejected as bad_amount, so in no cohort) or one that is, and rows
# whose id and event name have spaces around them. Each zone's
# config reads them as a file (DuckDB) and as a table `events` (the other engines).
"$venv/bin/python" - "$work/data/events.csv" "$work/data/events_sql.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header = rows[0]
account, amount, agent = (header.index(c) for c in ("account_id", "amount", "user_agent"))
extra = []
for n, row in enumerate(rows[1:400]):
    row = list(row)
    row[account], row[agent] = f"amounts_{n}", "Mozilla/5.0"
    row[amount] = ["n/a", "1e16", " 12.5 ", "", "-3", "inf", ".5e3", "1."][n % 8]
    extra.append(row)
# Ids and event names with spaces around them, as some exports write them: the same account
# and event once trimmed.
event = header.index("event")
for row in rows[400:460]:
    row = list(row)
    row[account], row[event] = f"  {row[account]} ", f" {row[event]}  "
    extra.append(row)
with open(sys.argv[2], "w", newline="") as out:
    csv.writer(out).writerows(rows + extra)
PY
for config in utc la stjohns; do
  sed -e 's|^path = "data/events.csv"|path = "data/events_sql.csv"|' "$work/$config.toml" > "$work/$config.sql.toml"
  "$tenure" run "$work/$config.sql.toml" --format json --quiet > "$work/$config.sql.json"
  sed -e 's|^path = "data/events_sql.csv"|table = "events"|' -e 's|^path = "data/accounts.csv"|table = "accounts"|' \
    "$work/$config.sql.toml" > "$work/$config.table.toml"
  cp "$work/$config.table.toml" "$work/$config.pg.toml"
  cp "$work/$config.table.toml" "$work/$config.ch.toml"
  printf '\n[connections.warehouse]\nkind = "postgres"\n' >> "$work/$config.table.toml"
  printf '\n[connections.warehouse]\nkind = "postgres"\nurl = "postgres://127.0.0.1:%s/postgres"\nuser = "postgres"\npassword_env = "TENURE_PG_PASSWORD"\n' \
    "$PGPORT" >> "$work/$config.pg.toml"
done

# ClickHouse's HTTP interface, answered by chDB (ClickHouse's engine) behind a small test-only
# front, with the same rows as the table analytics.events; stopped on exit.
export TENURE_CH_PASSWORD="ch-$RANDOM$RANDOM"
"$venv/bin/python" tests/differential/clickhouse_http.py "$work/data/events_sql.csv" "$work/ch.port" \
  > "$work/ch.log" 2>&1 &
clickhouse_pid=$!
for _ in $(seq 120); do [ -f "$work/ch.port" ] || sleep 0.5; done
[ -f "$work/ch.port" ] || { cat "$work/ch.log"; echo "the ClickHouse front did not start"; exit 1; }
for config in utc la stjohns; do
  printf '\n[connections.warehouse]\nkind = "clickhouse"\nurl = "http://127.0.0.1:%s"\ndatabase = "analytics"\nuser = "tenure"\npassword_env = "TENURE_CH_PASSWORD"\n' \
    "$(cat "$work/ch.port")" >> "$work/$config.ch.toml"
done

# The SQL backend's statements, run on real engines, against the in-process engine's reports:
# DuckDB reading the file itself; PostgreSQL, ClickHouse (chDB) and Spark (local mode, one
# session) reading the table. sql_check ENGINE SUFFIX PASS... [-- MORE...]: the passes' configs
# ending in SUFFIX, then MORE of sql_check.py's arguments (other sets of rows).
sql_check() {
  local engine=$1 suffix=$2 args=() passes=() started=$SECONDS
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    passes+=("$1")
    args+=("$work/$1$suffix.toml" "$work/$1.sql.json")
    shift
  done
  [ $# -eq 0 ] || shift
  "$venv/bin/python" tests/differential/sql_check.py "$tenure" "$engine" "$work/data/events_sql.csv" "${args[@]}" "$@"
  echo "-- $engine, passes ${passes[*]}${*:+ and other sets of rows}: $((SECONDS - started)) s"
}
if ! command -v java >/dev/null; then
  echo "installing Java 17 for Spark (Debian package openjdk-17-jre-headless)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
# The sets of rows every engine checks besides the generated ones: hostile names and texts
# (quotes of every kind, backslashes, comment markers, semicolons, non-ASCII) in the table,
# column and event names, and the two example projects, each with the engine's report.
mkdir "$work/hostile"
"$venv/bin/python" tests/differential/hostile.py "$work/data/events_sql.csv" "$work/data/accounts.csv" "$work/hostile"
"$tenure" run "$work/hostile/hostile.toml" --format json --quiet > "$work/hostile/hostile.json"
# example_files NAME: sets config and data to the example project's config and folder.
example_files() {
  case $1 in
    saas) config=metrics.toml data=examples/saas ;;
    wholesale) config=examples/wholesale/metrics.toml data=examples/wholesale ;;
  esac
}
spark_rows=(--events "$work/hostile/events.csv" "$work/hostile/hostile.table.toml" "$work/hostile/hostile.json")
for example in saas wholesale; do
  example_files "$example"
  "$tenure" run "$config" --format json --quiet > "$work/$example.json"
  # Tables instead of files; plugin libraries by absolute path, as the copy lives elsewhere.
  sed -e 's|^path = ".*events.csv"|table = "events"|' -e 's|^path = ".*accounts.csv"|table = "accounts"|' \
    -e "s|^path = \"target/|path = \"$PWD/target/|" "$config" > "$work/$example.tables.toml"
  cp "$work/$example.tables.toml" "$work/$example.table.toml"
  printf '\n[connections.warehouse]\nkind = "postgres"\n' >> "$work/$example.table.toml"
  spark_rows+=(--events "$data/events.csv" "$work/$example.table.toml" "$work/$example.json")
done

# Spark runs beside the other engines, in the background, in one session for all of its rows (a
# session costs half a minute to start and warm up), and it spends seconds on each statement
# however few its rows (a dozen jobs of small stages, much of it planning on one core). It
# first writes the generated rows as a folder of Parquet parts, as Spark writes a table. Of the
# generated rows it checks the two passes that hold every case of the third: UTC with Monday
# weeks, and the zone of half-hour offsets with Sunday weeks. Its output is shown when it ends.
spark_checks() {
  SPARK_LOCAL_IP=127.0.0.1 "$venv/bin/python" tests/differential/spark_parts.py "$work/data/events.csv" \
    "$work/data/events_spark" 2>/dev/null || { echo "writing Spark's Parquet parts failed"; return 1; }
  SPARK_LOCAL_IP=127.0.0.1 sql_check spark .table utc stjohns -- "${spark_rows[@]}"
}
spark_checks > "$work/spark.log" 2>&1 &
spark_pid=$!

sql_check duckdb .sql utc la stjohns
sql_check postgres .table utc la stjohns
sql_check chdb .table utc la stjohns
# `tenure run` on the connections (the table `events` in PostgreSQL is sql_check's): the same
# report as the engine's, and clear errors for bad connection details. PostgreSQL's checks and
# ClickHouse's run side by side (each server works mostly on one core), their outputs in turn.
# Their statements are sql_check's, so the passes are the two of Spark's: both week starts, and
# the zone of half-hour offsets.
warehouse_checks() {
  local engine=$1 config errors
  for config in utc stjohns; do
    errors=(); [ "$config" = utc ] && errors=(--errors)
    "$venv/bin/python" tests/differential/warehouse_check.py "$tenure" "$work/$config.$engine.toml" \
      "$work/$config.sql.json" "${errors[@]}" --files "$work/$config.sql.toml" || return 1
  done
}
started=$SECONDS
warehouse_checks pg > "$work/pg_checks.log" 2>&1 &
pg_checks=$!
warehouse_checks ch > "$work/ch_checks.log" 2>&1 &
ch_checks=$!
pg_status=0 ch_status=0
wait "$pg_checks" || pg_status=$?
wait "$ch_checks" || ch_status=$?
echo "-- tenure run on PostgreSQL and ClickHouse, passes utc stjohns: $((SECONDS - started)) s"
cat "$work/pg_checks.log" "$work/ch_checks.log"
if [ "$pg_status" != 0 ] || [ "$ch_status" != 0 ]; then exit 1; fi

# Hostile names and texts in the table, column and event names: every engine gives the
# engine's figures.
started=$SECONDS
"$venv/bin/python" tests/differential/sql_check.py "$tenure" duckdb "$work/hostile/events.csv" \
  "$work/hostile/hostile.toml" "$work/hostile/hostile.json"
for engine in postgres chdb; do
  "$venv/bin/python" tests/differential/sql_check.py "$tenure" "$engine" \
    "$work/hostile/events.csv" "$work/hostile/hostile.table.toml" "$work/hostile/hostile.json"
done
# `tenure run` on PostgreSQL, over the table sql_check left there.
sed -e '/^\[connections.warehouse\]/,$d' "$work/hostile/hostile.table.toml" > "$work/hostile/hostile.pg.toml"
printf '[connections.warehouse]\nkind = "postgres"\nurl = "postgres://127.0.0.1:%s/postgres"\nuser = "postgres"\npassword_env = "TENURE_PG_PASSWORD"\n' \
  "$PGPORT" >> "$work/hostile/hostile.pg.toml"
"$venv/bin/python" tests/differential/warehouse_check.py "$tenure" "$work/hostile/hostile.pg.toml" "$work/hostile/hostile.json"

echo "-- hostile names on every engine but Spark: $((SECONDS - started)) s"

# The example projects: each dialect's SQL of their metrics against the engine's report of their
# own files (DuckDB reading the files, the other engines tables of the same rows).
started=$SECONDS
for example in saas wholesale; do
  example_files "$example"
  "$venv/bin/python" tests/differential/sql_check.py "$tenure" duckdb "$data/events.csv" \
    "$config" "$work/$example.json"
  for engine in postgres chdb; do
    "$venv/bin/python" tests/differential/sql_check.py "$tenure" "$engine" \
      "$data/events.csv" "$work/$example.table.toml" "$work/$example.json"
  done
  # `tenure run` on the example's tables: PostgreSQL's are sql_check's, ClickHouse's a front of
  # their own.
  cp "$work/$example.tables.toml" "$work/$example.pg.toml"
  printf '\n[connections.warehouse]\nkind = "postgres"\nurl = "postgres://127.0.0.1:%s/postgres"\nuser = "postgres"\npassword_env = "TENURE_PG_PASSWORD"\n' \
    "$PGPORT" >> "$work/$example.pg.toml"
  "$venv/bin/python" tests/differential/warehouse_check.py "$tenure" "$work/$example.pg.toml" "$work/$example.json" \
    --files "$config"
  kill "$clickhouse_pid"
  "$venv/bin/python" tests/differential/clickhouse_http.py "$data/events.csv" "$work/$example.port" \
    > "$work/ch.log" 2>&1 &
  clickhouse_pid=$!
  for _ in $(seq 120); do [ -f "$work/$example.port" ] || sleep 0.5; done
  [ -f "$work/$example.port" ] || { cat "$work/ch.log"; echo "the ClickHouse front did not start"; exit 1; }
  cp "$work/$example.tables.toml" "$work/$example.ch.toml"
  printf '\n[connections.warehouse]\nkind = "clickhouse"\nurl = "http://127.0.0.1:%s"\ndatabase = "analytics"\nuser = "tenure"\npassword_env = "TENURE_CH_PASSWORD"\n' \
    "$(cat "$work/$example.port")" >> "$work/$example.ch.toml"
  "$venv/bin/python" tests/differential/warehouse_check.py "$tenure" "$work/$example.ch.toml" "$work/$example.json" \
    --files "$config"
done

echo "-- the example projects on every engine but Spark: $((SECONDS - started)) s"

# Spark's checks, when they end; then its Parquet parts against the CSV: every figure equal, in
# process and in DuckDB (which reads the folder's parts by a glob).
spark_status=0
wait "$spark_pid" || spark_status=$?
spark_pid=
cat "$work/spark.log"
[ "$spark_status" = 0 ] || exit 1
sed -e 's|^path = "data/events.csv"|path = "data/events_spark"|' "$work/utc.toml" > "$work/spark_parts.toml"
"$tenure" run "$work/spark_parts.toml" --format json --quiet > "$work/spark_parts.json"
"$venv/bin/python" - "$work/utc.json" "$work/spark_parts.json" <<'PY'
import json, sys
csv_report, parts_report = (json.load(open(path)) for path in sys.argv[1:3])
differing = [m for m in csv_report["metrics"] if csv_report["metrics"][m] != parts_report["metrics"].get(m)]
if differing or csv_report["input"]["rows"] != parts_report["input"]["rows"]:
    sys.exit(f"Spark's Parquet parts differ from the CSV in {differing or 'rows read'}")
print(f"Spark's Parquet parts: {len(csv_report['metrics'])} metrics equal to the CSV's")
PY
"$venv/bin/python" tests/differential/sql_check.py "$tenure" duckdb "$work/data/events.csv" \
  "$work/spark_parts.toml" "$work/spark_parts.json"

# The same data as Parquet (written by DuckDB) must give the same report as the CSV.
"$venv/bin/python" - "$work/data" <<'PY'
import sys, duckdb
folder = sys.argv[1]
duckdb.connect().execute(
    f"COPY (SELECT * FROM read_csv('{folder}/events.csv', types={{'ts': 'TIMESTAMPTZ'}})) "
    f"TO '{folder}/events.parquet' (FORMAT parquet)")
PY
sed -e 's|data/events.csv|data/events.parquet|' "$work/utc.toml" > "$work/parquet.toml"
"$tenure" run "$work/parquet.toml" --format json --quiet > "$work/parquet.json"
"$venv/bin/python" - "$work/utc.json" "$work/parquet.json" <<'PY'
import json, sys
csv, parquet = (json.load(open(path)) for path in sys.argv[1:])
differing = [name for name in csv["metrics"] if csv["metrics"][name] != parquet["metrics"].get(name)]
same_input = csv["input"] == parquet["input"]
for name in differing:
    print(f"MISMATCH {name}: Parquet and CSV input give different results")
if not same_input:
    print(f"MISMATCH input: CSV {csv['input']} vs Parquet {parquet['input']}")
print(f"parquet: {len(csv['metrics']) - len(differing) + int(same_input)} passed, {len(differing) + int(not same_input)} failed")
sys.exit(1 if differing or not same_input else 0)
PY
