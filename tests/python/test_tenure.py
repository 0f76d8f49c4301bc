"""The Python package against the command line: the same figures, the same diagnostics.

Run by tests/python/run.sh, which builds the package into a virtual environment and sets
TENURE_BIN to the command line built from the same checkout.
"""
import csv
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import tenure

ROOT = Path(__file__).resolve().parents[2]
TENURE = os.environ.get("TENURE_BIN", str(ROOT / "target" / "debug" / "tenure"))
EXAMPLES = [ROOT / "metrics.toml", ROOT / "examples" / "wholesale" / "metrics.toml"]


def cli(*args, cwd=ROOT):
    done = subprocess.run([TENURE, *args], cwd=cwd, capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module", params=EXAMPLES, ids=["saas", "wholesale"])
def example(request):
    config = request.param
    project = tenure.Project(str(config))
    return config, project, project.run()


def test_every_example_metric_equals_the_cli_json(example):
    config, project, report = example
    code, stdout, stderr = cli("run", str(config), "--format", "json", "--quiet")
    assert code == 0, stderr
    expected = json.loads(stdout)
    assert report.to_dict() == expected
    assert sorted(report) == sorted(project.metrics)
    assert report.as_of == expected["as_of"]
    assert report.input["rows"] == expected["input"]["rows"]
    for name in report:
        assert report[name].to_dict() == expected["metrics"][name]


def test_tidy_tables_equal_the_cli_csv(example):
    config, _, report = example
    code, stdout, stderr = cli("run", str(config), "--format", "csv", "--quiet")
    assert code == 0, stderr
    rows = list(csv.reader(io.StringIO(stdout)))[1:]
    for name in report:
        columns = report[name].columns()
        expected = [row for row in rows if row[0] == name]
        got = [[columns[c][i] for c in ("metric", "type", "cohort", "segment", "period", "measure", "text")]
               for i in range(len(columns["metric"]))]
        assert got == expected, name


def test_frames_have_the_tidy_columns_and_typed_values(example):
    _, _, report = example
    name = next(iter(report))
    table = report[name]
    arrow = table.to_arrow()
    assert arrow.column_names == list(tenure.COLUMNS)
    assert str(arrow.schema.field("value").type) == "double"
    frame = table.to_pandas()
    assert list(frame.columns) == list(tenure.COLUMNS)
    assert len(frame) == arrow.num_rows > 0
    # A number, a boolean and an empty value, as numbers and as text.
    texts = dict(zip(arrow.column("text").to_pylist(), arrow.column("value").to_pylist()))
    for text, value in texts.items():
        if text in ("true", "false"):
            assert value == (1.0 if text == "true" else 0.0)
        elif text == "":
            assert value is None
    polars = pytest.importorskip("polars")
    assert table.to_polars().shape == (arrow.num_rows, len(tenure.COLUMNS))
    assert isinstance(table.to_polars(), polars.DataFrame)


def frames(reader, config):
    """The example's events and accounts read by `reader` ("polars", "pyarrow", "pandas")."""
    folder = config.parent if config.parent != ROOT else ROOT / "examples" / "saas"
    events, accounts = folder / "events.csv", folder / "accounts.csv"
    if reader == "polars":
        import polars as pl
        return pl.read_csv(events, try_parse_dates=True), pl.read_csv(accounts, try_parse_dates=True)
    if reader == "pyarrow":
        import pyarrow.csv
        return pyarrow.csv.read_csv(events), pyarrow.csv.read_csv(accounts)
    import pandas as pd
    return pd.read_csv(events, parse_dates=["ts"]), pd.read_csv(accounts)


@pytest.mark.parametrize("reader", ["polars", "pyarrow", "pandas"])
def test_data_frames_give_the_figures_of_the_files(example, reader):
    config, project, report = example
    events, accounts = frames(reader, config)
    in_memory = project.run(events=events, entities=accounts)
    assert in_memory.to_dict() == report.to_dict()


def test_batches_of_a_stream_and_a_file_for_the_rest():
    import pyarrow.csv

    project = tenure.Project(str(EXAMPLES[0]))
    # The events as a reader of 1000-row batches; the accounts from their file.
    events = pyarrow.csv.read_csv(ROOT / "examples" / "saas" / "events.csv").to_reader(max_chunksize=1000)
    assert project.run(["vrr", "revenue"], events=events).to_dict() == project.run(["vrr", "revenue"]).to_dict()


def test_bad_data_frames_raise_clear_errors():
    import polars as pl

    project = tenure.Project(str(EXAMPLES[0]))
    events, _ = frames("polars", EXAMPLES[0])
    # A missing column: the diagnostic of the config line that names it.
    with pytest.raises(tenure.ConfigError, match="source `events` has no column `event`") as missing:
        project.run(["vrr"], events=events.drop("event"))
    assert missing.value.diagnostics[0]["code"] == "E0302"
    # A column of a type tenure does not read.
    with pytest.raises(tenure.ConfigError, match="column `ts` of source `events` has type"):
        project.run(["vrr"], events=events.with_columns(pl.concat_list("ts").alias("ts")))
    # Rows that cannot be read are counted by reason, as in a file: no entity, no time.
    every_tenth = pl.int_range(pl.len()) % 10 == 0
    report = project.run(["vrr"], events=events.with_columns(
        pl.when(every_tenth).then(None).otherwise(pl.col("account_id")).alias("account_id")))
    assert report.input["rejected"]["missing_entity"] == (events.height + 9) // 10
    report = project.run(["vrr"], events=events.with_columns(pl.lit("yesterday").alias("ts")))
    assert report.input["rejected"]["bad_time"] == events.height
    # Not Arrow data at all.
    with pytest.raises(TypeError, match="a list is not Arrow data"):
        project.run(events=[1, 2, 3])
    with pytest.raises(tenure.DataError, match="no source `orders`"):
        project.run(events={"orders": events})


def test_some_metrics_only():
    project = tenure.Project(str(EXAMPLES[0]))
    report = project.run(["vrr", "revenue"])
    assert sorted(report) == ["revenue", "vrr"]
    with pytest.raises(KeyError, match="no metric `vrrr`"):
        project.run(["vrrr"])
    with pytest.raises(KeyError, match="no metric 'crr'"):
        report["crr"]


BAD = """[project]
timezone = "Mars/Base"

[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"

[events.value]
where = "event == 'report'"

[cohorts.weekly]
start = "valeu"
grain = "week"
"""


def test_a_bad_config_raises_the_diagnostics_of_the_cli(tmp_path, monkeypatch):
    (tmp_path / "metrics.toml").write_text(BAD)
    (tmp_path / "events.csv").write_text("id,ts,event\n")
    code, _, stderr = cli("validate", "--no-data", "metrics.toml", cwd=tmp_path)
    assert code == 2
    monkeypatch.chdir(tmp_path)
    with pytest.raises(tenure.ConfigError) as raised:
        tenure.Project("metrics.toml")
    assert str(raised.value).strip() == stderr.strip()
    with pytest.raises(tenure.ConfigError) as from_text:
        tenure.Project.from_str(BAD, base_dir=str(tmp_path))
    codes = [(d["code"], d["line"], d["column"]) for d in from_text.value.diagnostics]
    # The zone on line 2, column 12; the unknown start event on line 14, column 9.
    assert codes == [("E0205", 2, 12), ("E0201", 14, 9)]
    assert from_text.value.diagnostics[1]["help"] == "did you mean `value`?"


def test_missing_data_raises_a_data_error(tmp_path):
    text = BAD.replace('"Mars/Base"', '"UTC"').replace('"valeu"', '"value"')
    project = tenure.Project.from_str(text, base_dir=str(tmp_path))
    with pytest.raises((tenure.ConfigError, tenure.DataError), match="events.csv"):
        project.run()


def test_sql_equals_the_cli(monkeypatch):
    # Relative paths, as the command line is given them: DuckDB's statement names the file.
    monkeypatch.chdir(ROOT)
    project = tenure.Project("metrics.toml")
    code, stdout, stderr = cli("sql", "--dialect", "duckdb", "--metric", "vrr")
    assert code == 0, stderr
    assert project.sql("duckdb", ["vrr"])["vrr"].strip() == stdout.strip()
    every = tenure.sql(project, "duckdb")
    assert "health" in every.refused and "health" not in every
    assert len(every) + len(every.refused) == len(project.metrics)
    with pytest.raises(ValueError, match="health"):
        project.sql("duckdb", ["health"])
    with pytest.raises(ValueError, match="unknown dialect"):
        project.sql("oracle")


def test_the_interpreter_lock_is_released_while_the_engine_runs():
    import time

    project = tenure.Project(str(EXAMPLES[0]))
    # How fast this thread counts when nothing else runs.
    counted, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.05:
        counted += 1
    rate = counted / (time.perf_counter() - start)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (project.run(), done.set()))
    counted, start = 0, time.perf_counter()
    worker.start()
    while not done.is_set():
        counted += 1
    elapsed = time.perf_counter() - start
    worker.join()
    # Held for the whole run, the lock would let this loop count for a few switch intervals
    # (5 ms each) around the call only; released, it counts for much of the run, sharing the
    # cores with the engine's threads.
    assert elapsed > 0.05
    assert counted > 0.2 * rate * elapsed, (counted, rate, elapsed)


def test_one_and_two_threads_give_identical_reports():
    script = ("import json, tenure; r = tenure.Project('metrics.toml').run(); "
              "print(json.dumps(r.to_dict(), sort_keys=True))")
    outputs = []
    for threads in ("1", "2"):
        env = dict(os.environ, RAYON_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]


def test_the_example_script_draws_the_heatmap(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("polars")
    from PIL import Image, ImageStat

    out = tmp_path / "vrr.png"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "retention_heatmap.py"),
                           "metrics.toml", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # 27 weekly cohorts (2024-12-30 … 2025-06-30) and the total row, 7 columns (d0 … d90).
    assert done.stdout.strip().endswith(": 28 rows (the cohorts, then the total) × 7 days")
    image = Image.open(out).convert("L")
    assert ImageStat.Stat(image).stddev[0] > 20  # a picture, not a blank page


def test_ctrl_c_stops_a_run_and_the_project_runs_again():
    import _thread
    import signal
    import time

    import polars as pl

    project = tenure.Project(str(EXAMPLES[0]))
    # The example's events eighty times over (every copy but the first removed as duplicates),
    # in one chunk: a run long enough to be stopped part way.
    events = pl.concat([pl.read_csv(ROOT / "examples" / "saas" / "events.csv", try_parse_dates=True)] * 80)
    events = events.rechunk()
    start = time.perf_counter()
    whole = project.run(events=events)
    full = time.perf_counter() - start
    # Ctrl-C, as a terminal or a notebook's interrupt button gives it, 50 ms into the run.
    # Python's own SIGINT handler is installed for it: a process started in the background (as
    # a CI job may be) inherits SIGINT ignored, and then Python installs none.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Timer(0.05, _thread.interrupt_main)
        start = time.perf_counter()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            project.run(events=events)
        stopped = time.perf_counter() - start
        timer.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    # The run ended after the part or metric under way, well before a whole run's time.
    assert stopped < 0.5 * full, (stopped, full)
    # Nothing was left running or half-done: the same project runs again to the same figures.
    assert project.run(events=events).to_dict() == whole.to_dict()
