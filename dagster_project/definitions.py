"""The one `Definitions` of the sinternal code location."""

from dagster import Definitions, in_process_executor

from dagster_project.checks import all_checks
from dagster_project.jobs import embedded_default
from dagster_project.resources import default_resources
from dagster_project.sensors import annotation_sensor
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

defs = Definitions(
    assets=ASSETS,
    asset_checks=all_checks(),
    jobs=[embedded_default],
    sensors=[annotation_sensor],
    resources=default_resources(),
    # One process: steps here are short and the multiprocess executor costs ~3 s per step on 2 cores.
    executor=in_process_executor,
)
