"""The checks of the code location: every stage's `CHECKS`, declared next to its assets in
`sinternal_assets/<stage>/checks.py`, collected with Dagster's loader (no central registry)."""

from dagster import load_asset_checks_from_modules

from dagster_project.stages import stage_modules


def all_checks() -> list:
    return list(load_asset_checks_from_modules(stage_modules("checks")))
