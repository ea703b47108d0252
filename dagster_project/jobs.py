"""Jobs. `embedded_default` materializes every asset (and runs every check) on the local default."""

from dagster import AssetSelection, define_asset_job

embedded_default = define_asset_job(
    "embedded_default",
    selection=AssetSelection.all(),
    description="Every asset of the pipeline, end to end, on the embedded default (CPU, small model, local DuckDB).",
)
