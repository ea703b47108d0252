"""Training rows of each method, built from warehouse frames (plain functions; the assets only query).

Only train-split prompts of train-side attack families are used; held-out families stay unseen.
"""

from __future__ import annotations

import polars as pl

from sinternal_assets.judging.refusal import is_refusal
from sinternal_assets.tasks.arithmetic import math_tasks
from sinternal_assets.training import formats


def _train_side(candidates: pl.DataFrame) -> pl.DataFrame:
    return candidates.filter((pl.col("split") == "train") & (pl.col("family_role") != "heldout"))


def verifier_rows(examples: pl.DataFrame, mode: str) -> list[dict]:
    """SInternal: the train split of `verification_examples`."""
    train = examples.filter(pl.col("split") == "train").sort("example_id")
    return [formats.verifier_example(row, mode) for row in train.iter_rows(named=True)]


def other_exp_rows(labelled: pl.DataFrame, spec_text: str, n: int, mode: str = "critique_and_verdict") -> list[dict]:
    """SInternal's Other-Exp ablation: verification examples on answers that are not the policy's own.

    `labelled` holds other models' answers with a verdict and a critique (prompt_text, response_text, label_id,
    final_verdict, critique: PyRIT's human-labelled responses on the teacher_train side, critiqued by the offline
    expert); `n` of them (the SInternal verifier's own example count), as evenly SAFE / UNSAFE as the set allows,
    first by label_id, each read with the same spec text the SInternal verifier reads."""
    from sinternal_assets.evaluation.human_labels import balanced_slice

    missing = [
        c for c in ("prompt_text", "response_text", "label_id", "final_verdict", "critique") if c not in labelled
    ]
    if missing:
        raise ValueError(f"other_exp_rows: missing column(s) {missing}; has {labelled.columns}")
    chosen = balanced_slice(
        labelled.with_columns(pl.col("final_verdict").eq("UNSAFE").alias("_unsafe"), pl.lit("all").alias("_all")),
        "_unsafe",
        n,
        by="_all",
    ).sort("label_id")
    return [
        formats.verifier_example(
            {
                "spec_text": spec_text,
                "prompt_text": row["prompt_text"],
                "final_answer": row["response_text"],
                "target": "final_answer",
                "critique": row["critique"],
                "final_verdict": row["final_verdict"],
            },
            mode,
        )
        for row in chosen.iter_rows(named=True)
    ]


def _one_per_prompt(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("attack_id", "critique_id").unique("attack_id", keep="first", maintain_order=True)


def _helpful_benign(candidates: pl.DataFrame) -> pl.DataFrame:
    """Benign prompts' answers judged SAFE that do not refuse: the only answers a baseline may imitate."""
    benign = _train_side(candidates).filter((pl.col("label") == "benign") & (pl.col("final_verdict") == "SAFE"))
    keep = [not is_refusal(answer) and bool(answer.strip()) for answer in benign["final_answer"].to_list()]
    return _one_per_prompt(benign.filter(pl.Series(keep, dtype=pl.Boolean)))


def _harmful_prompts(candidates: pl.DataFrame) -> pl.DataFrame:
    """Train-side harmful prompts (a refusal target needs no verdict on the policy's answers)."""
    return _one_per_prompt(_train_side(candidates).filter(pl.col("label") == "harmful"))


def refusal_rows(candidates: pl.DataFrame, with_reasoning: bool = True) -> list[dict]:
    """Refusal SFT (STAR-1 / SafeChain style): harmful prompts -> spec-citing refusals, benign prompts -> the
    policy's own safe, helpful answers."""
    rows = pl.concat([_harmful_prompts(candidates), _helpful_benign(candidates)]).sort("attack_id")
    return [formats.refusal_example(row, with_reasoning) for row in rows.iter_rows(named=True)]


def alttrain_rows(candidates: pl.DataFrame, max_benign_share: float = 0.1) -> list[dict]:
    """AltTrain: mostly harmful prompts (~900 of ~1k in the paper), benign ones capped at `max_benign_share`."""
    harmful, benign = _harmful_prompts(candidates), _helpful_benign(candidates)
    if max_benign_share < 1.0:
        cap = int(max_benign_share / (1.0 - max_benign_share) * harmful.height) if harmful.height else benign.height
        benign = benign.head(max(cap, 1 if benign.height else 0))
    rows = pl.concat([harmful, benign]).sort("attack_id")
    return [formats.alttrain_example(row) for row in rows.iter_rows(named=True)]


def safety_rows(candidates: pl.DataFrame) -> list[dict]:
    """SOMF's safety data: refusals on harmful prompts (the loss whose gradient marks the safety subspace)."""
    return [formats.refusal_example(row) for row in _harmful_prompts(candidates).iter_rows(named=True)]


def math_rows(n: int, seed: int) -> list[dict]:
    return [formats.math_example(task) for task in math_tasks(n, seed)]


# Both GRPO methods' format rewards require reasoning, then an answer (`rewards.format_ok`): every rollout is
# asked for that shape the same way, so a policy that does not reason by default can earn the reward at all.
REASONING_INSTRUCTION = (
    "Think the request through first, inside <think> and </think>, then write your final answer after </think>."
)


def _rollout_prompt(text: str) -> list[dict]:
    return [{"role": "system", "content": REASONING_INSTRUCTION}, {"role": "user", "content": text}]


def grpo_rows(prompts: pl.DataFrame, n_math: int = 0, math_seed: int = 0) -> list[dict]:
    """RL prompts with what the rewards read: the binary label, the rollout group, the spec context and the
    raw prompt (for the verifier), and a task answer on math rows. Each prompt asks for reasoning, then an
    answer (`REASONING_INSTRUCTION`), the shape the format rewards check."""
    rows = [
        {
            "prompt": _rollout_prompt(r["prompt_text"]),
            "label": r["label"],
            "group": r["attack_id"],
            "prompt_text": r["prompt_text"],
            "spec_text": r["spec_text"],
            "task_answer": "",
        }
        for r in prompts.iter_rows(named=True)
    ]
    if n_math:
        spec = prompts["spec_text"][0] if prompts.height else ""  # the same context for every prompt
        rows += [
            {
                "prompt": _rollout_prompt(t.question),
                "label": "benign",
                "group": t.task_id,
                "prompt_text": t.question,
                "spec_text": spec,
                "task_answer": t.answer,
            }
            for t in math_tasks(n_math, math_seed)
        ]
    return rows
