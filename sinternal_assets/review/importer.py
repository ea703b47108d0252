"""Import annotators' responses from Argilla into DuckDB's `human_reviews`, exactly once.

Each response version is keyed by (response id, updated_at): importing the same responses again adds
nothing, an edited response adds its new version. Rows and the cursor are written in one transaction.
Responses are read through the SDK's authenticated HTTP client because the SDK's record model drops the
response ids and timestamps that make the import exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from sinternal_assets.hashing import content_id
from sinternal_assets.storage.warehouse import Warehouse, utc_now

IMPORTED_STATUSES = ("submitted", "discarded")
REVIEW_SCHEMA = {
    "review_id": pl.String,
    "response_id": pl.String,
    "record_id": pl.String,
    "dataset_id": pl.String,
    "annotator_id": pl.String,
    "annotator": pl.String,
    "status": pl.String,
    "verdict": pl.String,
    "corrected_critique": pl.String,
    "issue_tags": pl.String,
    "response_updated_at": pl.Datetime("us"),
    "imported_at": pl.Datetime("us"),
}


class ReviewImportError(RuntimeError):
    """A response from Argilla does not have the shape the review dataset defines (named in the message)."""


@dataclass
class ImportResult:
    dataset_id: str
    seen: int
    new: int
    total: int
    cursor: datetime | None


def fetch_response_records(client, dataset_id: str, page_size: int = 500) -> list[dict]:
    """Every record of the dataset that has a submitted or discarded response, with all its responses."""
    body = {
        "filters": {
            "and": [
                {
                    "type": "terms",
                    "scope": {"entity": "response", "property": "status"},
                    "values": list(IMPORTED_STATUSES),
                }
            ]
        }
    }
    records, offset = [], 0
    while True:
        response = client.api.http_client.post(
            f"/api/v1/datasets/{dataset_id}/records/search",
            json=body,
            params={"include": ["responses"], "offset": offset, "limit": page_size},
        )
        response.raise_for_status()
        items = response.json()["items"]
        records.extend(item["record"] for item in items)
        if len(items) < page_size:
            return records
        offset += page_size


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def response_rows(
    records: list[dict], usernames: dict[str, str], dataset_id: str, imported_at: datetime
) -> pl.DataFrame:
    rows = []
    for record in records:
        external_id = record.get("external_id")
        if not external_id:
            raise ReviewImportError(
                f"record {record.get('id')} in dataset {dataset_id} has no external id "
                "(records of critique_review are keyed by critique id)"
            )
        for response in record.get("responses") or []:
            if response["status"] not in IMPORTED_STATUSES:
                continue  # drafts are work in progress
            values = response.get("values") or {}
            verdict = (values.get("verdict") or {}).get("value")
            if response["status"] == "submitted" and verdict not in ("safe", "unsafe"):
                raise ReviewImportError(
                    f"record {external_id}: submitted response {response['id']} has verdict "
                    f"{verdict!r}, expected 'safe' or 'unsafe'"
                )
            tags = (values.get("issues") or {}).get("value") or []
            updated_at = parse_time(response["updated_at"])
            rows.append(
                {
                    "review_id": content_id(response["id"], updated_at.isoformat(), length=32),
                    "response_id": str(response["id"]),
                    "record_id": external_id,
                    "dataset_id": dataset_id,
                    "annotator_id": str(response["user_id"]),
                    "annotator": usernames.get(str(response["user_id"]), str(response["user_id"])),
                    "status": response["status"],
                    "verdict": verdict.upper() if verdict else None,
                    "corrected_critique": (values.get("corrected_critique") or {}).get("value"),
                    "issue_tags": json.dumps(sorted(tags)),
                    "response_updated_at": updated_at,
                    "imported_at": imported_at,
                }
            )
    return pl.DataFrame(rows, schema=REVIEW_SCHEMA)


def import_rows(wh: Warehouse, rows: pl.DataFrame, dataset_id: str) -> ImportResult:
    """Append the response versions not yet stored and move the cursor, in one transaction."""
    existing = wh.query("human_review_ids", dataset_id=dataset_id)
    new = rows.join(existing, on="review_id", how="anti").unique("review_id", keep="first", maintain_order=True)
    previous = wh.query("review_import_cursor", dataset_id=dataset_id)
    cursor = rows["response_updated_at"].max() if rows.height else None
    if previous.height and (cursor is None or previous["cursor"][0] > cursor):
        cursor = previous["cursor"][0]
    total = (int(previous["imported_total"][0]) if previous.height else 0) + new.height
    if new.height or (cursor is not None and not previous.height):
        state = pl.DataFrame(
            {
                "dataset_id": [dataset_id],
                "cursor": [cursor],
                "imported_total": [total],
                "updated_at": [utc_now()],
            },
            schema={
                "dataset_id": pl.String,
                "cursor": pl.Datetime("us"),
                "imported_total": pl.Int64,
                "updated_at": pl.Datetime("us"),
            },
        )
        wh.write(append={"human_reviews": new}, upsert={"review_import_state": (state, ["dataset_id"])})
    return ImportResult(dataset_id=dataset_id, seen=rows.height, new=new.height, total=total, cursor=cursor)


def import_reviews(client, dataset, wh: Warehouse) -> ImportResult:
    """Fetch every submitted/discarded response of `dataset` and store the versions not yet imported."""
    records = fetch_response_records(client, str(dataset.id))
    usernames = {str(user.id): user.username for user in client.users}
    rows = response_rows(records, usernames, str(dataset.id), utc_now())
    return import_rows(wh, rows, str(dataset.id))
