"""The disputed queue: records whose annotators disagree with no majority go back to review for another annotator.

Argilla's task distribution is per dataset (a record is completed after `min_submitted` responses), so a record
whose annotators tied cannot be reopened in `critique_review`. It is sent to a second dataset,
`<critique_review>_disputed`, with the same blind content. Every annotator's latest verdict on a critique counts
once, whichever dataset it came from: a new annotator's verdict there breaks the tie. A record still tied after
an answer in the queue (the same annotator answered again, or an even split) is sent again as a fresh, pending
record (its response count so far is part of its content hash), so it stays open until a majority exists.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from sinternal_assets.hashing import content_id
from sinternal_assets.review.dataset import review_content
from sinternal_assets.review.push import PushStats, changed_contents, push_records
from sinternal_assets.storage.warehouse import Warehouse

DISPUTED_SUFFIX = "_disputed"
DISPUTED_ROUTE = "disputed"


def disputed_dataset_name(dataset_name: str) -> str:
    return f"{dataset_name}{DISPUTED_SUFFIX}"


def disputed_contents(candidates: pl.DataFrame, disputed: pl.DataFrame) -> list[dict]:
    """The review content of each disputed record: `candidates` are `review_candidates` rows, `disputed` the
    `disputed_records` rows (critique_id, responses). The route says `disputed` (hidden from annotators); the
    response count so far is in the content hash, so a record still tied after another answer is sent again."""
    responses = dict(zip(disputed["critique_id"].to_list(), disputed["responses"].to_list(), strict=True))
    rows = candidates.filter(pl.col("critique_id").is_in(list(responses))).sort("critique_id")
    contents = []
    for position, row in enumerate(rows.iter_rows(named=True)):
        content = review_content({**row, "route": DISPUTED_ROUTE, "priority": 0, "queue_position": position})
        content["content_hash"] = content_id(content["content_hash"], responses[row["critique_id"]], length=32)
        contents.append(content)
    return contents


def reopened_ids(contents: list[dict], pushed: pl.DataFrame) -> list[str]:
    """The disputed records already in the queue that got another answer since: sent again as fresh records."""
    known = set(pushed["record_id"].to_list())
    return [c["id"] for c in changed_contents(contents, pushed) if c["id"] in known]


def push_disputed(
    dataset,
    contents: list[dict],
    wh: Warehouse,
    batch_size: int = 500,
    log: Callable[[str], None] = print,
    url: str = "",
) -> tuple[PushStats, int]:
    """Send the disputed records to the queue's dataset; those already there that got another answer are deleted
    and logged again (pending again, without responses: the earlier responses are already imported). Returns the
    push's stats and how many records were reopened."""
    pushed = wh.query("review_pushed_records", dataset_id=str(dataset.id))
    reopen = set(reopened_ids(contents, pushed))
    if reopen:
        stale = [record for record in dataset.records if record.id in reopen]
        if stale:
            dataset.records.delete(stale)
        log(f"disputed queue: {len(reopen)} records still without a majority after another answer: reopened")
    return push_records(dataset, contents, wh, batch_size=batch_size, log=log, url=url), len(reopen)
