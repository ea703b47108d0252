"""The whole foundation graph against the real artifacts, a temporary DuckDB and the real checks."""

import polars as pl
import pytest

from sinternal_assets.storage.warehouse import Warehouse
from tests.integration.helpers import run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    db = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    result = run(db, selection="safety_spec,prompt_sources,prompt_pool,attacked_prompts")
    return db, result


def test_run_succeeds_and_every_check_passes(materialized):
    _db, result = materialized
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 30
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
    assert failed == []


def test_pool_has_the_promised_scale_and_provenance(materialized):
    db, _ = materialized
    wh = Warehouse(db)
    pool = wh.table("prompt_pool")
    assert (pool["label"] == "harmful").sum() >= 2000
    assert (pool["label"] == "benign").sum() >= 200
    assert pool["source"].n_unique() >= 5
    sources = wh.table("prompt_sources")
    assert sources.filter(pl.col("kind") != "jailbreak_templates")["source"].n_unique() >= 5
    assert sources["licence"].is_in(["MIT", "Apache-2.0"]).all()
    assert (sources["sha256"].str.len_chars() == 64).all()
    spec_hash = wh.query("current_spec")["spec_hash"][0]
    assert (pool["spec_hash"] == spec_hash).all()


def test_attack_families_and_heldout_isolation(materialized):
    db, _ = materialized
    wh = Warehouse(db)
    families = wh.table("attack_families")
    assert families.filter(pl.col("family") != "none").height >= 6
    assert families.filter(pl.col("role") == "heldout").height >= 2
    attacked = wh.table("attacked_prompts")
    assert attacked.filter((pl.col("family_role") == "heldout") & (pl.col("split") == "train")).is_empty()
    assert set(attacked["family"]) == set(families["family"])
    pool_ids = set(wh.table("prompt_pool")["prompt_id"])
    assert set(attacked.filter(pl.col("family") == "none")["prompt_id"]) == pool_ids


def test_rematerializing_is_idempotent(materialized, tmp_path):
    db, _ = materialized
    before = Warehouse(db).table("attacked_prompts").sort("attack_id")
    result = run(db, selection="prompt_pool,attacked_prompts")
    assert result.success
    assert Warehouse(db).table("attacked_prompts").sort("attack_id").equals(before)


def test_a_failing_blocking_check_stops_downstream(tmp_path):
    db = tmp_path / "wh.duckdb"
    # A benign-only slice violates the class-balance bounds: prompt_pool's blocking check fails,
    # so attacked_prompts must not run.
    config = {"ops": {"prompt_sources": {"config": {"sources": ["rho_overrefusal"]}}}}
    result = run(db, selection="safety_spec,prompt_sources,prompt_pool,attacked_prompts", run_config=config,
                 raise_on_error=False)
    assert not result.success
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert "prompt_pool_class_balance" in failed
    assert result.asset_materializations_for_node("attacked_prompts") == []
    assert Warehouse(db).count("attacked_prompts") == 0
