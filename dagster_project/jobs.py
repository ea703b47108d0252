"""Jobs. `embedded_default` materializes every asset (and runs every check) on the local default."""

from dagster import AssetSelection, define_asset_job

# The embedded teacher (135M parameters) parses few verdicts and gives nearly one verdict to everything, so
# on its small CPU slice the paper's contrastive filter finds no harmful prompt with both verdicts. The
# embedded run therefore keeps every decided answer and adds the judged reference answers (human-curated
# labels), so the verifier sees both verdicts. A real teacher and slice use the asset defaults (the paper's).
EMBEDDED_RUN_CONFIG = {"ops": {"verification_examples": {"config": {"contrastive": False,
                                                                     "include_reference_answers": True}}}}

embedded_default = define_asset_job(
    "embedded_default",
    selection=AssetSelection.all(),
    config=EMBEDDED_RUN_CONFIG,
    description="Every asset of the pipeline, end to end, on the embedded default (CPU, small model, local DuckDB).",
)
