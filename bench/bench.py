#!/usr/bin/env python3
"""tenure against DuckDB and Polars on the same files, in one run.

usage: bench.py [--events N ...] [--formats parquet,csv] [--writers tenure,pyarrow,…] [--threads 2 1]
                [--check] [--scaling] [--parquet-dictionary-kib K]

For each size: generates data with `tenure gen` (cached under target/bench/); for Parquet, also
rewrites it as other writers write the same rows (writers.py: pyarrow with and without
dictionaries, DuckDB, Polars, a folder of parts from Spark); at each thread count runs tenure on
the W1 + W2 config, then the anchor scripts of ../shared/anchors (DuckDB, Polars) on the same
file; checks that every engine agrees on every figure of W1 and W2, and that tenure gives
identical output at every thread count; prints wall time, CPU time, peak RSS and tenure's ratios
per writer and thread count. With --check the timings are printed but only agreement decides the
exit code. On CSV the anchor scripts run through typed_csv.py, which declares `amount` a number
and changes nothing else.

With --scaling only tenure runs, at every size in turn, round after round (--repeat rounds,
default 5), so that the machine's drift falls on every size alike; each measured run follows an
unmeasured one of the same size. It prints each size's median wall time and its ratio to the
smallest size's.

--parquet-dictionary-kib K generates Parquet files whose writer keeps a column chunk's dictionary
up to K KiB (1024 by default, as common writers do): past about 70 k distinct account ids in a
row group of one million rows, the default writer falls back to plain pages for the rest of the
chunk, so the 40 M file's account ids are encoded differently from the 5 M file's.
"""
import argparse
import json
import os
import shutil
import statistics
import tempfile
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TENURE = Path(os.environ.get("TENURE_BIN", ROOT / "target" / "release" / "tenure"))
ANCHORS = Path(os.environ.get("TENURE_ANCHORS", ROOT.parent / "shared" / "anchors"))
EVENTS_PER_ACCOUNT_YEAR = 87.6  # measured on `tenure gen` output over 365 days
DEFAULT_DICTIONARY_KIB = 1024  # `tenure gen --parquet-dictionary-kib`, the writers' usual 1 MiB


def measure(command, env=None):
    """Runs a command; returns (exit code, stdout, wall s, CPU s, peak RSS MiB) of that process."""
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out_file, stderr=err_file, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read().decode(), err_file.read().decode(errors="replace")
    if process.returncode != 0:
        sys.stderr.write(err)
    return process.returncode, out, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measure_rounds(engines, env, repeat):
    """Runs every engine's command once per round, engines in turn, `repeat` rounds, so that the
    machine's speed drifting over minutes reaches every engine alike. Returns each engine's
    runs (exit code, stdout, wall s, CPU s, peak RSS MiB), in round order; an engine whose run
    fails is left out from then on."""
    rounds = {engine: [] for engine, _ in engines}
    for _ in range(repeat):
        for engine, command in engines:
            if engine not in rounds:
                continue
            run = measure(command, env)
            if run[0] != 0:
                del rounds[engine]
                continue
            rounds[engine].append(run)
    return rounds


def median_run(runs):
    """The run of median wall time."""
    return sorted(runs, key=lambda run: run[2])[len(runs) // 2]


def paired_ratio(tenure_runs, engine_runs, field):
    """The median over rounds of tenure's figure `field` (2 wall, 4 peak RSS) ÷ the engine's in
    the same round."""
    return statistics.median(t[field] / e[field] for t, e in zip(tenure_runs, engine_runs))


def generate(events, fmt, dictionary_kib):
    accounts = max(50, int(events / EVENTS_PER_ACCOUNT_YEAR))
    name = f"{accounts}-accounts"
    if dictionary_kib != DEFAULT_DICTIONARY_KIB:
        name += f"-dictionary-{dictionary_kib}k"
    folder = ROOT / "target" / "bench" / name
    target = folder / f"events.{fmt}"
    if not target.exists():
        subprocess.run([str(TENURE), "gen", "--accounts", str(accounts), "--days", "365", "--format", fmt,
                        "--parquet-dictionary-kib", str(dictionary_kib), "--out", str(folder)],
                       check=True, stderr=subprocess.DEVNULL)
    return target


def tenure_figures(report):
    w1 = {}
    for row in report["metrics"]["w1"]["cohorts"]:
        for k, n in enumerate(row["retained"]):
            if n:
                w1.setdefault(row["cohort"], {})[str(k)] = n
    w2 = [{"month": p["period"], "start": round(p["start"], 2), "churned": round(p["churned"], 2),
           "contraction": round(p["contraction"], 2), "expansion": round(p["expansion"], 2),
           "grr": round(p["grr"], 6), "nrr": round(p["nrr"], 6)}
          for p in report["metrics"]["w2"]["periods"] if p["start"] > 0]
    return w1, w2


def anchor_figures(output):
    data = json.loads(output)
    w1 = {c: {str(k): n for k, n in days.items()} for c, days in data["w1"].items()}
    return w1, [r for r in data.get("w2", []) if r["start"] > 0]


def compare(name, reference, other):
    (w1a, w2a), (w1b, w2b) = reference, other
    problems = []
    if w1a != w1b:
        cells = {(c, k) for c in set(w1a) | set(w1b) for k in set(w1a.get(c, {})) | set(w1b.get(c, {}))}
        bad = [(c, k, w1a.get(c, {}).get(k), w1b.get(c, {}).get(k)) for c, k in sorted(cells)
               if w1a.get(c, {}).get(k) != w1b.get(c, {}).get(k)]
        problems.append(f"W1 differs in {len(bad)} cells, e.g. {bad[:3]}")
    if w2b is not None and w2a != w2b:
        problems.append(f"W2 differs: tenure {w2a[:2]} … vs {name} {w2b[:2]} …")
    return problems


WRITERS = ["tenure", "pyarrow", "pyarrow-plain", "duckdb", "polars", "spark"]


def written(events, writer, dictionary_kib):
    """The generated Parquet file of `events` events as `writer` writes it (a folder for Spark),
    made once with writers.py."""
    source = generate(events, "parquet", dictionary_kib)
    if writer == "tenure":
        return source
    target = source.parent / writer / ("events" if writer == "spark" else "events.parquet")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written under another name and renamed once complete, so that an interrupted run leaves
        # no truncated file that the next run would take for a finished one.
        partial = target.with_name(target.name + ".partial")
        if partial.is_dir():
            shutil.rmtree(partial)
        elif partial.exists():
            partial.unlink()
        env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
        subprocess.run([sys.executable, str(Path(__file__).parent / "writers.py"), writer, str(source),
                        str(partial)], check=True, env=env, stderr=subprocess.DEVNULL)
        partial.rename(target)
    return target


def config_for(events, fmt, dictionary_kib, writer="tenure"):
    """The W1 + W2 config for the file of `events` events in format `fmt` as `writer` wrote it."""
    data = written(events, writer, dictionary_kib) if fmt == "parquet" else generate(events, fmt, dictionary_kib)
    config = data.parent / f"w1w2-{fmt}.toml"
    template = (Path(__file__).parent / "w1w2.toml.in").read_text()
    config.write_text(template.replace("EVENTS_FILE", str(data)).replace(
        "PERIODS", ", ".join(str(k) for k in range(91))))
    return data, config


def scaling(args):
    """tenure alone at every size, one run per size per round; medians and growth."""
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads[0]))
    sizes = sorted(args.events)
    failures = 0
    for fmt in args.formats.split(","):
        configs = [config_for(events, fmt, args.parquet_dictionary_kib)[1] for events in sizes]
        walls = [[] for _ in sizes]
        outputs = [None for _ in sizes]
        for _ in range(args.repeat or 5):
            for index, config in enumerate(configs):
                command = [str(TENURE), "run", str(config), "--format", "json", "--quiet"]
                # A run straight after a larger one is slower (the kernel has just taken back
                # gigabytes); an unmeasured run of the same size first puts every size in the
                # state repeated runs see.
                measure(command, env)
                code, out, wall, _, _ = measure(command, env)
                if code != 0:
                    print(f"tenure failed on {config}")
                    return 1
                if outputs[index] not in (None, out):
                    print(f"MISMATCH tenure: two runs on {config} gave different output")
                    failures += 1
                outputs[index] = out
                walls[index].append(wall)
        print(f"\n{'events':>9} {'format':>8} {'median s':>9} {'÷ smallest':>11}  runs")
        smallest = statistics.median(walls[0])
        for events, runs in zip(sizes, walls):
            median = statistics.median(runs)
            spread = " ".join(f"{w:.2f}" for w in runs)
            print(f"{events / 1e6:>7.1f} M {fmt:>8} {median:>9.2f} {median / smallest:>11.2f}  {spread}")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=float, nargs="+", default=[20e6])
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1],
                        help="thread counts, each measured (default 2 1); tenure's output must not change")
    parser.add_argument("--writers", default=",".join(WRITERS),
                        help=f"Parquet writers whose files are measured (default {','.join(WRITERS)})")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--repeat", type=int, default=None,
                        help="rounds, each engine run once per round in turn; medians reported "
                             "(default 3, 1 with --check)")
    parser.add_argument("--scaling", action="store_true",
                        help="tenure alone, sizes interleaved round by round; growth over the smallest")
    parser.add_argument("--parquet-dictionary-kib", type=int, default=DEFAULT_DICTIONARY_KIB,
                        help="Parquet files: the writer's dictionary limit per column chunk (default "
                             "1024, the common writers' default); other values get their own files")
    args = parser.parse_args()
    if args.scaling:
        return scaling(args)
    repeat = args.repeat or (1 if args.check else 3)
    for script in ("duckdb_workload.py", "polars_workload.py"):
        if not (ANCHORS / script).is_file():
            print(f"error: {ANCHORS / script} not found; set TENURE_ANCHORS to the anchors folder")
            return 1
    failures = 0
    passes = 0
    rows = []
    growth = {}
    for events in args.events:
        for fmt in args.formats.split(","):
            for writer in (args.writers.split(",") if fmt == "parquet" else ["tenure"]):
                outcome = compare_engines(args, events, fmt, writer, repeat, rows, growth)
                passes += outcome[0]
                failures += outcome[1]
    print(f"\n{'events':>9} {'format':>8} {'writer':>13} {'thr':>3} {'engine':>7} {'wall s':>8} {'cpu s':>8} "
          f"{'peak MiB':>9} {'tenure/x wall':>14} {'tenure/x RSS':>13}")
    for size, fmt, writer, threads, engine, wall, cpu, peak, wall_ratio, rss_ratio in rows:
        ratio = f"{wall_ratio:.2f}" if wall_ratio else ""
        rss = f"{rss_ratio:.2f}" if rss_ratio else ""
        print(f"{size:>9} {fmt:>8} {writer:>13} {threads:>3} {engine:>7} {wall:>8.2f} {cpu:>8.2f} {peak:>9.0f} "
              f"{ratio:>14} {rss:>13}")
    print()
    print_growth(growth)
    print(f"\nbench: {passes} passed, {failures} failed")
    return 1 if failures else 0


def compare_engines(args, events, fmt, writer, repeat, rows, growth):
    """tenure, DuckDB and Polars on one file at each thread count: their figures compared and
    their runs added to `rows` (and, for tenure gen's files at the first thread count, to
    `growth`). Returns (passes, failures)."""
    passes = failures = 0
    data, config = config_for(events, fmt, args.parquet_dictionary_kib, writer)
    # The anchor scripts read a folder of parts by a glob (read_parquet, scan_parquet).
    anchor_data = str(data / "*.parquet") if data.is_dir() else str(data)
    command = [str(TENURE), "run", str(config), "--format", "json", "--quiet"]
    thread_counts = args.threads if len(args.threads) > 1 else args.threads + [2 if args.threads == [1] else 1]
    outputs = {}
    for threads in thread_counts:
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads), POLARS_MAX_THREADS=str(threads))
        if threads not in args.threads:
            # Only to compare its output with the measured thread count's.
            outputs[threads] = measure(command, env)[1]
            continue
        engines = [("tenure", command)]
        for engine, script, extra in [("duckdb", "duckdb_workload.py", [str(threads)]),
                                      ("polars", "polars_workload.py", [])]:
            anchor = [sys.executable, str(ANCHORS / script), anchor_data, *extra]
            if fmt == "csv":
                # The scripts infer CSV types from the first rows, which in a large log ordered
                # by time precede the first payment; the wrapper declares `amount` a number.
                anchor.insert(1, str(Path(__file__).parent / "typed_csv.py"))
            engines.append((engine, anchor))
        rounds = measure_rounds(engines, env, repeat)
        if "tenure" not in rounds:
            print(f"FAILED tenure could not run on {data}")
            return passes, failures + 1
        out = median_run(rounds["tenure"])[1]
        outputs[threads] = out
        report = json.loads(out)
        rows_read = report["input"]["rows"]
        reference = tenure_figures(report)
        for engine, _ in engines[1:]:
            if engine not in rounds:
                print(f"FAILED {engine} could not run on {data.name}")
                failures += 1
                continue
            problems = compare(engine, reference, anchor_figures(median_run(rounds[engine])[1]))
            for problem in problems:
                print(f"MISMATCH {engine} ({fmt} by {writer}, {rows_read} rows): {problem}")
            failures += bool(problems)
            passes += not problems
        for engine, runs in rounds.items():
            _, _, wall, cpu, peak = median_run(runs)
            ratios = (None, None)
            if engine != "tenure":
                ratios = (paired_ratio(rounds["tenure"], runs, 2), paired_ratio(rounds["tenure"], runs, 4))
            rows.append((f"{rows_read / 1e6:.2f} M", fmt, writer, threads, engine, wall, cpu, peak, *ratios))
            if writer == "tenure" and threads == args.threads[0]:
                growth.setdefault((fmt, engine), []).append((rows_read, wall))
    if len(set(outputs.values())) > 1:
        print(f"MISMATCH tenure ({fmt} by {writer}): thread counts {sorted(outputs)} give different output")
        failures += 1
    else:
        passes += 1
    return passes, failures


def print_growth(growth):
    """Each engine's wall time at the largest size over its time at the smallest, per format."""
    for fmt in dict.fromkeys(fmt for fmt, _ in growth):
        engines = [(engine, sorted(sizes)) for (f, engine), sizes in growth.items() if f == fmt]
        engines = [(engine, sizes) for engine, sizes in engines if len(sizes) > 1]
        if not engines:
            continue
        (small, _), (large, _) = engines[0][1][0], engines[0][1][-1]
        # An engine that failed at the smallest or largest size has no growth over this range.
        engines = [(engine, sizes) for engine, sizes in engines
                   if sizes[0][0] == small and sizes[-1][0] == large]
        spread = ", ".join(f"{engine} {sizes[-1][1] / sizes[0][1]:.1f}×" for engine, sizes in engines)
        print(f"growth {fmt}, {small / 1e6:.1f} M → {large / 1e6:.1f} M events "
              f"({large / small:.1f}× the rows), wall time: {spread}")


if __name__ == "__main__":
    sys.exit(main())
