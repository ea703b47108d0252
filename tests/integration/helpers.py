"""Materialize the real assets into a temporary DuckDB, with the real artifact cache."""

from pathlib import Path

import polars as pl
from dagster import materialize

from dagster_project.checks import all_checks
from dagster_project.definitions import ASSETS
from dagster_project.resources import (
    ArtifactStoreResource,
    GenerationResource,
    TrainingLauncherResource,
    WarehouseResource,
    default_resources,
)
from sinternal_assets.paths import cache_dir
from sinternal_assets.storage.warehouse import Warehouse

# The LLM teacher (the small model writing critiques, some unparseable). The embedded default's teacher is the
# offline expert (tests/integration/test_study_config.py, tests/unit/test_offline_expert.py); the tests of the LLM
# teacher's path (parsing, retries, few-shot, judge caching) run with this.
LLM_TEACHER = {"teacher": GenerationResource(backend="transformers")}

TABLES = (
    "safety_spec",
    "spec_categories",
    "prompt_sources",
    "source_prompts",
    "prompt_pool",
    "attack_families",
    "attacked_prompts",
    "models",
)


def resources(db: Path, cache: Path | None = None) -> dict:
    return {
        **default_resources(),
        "warehouse": WarehouseResource(path=str(db)),
        "artifacts": ArtifactStoreResource(cache_dir=str(cache or cache_dir())),
        "trainer": TrainingLauncherResource(checkpoint_root=str(Path(db).parent / "checkpoints")),
    }


def run(
    db: Path,
    selection: str | list[str] = "*",
    run_config: dict | None = None,
    cache: Path | None = None,
    raise_on_error: bool = True,
    extra_resources: dict | None = None,
    instance=None,
):
    if isinstance(selection, str) and "," in selection:
        selection = selection.split(",")
    return materialize(
        [*ASSETS, *all_checks()],
        selection=selection,
        resources={**resources(db, cache), **(extra_resources or {})},
        run_config=run_config or {},
        raise_on_error=raise_on_error,
        instance=instance,
    )


def snapshot(db: Path) -> dict[str, pl.DataFrame]:
    wh = Warehouse(db)
    return {t: wh.table(t) for t in TABLES}


def assert_same(before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame]) -> None:
    for table, frame in before.items():
        assert after[table].equals(frame), f"table {table} changed"
