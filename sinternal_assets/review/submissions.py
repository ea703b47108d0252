"""What the annotation sensor detects: response versions submitted (or discarded) in Argilla since its cursor.

Detection only reads Argilla; the import into DuckDB is the `human_reviews` asset, run by the job the sensor
requests. The cursor is the latest response time seen and how many versions were at or before it, so a response
edited later (a newer time) and one stored with the same time as the last one seen both count as new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sinternal_assets.review.importer import IMPORTED_STATUSES, parse_time


@dataclass(frozen=True)
class Submissions:
    dataset_id: str
    seen: int  # response versions in Argilla (submitted or discarded)
    new: int  # of them, not covered by the cursor
    latest: datetime | None

    def cursor(self) -> dict:
        return {
            "dataset_id": self.dataset_id,
            "latest": self.latest.isoformat() if self.latest else None,
            "seen": self.seen,
        }

    @property
    def run_key(self) -> str:
        return f"human-reviews-{self.dataset_id}-{self.latest.isoformat() if self.latest else 'none'}-{self.seen}"


def response_times(records: list[dict]) -> list[datetime]:
    return [
        parse_time(response["updated_at"])
        for record in records
        for response in record.get("responses") or []
        if response["status"] in IMPORTED_STATUSES
    ]


def new_submissions(records: list[dict], dataset_id: str, cursor: dict) -> Submissions:
    """The response versions of `records` (Argilla's search items) that `cursor` (a previous `cursor()`) lacks."""
    times = response_times(records)
    previous = cursor.get("latest") if cursor.get("dataset_id") == dataset_id else None
    if previous is None:
        return Submissions(dataset_id, len(times), len(times), max(times, default=None))
    since = datetime.fromisoformat(previous)
    newer = sum(t > since for t in times)
    at_or_before = len(times) - newer
    new = newer + max(0, at_or_before - int(cursor.get("seen") or 0))
    return Submissions(dataset_id, len(times), new, max([since, *times]))
