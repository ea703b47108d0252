"""Vectorised sha256 over a polars column, computed by DuckDB (C++, multi-threaded).

Same values as `hashlib.sha256` (tested), without a Python call per row.
"""

from __future__ import annotations

import duckdb
import polars as pl


def _run(series: pl.Series, expression: str, dtype: pl.DataType) -> pl.Series:
    frame = pl.DataFrame({"v": series})  # noqa: F841 - read by DuckDB's replacement scan
    conn = duckdb.connect()
    try:
        # A plain projection keeps row order (DuckDB's preserve_insertion_order is on by default, and set here).
        conn.execute("SET preserve_insertion_order = true")
        result = conn.execute(f"SELECT {expression} AS h FROM frame").pl()
    finally:
        conn.close()
    return result["h"].cast(dtype).rename(series.name)


def sha256_prefix(series: pl.Series, length: int = 16) -> pl.Series:
    """The first `length` hex characters of sha256(value) per row."""
    return _run(series, f"left(sha256(v), {int(length)})", pl.String)


def unit_interval(series: pl.Series, salt: str) -> pl.Series:
    """sha256(salt + value): its first 8 bytes as a big-endian integer, divided by 2**64 (in [0, 1))."""
    salt_sql = salt.replace("'", "''")
    return _run(
        series, f"('0x' || left(sha256('{salt_sql}' || v), 16))::UBIGINT::DOUBLE / 18446744073709551616.0", pl.Float64
    )
