#!/usr/bin/env python3
"""A test-only HTTP front over chDB (ClickHouse's engine, in process) that answers the part of
ClickHouse's HTTP interface tenure uses: a POST whose body is a statement, the user, password and
database in the X-ClickHouse-User / -Key / -Database headers, the format in X-ClickHouse-Format;
an error is status 500 (403 for credentials) with X-ClickHouse-Exception-Code and ClickHouse's
message as the body.

usage: clickhouse_http.py EVENTS.csv PORT_FILE
Creates the tables `analytics.events` from EVENTS.csv and `analytics.accounts` from the
accounts.csv beside it (as the differential test types them), picks a free port
on 127.0.0.1, writes it to PORT_FILE and serves until killed. The one user is `tenure` with the
password in the environment variable TENURE_CH_PASSWORD.
"""
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from chdb import session

events_csv, port_file = sys.argv[1:3]
password = os.environ["TENURE_CH_PASSWORD"]
COLUMNS = ["account_id", "ts", "event", "amount", "plan", "user_agent", "score"]
types = {"ts": "Nullable(DateTime64(6, 'UTC'))"}
db = session.Session()
db.query("CREATE DATABASE IF NOT EXISTS analytics")
structure = ", ".join(c + " " + types.get(c, "Nullable(String)") for c in COLUMNS)
db.query(f"CREATE TABLE analytics.events ({structure}) ENGINE = MergeTree ORDER BY tuple()")
escaped = structure.replace("'", "\\'")
db.query(f"INSERT INTO analytics.events SELECT * FROM file('{events_csv}', CSVWithNames, '{escaped}')"
         " SETTINGS input_format_csv_trim_whitespaces = 0")
accounts_csv = os.path.join(os.path.dirname(events_csv), "accounts.csv")
with open(accounts_csv) as f:
    header = f.readline().strip().split(",")
typed = {"employees": "Nullable(Int64)", "created": "Nullable(Date)"}
accounts = ", ".join(f"{c} {typed.get(c, 'Nullable(String)')}" for c in header)
db.query(f"CREATE TABLE analytics.accounts ({accounts}) ENGINE = MergeTree ORDER BY tuple()")
db.query(f"INSERT INTO analytics.accounts SELECT * FROM file('{accounts_csv}', CSVWithNames, '{accounts}')")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, code=None):
        data = body.encode()
        self.send_response(status)
        if code is not None:
            self.send_header("X-ClickHouse-Exception-Code", str(code))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        sql = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        user = self.headers.get("X-ClickHouse-User", "default")
        if user != "tenure" or self.headers.get("X-ClickHouse-Key", "") != password:
            return self.answer(403, f"Code: 516. DB::Exception: {user}: Authentication failed: "
                                    "password is incorrect, or there is no user with such name. "
                                    "(AUTHENTICATION_FAILED)\n", 516)
        database = self.headers.get("X-ClickHouse-Database", "default")
        fmt = self.headers.get("X-ClickHouse-Format", "TabSeparated")
        try:
            db.query(f"USE {database}")
            result = db.query(sql, fmt)
        except Exception as error:  # chDB raises its server's exception text
            message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            found = re.search(r"Code: (\d+)", message)
            return self.answer(500, message + "\n", found.group(1) if found else 1)
        self.answer(200, result.bytes().decode())


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
