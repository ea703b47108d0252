"""What `judged_results` judges, by whom, and what is still missing from the judgement cache.

Every evaluated answer is judged by the keyword refusal detector on what a user is shown of it
(`reasoning.shown_answer`: the final answer, or the text itself when the reasoning block was never closed);
harmful ones also by each model judge (the teacher, the trained verifier), final answer and non-empty reasoning
apart. Every human-labelled item is judged by the keyword detector (final answers) and, for the safety sets, by
the model judges and by each checkpoint acting as a verifier; a labelled item that carries a `response_cut` (its
answer cut to the eval token budget, `answer_length.cut_to_tokens`) is judged by the same judges once more, as
subject `label_cut`, so every judge is measured at full length and at the length of the answers it judges. A
judgement is keyed by the judge's identity and the request's content, so judges that share an identity (the
`verifier` judge and its checkpoint) share one cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from sinternal_assets.evaluation.judges import JudgeOutcome, JudgeRequest, judgement_key
from sinternal_assets.evaluation.results import CHECKPOINT_JUDGE_PREFIX  # a checkpoint as verifier: ckpt:<name>
from sinternal_assets.generation.reasoning import shown_answer
from sinternal_assets.storage.warehouse import utc_now

VERIFIER_PREFERENCE = ("verifier_grpo", "verifier_sft")  # the `verifier` judge when none is configured
JUDGED_RESULTS_SCHEMA = {
    "subject": pl.String,
    "subject_id": pl.String,
    "judge": pl.String,
    "target": pl.String,
    "judgement_id": pl.String,
}


@dataclass(frozen=True)
class Task:
    subject: str  # generation | label | label_cut (the labelled answer cut to the eval token budget)
    subject_id: str  # generation_id | label_id
    judge: str  # keyword | teacher | verifier | ckpt:<checkpoint>
    request: JudgeRequest


@dataclass(frozen=True)
class Judges:
    """The judges of one evaluation, by name."""

    model_judges: tuple[str, ...]  # teacher and/or verifier: judge answers and labelled items
    verifiers: tuple[str, ...]  # ckpt:<checkpoint>: judge the labelled items only
    verifier_checkpoint: str  # the checkpoint the `verifier` judge is ('' when none)

    @property
    def names(self) -> tuple[str, ...]:
        return ("keyword", *self.model_judges, *self.verifiers)

    def checkpoint_of(self, name: str) -> str:
        """The checkpoint a checkpoint judge (`verifier` or `ckpt:<checkpoint>`) is."""
        return self.verifier_checkpoint if name == "verifier" else name.removeprefix(CHECKPOINT_JUDGE_PREFIX)


@dataclass(frozen=True)
class ModelSpec:
    """The model behind a model judge: what its identity is made of, and where to load it from."""

    model_id: str
    model_hash: str
    path: str
    few_shot: bool  # the teacher may read the worked example; checkpoints judge as they were trained
    is_teacher: bool  # loaded through the teacher's resource (its backend), not the evaluator's


def model_specs(
    judges: Judges, checkpoints: pl.DataFrame, teacher: tuple[str, str, str] | None, teacher_few_shot: bool
) -> dict[str, ModelSpec]:
    """The model of every model judge: `teacher` is (model id, hash, path) of an LLM teacher, None when the
    teacher is the offline expert (no model); checkpoint judges come from `eval_checkpoints.sql` rows."""
    by_name = {row["checkpoint"]: row for row in checkpoints.iter_rows(named=True)}
    specs = {}
    for name in (*judges.model_judges, *judges.verifiers):
        if name == "teacher":
            if teacher is not None:
                specs[name] = ModelSpec(*teacher, few_shot=teacher_few_shot, is_teacher=True)
            continue
        ckpt = by_name[judges.checkpoint_of(name)]
        specs[name] = ModelSpec(ckpt["checkpoint_id"], ckpt["model_hash"], ckpt["path"], False, False)
    return specs


def choose_judges(
    evaluated: Sequence[str], verifier: str, teacher_judge: bool, verifier_judge: bool, checkpoints_as_verifiers: bool
) -> Judges:
    """The judges of an evaluation of the `evaluated` checkpoints; `verifier` '' picks verifier_grpo when it was
    evaluated, else verifier_sft, else none. A configured verifier must have been evaluated."""
    if verifier and verifier not in evaluated:
        raise ValueError(f"judge `verifier` = {verifier!r} was not evaluated; evaluated: {sorted(evaluated)}")
    chosen = verifier or next((c for c in VERIFIER_PREFERENCE if c in evaluated), "")
    model_judges = (*(("teacher",) if teacher_judge else ()), *(("verifier",) if chosen and verifier_judge else ()))
    verifiers = tuple(f"{CHECKPOINT_JUDGE_PREFIX}{c}" for c in sorted(evaluated)) if checkpoints_as_verifiers else ()
    return Judges(model_judges, verifiers, chosen)


def judge_tasks(generations: pl.DataFrame, labels: pl.DataFrame, judges: Judges, judge_reasoning: bool) -> list[Task]:
    """Every (subject, judge, request) of the evaluation: `current_eval_generations.sql` rows and the
    `human_labels` table (with an optional `response_cut` column: where not null, the same judges judge that text
    too, as subject `label_cut`; a cut equal to the full answer shares its judgement through the cache key)."""
    tasks: list[Task] = []
    for g in generations.iter_rows(named=True):
        label = "harmful" if g["kind"] == "harmful" else "benign"
        # what a user is shown: the final answer, or the text itself when the reasoning was never closed
        answer = JudgeRequest(g["spec_text"], g["prompt_text"], shown_answer(g["raw_text"]), "final_answer", label)
        tasks.append(Task("generation", g["generation_id"], "keyword", answer))
        if g["kind"] != "harmful":
            continue  # model judges decide attack success; benign answers are scored by refusal and utility
        for judge in judges.model_judges:
            tasks.append(Task("generation", g["generation_id"], judge, answer))
            if judge_reasoning and g["reasoning"].strip():
                reasoning = JudgeRequest(g["spec_text"], g["prompt_text"], g["reasoning"], "reasoning", label)
                tasks.append(Task("generation", g["generation_id"], judge, reasoning))
    for h in labels.iter_rows(named=True):
        texts = [("label", h["response_text"])]
        if h.get("response_cut") is not None:
            texts.append(("label_cut", h["response_cut"]))
        for subject, text in texts:
            request = JudgeRequest(h["spec_text"], h["prompt_text"], text, h["target"], h["prompt_label"])
            if h["target"] == "final_answer":
                tasks.append(Task(subject, h["label_id"], "keyword", request))
            if h["task"] == "safety":
                tasks += [Task(subject, h["label_id"], j, request) for j in (*judges.model_judges, *judges.verifiers)]
    return tasks


@dataclass(frozen=True)
class Missing:
    """The judgements one judge identity still owes: computed under the first judge name that has it."""

    judge: str
    requests: dict[str, JudgeRequest]  # judgement key -> request


def plan(
    tasks: Sequence[Task], identities: Mapping[str, str], cached: set[str]
) -> tuple[list[tuple[Task, str]], list[Missing]]:
    """Each task with its judgement key, and per judge identity the requests not in the cache yet (one run per
    identity: two names that share one identity share its judgements)."""
    keyed = [(task, judgement_key(identities[task.judge], task.request)) for task in tasks]
    missing: dict[str, Missing] = {}
    for task, key in keyed:
        if key not in cached:
            identity = identities[task.judge]
            missing.setdefault(identity, Missing(task.judge, {})).requests[key] = task.request
    return keyed, list(missing.values())


def judged_results_frame(keyed: Sequence[tuple[Task, str]]) -> pl.DataFrame:
    """The `judged_results` table: which cached judgement answers which (subject, judge, target)."""
    rows = [
        {
            "subject": t.subject,
            "subject_id": t.subject_id,
            "judge": t.judge,
            "target": t.request.target,
            "judgement_id": key,
        }
        for t, key in keyed
    ]
    return pl.DataFrame(rows, schema=JUDGED_RESULTS_SCHEMA).unique(maintain_order=True)


def cache_rows(
    judge, keys: Sequence[str], requests: Mapping[str, JudgeRequest], outcomes: Sequence[JudgeOutcome]
) -> list[dict[str, Any]]:
    """The `judge_cache` rows of one judged chunk."""
    created = utc_now()
    return [
        {
            "judgement_id": key,
            "judge_kind": judge.kind,
            "judge_model_id": judge.model_id,
            "judge_hash": judge.identity,
            "target": requests[key].target,
            "verdict": o.verdict,
            "refusal": o.refusal,
            "score_unsafe": o.score_unsafe,
            "critique": o.critique,
            "raw_text": o.raw_text,
            "parse_ok": o.parse_ok,
            "completion_tokens": o.completion_tokens,
            "created_at": created,
        }
        for key, o in zip(keys, outcomes, strict=True)
    ]
