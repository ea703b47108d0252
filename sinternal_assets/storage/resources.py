"""The warehouse as a Dagster resource: every asset reads and writes one DuckDB file."""

import os
from pathlib import Path

from dagster import ConfigurableResource

from sinternal_assets.paths import data_dir
from sinternal_assets.storage.warehouse import Warehouse


def default_db_path() -> str:
    return os.environ.get("SINTERNAL_DB", str(data_dir() / "sinternal.duckdb"))


class WarehouseResource(ConfigurableResource):
    """The DuckDB file every asset reads and writes (one writer at a time)."""

    path: str

    def get(self) -> Warehouse:
        return Warehouse(Path(self.path))
