"""The DuckDB warehouse: schema from `sql/schema`, named queries from `sql/queries`, atomic writes.

One writer per database file (DuckDB's own rule). A locked or corrupt file is a `WarehouseError` that
says which file and what to do, raised at once: no silent retry loop.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from sinternal_assets.paths import sql_dir


def utc_now() -> datetime:
    """The time as the warehouse stores it: UTC, without a time zone (DuckDB TIMESTAMP)."""
    return datetime.now(UTC).replace(tzinfo=None)


_POLARS_TYPES = {
    "VARCHAR": pl.String,
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "BOOLEAN": pl.Boolean,
    "TIMESTAMP": pl.Datetime("us"),
    "DOUBLE": pl.Float64,
}


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened or written."""


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@cache
def _read_sql(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_query(name: str, root: Path | None = None) -> str:
    """The text of `sql/queries/<name>.sql`."""
    path = (root or sql_dir()) / "queries" / f"{name}.sql"
    if not path.is_file():
        raise WarehouseError(f"named query {name!r} not found at {path}")
    return _read_sql(str(path))


def schema_statements(root: Path | None = None) -> list[str]:
    files = sorted(((root or sql_dir()) / "schema").glob("*.sql"))
    if not files:
        raise WarehouseError(f"no schema files in {(root or sql_dir()) / 'schema'}")
    return [_read_sql(str(f)) for f in files]


class Warehouse:
    def __init__(self, path: Path | str, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_file():
            raise WarehouseError(f"warehouse {self.path} does not exist yet: materialize the upstream assets first")
        try:
            conn = duckdb.connect(str(self.path), read_only=self.read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseError(
                    f"warehouse {self.path} is locked by another process ({exc}). DuckDB allows one writer "
                    f"per file: stop the other process (a second Dagster run, a notebook) and retry."
                ) from exc
            raise WarehouseError(f"cannot open warehouse {self.path}: {exc}") from exc
        except (duckdb.SerializationException, duckdb.InternalException, duckdb.InvalidInputException) as exc:
            raise WarehouseError(
                f"warehouse {self.path} is not a readable DuckDB database ({exc}). It may be corrupt or written "
                f"by another DuckDB version; move it aside and re-materialize, or restore a backup."
            ) from exc
        try:
            if not self.read_only:
                for statement in schema_statements():
                    conn.execute(statement)
            yield conn
        finally:
            conn.close()

    # -- reads -----------------------------------------------------------------------------------

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the named query `sql/queries/<name>.sql`."""
        return self.sql(load_query(name), **params)

    def sql(self, text: str, **params: Any) -> pl.DataFrame:
        with self.connect() as conn:
            return conn.execute(text, params or None).pl()

    def table(self, table: str) -> pl.DataFrame:
        _check_identifier(table)
        with self.connect() as conn:
            return conn.execute(f"SELECT * FROM {table}").pl()

    def count(self, table: str) -> int:
        _check_identifier(table)
        with self.connect() as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def frame(self, rows: list[dict], table: str) -> pl.DataFrame:
        """Rows as a frame with `table`'s column types (so an all-null column still has its type)."""
        _check_identifier(table)
        with self.connect() as conn:
            types = {name: dtype for name, dtype, *_ in conn.execute(f"DESCRIBE {table}").fetchall()}
        unknown = sorted(set(types.values()) - set(_POLARS_TYPES))
        if unknown:
            raise WarehouseError(f"table {table} has column types {unknown} with no polars mapping")
        return pl.DataFrame(rows, schema={name: _POLARS_TYPES[t] for name, t in types.items()})

    # -- writes ----------------------------------------------------------------------------------

    def write(
        self,
        replace: dict[str, pl.DataFrame] | None = None,
        upsert: dict[str, tuple[pl.DataFrame, list[str]]] | None = None,
        append: dict[str, pl.DataFrame] | None = None,
    ) -> dict[str, int]:
        """Apply all writes in ONE transaction: either every table changes or none does.

        `replace`: table -> frame; the table's whole contents become the frame.
        `upsert`: table -> (frame, key columns); rows whose key exists are replaced, others inserted.
        `append`: table -> frame; plain inserts (a primary-key clash fails the whole transaction).
        Columns are matched by name and checked against the table before anything changes.
        """
        replace, upsert, append = replace or {}, upsert or {}, append or {}
        counts: dict[str, int] = {}
        with self.connect() as conn:
            for table, frame in [*replace.items(), *((t, f) for t, (f, _k) in upsert.items()), *append.items()]:
                _check_identifier(table)
                expected = [r[0] for r in conn.execute(f"DESCRIBE {table}").fetchall()]
                if sorted(expected) != sorted(frame.columns):
                    raise WarehouseError(
                        f"frame for table {table} has columns {sorted(frame.columns)}, table has {sorted(expected)}"
                    )
            for _table, (_frame, key) in upsert.items():
                for column in key:
                    _check_identifier(column)
            conn.execute("BEGIN TRANSACTION")
            try:
                for table, frame in replace.items():
                    conn.execute(f"DELETE FROM {table}")
                    self._insert(conn, table, frame)
                    counts[table] = frame.height
                for table, (frame, key) in upsert.items():
                    conn.register("_incoming", frame.to_arrow())
                    match = " AND ".join(f"t.{c} = i.{c}" for c in key)
                    conn.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _incoming i WHERE {match})")
                    conn.unregister("_incoming")
                    self._insert(conn, table, frame)
                    counts[table] = frame.height
                for table, frame in append.items():
                    self._insert(conn, table, frame)
                    counts[table] = frame.height
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return counts

    @staticmethod
    def _insert(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
        conn.register("_incoming", frame.to_arrow())
        try:
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
        finally:
            conn.unregister("_incoming")


def _check_identifier(name: str) -> None:
    if not _IDENTIFIER.match(name):
        raise WarehouseError(f"invalid SQL identifier {name!r}")
