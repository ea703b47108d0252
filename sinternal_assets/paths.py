"""Where sinternal keeps its files. Every location can be overridden by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Downloaded artifacts and converted models: shared between clones, safe to delete."""
    return Path(os.environ.get("SINTERNAL_CACHE_DIR", Path.home() / ".cache" / "sinternal")).expanduser()


def data_dir() -> Path:
    """The DuckDB warehouse and run outputs of this checkout."""
    return Path(os.environ.get("SINTERNAL_DATA_DIR", PROJECT_ROOT / ".sinternal")).expanduser()


def sql_dir() -> Path:
    return Path(os.environ.get("SINTERNAL_SQL_DIR", PROJECT_ROOT / "sql"))
