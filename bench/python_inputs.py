"""W1 + W2 from Python on a polars DataFrame in memory, against the command line on the Parquet
file the DataFrame was read from: wall time of the run and peak memory, in one run each.

    python bench/python_inputs.py [--events 20e6] [--threads 2]

Needs the release command line (`cargo build --release -p tenure-cli`) and the package built
with `maturin develop --release` in the running environment; the data is `bench/bench.py`'s
(generated once under target/bench/).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench  # noqa: E402  (the generated data and its W1 + W2 config)

CHILD = r"""
import json, sys, time
import polars as pl
import tenure

def status_mb(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024

config, data = sys.argv[1], sys.argv[2]
project = tenure.Project(config)
events = pl.read_parquet(data)
# Polars exports a DataFrame whose columns are chunked differently as one chunk, which it
# builds by concatenating them; done once here, apart, so that the run below is tenure's alone.
start = time.perf_counter()
events = events.rechunk()
rechunk = time.perf_counter() - start
import gc; gc.collect()
# Polars' allocator gives the pages of the chunks it dropped back to the system after a decay
# time (10 s); waiting for that keeps it from offsetting the run's own growth.
time.sleep(15)
before = status_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # the peak from here on: the run's alone
start = time.perf_counter()
report = project.run(events=events)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "rechunk": rechunk, "frame_mb": events.estimated_size() / 2**20, "before_mb": before, "peak_mb": status_mb("VmHWM"),
                  "report": report.to_dict()}))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=float, default=20e6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    data, config = bench.config_for(int(args.events), "parquet", bench.DEFAULT_DICTIONARY_KIB)
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    # The command line on the file: reading included, as a user runs it.
    start = time.perf_counter()
    cli = subprocess.run([str(bench.TENURE), "run", str(config), "--format", "json", "--quiet"],
                         capture_output=True, text=True, env=env, check=True)
    cli_wall = time.perf_counter() - start
    cli_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    child = subprocess.run([sys.executable, "-c", CHILD, str(config), str(data)],
                           capture_output=True, text=True, env=env, check=True)
    python = json.loads(child.stdout)
    cli_report = json.loads(cli.stdout)
    same = python["report"]["metrics"] == cli_report["metrics"]
    rows = cli_report["input"]["rows"]
    print(f"{rows} events, {args.threads} threads")
    print(f"command line on {data.name}: {cli_wall:.2f} s, peak {cli_peak:.0f} MB")
    print(f"python on a polars DataFrame: {python['wall']:.2f} s for the run "
          f"(and {python['rechunk']:.2f} s for polars to rechunk the DataFrame read from Parquet) "
          f"; the DataFrame holds {python['frame_mb']:.0f} MB; during the run the process went from "
          f"{python['before_mb']:.0f} MB to a peak of {python['peak_mb']:.0f} MB "
          f"(+{python['peak_mb'] - python['before_mb']:.0f} MB)")
    print(f"in memory ÷ file: {python['wall'] / cli_wall:.2f}; figures {'equal' if same else 'DIFFER'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
