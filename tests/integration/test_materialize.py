"""The whole foundation graph against the real artifacts, a temporary DuckDB and the real checks."""

import polars as pl
import pytest

from sinternal_assets.storage.warehouse import Warehouse
from sinternal_assets.training.formats import verifier_messages
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
    # the pinned artifacts give exactly these figures (the README states them)
    assert pool.height == 2716
    assert (pool["label"] == "harmful").sum() == 2356
    assert (pool["label"] == "benign").sum() == 360
    assert pool["source"].n_unique() == 7
    sources = wh.table("prompt_sources")
    assert sources.filter(pl.col("kind") != "jailbreak_templates")["source"].n_unique() == 7
    assert sources["licence"].is_in(["MIT", "Apache-2.0"]).all()
    assert (sources["sha256"].str.len_chars() == 64).all()
    spec_hash = wh.query("current_spec")["spec_hash"][0]
    assert (pool["spec_hash"] == spec_hash).all()


def test_attack_families_and_heldout_isolation(materialized):
    db, _ = materialized
    wh = Warehouse(db)
    families = wh.table("attack_families")
    assert families.height == 11  # `none` + 5 train-side + 5 held-out (README)
    assert families.filter(pl.col("role") == "heldout").height == 5
    attacked = wh.table("attacked_prompts")
    assert attacked.height == 8148
    assert attacked.filter((pl.col("family_role") == "heldout") & (pl.col("split") == "train")).is_empty()
    assert set(attacked["family"]) == set(families["family"])
    pool_ids = set(wh.table("prompt_pool")["prompt_id"])
    assert set(attacked.filter(pl.col("family") == "none")["prompt_id"]) == pool_ids


@pytest.mark.parametrize("mode", ["compact", "full"])
def test_verifier_input_does_not_reveal_the_prompt_label(materialized, mode):
    """A benign and a harmful item reach the verifier with the same spec context: their inputs differ only in
    the prompt and the answer (a category-picked rule would tell the verifier the label)."""
    wh = Warehouse(materialized[0])
    contexts = wh.query("spec_contexts", spec_context=mode)
    assert contexts["spec_text"].n_unique() == 1 and contexts.height > 2
    prompts = wh.query("grpo_prompts", spec_context=mode, max_prompts=40)
    benign = prompts.filter(pl.col("label") == "benign").row(0, named=True)
    harmful = prompts.filter(pl.col("label") == "harmful").row(0, named=True)
    assert benign["spec_text"] == harmful["spec_text"] == contexts["spec_text"][0]
    answer = "Here is a short answer."
    benign_input = verifier_messages(benign["spec_text"], benign["prompt_text"], answer)
    harmful_input = verifier_messages(harmful["spec_text"], benign["prompt_text"], answer)
    assert benign_input == harmful_input  # same prompt and answer: nothing else differs
    spec = wh.query("current_spec")
    if mode == "full":
        assert benign["spec_text"] == spec["rendered_text"][0]
    else:
        assert "Harm categories: Violence and physical harm; Chemical" in benign["spec_text"]
        assert "No harm category" not in benign["spec_text"]


def test_bring_your_own_eval_file_never_scores_train_prompts(materialized, tmp_path):
    """A bring-your-own eval file that repeats train-split prompts of the pool (ingested for training too): those
    items are dropped and counted per source (or the set refused), and the blocking check holds."""
    import csv
    import shutil

    db = tmp_path / "w.duckdb"
    shutil.copy(materialized[0], db)
    wh = Warehouse(db)
    train = wh.sql(
        "SELECT text FROM prompt_pool WHERE split = 'train' AND label = 'benign' ORDER BY prompt_id LIMIT 3"
    )["text"].to_list()
    path = tmp_path / "byo.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "category"])
        for text in train:
            writer.writerow([text.upper() + "!", "benign", "benign"])  # normalised duplicates of train prompts
        writer.writerow(["Which zebra-striped submarine sings opera in Antarctica tonight?", "benign", "benign"])
    eval_config = {
        "families": ["none"],
        "harmful_per_family": 2,
        "max_benign": 2,
        "n_math": 1,
        "user_files": [{"path": str(path), "source": "byo"}],
    }
    result = run(db, selection="eval_set", run_config={"ops": {"eval_set": {"config": eval_config}}})
    meta = result.asset_materializations_for_node("eval_set")[0].metadata
    assert meta["dropped_train_overlap"].value == {"byo": 3}
    items = wh.table("eval_items")
    assert items.filter(pl.col("kind") == "benign")["base_text"].str.contains("zebra").sum() == 1
    assert not any(t.upper() + "!" in items["base_text"].to_list() for t in train)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["eval_items_not_in_train"] is True
    refused = run(
        db,
        selection="eval_set",
        raise_on_error=False,
        run_config={"ops": {"eval_set": {"config": {**eval_config, "train_overlap": "refuse"}}}},
    )
    assert not refused.success
    failure = next(e for e in refused.all_events if e.event_type_value == "STEP_FAILURE")
    assert "3 eval item(s) share a near-duplicate group with train-split prompts" in str(
        failure.event_specific_data.error
    )
    assert wh.table("eval_items").equals(items)  # refused: nothing written


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
    result = run(
        db,
        selection="safety_spec,prompt_sources,prompt_pool,attacked_prompts",
        run_config=config,
        raise_on_error=False,
    )
    assert not result.success
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert "prompt_pool_class_balance" in failed
    assert result.asset_materializations_for_node("attacked_prompts") == []
    assert Warehouse(db).count("attacked_prompts") == 0
