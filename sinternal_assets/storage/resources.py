"""The warehouse as a Dagster resource: every asset reads and writes one DuckDB file."""

import os
from pathlib import Path

from dagster import ConfigurableResource, get_dagster_logger
from pydantic import Field

from sinternal_assets.paths import data_dir
from sinternal_assets.storage.warehouse import Warehouse

DEFAULT_LOCK_WAIT_S = 120.0


def default_db_path() -> str:
    return os.environ.get("SINTERNAL_DB", str(data_dir() / "sinternal.duckdb"))


class WarehouseResource(ConfigurableResource):
    """The DuckDB file every asset reads and writes (one writer at a time)."""

    path: str
    lock_wait_s: float = Field(
        default=DEFAULT_LOCK_WAIT_S,
        ge=0.0,
        description="seconds a writer waits for another process's lock on the file (logged) before failing; "
        "0 fails at once",
    )

    def get(self) -> Warehouse:
        return Warehouse(Path(self.path), lock_wait_s=self.lock_wait_s, log=get_dagster_logger().warning)

    def reader(self) -> Warehouse:
        """The file opened read-only: no schema statements, no writes."""
        return self.get().reader()
