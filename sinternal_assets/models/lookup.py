"""Which models the warehouse knows: the base model every stage starts from."""

from __future__ import annotations

from sinternal_assets.storage.warehouse import Warehouse


def base_model_row(wh: Warehouse) -> dict:
    """The `base` model's row (model_id, content_hash, path, ...); a clear error before it is materialized."""
    rows = wh.query("base_model")
    if rows.is_empty():
        raise RuntimeError("no base model in the warehouse: materialize `base_model` first")
    return rows.row(0, named=True)
