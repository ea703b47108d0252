"""The study's run configuration (dagster_project/run_configs/study.yaml) on a tiny slice, so it cannot rot: both
configurations, `study` (the core) then `study_extra` (the other methods and the ablations) on the same warehouse,
materialize their assets with the study's own settings, only its sizes cut down, against the real small model,
DuckDB and Argilla; the second trains only its own checkpoints; and every checkpoint, the core's included, is
evaluated: its forced-choice verdicts on the held-out human labels, and the offline expert's measured accuracy."""

import copy

import polars as pl
import pytest
from dagster import AssetsDefinition

from dagster_project.budgets import SFT_ASSETS, with_matched_budgets
from dagster_project.definitions import ASSETS, config_for
from dagster_project.jobs import STUDY_EXTRA_SELECTION, STUDY_RUN_CONFIG, STUDY_SELECTION, load_run_config
from dagster_project.resources import ArgillaResource
from sinternal_assets.storage.warehouse import Warehouse
from sinternal_assets.training.assets import CHECKPOINT_ASSETS
from tests.integration.helpers import run

# only sizes change; every other setting is the study's
TINY_SIZES = {
    "prompt_sources": {"max_per_source": 30},
    "policy_answers": {"max_prompts": 4, "sampling": {"n": 2, "max_new_tokens": 8}},
    "expert_critiques": {"max_reference_answers": 4},
    "eval_set": {"harmful_per_family": 1, "max_benign": 1, "n_math": 1},
    "judge_benchmarks": {"max_per_benchmark": 2, "probe_fit_per_benchmark": 2},
    "eval_generations": {"sampling": {"max_new_tokens": 8}},
}
TINY_BUDGETS = {
    "sft": {"max_steps": 1, "batch_size": 1, "grad_accum": 1, "max_length": 640},
    "grpo": {"num_generations": 2, "prompts_per_step": 1, "max_prompts": 2, "max_completion_length": 8},
    "grpo_steps": 1,
}


def _merge(base: dict, update: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def tiny_study_config() -> dict:
    ops = copy.deepcopy(load_run_config("study")["ops"])
    for name, sizes in TINY_SIZES.items():
        ops.setdefault(name, {"config": {}})
        ops[name]["config"] = _merge(ops[name].get("config", {}), sizes)
    # 4 prompts x 2 short answers hold no contrastive pair: curate as the embedded slice does (every decided
    # answer plus the judged reference answers)
    ops["verification_examples"]["config"].update(contrastive=False, include_reference_answers=True)
    return with_matched_budgets({"ops": ops}, TINY_BUDGETS["sft"], TINY_BUDGETS["grpo"], TINY_BUDGETS["grpo_steps"])


def _selected(selection) -> list[str]:
    return sorted(
        key.to_user_string() for key in selection.resolve([a for a in ASSETS if isinstance(a, AssetsDefinition)])
    )


def test_both_study_configurations_run_every_asset_with_the_study_yaml(tmp_path, argilla_service):
    assert STUDY_RUN_CONFIG == load_run_config("study")
    assert all(name in STUDY_RUN_CONFIG["ops"] for name in SFT_ASSETS)  # the ablations share the budget
    db = tmp_path / "warehouse.duckdb"
    argilla = ArgillaResource(api_url=argilla_service.url, dataset_name="study_tiny")
    tiny = tiny_study_config()
    core = run(db, _selected(STUDY_SELECTION), config_for(tiny, STUDY_SELECTION), extra_resources={"argilla": argilla})
    assert core.success
    wh = Warehouse(db)
    core_trained = wh.table("checkpoints").select("asset", "checkpoint_id")
    assert set(core_trained["asset"].to_list()) == {"refusal_sft", "verifier_sft", "verifier_grpo"}
    extra = run(
        db,
        _selected(STUDY_EXTRA_SELECTION),
        config_for(tiny, STUDY_EXTRA_SELECTION),
        extra_resources={"argilla": argilla},
    )
    assert extra.success
    checkpoints = wh.table("checkpoints")
    trained = set(checkpoints["asset"].to_list())
    assert trained == {a.key.path[-1] for a in CHECKPOINT_ASSETS}
    # the core's checkpoints were not trained again
    assert (
        checkpoints.filter(pl.col("asset").is_in(core_trained["asset"]))
        .select("asset", "checkpoint_id")
        .sort("asset")
        .equals(core_trained.sort("asset"))
    )
    # the teacher is the offline expert, measured on held-out human labels it never learned from
    expert = wh.table("offline_experts")
    assert expert.height == 1 and expert["heldout_n"][0] >= 200 and 0.5 < expert["heldout_accuracy"][0] <= 1.0
    critiques = wh.table("expert_critiques")
    assert critiques["parse_ok"].all() and (critiques["backend"] == "offline_expert").all()
    assert critiques["critique"].n_unique() > 1  # written from each answer, never one fixed string
    # every checkpoint judged the held-out human labels with a verdict for every item (forced choice)
    labels = wh.query("judged_labels")
    as_verifier = labels.filter(pl.col("judge").str.starts_with("ckpt:"))
    judges = set(as_verifier["judge"].unique().to_list())
    assert {j.removeprefix("ckpt:") for j in judges} == trained | {"base"}
    assert as_verifier["score_unsafe"].null_count() == 0


@pytest.mark.parametrize("name", ["policy_answers", "eval_set", "judged_results", "verification_examples"])
def test_the_tiny_slice_only_cuts_sizes(name):
    study, tiny = load_run_config("study")["ops"][name]["config"], tiny_study_config()["ops"][name]["config"]
    curation = {"contrastive", "include_reference_answers"} if name == "verification_examples" else set()
    cut = set(TINY_SIZES.get(name, {})) | curation
    assert {k: v for k, v in tiny.items() if k not in cut} == {k: v for k, v in study.items() if k not in cut}
