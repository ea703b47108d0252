"""Which safety spec the warehouse holds: the current one every stage reads."""

from __future__ import annotations

from sinternal_assets.storage.warehouse import Warehouse


def current_spec_row(wh: Warehouse) -> dict:
    """The current spec's row (spec_hash, rendered_text, body_json, ...); a clear error before it is materialized."""
    rows = wh.query("current_spec")
    if rows.is_empty():
        raise RuntimeError("no safety spec in the warehouse: materialize `safety_spec` first")
    return rows.row(0, named=True)


def current_spec(wh: Warehouse) -> tuple[str, list[str]]:
    """The current spec's hash and its category ids."""
    spec_hash = current_spec_row(wh)["spec_hash"]
    return spec_hash, wh.query("spec_category_ids", spec_hash=spec_hash)["category_id"].to_list()
