"""Dagster asset of the `curation` group: the verifier's examples (SInternal's contrastive filter)."""

from typing import Literal

import polars as pl
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from sinternal_assets.attacks.assets import attacked_prompts
from sinternal_assets.curation.contrastive import FilterPolicy, examples_table, select_examples
from sinternal_assets.reporting import markdown_table
from sinternal_assets.review.assets import reviewed_critiques
from sinternal_assets.sources.spec import DEFAULT_SPEC_CONTEXT, SpecContext
from sinternal_assets.storage.resources import WarehouseResource


class VerificationExamplesConfig(Config):
    contrastive: bool = Field(
        default=True,
        description="harmful prompts give examples only when their answers got both verdicts (the paper's filter)",
    )
    harmful_per_verdict: int = Field(default=1, ge=1, description="examples per verdict per harmful prompt")
    benign_per_prompt: int = Field(default=1, ge=1, description="examples per benign prompt")
    target: Literal["final_answer", "reasoning"] = Field(
        default="final_answer", description="which judged part of the answers"
    )
    include_reference_answers: bool = Field(
        default=False,
        description="also learn from the judged reference answers "
        "(other models' answers with human-curated labels; training split only)",
    )
    spec_context: SpecContext = Field(
        default=DEFAULT_SPEC_CONTEXT,
        description="what of the spec the verifier reads, "
        "the same for every example: `full` (the whole rendered spec, as the paper) or "
        "`compact` (its summary and the names of all harm categories: shorter)",
    )


# a new human review re-curates at once: the annotation sensor runs the review_followup job (profile config)
@asset(
    group_name="curation",
    deps=[reviewed_critiques, attacked_prompts],
    compute_kind="duckdb",
    description="Verification examples (spec + prompt + answer -> critique + verdict) by SInternal's contrastive "
    "filter; human verdicts override the teacher's; undecided verdicts and held-out attack families "
    "excluded and counted; split by prompt with no near-duplicate across splits.",
)
def verification_examples(
    context: AssetExecutionContext, config: VerificationExamplesConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    wh = warehouse.get()
    candidates = wh.query(
        "verification_candidates",
        target=config.target,
        spec_context=config.spec_context,
        include_reference=config.include_reference_answers,
    )
    result = select_examples(
        candidates, FilterPolicy(config.contrastive, config.harmful_per_verdict, config.benign_per_prompt)
    )
    table = examples_table(result.examples)
    wh.write(replace={"verification_examples": table})
    counts = table.group_by("split", "label", "final_verdict").len().sort("split", "label", "final_verdict")
    excluded = pl.DataFrame({"reason": list(result.excluded), "critiques": list(result.excluded.values())})
    context.log.info(
        f"verification_examples: {table.height} examples from {candidates.height} judged answers; "
        f"excluded {result.excluded}; {result.critiques_dropped} critiques contradicting their verdict "
        f"dropped (verdict-only)"
    )
    return MaterializeResult(
        metadata={
            "examples": table.height,
            "candidates": candidates.height,
            "train_examples": int((table["split"] == "train").sum()),
            "eval_examples": int((table["split"] == "eval").sum()),
            "human_verdicts": int((table["verdict_source"] == "human").sum()),
            "reference_examples": int((table["verdict_source"] == "reference").sum()),
            "unparsed_excluded": result.excluded["unparsed_verdict"],
            # a training target never argues against its verdict: such critiques are dropped (verdict-only example)
            "critiques_dropped_contradicting_verdict": result.critiques_dropped,
            "verdict_only_examples": int((table["critique"].str.strip_chars() == "").sum()),
            "by_split_label_verdict": MetadataValue.md(markdown_table(counts)),
            "excluded": MetadataValue.md(markdown_table(excluded)),
            "filter": MetadataValue.json(config.model_dump()),
        }
    )
