"""The DuckDB warehouse: schema from `sql/schema`, named queries from `sql/queries`, atomic writes.

One writer per database file (DuckDB's own rule). A writer that meets another process's lock waits up to
`lock_wait_s` (logged), then fails with a `WarehouseError` that says which file and what to do. Any storage error
(a damaged file, a full disk, a data folder that is a file) is a `WarehouseError` naming the file and the remedy;
a file that fails to read is not written by the failed attempt. The schema statements run only when the file's
schema version (table `schema_version`) is missing or differs from the code's, never on a plain connect, and
never for a reader.
"""

from __future__ import annotations

import contextlib
import errno
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from sinternal_assets.hashing import sha256_text
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
    """The warehouse file cannot be opened, read or written; the message names the file and what to do."""


# Errors of the file or the machine, not of a query or of the data: these become a WarehouseError. Query bugs
# (parser, binder, catalog) and data that breaks a constraint keep DuckDB's own exception.
STORAGE_ERRORS = (
    duckdb.IOException,
    duckdb.InternalException,
    duckdb.SerializationException,
    duckdb.FatalException,
    duckdb.TransactionException,
    duckdb.OutOfMemoryException,
    duckdb.PermissionException,
)
DISK_FULL_TEXTS = ("No space left on device", "Disk quota exceeded", "File too large")

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


def code_schema_version(root: Path | None = None) -> str:
    """The schema version the code expects: a hash of every schema file's text, in file order."""
    return sha256_text("\n-- next file --\n".join(schema_statements(root)))[:16]


def is_disk_full(error: BaseException | None) -> bool:
    """Whether an error (or one it was raised from) is the disk refusing more bytes."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return True
        if any(text in str(error) for text in DISK_FULL_TEXTS):
            return True
        error = error.__cause__ or error.__context__
    return False


def is_lock_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and "lock" in str(error).lower()


class Warehouse:
    """One DuckDB file. `read_only` readers never write (and share the file with other readers); a writer waits up
    to `lock_wait_s` for another process's lock, telling `log` that it waits."""

    def __init__(
        self,
        path: Path | str,
        read_only: bool = False,
        lock_wait_s: float = 0.0,
        log: Callable[[str], None] | None = None,
    ):
        self.path = Path(path)
        self.read_only = read_only
        self.lock_wait_s = lock_wait_s
        self.log = log or (lambda message: None)

    def reader(self) -> Warehouse:
        """The same file, opened read-only (no schema statements, no writes; other readers may share it)."""
        return Warehouse(self.path, read_only=True, lock_wait_s=self.lock_wait_s, log=self.log)

    # -- errors ----------------------------------------------------------------------------------

    def storage_error(self, error: BaseException) -> WarehouseError:
        """A storage-level DuckDB error as a WarehouseError that says the cause first and what to do."""
        if is_disk_full(error):
            return WarehouseError(
                f"the disk holding warehouse {self.path} is full ({_first_line(error)}). The transaction was rolled "
                f"back: nothing of it was written. Free space on that disk (or point SINTERNAL_DB at a larger one) "
                f"and run again."
            )
        return WarehouseError(
            f"warehouse {self.path} is damaged or unreadable ({type(error).__name__}: {_first_line(error)}). It was "
            f"not written to. Move it aside (`mv {self.path} {self.path}.damaged`) and restore a backup, or "
            f"re-materialize the pipeline into a fresh file."
        )

    def _check_folder(self) -> None:
        folder = self.path.parent
        blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            raise WarehouseError(
                f"the data folder {folder} for warehouse {self.path} cannot be created: {blocking} is a file, not a "
                f"folder. Move that file aside, or point SINTERNAL_DATA_DIR / SINTERNAL_DB elsewhere."
            )
        if not self.read_only:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise WarehouseError(
                    f"cannot create the data folder {folder} for warehouse {self.path}: {error}. Check its "
                    f"permissions and free space, or point SINTERNAL_DATA_DIR / SINTERNAL_DB elsewhere."
                ) from error

    # -- connections -----------------------------------------------------------------------------

    def _open(self) -> duckdb.DuckDBPyConnection:
        started = time.monotonic()
        announced = False
        while True:
            try:
                conn = duckdb.connect(str(self.path), read_only=self.read_only)
            except duckdb.IOException as exc:
                waited = time.monotonic() - started
                if not is_lock_error(exc):
                    raise self.storage_error(exc) from exc
                if waited >= self.lock_wait_s:
                    raise WarehouseError(
                        f"warehouse {self.path} is locked by another process ({_first_line(exc)}); waited "
                        f"{waited:.0f} s of the {self.lock_wait_s:g} s allowed (the warehouse resource's "
                        f"lock_wait_s). DuckDB allows one writer per file: stop the other process (a second Dagster "
                        f"run, a notebook) and retry."
                    ) from exc
                if not announced:
                    self.log(
                        f"warehouse {self.path} is locked by another process: waiting up to {self.lock_wait_s:g} s "
                        f"for it (lock_wait_s)"
                    )
                    announced = True
                time.sleep(min(0.5, max(0.05, self.lock_wait_s - waited)))
                continue
            except (duckdb.SerializationException, duckdb.InternalException, duckdb.InvalidInputException) as exc:
                raise WarehouseError(
                    f"warehouse {self.path} is not a readable DuckDB database ({_first_line(exc)}). It may be "
                    f"damaged or written by another DuckDB version; it was not written to. Move it aside "
                    f"(`mv {self.path} {self.path}.damaged`) and restore a backup, or re-materialize the pipeline "
                    f"into a fresh file."
                ) from exc
            except STORAGE_ERRORS as exc:
                raise self.storage_error(exc) from exc
            if announced:
                self.log(f"warehouse {self.path}: got the lock after {time.monotonic() - started:.1f} s")
            return conn

    def ensure_schema(self, conn: duckdb.DuckDBPyConnection) -> bool:
        """Bring the schema up to the code's version when it is missing or differs; True when statements ran."""
        version = code_schema_version()
        try:
            stored = conn.execute(load_query("schema_version")).fetchone()
        except duckdb.CatalogException:  # no schema_version table: a new file, or one from before versions
            stored = None
        if stored is not None and stored[0] == version:
            return False
        conn.execute("BEGIN TRANSACTION")
        try:
            for statement in schema_statements():
                conn.execute(statement)
            conn.execute(load_query("record_schema_version"), {"version": version, "applied_at": utc_now()})
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already rolled back
                conn.execute("ROLLBACK")
            raise
        return True

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self._check_folder()
        if self.read_only and not self.path.is_file():
            raise WarehouseError(f"warehouse {self.path} does not exist yet: materialize the upstream assets first")
        conn = self._open()
        try:
            if not self.read_only:
                self.ensure_schema(conn)
            yield conn
        except STORAGE_ERRORS as exc:
            raise self.storage_error(exc) from exc
        finally:
            with contextlib.suppress(duckdb.Error):  # the error that matters is already raised
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
                with contextlib.suppress(duckdb.Error):  # a failed COMMIT (a full disk) has already rolled back
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


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _check_identifier(name: str) -> None:
    if not _IDENTIFIER.match(name):
        raise WarehouseError(f"invalid SQL identifier {name!r}")
