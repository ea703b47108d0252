"""Blocking data checks: Great Expectations suites (one Dagster check per expectation) and SQL checks.

A failing blocking check stops every downstream asset in the same run.
"""

from collections.abc import Callable

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from dagster_project.resources import QualityGatesResource, WarehouseResource
from sinternal_assets.reporting import markdown_table
from sinternal_assets.storage.warehouse import Warehouse
from sinternal_assets.validation import suites
from sinternal_assets.validation.gx_suites import Expectation, run_suite

SuiteBuilder = Callable[[dict, QualityGatesResource], list[Expectation]]

# Check names must not depend on data, so they are read from a suite built with placeholder values.
PLACEHOLDER_VALUES = {"categories": ["benign"], "families": ["none"]}

GX_SUITES: dict[str, tuple[str, SuiteBuilder]] = {
    # asset -> (table validated, suite builder over data-derived values and the gates)
    "prompt_sources": (
        "source_prompts",
        lambda v, g: suites.source_prompts_suite(v["categories"], g.max_prompt_chars),
    ),
    "prompt_pool": (
        "prompt_pool",
        lambda v, g: suites.prompt_pool_suite(v["categories"], g.max_prompt_chars, g.min_pool_rows),
    ),
    "attacked_prompts": (
        "attacked_prompts",
        lambda v, g: suites.attacked_prompts_suite(v["families"], v["categories"]),
    ),
    "policy_answers": ("policy_answers", lambda v, g: suites.policy_answers_suite()),
    "expert_critiques": ("expert_critiques", lambda v, g: suites.expert_critiques_suite()),
    "reviewed_critiques": ("reviewed_critiques", lambda v, g: suites.reviewed_critiques_suite()),
    "verification_examples": (
        "verification_examples",
        lambda v, g: suites.verification_examples_suite(g.max_example_input_chars, g.max_example_target_chars),
    ),
    "eval_set": ("eval_items", lambda v, g: suites.eval_items_suite(v["categories"])),
    "judge_benchmarks": ("human_labels", lambda v, g: suites.human_labels_suite()),
}


def _values(wh: Warehouse) -> dict:
    from sinternal_assets.sources.assets import current_spec

    return {
        "categories": current_spec(wh)[1],
        "families": wh.query("attack_family_names")["family"].to_list(),
    }


def gx_check(asset_name: str, table: str, builder: SuiteBuilder):
    key = AssetKey(asset_name)
    names = [e.name for e in builder(PLACEHOLDER_VALUES, QualityGatesResource())]

    @multi_asset_check(
        name=f"gx_{asset_name}",
        specs=[
            AssetCheckSpec(name, asset=key, blocking=True, description=f"Great Expectations: {name} on {table}")
            for name in names
        ],
        description=f"Great Expectations suite on table {table}",
    )
    def _check(context: AssetCheckExecutionContext, warehouse: WarehouseResource, gates: QualityGatesResource):
        wh = warehouse.get()
        expectations = builder(_values(wh), gates)
        frame = wh.table(table).to_pandas()
        outcomes = run_suite(frame, f"{table}_suite", expectations)
        failed = [o.expectation.name for o in outcomes if not o.success]
        context.log.info(
            f"GX on {table}: {len(outcomes) - len(failed)}/{len(outcomes)} expectations passed"
            + (f"; failed: {failed}" if failed else "")
        )
        for outcome in outcomes:
            yield AssetCheckResult(
                asset_key=key,
                check_name=outcome.expectation.name,
                passed=outcome.success,
                severity=AssetCheckSeverity.ERROR,
                metadata={
                    "expectation": MetadataValue.json(outcome.expectation.kwargs),
                    "observed": MetadataValue.json(outcome.observed),
                    "rows": len(frame),
                },
            )

    return _check


ParamsFn = Callable[[QualityGatesResource], dict]

SQL_CHECKS: list[tuple[str, str, ParamsFn | None]] = [
    ("prompt_pool", "check_prompt_pool_nonempty_text", None),
    ("prompt_pool", "check_prompt_pool_valid_labels", None),
    ("prompt_pool", "check_prompt_pool_valid_categories", None),
    ("prompt_pool", "check_prompt_pool_unique_ids", None),
    ("prompt_pool", "check_prompt_pool_no_leakage", None),
    (
        "prompt_pool",
        "check_prompt_pool_class_balance",
        lambda g: {"min_harmful": g.min_harmful_share, "max_harmful": g.max_harmful_share},
    ),
    ("attacked_prompts", "check_attacked_prompts_slots_filled", None),
    ("attacked_prompts", "check_attacked_prompts_heldout_not_in_train", None),
    ("attacked_prompts", "check_attacked_prompts_integrity", None),
    ("policy_answers", "check_policy_answers_integrity", None),
    ("expert_critiques", "check_expert_critiques_integrity", None),
    ("reviewed_critiques", "check_reviewed_critiques_integrity", None),
    ("verification_examples", "check_verification_examples_no_duplicate_inputs", None),
    ("verification_examples", "check_verification_examples_heldout_absent", None),
    ("verification_examples", "check_verification_examples_no_leakage", None),
    (
        "verification_examples",
        "check_verification_examples_label_balance",
        lambda g: {"min_safe_share": g.min_safe_share, "max_safe_share": g.max_safe_share},
    ),
    ("eval_set", "check_eval_items_from_eval_split", None),
    ("eval_set", "check_eval_items_not_in_train", None),
    ("judge_benchmarks", "check_human_labels_truth", None),
    ("judged_results", "check_judged_results_complete", None),
]


def sql_check(asset_name: str, query: str, params: ParamsFn | None):
    @asset_check(
        asset=AssetKey(asset_name),
        name=query.removeprefix("check_"),
        blocking=True,
        description=f"SQL check sql/queries/{query}.sql: passes when it returns no rows",
    )
    def _check(warehouse: WarehouseResource, gates: QualityGatesResource) -> AssetCheckResult:
        violations = warehouse.get().query(query, **(params(gates) if params else {}))
        return AssetCheckResult(
            passed=violations.is_empty(),
            severity=AssetCheckSeverity.ERROR,
            metadata={"violations": violations.height, "sample": MetadataValue.md(markdown_table(violations, 10))},
        )

    return _check


def all_checks() -> list:
    return [gx_check(asset, table, builder) for asset, (table, builder) in GX_SUITES.items()] + [
        sql_check(asset, query, params) for asset, query, params in SQL_CHECKS
    ]
