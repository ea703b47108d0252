"""Dagster asset of the `prompts` group: the deduplicated, split prompt pool."""

import time

import polars as pl
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from sinternal_assets.hashing import sha256_text
from sinternal_assets.prompts.pool import build_pool
from sinternal_assets.prompts.sources import BUILTIN_SOURCES
from sinternal_assets.reporting import markdown_table
from sinternal_assets.sources.assets import prompt_sources
from sinternal_assets.sources.lookup import current_spec
from sinternal_assets.storage.resources import WarehouseResource


class PromptPoolConfig(Config):
    eval_fraction: float = Field(default=0.2, ge=0.0, le=1.0, description="share of near-duplicate groups in eval")
    seed: int = Field(default=0, description="split seed; the split is a stable hash of (seed, group)")


@asset(
    group_name="prompts",
    deps=[prompt_sources],
    compute_kind="polars",
    description="Harmful and benign prompts in one schema: content-hash ids, spec categories, deduplicated "
    "(exact and normalised), deterministic train/eval split by near-duplicate group.",
)
def prompt_pool(
    context: AssetExecutionContext, config: PromptPoolConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    started = time.perf_counter()
    wh = warehouse.get()
    spec_hash, _ = current_spec(wh)
    raw = wh.table("source_prompts")
    if raw.is_empty():
        raise RuntimeError("source_prompts is empty: materialize `prompt_sources` first")
    priority = [s.name for s in BUILTIN_SOURCES]
    pool, stats = build_pool(raw, eval_fraction=config.eval_fraction, seed=config.seed, source_priority=priority)
    pool = pool.with_columns(pl.lit(spec_hash).alias("spec_hash"))
    wh.write(replace={"prompt_pool": pool})
    summary = pool.group_by("label", "split").len().sort("label", "split")
    seconds = time.perf_counter() - started
    context.log.info(
        f"prompt_pool: {pool.height} prompts from {stats.n_raw} raw records in {seconds:.1f}s "
        f"({stats.n_exact_duplicates} exact + {stats.n_normalised_duplicates} normalised duplicates merged)"
    )
    return MaterializeResult(
        metadata={
            "n_prompts": pool.height,
            "n_harmful": int((pool["label"] == "harmful").sum()),
            "n_benign": int((pool["label"] == "benign").sum()),
            "n_sources": pool["source"].n_unique(),
            **stats.as_dict(),
            "content_hash": sha256_text("\n".join(sorted(pool["prompt_id"].to_list()))),
            "spec_hash": spec_hash,
            "label_split": MetadataValue.md(markdown_table(summary)),
            "categories": MetadataValue.md(
                markdown_table(pool.group_by("category", "label").len().sort("len", descending=True))
            ),
            "seconds": round(seconds, 2),
        }
    )
