"""tenure: retention metrics from one metrics.toml, from Python.

    import tenure
    project = tenure.Project("metrics.toml")
    report = project.run()
    report["vrr"].to_polars()      # the figures of one metric as a tidy table
    report.to_dict()               # the whole report, the JSON contract of `tenure run`

The figures are computed by the same engine as the `tenure` command line, with Python's
interpreter lock released while it runs. See docs/python.md.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from tenure._tenure import ConfigError, DataError, __version__
from tenure._tenure import Project as _NativeProject

__all__ = ["Project", "Report", "MetricTable", "Statements", "ConfigError", "DataError", "sql", "__version__"]

#: The columns of a metric's tidy table: those of `tenure run --format csv`, where `value` is
#: a number (null when empty or not a number; `true` and `false` are 1 and 0), and `text`, the
#: value as the CSV writes it.
COLUMNS = ("metric", "type", "cohort", "segment", "period", "measure", "value", "text")


def _number(text: str) -> Optional[float]:
    if text == "true":
        return 1.0
    if text == "false":
        return 0.0
    try:
        return float(text)
    except ValueError:
        return None


class MetricTable:
    """One metric's result: its JSON object, and its figures as a tidy table."""

    def __init__(self, name: str, result: Dict[str, Any], records: List[Tuple[str, ...]]):
        self.name = name
        self.type: str = result.get("type", "")
        self._result = result
        self._records = records

    def __repr__(self) -> str:
        return f"<tenure.MetricTable {self.name!r} ({self.type}): {len(self._records)} figures>"

    def to_dict(self) -> Dict[str, Any]:
        """The metric's object of the JSON contract (docs/config.md, "Output")."""
        return self._result

    def columns(self) -> Dict[str, list]:
        """The tidy table as a dict of columns (see `COLUMNS`)."""
        columns: Dict[str, list] = {name: [] for name in COLUMNS}
        for record in self._records:
            for name, field in zip(COLUMNS[:6], record[:6]):
                columns[name].append(field)
            columns["value"].append(_number(record[6]))
            columns["text"].append(record[6])
        return columns

    def to_arrow(self):
        """The tidy table as a `pyarrow.Table` (needs pyarrow)."""
        import pyarrow

        columns = self.columns()
        return pyarrow.table(
            {name: pyarrow.array(values, type=pyarrow.float64() if name == "value" else pyarrow.string())
             for name, values in columns.items()}
        )

    def to_pandas(self):
        """The tidy table as a `pandas.DataFrame` (needs pandas)."""
        import pandas

        return pandas.DataFrame(self.columns(), columns=list(COLUMNS)).astype({"value": "float64"})

    def to_polars(self):
        """The tidy table as a `polars.DataFrame` (needs polars)."""
        import polars

        schema = {name: (polars.Float64 if name == "value" else polars.Utf8) for name in COLUMNS}
        return polars.DataFrame(self.columns(), schema=schema)


class Report:
    """The result of a run: every computed metric, the row accounting and when it holds."""

    def __init__(self, text: str, records: List[Tuple[str, ...]]):
        self._report: Dict[str, Any] = json.loads(text)
        self._records = records
        self.as_of: str = self._report["as_of"]
        self.backend: str = self._report["backend"]
        self.input: Dict[str, Any] = self._report["input"]

    def __repr__(self) -> str:
        return f"<tenure.Report as of {self.as_of}: {', '.join(self)}>"

    def __iter__(self) -> Iterator[str]:
        return iter(self._report["metrics"])

    def __len__(self) -> int:
        return len(self._report["metrics"])

    def __contains__(self, name: object) -> bool:
        return name in self._report["metrics"]

    def __getitem__(self, name: str) -> MetricTable:
        if name not in self._report["metrics"]:
            raise KeyError(f"no metric {name!r} in this report; it has: {', '.join(self)}")
        records = [r for r in self._records if r[0] == name]
        return MetricTable(name, self._report["metrics"][name], records)

    def to_dict(self) -> Dict[str, Any]:
        """The whole report: the JSON contract of `tenure run --format json`."""
        return self._report


class Project:
    """A validated project (a metrics.toml), ready to run.

    `Project(path)` reads a config file; `Project.from_str(text, base_dir)` validates config
    text. An invalid config raises `ConfigError`, whose message is the rendered diagnostics of
    the command line and whose `diagnostics` lists them (code, message, file, line, column,
    help).
    """

    def __init__(self, path: str):
        self._native = _NativeProject(str(path))

    @classmethod
    def from_str(cls, text: str, base_dir: str = ".") -> "Project":
        project = cls.__new__(cls)
        project._native = _NativeProject.from_str(text, str(base_dir))
        return project

    def __repr__(self) -> str:
        return f"<tenure.Project {self.name!r}: {len(self.metrics)} metrics>"

    @property
    def name(self) -> str:
        """The project's name (`[project] name`)."""
        return self._native.name

    @property
    def metrics(self) -> List[str]:
        """The metrics' names, in the config's order."""
        return self._native.metrics

    @property
    def event_sources(self) -> List[str]:
        """The names of the event sources (`[sources.<name>]`), in the config's order."""
        return self._native.event_sources

    @property
    def entity_source(self) -> Optional[str]:
        """The name of the entity-attribute source, if the config has one."""
        return self._native.entity_source

    def run(self, metrics: Optional[Sequence[str]] = None, events: Any = None, entities: Any = None) -> Report:
        """Computes the named metrics (all when omitted).

        Without `events` and `entities`, over the config's sources: files with the in-process
        engine, tables as SQL on their connection. `events` and `entities` hand the rows over
        in memory instead, as Arrow data — a pyarrow Table or RecordBatchReader, a polars or
        pandas DataFrame, anything with `__arrow_c_stream__` — whose columns are those the
        config's sources name (`entity`, `time`, `event`, the properties and attributes);
        `events` may be a dict from event-source name to data when the config has several.
        Sources not handed over are read from their files.

        A missing file, a failed connection or a failing plugin raises `DataError`; data that
        is not Arrow raises `TypeError`; a missing column raises `ConfigError` at the config
        line that names it."""
        inputs: Dict[str, Any] = {}
        if events is not None:
            if isinstance(events, dict):
                inputs.update(events)
            elif len(self.event_sources) == 1:
                inputs[self.event_sources[0]] = events
            else:
                raise ValueError(
                    f"this project has {len(self.event_sources)} event sources "
                    f"({', '.join(self.event_sources)}): pass events as a dict from source name to data")
        if entities is not None:
            if self.entity_source is None:
                raise ValueError("this project has no entity source (`kind = \"entities\"`) for `entities`")
            inputs[self.entity_source] = entities
        text, records = self._native.run(list(metrics) if metrics is not None else None, inputs or None)
        return Report(text, records)

    def sql(self, dialect: str, metrics: Optional[Sequence[str]] = None) -> "Statements":
        """Each metric's SQL statement in `dialect` (`duckdb`, `postgres`, `clickhouse`,
        `spark`), by name. A metric named in `metrics` that does not compile raises
        `ValueError` with the reason; of all metrics (`metrics` omitted), those that do not
        compile are left out and listed with their reasons in the result's `refused`."""
        compiled = self._native.sql(dialect, list(metrics) if metrics is not None else None)
        statements = Statements()
        for name, (ok, text) in compiled.items():
            if ok:
                statements[name] = text
            elif metrics is not None:
                raise ValueError(f"metric {name!r} is not compiled to SQL: {text}")
            else:
                statements.refused[name] = text
        return statements


class Statements(Dict[str, str]):
    """SQL statements by metric name; `refused` holds, by name, why the others do not compile."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: Dict[str, str] = {}


def sql(project: Project, dialect: str, metrics: Optional[Sequence[str]] = None) -> Statements:
    """`project.sql(dialect, metrics)`: each metric's SQL statement in `dialect`."""
    return project.sql(dialect, metrics)
