"""Figures about the human review, recorded as Dagster metadata (sensor and curation asset)."""

from __future__ import annotations

import polars as pl
from dagster import MetadataValue

from sinternal_assets.reporting import markdown_table
from sinternal_assets.review.agreement import latest_verdicts, pairwise_kappa, teacher_human_agreement
from sinternal_assets.storage.warehouse import Warehouse


def review_metadata(wh: Warehouse) -> dict:
    reviews = wh.table("human_reviews")
    reviewed = wh.query("reviewed_critiques")
    kappas = pairwise_kappa(latest_verdicts(reviews))
    teacher = teacher_human_agreement(reviewed)
    defined = [k["kappa"] for k in kappas if k["kappa"] is not None]
    metadata = {
        "human_review_versions": reviews.height,
        "records_with_human_verdict": teacher["human_judged"],
        "annotators": reviews["annotator"].n_unique() if reviews.height else 0,
        "teacher_human_agreement": MetadataValue.float(teacher["agreement"]) if teacher["agreement"] is not None
        else MetadataValue.text("n/a (no human verdict on a parsed teacher verdict yet)"),
        "teacher_verdicts_overridden": teacher["overridden"],
        "mean_pairwise_kappa": MetadataValue.float(sum(defined) / len(defined)) if defined
        else MetadataValue.text("n/a (no two annotators overlap on 2+ records)"),
    }
    if kappas:
        metadata["cohen_kappa_by_pair"] = MetadataValue.md(markdown_table(pl.DataFrame(kappas)))
    return metadata
