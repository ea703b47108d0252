"""SInternal's contrastive filter: which judged answers become verification examples.

Per prompt as the policy saw it (one attacked prompt, N answers): a harmful prompt whose answers got both
verdicts gives `harmful_per_verdict` SAFE and as many UNSAFE examples (a prompt whose answers all got the
same verdict teaches the verifier nothing about the boundary and is dropped, unless `contrastive` is off);
a benign prompt gives `benign_per_prompt`. Within a verdict, human-decided examples come first, then the
teacher's most confident, then a stable hash order. Undecided verdicts (unparsed, human ties) and held-out
attack families never enter; each exclusion is counted. A critique that states a verdict other than the
example's final verdict (an annotator's corrected critique that ends in the other verdict) is dropped, and the
example teaches the verdict alone; each drop is counted too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from sinternal_assets.generation.verdict import parse_verdict

REQUIRED = (
    "critique_id",
    "attack_id",
    "prompt_id",
    "label",
    "split",
    "family",
    "family_role",
    "final_verdict",
    "verdict_source",
    "verdict_score",
)


@dataclass(frozen=True)
class FilterPolicy:
    contrastive: bool = True
    harmful_per_verdict: int = 1
    benign_per_prompt: int = 1


@dataclass
class FilterResult:
    examples: pl.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)
    critiques_dropped: int = 0  # selected examples whose critique contradicted their verdict (verdict-only now)


def consistent_critique(critique: str, verdict: str) -> str | None:
    """The critique as a training target for `verdict`: without its own verdict line when it has one that
    agrees, None when it states the other verdict (it argues against the label it would be trained on)."""
    parsed = parse_verdict(critique or "")
    if parsed.ok:
        return parsed.critique if parsed.verdict == verdict else None
    return critique


def select_examples(candidates: pl.DataFrame, policy: FilterPolicy = FilterPolicy()) -> FilterResult:
    missing = [c for c in REQUIRED if c not in candidates.columns]
    if missing:
        raise ValueError(f"verification candidates lack column(s) {missing}")
    excluded = {
        "heldout_family": int((candidates["family_role"] == "heldout").sum()),
        "unparsed_verdict": int(
            (candidates["final_verdict"].is_null() & (candidates["verdict_source"] != "disputed")).sum()
        ),
        # annotators tie and the teacher's verdict did not parse: no verdict until the disputed queue decides
        "disputed_no_verdict": int(
            (candidates["final_verdict"].is_null() & (candidates["verdict_source"] == "disputed")).sum()
        ),
    }
    usable = candidates.filter((pl.col("family_role") != "heldout") & pl.col("final_verdict").is_not_null())
    ranked = usable.with_columns(
        (pl.col("verdict_source") == "human").alias("_human"),
        pl.col("final_verdict").n_unique().over("attack_id").alias("_verdicts_in_group"),
    ).sort(
        ["attack_id", "final_verdict", "_human", "verdict_score", "critique_id"],
        descending=[False, False, True, True, False],
        nulls_last=True,
    )
    harmful = ranked.filter(pl.col("label") == "harmful")
    if policy.contrastive:
        excluded["harmful_single_verdict"] = int((harmful["_verdicts_in_group"] < 2).sum())
        harmful = harmful.filter(pl.col("_verdicts_in_group") >= 2)
    harmful = harmful.filter(pl.int_range(pl.len()).over(["attack_id", "final_verdict"]) < policy.harmful_per_verdict)
    benign = ranked.filter(pl.col("label") == "benign").sort(
        ["attack_id", "_human", "verdict_score", "critique_id"], descending=[False, True, True, False], nulls_last=True
    )
    benign = benign.filter(pl.int_range(pl.len()).over("attack_id") < policy.benign_per_prompt)
    selected = pl.concat([harmful, benign]).drop("_human", "_verdicts_in_group").sort("critique_id")
    excluded["not_selected"] = usable.height - selected.height - excluded.get("harmful_single_verdict", 0)
    if "critique" not in selected.columns:
        return FilterResult(selected, excluded)
    kept = [consistent_critique(c, v) for c, v in zip(selected["critique"], selected["final_verdict"], strict=True)]
    dropped = sum(k is None for k in kept)
    selected = selected.with_columns(pl.Series("critique", [k or "" for k in kept], dtype=pl.String))
    return FilterResult(selected, excluded, dropped)


EXAMPLE_COLUMNS = (
    "example_id",
    "answer_id",
    "attack_id",
    "prompt_id",
    "group_key",
    "split",
    "label",
    "category",
    "family",
    "family_role",
    "source",
    "target",
    "spec_text",
    "prompt_text",
    "final_answer",
    "critique",
    "final_verdict",
    "verdict_source",
    "verdict_score",
    "input_chars",
    "target_chars",
    "spec_hash",
)


def examples_table(selected: pl.DataFrame) -> pl.DataFrame:
    """The `verification_examples` rows of the selected candidates (lengths as the verifier sees them)."""
    return selected.with_columns(
        pl.col("critique_id").alias("example_id"),
        (
            pl.col("spec_text").str.len_chars()
            + pl.col("prompt_text").str.len_chars()
            + pl.col("final_answer").str.len_chars()
        )
        .cast(pl.Int32)
        .alias("input_chars"),
        (
            pl.col("critique").str.strip_chars().str.len_chars()
            + len("\nVERDICT: ")
            + pl.col("final_verdict").str.len_chars()
        )
        .cast(pl.Int32)
        .alias("target_chars"),
    ).select(EXAMPLE_COLUMNS)
