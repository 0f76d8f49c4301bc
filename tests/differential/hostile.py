#!/usr/bin/env python3
"""Writes a project whose names and texts are hostile to SQL, over the differential rows.

usage: hostile.py EVENTS.csv ACCOUNTS.csv OUT_DIR
OUT_DIR gets `events.csv` (the rows of EVENTS.csv with the entity, time and event columns
renamed, and the payment and login event names replaced, by texts holding quotes of every kind,
backslashes, comment markers, semicolons and non-ASCII letters), `accounts.csv` (a copy), and
two configs of the same metrics: `hostile.toml` reads the file, `hostile.table.toml` a table of
the same hostile name on a connection. Every metric's SQL must give the engine's figures on
every engine (sql_check.py), never an error or a second statement.
"""
import csv
import shutil
import sys

events_csv, accounts_csv, out = sys.argv[1:4]
ENTITY = "acc'ount \"id\" -- é"
TIME = "t;s /* when"
EVENT = "ev`ent\\name"
TABLE = "hostile \"ev'ents\" -- ;"
PAID = "it's \"paid\" \\ -- /* é; `x`"
LOGIN = "log'in\\"
renamed = {"account_id": ENTITY, "ts": TIME, "event": EVENT}
names = {"invoice_paid": PAID, "login": LOGIN}

with open(events_csv, newline="") as f, open(f"{out}/events.csv", "w", newline="") as g:
    rows = csv.reader(f)
    header = next(rows)
    event = header.index("event")
    writer = csv.writer(g)
    writer.writerow([renamed.get(column, column) for column in header])
    for row in rows:
        row[event] = names.get(row[event].strip(), row[event])
        writer.writerow(row)
shutil.copy(accounts_csv, f"{out}/accounts.csv")


def toml_string(text):
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(text):
    """A text literal of tenure's expression language."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


metrics = f"""
[project]
timezone = "Europe/Moscow"

[events.payment]
where = {toml_string(f"event == {literal(PAID)}")}
amount = "props.amount"

[events.value]
where = {toml_string(f"event in [{literal(LOGIN)}, {literal(PAID)}, 'report_created']")}

[cohorts.weekly]
start = "value"
grain = "week"

[metrics.crr]
type = "crr"
active = "value"
grain = "month"

[metrics.retention]
type = "retention"
cohort = "weekly"
return = "value"
mode = "n-day"
unit = "day"
periods = [0, 1, 7, 30]

[metrics.activation]
type = "activation"
cohort = "weekly"
reached = "payment"
within = "14d"

[metrics.revenue]
type = "revenue"
amount = "payment"
grain = "month"
window = "3mo"

[metrics.lifecycle]
type = "lifecycle"
active = "value"
grain = "week"

[metrics.paid_per_payer]
type = "formula"
formula = "sum(payment.amount) / entities(payment) + revenue.nrr"
grain = "month"
"""


def source(place):
    return (f"[sources.events]\n{place}\nentity = {toml_string(ENTITY)}\ntime = {toml_string(TIME)}\n"
            f"event = {toml_string(EVENT)}\n")


with open(f"{out}/hostile.toml", "w") as f:
    f.write(source('path = "events.csv"') + metrics)
with open(f"{out}/hostile.table.toml", "w") as f:
    f.write(source(f"table = {toml_string(TABLE)}") + metrics + '\n[connections.warehouse]\nkind = "postgres"\n')
