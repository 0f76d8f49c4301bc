#!/usr/bin/env python3
"""`tenure run` on a connection (PostgreSQL over its wire protocol, ClickHouse over HTTP) against
the in-process engine's report of the same rows, and the errors a bad connection gives.

usage: warehouse_check.py TENURE CONFIG.toml ENGINE.json [--errors] [--files FILES.toml]
CONFIG's sources are tables of its one `[connections.warehouse]`; ENGINE.json is the in-process
report of the same rows read from a file. The metrics the connection cannot compute are those
`tenure validate --no-data` reports as E0304; the others run (`--metric`), and the two JSON
documents must then be equal apart from `backend`. With --errors, also checks that an unreachable server, a wrong or missing password, a missing
table and a misspelt column each exit 1 with one clear error at the config line. Exits 1 on a
difference. With --files (the same project over files of the same rows), each plugin segment's
labels that `tenure segment` prints on the connection must equal those it prints over the files.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

tenure, config_path, engine_path = sys.argv[1:4]
errors = "--errors" in sys.argv[4:]
files = sys.argv[sys.argv.index("--files") + 1] if "--files" in sys.argv else None
config = open(config_path).read()
kind = re.search(r'^\[connections\.warehouse\]\nkind = "(\w+)"', config, re.M).group(1)
failures = []


def run(text, env=None, metrics=()):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", dir=os.path.dirname(config_path),
                                     delete=False) as f:
        f.write(text)
    selection = [arg for name in metrics for arg in ("--metric", name)]
    try:
        return subprocess.run([tenure, "run", f.name, "--format", "json", "--quiet", *selection],
                              capture_output=True, text=True, env=env)
    finally:
        os.unlink(f.name)


want = json.load(open(engine_path))
checked = subprocess.run([tenure, "validate", "--no-data", config_path], capture_output=True, text=True)
refused = set(re.findall(r"error\[E0304\]: metric `([^`]+)` cannot run on connection", checked.stderr))
if checked.returncode != (1 if refused else 0):
    sys.exit(f"tenure validate --no-data on {kind} gave exit {checked.returncode}:\n{checked.stderr}")
runnable = [name for name in want["metrics"] if name not in refused]
done = run(config, metrics=runnable if refused else ())
if done.returncode != 0:
    sys.exit(f"tenure run on {kind} failed:\n{done.stderr}")
got = json.loads(done.stdout)
if got.pop("backend") != kind or want.pop("backend") != "engine":
    failures.append("the backend field does not name the backend")
want["metrics"] = {name: result for name, result in want["metrics"].items() if name not in refused}
compiled = 0
for name, expected in want["metrics"].items():
    result = got["metrics"].get(name)
    if result != expected:
        failures.append(f"{name}: {json.dumps(result)[:300]} vs the engine's {json.dumps(expected)[:300]}")
    else:
        compiled += 1
for key in ("tenure", "as_of", "input"):
    if got[key] != want[key]:
        failures.append(f"{key}: {got[key]} vs the engine's {want[key]}")
if set(got["metrics"]) != set(want["metrics"]):
    failures.append("the two reports have different metrics")

segments = re.findall(r"^\[segments\.(\w+)\]", config, re.M) if files else []
for name in segments:
    labels = [subprocess.run([tenure, "segment", path, "--name", name, "--quiet"], capture_output=True,
                             text=True) for path in (config_path, files)]
    if labels[0].returncode != 0 or labels[0].stdout != labels[1].stdout or not labels[1].stdout:
        failures.append(f"segment {name}: `tenure segment` on {kind} gave exit {labels[0].returncode} "
                        f"and {len(labels[0].stdout.splitlines())} lines, over files "
                        f"{len(labels[1].stdout.splitlines())}:\n{labels[0].stderr}")

if errors:
    password_env = re.search(r'^password_env = "(\w+)"', config, re.M).group(1)
    url = re.search(r'^url = "([^"]+)"', config, re.M).group(1)
    closed = re.sub(r":\d+", ":1", url, count=1)
    wrong_password = dict(os.environ, **{password_env: "not-the-password"})
    no_password = {k: v for k, v in os.environ.items() if k != password_env}
    cases = [
        ("unreachable", config.replace(url, closed), None, ["cannot reach", "connection `warehouse`"]),
        ("wrong password", config, wrong_password, ["refused the credentials"]),
        ("no password", config, no_password, [f"the environment variable `{password_env}`"]),
        ("missing table", config.replace('table = "events"', 'table = "evnts"'), None,
         ["the look-up of table evnts failed", "evnts"]),
        ("misspelt column", config.replace('entity = "account_id"', 'entity = "acount_id"', 1), None,
         ["error[E0302]: source `events` has no column `acount_id`", "did you mean `account_id`?"]),
    ]
    for what, text, env, expected in cases:
        # Only the metrics the connection computes: the one error is the connection's.
        done = run(text, env, runnable if refused else ())
        lines = [line for line in done.stderr.splitlines() if line.startswith("error")]
        if done.returncode != 1 or done.stdout or len(lines) != 1 \
                or not all(e in done.stderr for e in expected) or "panicked" in done.stderr:
            failures.append(f"{what}: exit {done.returncode}, stdout {done.stdout[:80]!r}, stderr:\n{done.stderr}")
        elif "-->" not in done.stderr:
            failures.append(f"{what}: the error does not point at the config line:\n{done.stderr}")

for failure in failures:
    print(f"MISMATCH ({kind}) {failure}")
print(f"tenure run on {kind} ({os.path.basename(config_path)}): {compiled} metrics equal the engine's, "
      f"{len(refused)} not computed there (E0304){', bad connections checked' if errors else ''}"
      f"{f', labels of {len(segments)} segments' if segments else ''}; "
      f"{len(failures)} failed")
sys.exit(1 if failures or compiled == 0 else 0)
