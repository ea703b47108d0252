"""Agreement between annotators (Cohen's kappa) and between the teacher and the humans."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import polars as pl


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two raters over the same items; None when it is undefined (no items, or both raters
    used one and the same label for everything, so chance agreement is 1)."""
    if len(a) != len(b):
        raise ValueError(f"raters rated different numbers of items: {len(a)} vs {len(b)}")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in set(count_a) | set(count_b)) / (n * n)
    if expected == 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def latest_verdicts(reviews: pl.DataFrame) -> pl.DataFrame:
    """Each annotator's latest submitted verdict per record (record_id, annotator, verdict)."""
    if reviews.is_empty():
        return pl.DataFrame(schema={"record_id": pl.String, "annotator": pl.String, "verdict": pl.String})
    return (
        reviews.sort("response_updated_at")
        .group_by(["record_id", "annotator_id"], maintain_order=True)
        .last()
        .filter((pl.col("status") == "submitted") & pl.col("verdict").is_not_null())
        .select("record_id", "annotator", "verdict")
    )


def pairwise_kappa(verdicts: pl.DataFrame, min_overlap: int = 2) -> list[dict]:
    """Cohen's kappa for every pair of annotators who judged at least `min_overlap` records in common."""
    by_annotator = {
        name: dict(zip(group["record_id"], group["verdict"], strict=True))
        for (name,), group in verdicts.group_by(["annotator"])
    }
    results = []
    for first, second in combinations(sorted(by_annotator), 2):
        shared = sorted(set(by_annotator[first]) & set(by_annotator[second]))
        if len(shared) < min_overlap:
            continue
        kappa = cohen_kappa([by_annotator[first][r] for r in shared], [by_annotator[second][r] for r in shared])
        results.append({"annotator_a": first, "annotator_b": second, "overlap": len(shared), "kappa": kappa})
    return results


def review_agreement(reviews: pl.DataFrame, reviewed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """For the report: Cohen's kappa per pair of annotators with its overlap (the n behind it), and one row of
    counts: annotators, records with a human verdict, of them decided by a majority, and disputed (annotators
    disagree with no majority). `reviews` is `human_reviews`, `reviewed` the curated critiques."""
    kappa_schema = {"annotator_a": pl.String, "annotator_b": pl.String, "overlap": pl.Int64, "kappa": pl.Float64}
    kappas = pl.DataFrame(pairwise_kappa(latest_verdicts(reviews)), schema=kappa_schema)
    annotated = reviewed.filter(pl.col("n_annotators") > 0) if reviewed.height else reviewed
    disputes = pl.DataFrame(
        {
            "annotators": [reviews["annotator"].n_unique() if reviews.height else 0],
            "annotated_records": [annotated.height],
            "majority": [int((annotated["verdict_source"] == "human").sum()) if annotated.height else 0],
            "disputed": [int((annotated["verdict_source"] == "disputed").sum()) if annotated.height else 0],
        },
        schema={"annotators": pl.Int64, "annotated_records": pl.Int64, "majority": pl.Int64, "disputed": pl.Int64},
    )
    return kappas, disputes


def teacher_human_agreement(reviewed: pl.DataFrame) -> dict:
    """How often the teacher's verdict matches the human majority, over records with a human verdict."""
    judged = reviewed.filter(pl.col("verdict_source") == "human")
    parsed = judged.filter(pl.col("teacher_verdict").is_not_null())
    agree = int((parsed["teacher_verdict"] == parsed["human_verdict"]).sum()) if parsed.height else 0
    return {
        "human_judged": judged.height,
        "teacher_parsed": parsed.height,
        "teacher_agrees": agree,
        "agreement": agree / parsed.height if parsed.height else None,
        "overridden": parsed.height - agree + (judged.height - parsed.height),
    }
