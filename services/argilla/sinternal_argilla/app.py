"""The ASGI app uvicorn serves: Argilla's own app, with our SQL search backend registered first.

``argilla_server``'s ``start`` command binds 0.0.0.0 and never imports a custom backend, so the service
script runs ``uvicorn sinternal_argilla.app:app --host 127.0.0.1`` instead.
"""

import functools

from pydantic import TypeAdapter
from sqlalchemy import event
from sqlalchemy.engine import Engine

from sinternal_argilla import sql_search  # noqa: F401  (registers the "sinternal-sql" engine)


@event.listens_for(Engine, "connect")
def _sqlite_wal(dbapi_connection, connection_record):
    """WAL lets the search backend's reads run while the API writes (no SQLITE_BUSY on a read)."""
    module = type(dbapi_connection).__module__
    if "sqlite" in module:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _memoize_settings_adapters() -> None:
    """Argilla 2.8.0 builds a new pydantic TypeAdapter (a full core-schema build) every time it reads a
    question's or metadata property's settings: per record, per property, on every bulk upsert. Profiling a
    500-record upsert showed ~75% of the server's time there. An adapter is immutable and reusable, so one per
    type gives the same validation at a fraction of the cost (BENCHMARKS.md has the before / after)."""
    from argilla_server.models import database

    database.TypeAdapter = functools.lru_cache(maxsize=None)(TypeAdapter)


_memoize_settings_adapters()

from argilla_server._app import app  # noqa: E402  (after the engine is registered)

__all__ = ["app"]
