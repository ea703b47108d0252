"""The evaluation set: what every checkpoint answers.

Four kinds of item, all from the eval split (never trained on): harmful prompts, plain and wrapped in attack
families (train-side and held-out, reported apart); benign prompts (over-refusal); math problems with an exact
answer (utility); and any bring-your-own file, which reports as its own source. Each item carries the spec
context a judge reads with it: the same text for every item (`spec_contexts.sql`), so that the context never
tells a judge the item's label; an item of a category the spec does not define is an error.
"""

from __future__ import annotations

import polars as pl

from sinternal_assets.hashing import content_id
from sinternal_assets.prompts.normalize import group_key_expr, norm_key_expr
from sinternal_assets.tasks.arithmetic import math_tasks

ITEM_SCHEMA = {
    "item_id": pl.String,
    "kind": pl.String,
    "source": pl.String,
    "family": pl.String,
    "family_role": pl.String,
    "category": pl.String,
    "prompt_text": pl.String,
    "base_text": pl.String,
    "reference_answer": pl.String,
}
KINDS = ("harmful", "benign", "utility")


def math_items(n: int, seed: int = 0) -> pl.DataFrame:
    """`n` generated math problems (utility), benign by category."""
    rows = [
        {
            "item_id": task.task_id,
            "kind": "utility",
            "source": f"arithmetic(seed={seed})",
            "family": "math",
            "family_role": "none",
            "category": "benign",
            "prompt_text": task.question,
            "base_text": task.question,
            "reference_answer": task.answer,
        }
        for task in math_tasks(n, seed)
    ]
    return pl.DataFrame(rows, schema=ITEM_SCHEMA)


def user_items(raw: pl.DataFrame) -> pl.DataFrame:
    """Items from bring-your-own files (rows as `prompts.ingest.read_user_files` returns them): plain prompts
    under the file's own source name, harmful or benign by its label."""
    if raw.is_empty():
        return pl.DataFrame(schema=ITEM_SCHEMA)
    return raw.select(
        pl.struct("source", "text")
        .map_elements(lambda r: "user-" + content_id(r["source"], r["text"]), return_dtype=pl.String)
        .alias("item_id"),
        pl.col("label").alias("kind"),
        "source",
        pl.lit("none").alias("family"),
        pl.lit("none").alias("family_role"),
        "category",
        pl.col("text").alias("prompt_text"),
        pl.col("text").alias("base_text"),
        pl.lit(None, dtype=pl.String).alias("reference_answer"),
    ).unique("item_id", keep="first", maintain_order=True)


def with_spec_context(items: pl.DataFrame, contexts: pl.DataFrame) -> pl.DataFrame:
    """Attach each item's spec context (`contexts`: category_id, spec_hash, spec_text; as `spec_contexts.sql`
    returns it). An item whose category the spec does not define is an error that names it."""
    known = contexts.filter(pl.col("category_id").is_not_null())
    missing = items.join(known, left_on="category", right_on="category_id", how="anti")
    if not missing.is_empty():
        first = missing.row(0, named=True)
        raise ValueError(
            f"eval item {first['item_id']} (source {first['source']}) has category {first['category']!r}, "
            f"which the current safety spec does not define; known: {sorted(known['category_id'])}"
        )
    return items.join(
        known.select(pl.col("category_id").alias("category"), "spec_text", "spec_hash"), on="category", how="left"
    )


def with_group_keys(items: pl.DataFrame) -> pl.DataFrame:
    """Each item's near-duplicate group (of its base text), computed exactly as `prompt_pool` computes it."""
    keyed = items.with_columns(norm_key_expr("base_text").alias("_norm")).with_columns(
        group_key_expr("_norm").alias("group_key")
    )
    return keyed.with_columns(
        pl.when(pl.col("group_key") == "").then(pl.col("_norm")).otherwise(pl.col("group_key")).alias("group_key")
    ).drop("_norm")


class TrainOverlapError(ValueError):
    """Eval items are (near-)duplicates of prompts the models train on."""


def remove_train_overlap(
    items: pl.DataFrame, train_group_keys: pl.Series, policy: str = "drop"
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The items whose near-duplicate group holds no train-split prompt, and the count dropped per source.
    `policy` 'refuse' raises instead, naming each source, its count and a few examples: an evaluation must never
    score what was trained on (a bring-your-own file can repeat prompts that were also ingested for training)."""
    if policy not in ("drop", "refuse"):
        raise ValueError(f"train overlap policy must be 'drop' or 'refuse', got {policy!r}")
    overlap = pl.col("group_key").is_in(train_group_keys.implode())
    dropped = items.filter(overlap)
    counts = dict(dropped.group_by("source").len().sort("source").rows())
    if counts and policy == "refuse":
        details = "; ".join(
            f"{source}: {n} item(s), e.g. {dropped.filter(pl.col('source') == source)['base_text'][0][:60]!r}"
            for source, n in counts.items()
        )
        raise TrainOverlapError(
            f"{dropped.height} eval item(s) share a near-duplicate group with train-split prompts "
            f"of the pool ({details}); remove them from the file or set train_overlap: drop"
        )
    return items.filter(~overlap), counts


def build_eval_items(
    candidates: pl.DataFrame, n_math: int, math_seed: int, user: pl.DataFrame | None, contexts: pl.DataFrame
) -> pl.DataFrame:
    """Every item of the evaluation, unique by item_id, with its spec context."""
    if "reference_answer" not in candidates.columns:  # prompts have no exact answer
        candidates = candidates.with_columns(pl.lit(None, dtype=pl.String).alias("reference_answer"))
    parts = [candidates.select(list(ITEM_SCHEMA)).cast(ITEM_SCHEMA), math_items(n_math, math_seed)]
    if user is not None:
        parts.append(user_items(user))
    items = pl.concat(parts).unique("item_id", keep="first", maintain_order=True)
    bad = items.filter(~pl.col("kind").is_in(KINDS))
    if not bad.is_empty():
        raise ValueError(
            f"eval item {bad['item_id'][0]} from {bad['source'][0]} has kind {bad['kind'][0]!r}; "
            f"expected one of {KINDS}"
        )
    return with_group_keys(with_spec_context(items, contexts))
