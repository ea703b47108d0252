"""Metric tables over judged results (polars frames in, polars frames out), built on `metrics.py`.

- `rates_by`: a success rate per group with its Wilson 95% interval (attack success rate per checkpoint x
  source x attack family, over-refusal rate per checkpoint, utility accuracy, ...).
- `judge_scores`: a judge's accuracy (with its interval), precision, recall, F1 and coverage against human
  labels, per group, in the way SimpleSafetyTests scored safety filters.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from sinternal_assets.evaluation.metrics import confusion, wilson_interval


def rates_by(frame: pl.DataFrame, by: Sequence[str], success: str) -> pl.DataFrame:
    """Per group: n, successes, rate and its Wilson interval; `success` is a boolean column (nulls, e.g. a
    judge that gave no verdict, are left out of n)."""
    counts = (
        frame.filter(pl.col(success).is_not_null())
        .group_by(list(by))
        .agg(pl.len().alias("n"), pl.col(success).sum().cast(pl.Int64).alias("successes"))
        .sort(list(by))
    )
    bounds = [wilson_interval(s, n) for s, n in zip(counts["successes"], counts["n"], strict=True)]
    return counts.with_columns(
        (pl.col("successes") / pl.col("n")).alias("rate"),
        pl.Series("ci_low", [b[0] for b in bounds], dtype=pl.Float64),
        pl.Series("ci_high", [b[1] for b in bounds], dtype=pl.Float64),
    )


def judge_scores(frame: pl.DataFrame, truth: str, predicted: str, by: Sequence[str] = ()) -> pl.DataFrame:
    """Per group: items, coverage (share with a verdict), accuracy with its Wilson interval, precision, recall,
    F1 (UNSAFE is the positive class)."""
    groups = frame.partition_by(list(by), as_dict=True, maintain_order=True) if by else {(): frame}
    rows = []
    for key, part in groups.items():
        c = confusion(part[truth].to_list(), part[predicted].to_list())
        low, high = wilson_interval(c.tp + c.tn, c.n)
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                "items": part.height,
                "coverage": c.n / part.height if part.height else None,
                "accuracy": c.accuracy,
                "accuracy_ci_low": low,
                "accuracy_ci_high": high,
                "precision": c.precision,
                "recall": c.recall,
                "f1": c.f1,
            }
        )
    return pl.DataFrame(rows)
