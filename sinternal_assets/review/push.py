"""Push review records to Argilla: create the dataset once, send only new or changed records, in bulk.

Records are keyed by the critique's content hash, so pushing again upserts instead of duplicating. What was
pushed (and the hash of what it showed) is recorded in DuckDB after every batch: a push that dies halfway
(Argilla down) is resumed by the next one, which sends only what is still missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from sinternal_assets.hashing import sha256_text
from sinternal_assets.review.connection import lost_connection
from sinternal_assets.review.dataset import review_settings, to_argilla_record
from sinternal_assets.storage.warehouse import Warehouse, utc_now


@dataclass
class PushStats:
    dataset_id: str = ""
    created_dataset: bool = False
    candidates: int = 0
    unchanged: int = 0
    pushed: int = 0
    seconds: float = 0.0
    by_route: dict[str, int] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        return self.pushed / self.seconds if self.seconds > 0 else 0.0


def ensure_dataset(client, name: str, workspace: str, min_submitted: int = 1):
    """The dataset `name` in `workspace`, created (with its workspace) if missing. Returns (dataset, created)."""
    import argilla as rg

    if client.workspaces(workspace) is None:
        rg.Workspace(name=workspace, client=client).create()
    existing = client.datasets(name=name, workspace=workspace)
    if existing is not None:
        return existing, False
    dataset = rg.Dataset(name=name, workspace=workspace, settings=review_settings(min_submitted), client=client)
    return dataset.create(), True


def changed_contents(contents: list[dict], pushed: pl.DataFrame) -> list[dict]:
    """The contents whose record is not in `pushed` (record_id, content_hash) with the same hash."""
    known = dict(zip(pushed["record_id"].to_list(), pushed["content_hash"].to_list(), strict=True))
    return [c for c in contents if known.get(c["id"]) != c["content_hash"]]


def blind_order(contents: list[dict]) -> list[dict]:
    """The records in the order annotators get them: by a hash of the record id, not by route. Routing order
    (disagreements first) would tell an annotator that an early record's reference label is the opposite of
    the teacher's verdict; which records are sent is still decided by priority (`routing.route`)."""
    return sorted(contents, key=lambda c: sha256_text(f"review-order:{c['id']}"))


def push_records(
    dataset,
    contents: list[dict],
    wh: Warehouse,
    batch_size: int = 500,
    log: Callable[[str], None] = print,
    url: str = "",
) -> PushStats:
    """Send the new or changed `contents` in batches, recording each batch in DuckDB once Argilla has it. Argilla
    lost mid-push is an ArgillaUnavailable naming `url` (the server) and how to start it, at the first failure;
    what was sent before it is recorded, and the next push sends only the rest."""
    stats = PushStats(dataset_id=str(dataset.id), candidates=len(contents))
    pushed = wh.query("review_pushed_records", dataset_id=stats.dataset_id)
    todo = blind_order(changed_contents(contents, pushed))
    stats.unchanged = len(contents) - len(todo)
    for content in contents:
        stats.by_route[content["metadata"]["route"]] = stats.by_route.get(content["metadata"]["route"], 0) + 1
    start = time.perf_counter()
    for offset in range(0, len(todo), batch_size):
        batch = todo[offset : offset + batch_size]
        doing = (
            f"mid-push to dataset {getattr(dataset, 'name', stats.dataset_id)!r} after {stats.pushed} of "
            f"{len(todo)} records (those are recorded: the next push sends only the rest)"
        )
        with lost_connection(url or "(unknown URL)", doing):
            dataset.records.log([to_argilla_record(c) for c in batch], batch_size=batch_size)
        now = utc_now()
        rows = pl.DataFrame(
            {
                "record_id": [c["id"] for c in batch],
                "dataset_id": [stats.dataset_id] * len(batch),
                "content_hash": [c["content_hash"] for c in batch],
                "route": [c["metadata"]["route"] for c in batch],
                "priority": pl.Series([c["metadata"]["priority"] for c in batch], dtype=pl.Int32),
                "pushed_at": [now] * len(batch),
            }
        )
        wh.write(upsert={"review_pushes": (rows, ["record_id", "dataset_id"])})
        stats.pushed += len(batch)
        elapsed = time.perf_counter() - start
        log(f"critique_review: pushed {stats.pushed}/{len(todo)} records ({stats.pushed / elapsed:.0f} records/s)")
    stats.seconds = time.perf_counter() - start
    return stats
