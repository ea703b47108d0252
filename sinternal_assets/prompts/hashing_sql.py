"""Vectorised sha256 over a polars column, computed by DuckDB (C++, multi-threaded).

Same values as `hashlib.sha256` (tested), without a Python call per row.
"""

from __future__ import annotations

import duckdb
import polars as pl

from sinternal_assets.storage.warehouse import load_query


def _run(series: pl.Series, query: str, dtype: pl.DataType, **params: object) -> pl.Series:
    """Run the named query `sql/queries/<query>.sql` over `series` (as column `v` of the frame `frame`)."""
    frame = pl.DataFrame({"v": series})  # noqa: F841 - read by DuckDB's replacement scan
    # A plain projection keeps row order (DuckDB's preserve_insertion_order is on by default, and set here).
    conn = duckdb.connect(config={"preserve_insertion_order": True})
    try:
        result = conn.execute(load_query(query), params).pl()
    finally:
        conn.close()
    return result["h"].cast(dtype).rename(series.name)


def sha256_prefix(series: pl.Series, length: int = 16) -> pl.Series:
    """The first `length` hex characters of sha256(value) per row."""
    return _run(series, "sha256_prefix", pl.String, length=int(length))


def unit_interval(series: pl.Series, salt: str) -> pl.Series:
    """sha256(salt + value): its first 8 bytes as a big-endian integer, divided by 2**64 (in [0, 1))."""
    return _run(series, "unit_interval", pl.Float64, salt=salt)
