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

For the linear probes, each checkpoint acting as a verifier also forced-chooses the probe-fit set (the
teacher_train side of the human labels, subject `probe_fit`: never a judge metric, whose queries read subjects
`label` and `label_cut` of `human_labels` only), and its forced-choice pass on the full-length labelled items
returns the hidden states at the verdict position (`STATE_SUBJECTS`). A judgement whose states are wanted but
not stored is computed again even when cached; its chunk writes the states beside its cache rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from sinternal_assets.evaluation.judges import JudgeOutcome, JudgeRequest, judgement_key
from sinternal_assets.evaluation.results import CHECKPOINT_JUDGE_PREFIX  # a checkpoint as verifier: ckpt:<name>
from sinternal_assets.generation.reasoning import shown_answer
from sinternal_assets.models.layer_groups import GROUP_NAMES, LayerGroup
from sinternal_assets.storage.warehouse import utc_now

VERIFIER_PREFERENCE = ("verifier_grpo", "verifier_sft")  # the `verifier` judge when none is configured
PROBE_FIT = "probe_fit"  # the subject of the probe-fit set's judgements (never a judge metric)
STATE_SUBJECTS = ("label", PROBE_FIT)  # whose hidden states the checkpoints' forced-choice passes return
PROBE_STATE_KEY = ("judgement_id", "layer_group", "layers")
PROBE_STATE_SCHEMA = {
    "judgement_id": pl.String,
    "layer_group": pl.String,
    "layers": pl.String,
    "state": pl.List(pl.Float32),
    "created_at": pl.Datetime("us"),
}
JUDGED_RESULTS_SCHEMA = {
    "subject": pl.String,
    "subject_id": pl.String,
    "judge": pl.String,
    "target": pl.String,
    "judgement_id": pl.String,
}


@dataclass(frozen=True)
class Task:
    subject: str  # generation | label | label_cut (the labelled answer cut to the eval token budget) | probe_fit
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


def probe_fit_tasks(probe_fit: pl.DataFrame, judges: Judges) -> list[Task]:
    """Every checkpoint acting as a verifier forced-chooses every `probe_fit_labels` row (subject `probe_fit`), so
    that its hidden states there are collected to fit the probes."""
    return [
        Task(
            PROBE_FIT,
            h["label_id"],
            judge,
            JudgeRequest(h["spec_text"], h["prompt_text"], h["response_text"], h["target"], h["prompt_label"]),
        )
        for h in probe_fit.iter_rows(named=True)
        for judge in judges.verifiers
    ]


def wants_states(task: Task, judges: Judges) -> bool:
    """Whether the probes read this task's hidden states: a checkpoint verifier's full-length labelled items."""
    return task.subject in STATE_SUBJECTS and task.judge in judges.verifiers and task.request.target == "final_answer"


@dataclass(frozen=True)
class Missing:
    """The judgements one judge identity still owes: computed under the first judge name that has it."""

    judge: str
    requests: dict[str, JudgeRequest]  # judgement key -> request
    uncached: set[str] = field(default_factory=set)  # keys with no judge_cache row yet (the rest: states only)
    states: set[str] = field(default_factory=set)  # keys whose hidden states to collect and store


def plan(
    tasks: Sequence[Task],
    identities: Mapping[str, str],
    cached: set[str],
    with_states: Callable[[Task], bool] | None = None,
    stored_states: set[str] = frozenset(),
) -> tuple[list[tuple[Task, str]], list[Missing]]:
    """Each task with its judgement key, and per judge identity the requests still owed (one run per identity: two
    names that share one identity share its judgements): those not in the cache yet, and those `with_states`
    wants hidden states for whose key is not in `stored_states`."""
    keyed = [(task, judgement_key(identities[task.judge], task.request)) for task in tasks]
    missing: dict[str, Missing] = {}
    for task, key in keyed:
        need_states = with_states is not None and with_states(task) and key not in stored_states
        if key not in cached or need_states:
            owed = missing.setdefault(identities[task.judge], Missing(task.judge, {}))
            owed.requests[key] = task.request
            if key not in cached:
                owed.uncached.add(key)
            if need_states:
                owed.states.add(key)
    return keyed, list(missing.values())


def state_rows(keys: Sequence[str], states: Sequence[Mapping[str, Any]], groups: Sequence[LayerGroup]) -> list[dict]:
    """The `probe_states` rows of judged keys: per key and layer group, its feature vector (float32)."""
    created = utc_now()
    return [
        {
            "judgement_id": key,
            "layer_group": group.name,
            "layers": group.layers,
            "state": [float(v) for v in state[group.name]],
            "created_at": created,
        }
        for key, state in zip(keys, states, strict=True)
        for group in groups
    ]


def stored_state_keys(stored: pl.DataFrame, names: Sequence[str] = GROUP_NAMES) -> set[str]:
    """The judgements (`probe_state_ids.sql` rows) whose states are stored for every layer group name (a
    judgement's identity holds its model, so its groups' blocks never change)."""
    have: dict[str, set[str]] = {}
    for key, name in stored.select("judgement_id", "layer_group").iter_rows():
        have.setdefault(key, set()).add(name)
    return {key for key, found in have.items() if set(names) <= found}


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


@dataclass(frozen=True)
class KeyRows:
    """What one computed judgement writes: its `judge_cache` row (None when already cached) and its
    `probe_states` rows (empty when its states were not wanted)."""

    cache: dict[str, Any] | None
    states: list[dict[str, Any]]


def chunk_rows(
    judge,
    keys: Sequence[str],
    work: Missing,
    outcomes: Sequence[JudgeOutcome],
    states: Sequence[Mapping[str, Any]] | None,
    groups: Sequence[LayerGroup],
) -> list[KeyRows]:
    """Per computed key: the cache row when it was not cached, the state rows when its states were wanted (and
    `states` holds them, one mapping per key)."""
    cache = cache_rows(judge, keys, work.requests, outcomes)
    out = []
    for i, key in enumerate(keys):
        wanted = states is not None and key in work.states
        out.append(
            KeyRows(
                cache[i] if key in work.uncached else None,
                state_rows([key], [states[i]], groups) if wanted else [],
            )
        )
    return out


def split_rows(rows: Sequence[KeyRows]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `judge_cache` rows and the `probe_states` rows of a chunk."""
    return [r.cache for r in rows if r.cache is not None], [s for r in rows for s in r.states]


def owed_keys(judge, work: Missing) -> tuple[list[str], tuple[LayerGroup, ...]]:
    """What a judge computes of `work`, and the layer groups whose states it collects: everything owed when it can
    collect states (`ModelJudge.can_collect_states`), else only the uncached judgements (no groups)."""
    if getattr(judge, "can_collect_states", False):
        return list(work.requests), tuple(judge.backend.layer_groups()) if work.states else ()
    return [k for k in work.requests if k in work.uncached], ()


def judge_chunk(judge, work: Missing, chunk: Sequence[str], groups: Sequence[LayerGroup]) -> tuple[list[KeyRows], int]:
    """Judge one chunk of owed keys: with `groups` and a key whose states are wanted, verdicts and states come from
    one forced-choice pass (`ModelJudge.judge_with_states`); the rows to write and the completion tokens."""
    requests = [work.requests[k] for k in chunk]
    states = None
    if groups and work.states.intersection(chunk):
        outcomes, states = judge.judge_with_states(requests)
    else:
        outcomes = judge.judge(requests)
    return chunk_rows(judge, chunk, work, outcomes, states, groups), sum(o.completion_tokens for o in outcomes)
