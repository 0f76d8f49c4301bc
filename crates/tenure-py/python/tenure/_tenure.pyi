"""The native half of the `tenure` package (built from crates/tenure-py)."""

from typing import Any, Dict, List, Optional, Tuple

__version__: str

class ConfigError(Exception):
    """The config is invalid, or names inputs that are not there."""

    diagnostics: List[Dict[str, Any]]

class DataError(Exception):
    """The data could not be read or computed: a file, a connection, a plugin."""

class Project:
    def __init__(self, path: str) -> None: ...
    @staticmethod
    def from_str(text: str, base_dir: Optional[str] = None) -> "Project": ...
    @property
    def name(self) -> str: ...
    @property
    def metrics(self) -> List[str]: ...
    @property
    def event_sources(self) -> List[str]: ...
    @property
    def entity_source(self) -> Optional[str]: ...
    def run(
        self, metrics: Optional[List[str]] = None, inputs: Optional[Dict[str, Any]] = None
    ) -> Tuple[str, List[Tuple[str, str, str, str, str, str, str]]]: ...
    def sql(self, dialect: str, metrics: Optional[List[str]] = None) -> Dict[str, Tuple[bool, str]]: ...
