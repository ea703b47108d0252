"""The one `Definitions` of the sinternal code location, built for the run profile (SINTERNAL_PROFILE: local | gpu;
see dagster_project/profiles.py)."""

from dagster import (AssetsDefinition, AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus,
                     Definitions)

from dagster_project.checks import all_checks
from dagster_project.jobs import RETRAINING_GROUPS, embedded_default, ingest_prompts, retraining_job
from dagster_project.profiles import Profile, load_profile
from dagster_project.schedules import make_weekly_retraining
from dagster_project.sensors import annotation_sensor, make_prompt_inbox_sensor
from sinternal_assets.attacks.assets import attacked_prompts
from sinternal_assets.curation.assets import verification_examples
from sinternal_assets.evaluation.assets import (eval_generations, eval_set, evaluation_report, judge_benchmarks,
                                                judged_results)
from sinternal_assets.generation.assets import expert_critiques, policy_answers
from sinternal_assets.models.assets import base_model
from sinternal_assets.prompts.assets import prompt_pool
from sinternal_assets.review.assets import critique_review, human_reviews, reviewed_critiques
from sinternal_assets.sources.assets import prompt_sources, reference_answers, safety_spec
from sinternal_assets.training.assets import (alphaalign_grpo, alttrain_sft, refusal_sft, somf_fusion, verifier_grpo,
                                              verifier_sft)

ASSETS = [safety_spec, prompt_sources, reference_answers, prompt_pool, attacked_prompts, base_model, policy_answers,
          expert_critiques, critique_review, human_reviews, reviewed_critiques, verification_examples, verifier_sft,
          verifier_grpo, refusal_sft, alttrain_sft, alphaalign_grpo, somf_fusion, eval_set, judge_benchmarks,
          eval_generations, judged_results, evaluation_report]

# Evaluates the assets' automation conditions (curation and evaluation follow new reviews and checkpoints).
automation_sensor = AutomationConditionSensorDefinition(
    "automation_sensor", target=AssetSelection.groups("curation", "evaluation"),
    default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=60)


def _retraining_config(run_config: dict) -> dict:
    """The profile's run config restricted to the assets the retraining job selects."""
    names = {key.to_user_string() for a in ASSETS if isinstance(a, AssetsDefinition)
             for key, group in a.group_names_by_key.items() if group in RETRAINING_GROUPS}
    return {"ops": {op: value for op, value in run_config.get("ops", {}).items() if op in names}}


def build_definitions(profile: Profile) -> Definitions:
    retraining = retraining_job(_retraining_config(profile.run_config))
    return Definitions(
        assets=ASSETS,
        asset_checks=all_checks(),
        jobs=[embedded_default, retraining, ingest_prompts],
        schedules=[make_weekly_retraining(retraining)],
        sensors=[annotation_sensor, make_prompt_inbox_sensor(ingest_prompts), automation_sensor],
        resources=profile.resources,
        executor=profile.executor,
    )


PROFILE = load_profile()
defs = build_definitions(PROFILE)
