"""Build the prompt pool: one schema, deduplicated, deterministically split with no near-duplicate leakage."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from sinternal_assets.prompts.hashing_sql import sha256_prefix, unit_interval
from sinternal_assets.prompts.normalize import group_key_expr, norm_key_expr

INPUT_COLUMNS = ("text", "label", "category", "source_category", "source_record", "source", "licence")
POOL_COLUMNS = (
    "prompt_id",
    "text",
    "label",
    "category",
    "source_category",
    "source",
    "source_record",
    "licence",
    "split",
    "norm_key",
    "group_key",
    "n_chars",
    "n_merged",
    "merged_sources",
)


@dataclass(frozen=True)
class PoolStats:
    n_raw: int
    n_exact_duplicates: int
    n_normalised_duplicates: int
    n_label_conflicts: int
    n_groups: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def split_of(group_keys: pl.Series, eval_fraction: float, seed: int) -> pl.Series:
    """'eval' or 'train' per group key, from sha256(f"{seed}:{key}") (stable across versions and machines,
    unlike Python's or polars' own hash): eval when its first 8 bytes / 2**64 < eval_fraction."""
    position = unit_interval(group_keys, f"{seed}:")
    return (
        pl.select(pl.when(position < eval_fraction).then(pl.lit("eval")).otherwise(pl.lit("train")))
        .to_series()
        .rename(group_keys.name)
    )


def build_pool(
    raw: pl.DataFrame, *, eval_fraction: float = 0.2, seed: int = 0, source_priority: list[str] | None = None
) -> tuple[pl.DataFrame, PoolStats]:
    """Deduplicate and split raw prompt records.

    - exact duplicates (same text) and normalised duplicates (same `norm_key`) are merged into one row;
      the row kept comes from the highest-priority source, its label is `harmful` if any merged record
      was harmful (a conflict is counted), and the merged sources are listed;
    - the split is decided per near-duplicate group, so near-duplicates never straddle train/eval.
    """
    missing = [c for c in INPUT_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"build_pool: input lacks columns {missing}")
    if not 0.0 <= eval_fraction <= 1.0:
        raise ValueError(f"eval_fraction must be within [0, 1], got {eval_fraction}")
    priority = {name: i for i, name in enumerate(source_priority or [])}
    frame = (
        raw.select(INPUT_COLUMNS)
        .with_row_index("_order")
        .with_columns(
            pl.col("text").str.strip_chars(),
            pl.col("source").replace_strict(priority, default=len(priority), return_dtype=pl.Int64).alias("_prio"),
        )
        .with_columns(norm_key_expr().alias("norm_key"))
        .filter(pl.col("norm_key").str.len_chars() > 0)
        .sort(["_prio", "_order"])
    )
    n_raw = raw.height
    merged_plan = (
        frame.lazy()
        .group_by("norm_key", maintain_order=True)
        .agg(
            pl.all().first(),
            pl.len().alias("n_merged"),
            (pl.col("label") == "harmful").any().alias("_any_harmful"),
            (pl.col("label").n_unique() > 1).alias("_conflict"),
            pl.col("source").unique(maintain_order=True).str.join(",").alias("merged_sources"),
        )
    )
    # A text that any source calls harmful stays harmful; its category must then be a harm category.
    harm_category = (
        frame.lazy()
        .filter(pl.col("label") == "harmful")
        .group_by("norm_key")
        .agg(pl.col("category").first().alias("_harm_category"))
    )
    merged_plan = (
        merged_plan.join(harm_category, on="norm_key", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_any_harmful")).then(pl.lit("harmful")).otherwise(pl.col("label")).alias("label"),
            pl.when(pl.col("_any_harmful"))
            .then(pl.col("_harm_category"))
            .otherwise(pl.col("category"))
            .alias("category"),
        )
        .with_columns(group_key_expr().alias("group_key"))
        .with_columns(
            pl.when(pl.col("group_key") == "")
            .then(pl.col("norm_key"))
            .otherwise(pl.col("group_key"))
            .alias("group_key")
        )
    )
    # Independent plans run in parallel.
    merged, unique_texts = pl.collect_all([merged_plan, frame.lazy().select(pl.col("text").n_unique())])
    n_exact = frame.height - unique_texts.item()
    merged = merged.with_columns(sha256_prefix(merged["text"], 16).alias("prompt_id"))
    groups = merged.select("group_key").unique()
    groups = groups.with_columns(split_of(groups["group_key"], eval_fraction, seed).alias("split"))
    pool = (
        merged.join(groups, on="group_key", how="left")
        .with_columns(
            pl.col("text").str.len_chars().cast(pl.Int32).alias("n_chars"),
            pl.col("n_merged").cast(pl.Int32),
        )
        .sort("_order")
        .select(POOL_COLUMNS)
    )
    stats = PoolStats(
        n_raw=n_raw,
        n_exact_duplicates=n_exact,
        n_normalised_duplicates=frame.height - merged.height - n_exact,
        n_label_conflicts=int(merged["_conflict"].sum()),
        n_groups=groups.height,
    )
    return pool, stats
