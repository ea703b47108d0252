"""Blocking data checks, as factories each stage uses to declare its checks next to its assets (in its
`checks.py`): a Great Expectations suite (one Dagster check per expectation) or a SQL query (passes when it returns
no rows). A failing blocking check stops every downstream asset in the same run."""

from collections.abc import Callable

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetsDefinition,
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from sinternal_assets.reporting import markdown_table
from sinternal_assets.storage.resources import WarehouseResource
from sinternal_assets.storage.warehouse import Warehouse
from sinternal_assets.validation.gx_suites import Expectation, run_suite
from sinternal_assets.validation.resources import QualityGatesResource

SuiteBuilder = Callable[[dict, QualityGatesResource], list[Expectation]]

# Check names must not depend on data, so they are read from a suite built with placeholder values.
PLACEHOLDER_VALUES = {"categories": ["benign"], "families": ["none"]}


def _values(wh: Warehouse) -> dict:
    """The data-derived values suites are built over: the spec's categories and the attack families."""
    from sinternal_assets.sources.lookup import current_spec

    return {
        "categories": current_spec(wh)[1],
        "families": wh.query("attack_family_names")["family"].to_list(),
    }


def gx_check(asset: AssetsDefinition, table: str, builder: SuiteBuilder):
    """One Dagster check per expectation of `builder`'s suite, run on `table` after `asset` materializes."""
    key = asset.key
    asset_name = key.to_user_string()
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


def sql_check(asset: AssetsDefinition, query: str, params: ParamsFn | None = None):
    """The check `query` (sql/queries/<query>.sql; `params` reads its bounds from the gates) on `asset`."""

    @asset_check(
        asset=asset,
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
