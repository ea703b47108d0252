"""The data of the linear probes: the probe-fit set, and the feature matrices from stored hidden states.

The probes are FIT on the teacher_train side of PyRIT's human-labelled safety sets (the side the offline expert
teacher learns from, `human_labels.with_label_split`) and MEASURED on the held-out side (the judges' `human_labels`
table). `probe_fit_set` picks the fit side: safety items only (truth_unsafe known), non-empty responses, up to `n`
per benchmark as class-balanced as the set allows (`human_labels.balanced_slice`). `feature_sets` turns
`probe_features.sql` rows into one (fit, held-out) pair of matrices per checkpoint and layer group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sinternal_assets.evaluation.human_labels import balanced_slice

PROBE_FIT_SCHEMA = {
    "label_id": pl.String,
    "benchmark": pl.String,
    "task": pl.String,
    "prompt_text": pl.String,
    "response_text": pl.String,
    "target": pl.String,
    "prompt_label": pl.String,
    "truth_unsafe": pl.Boolean,
    "spec_text": pl.String,
}
FIT, HELDOUT = "fit", "heldout"


def probe_fit_set(split: pl.DataFrame, benchmarks: list[str], n: int, spec_text: str) -> pl.DataFrame:
    """The `probe_fit_labels` table: from `with_label_split` rows, the teacher_train side's safety items of
    `benchmarks`, at most `n` per benchmark, class-balanced; each read with `spec_text` like the held-out labels."""
    frame = split.filter(
        (pl.col("label_split") == "teacher_train")
        & (pl.col("task") == "safety")
        & pl.col("benchmark").is_in(benchmarks)
        & pl.col("truth_unsafe").is_not_null()
        & (pl.col("response_text").str.strip_chars() != "")
    )
    frame = balanced_slice(frame, "truth_unsafe", n)
    return frame.select(
        "label_id",
        "benchmark",
        "task",
        "prompt_text",
        "response_text",
        pl.lit("final_answer").alias("target"),
        pl.lit(None, dtype=pl.String).alias("prompt_label"),
        "truth_unsafe",
        pl.lit(spec_text).alias("spec_text"),
    ).cast(PROBE_FIT_SCHEMA)


@dataclass(frozen=True)
class FeatureSet:
    """One checkpoint's features of one layer group: fit side and held-out side (rows = items, in label_id order)."""

    checkpoint: str
    layer_group: str
    layers: str
    fit_x: np.ndarray
    fit_y: np.ndarray
    heldout_ids: list[str]
    heldout_x: np.ndarray
    heldout_y: np.ndarray


def feature_sets(rows: pl.DataFrame, judge_prefix: str) -> list[FeatureSet]:
    """Per (checkpoint, layer group) of `probe_features.sql` rows (judge `<judge_prefix><checkpoint>`), its fit and
    held-out matrices; groups of the same name cut differently (`layers`) are separate sets."""
    out = []
    if rows.is_empty():
        return out
    keys = rows.select("judge", "layer_group", "layers").unique(maintain_order=True)
    for judge, group, layers in keys.iter_rows():
        part = rows.filter(
            (pl.col("judge") == judge) & (pl.col("layer_group") == group) & (pl.col("layers") == layers)
        ).sort("side", "label_id")
        fit, held = part.filter(pl.col("side") == FIT), part.filter(pl.col("side") == HELDOUT)
        out.append(
            FeatureSet(
                judge.removeprefix(judge_prefix),
                group,
                layers,
                _matrix(fit["state"]),
                fit["truth_unsafe"].to_numpy().astype(bool),
                held["label_id"].to_list(),
                _matrix(held["state"]),
                held["truth_unsafe"].to_numpy().astype(bool),
            )
        )
    return out


def _matrix(states: pl.Series) -> np.ndarray:
    if states.is_empty():
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(states.to_list(), dtype=np.float32)
