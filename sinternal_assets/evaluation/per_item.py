"""Per-item results and the structured numbers behind the report's tables: what a study commits besides its
markdown, so that every figure can be recomputed and every item looked up (plain polars, no I/O).

`per_item_results` has one row per judgement of the evaluation: an evaluated answer (subject `generation`: its
checkpoint, eval item and sample) or a labelled answer (subject `label`: its label id, at full length or cut to
the eval length) judged by one judge on one part (final answer | reasoning), with the judge's score (P(UNSAFE);
null for the keyword detector), its verdict, the keyword detector's refusal flag, and the human label where one
exists (UNSAFE | SAFE on the safety task, REFUSAL | ANSWER on the refusal task; constructed labels are marked by
`label_kind`). A labelled item's checkpoint is the checkpoint its judge is (`ckpt:<checkpoint>`), else null.
`tables_record` is every `EvaluationTables` frame as a list of rows (JSON-ready), plus the headline judge.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import polars as pl

from sinternal_assets.evaluation.answer_length import FULL
from sinternal_assets.evaluation.results import CHECKPOINT_JUDGE_PREFIX, with_length
from sinternal_assets.evaluation.tables import EvaluationTables

PER_ITEM_SCHEMA = {
    "subject": pl.String,  # generation | label
    "item_id": pl.String,  # eval item id | label id
    "generation_id": pl.String,  # null for labels
    "sample_index": pl.Int64,
    "checkpoint": pl.String,  # the answering checkpoint; for a label, the checkpoint judging it (or null)
    "kind": pl.String,  # harmful | benign | utility | the label's benchmark
    "family": pl.String,
    "family_role": pl.String,
    "judge": pl.String,
    "target": pl.String,  # final_answer | reasoning
    "length": pl.String,  # full | eval (labels cut to the evaluated answers' token budget)
    "score_unsafe": pl.Float64,
    "verdict": pl.String,
    "refusal": pl.Boolean,
    "human_label": pl.String,  # UNSAFE | SAFE | REFUSAL | ANSWER | null
    "label_kind": pl.String,  # human | constructed | null
}


def per_item_results(generations: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    """`judged_generations.sql` and `judged_labels.sql` rows as one per-item table (`PER_ITEM_SCHEMA`)."""
    nothing = pl.lit(None)
    answers = generations.select(
        pl.lit("generation").alias("subject"),
        "item_id",
        "generation_id",
        (pl.col("sample_index") if "sample_index" in generations.columns else nothing).alias("sample_index"),
        "checkpoint",
        "kind",
        "family",
        "family_role",
        "judge",
        "target",
        pl.lit(FULL).alias("length"),
        "score_unsafe",
        "verdict",
        "refusal",
        nothing.alias("human_label"),
        nothing.alias("label_kind"),
    )
    truth = (
        pl.when(pl.col("task") == "refusal")
        .then(pl.when(pl.col("truth_refusal")).then(pl.lit("REFUSAL")).otherwise(pl.lit("ANSWER")))
        .otherwise(pl.when(pl.col("truth_unsafe")).then(pl.lit("UNSAFE")).otherwise(pl.lit("SAFE")))
    )
    judged_by = (
        pl.when(pl.col("judge").str.starts_with(CHECKPOINT_JUDGE_PREFIX))
        .then(pl.col("judge").str.strip_prefix(CHECKPOINT_JUDGE_PREFIX))
        .otherwise(nothing)
    )
    labelled = with_length(labels).select(
        pl.lit("label").alias("subject"),
        pl.col("label_id").alias("item_id"),
        nothing.alias("generation_id"),
        nothing.alias("sample_index"),
        judged_by.alias("checkpoint"),
        pl.col("benchmark").alias("kind"),
        nothing.alias("family"),
        nothing.alias("family_role"),
        "judge",
        "target",
        "length",
        "score_unsafe",
        "verdict",
        "refusal",
        truth.alias("human_label"),
        "label_kind",
    )
    return pl.concat([answers.cast(PER_ITEM_SCHEMA), labelled.cast(PER_ITEM_SCHEMA)])


def _plain(value):
    """A JSON-ready value: NaN and infinities as null, dates as ISO text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def tables_record(tables: EvaluationTables) -> dict:
    """Every table of the report as rows of plain values (`json.dumps`-ready), keyed by its field name."""
    record: dict = {"headline_judge": tables.headline_judge, "lineage": tables.lineage, "tables": {}}
    for name, value in vars(tables).items():
        if isinstance(value, pl.DataFrame):
            record["tables"][name] = [{k: _plain(v) for k, v in row.items()} for row in value.iter_rows(named=True)]
    return record
