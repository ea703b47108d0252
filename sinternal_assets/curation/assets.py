"""Dagster asset of the `curation` group: the verifier's examples (SInternal's contrastive filter)."""

import polars as pl
from dagster import AssetExecutionContext, AutomationCondition, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from dagster_project.resources import WarehouseResource
from sinternal_assets.attacks.assets import attacked_prompts
from sinternal_assets.curation.contrastive import FilterPolicy, examples_table, select_examples
from sinternal_assets.reporting import markdown_table
from sinternal_assets.review.assets import reviewed_critiques


class VerificationExamplesConfig(Config):
    contrastive: bool = Field(default=True, description="harmful prompts give examples only when their answers got "
                                                        "both verdicts (the paper's filter)")
    harmful_per_verdict: int = Field(default=1, ge=1, description="examples per verdict per harmful prompt")
    benign_per_prompt: int = Field(default=1, ge=1, description="examples per benign prompt")
    target: str = Field(default="final_answer", description="which judged part of the answers: final_answer | "
                                                            "reasoning")
    include_reference_answers: bool = Field(default=False, description="also learn from the judged reference answers "
                                            "(other models' answers with human-curated labels; training split only)")
    spec_context: str = Field(default="category", description="what of the spec the verifier reads: `full` (the "
                                                              "whole rendered spec, as the paper) or `category` (its "
                                                              "summary and the prompt's category rule: shorter)")


# eager: a new human review (reviewed_critiques, requested by the annotation sensor) re-curates at once
@asset(group_name="curation", deps=[reviewed_critiques, attacked_prompts], compute_kind="duckdb",
       automation_condition=AutomationCondition.eager(),
       description="Verification examples (spec + prompt + answer -> critique + verdict) by SInternal's contrastive "
                   "filter; human verdicts override the teacher's; undecided verdicts and held-out attack families "
                   "excluded and counted; split by prompt with no near-duplicate across splits.")
def verification_examples(context: AssetExecutionContext, config: VerificationExamplesConfig,
                          warehouse: WarehouseResource) -> MaterializeResult:
    if config.spec_context not in ("full", "category"):
        raise ValueError(f"spec_context must be 'full' or 'category', got {config.spec_context!r}")
    wh = warehouse.get()
    candidates = wh.query("verification_candidates", target=config.target, spec_context=config.spec_context,
                          include_reference=config.include_reference_answers)
    result = select_examples(candidates, FilterPolicy(config.contrastive, config.harmful_per_verdict,
                                                      config.benign_per_prompt))
    table = examples_table(result.examples)
    wh.write(replace={"verification_examples": table})
    counts = table.group_by("split", "label", "final_verdict").len().sort("split", "label", "final_verdict")
    excluded = pl.DataFrame({"reason": list(result.excluded), "critiques": list(result.excluded.values())})
    context.log.info(f"verification_examples: {table.height} examples from {candidates.height} judged answers; "
                     f"excluded {result.excluded}")
    return MaterializeResult(metadata={
        "examples": table.height, "candidates": candidates.height,
        "train_examples": int((table["split"] == "train").sum()), "eval_examples": int((table["split"] == "eval").sum()),
        "human_verdicts": int((table["verdict_source"] == "human").sum()),
        "reference_examples": int((table["verdict_source"] == "reference").sum()),
        "unparsed_excluded": result.excluded["unparsed_verdict"],
        "by_split_label_verdict": MetadataValue.md(markdown_table(counts)),
        "excluded": MetadataValue.md(markdown_table(excluded)),
        "filter": MetadataValue.json(config.model_dump()),
    })
