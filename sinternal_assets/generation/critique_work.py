"""The `expert_critiques` stage's work: which answers the teacher judges (keyed by content hash), how the
teacher in use judges a chunk of them, and the rows they become.

Two kinds of teacher judge the same items and write the same rows: the offline expert (a classifier with a
grounded critique, `judging.offline_expert`) and a configured LLM (critique + strict verdict, retried when it
does not parse). Either is a callable from a chunk of work items to judgements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sinternal_assets.generation import critique
from sinternal_assets.generation.backends.base import GenerationBackend
from sinternal_assets.generation.incremental import WorkItem
from sinternal_assets.generation.sampling import SamplingParams
from sinternal_assets.hashing import content_id
from sinternal_assets.storage.warehouse import utc_now

TeacherJudge = Callable[[list[WorkItem]], list[critique.Judgement]]


@dataclass(frozen=True)
class Teacher:
    """Who judges: the identity every critique row records (and its key is made of)."""

    teacher_id: str
    teacher_hash: str
    backend: str  # transformers | vllm | openai | offline_expert


def work_items(
    inputs: Iterable[dict[str, Any]],
    spec_text: str,
    spec_hash: str,
    teacher_hash: str,
    params: SamplingParams,
    few_shot: bool,
    targets: Sequence[str],
) -> list[WorkItem]:
    """One item per (answer, target) with text to judge (`critique_inputs.sql` rows); an empty reasoning (or an
    empty answer) has nothing to judge. The key is the content hash of everything the judgement depends on."""
    items = []
    for row in inputs:
        for target in targets:
            text = row[target]
            if not text.strip():
                continue
            key = content_id(row["answer_id"], target, teacher_hash, params.as_dict(), spec_hash, few_shot, length=32)
            items.append(
                WorkItem(
                    conversation=critique.teacher_messages(spec_text, row["prompt_text"], text, target, few_shot),
                    keys=(key,),
                    payload={
                        "answer_id": row["answer_id"],
                        "target": target,
                        "answer_source": row["answer_source"],
                        "reference": row["reference_verdict"],
                        "prompt": row["prompt_text"],
                        "prompt_label": row["prompt_label"],
                        "text": text,
                    },
                )
            )
    return items


def offline_teacher(expert) -> TeacherJudge:
    """The offline expert (`judging.offline_expert.OfflineExpert`) as a teacher: it reads the prompt, the text
    and the prompt's label; it writes no tokens."""

    def judge(chunk: list[WorkItem]) -> list[critique.Judgement]:
        payloads = [item.payload for item in chunk]
        verdicts = expert.judge(
            [p["prompt"] for p in payloads],
            [p["text"] for p in payloads],
            [p["target"] for p in payloads],
            [p["prompt_label"] for p in payloads],
        )
        return critique.expert_judgements(verdicts)

    return judge


def llm_teacher(backend: GenerationBackend, params: SamplingParams, max_attempts: int) -> TeacherJudge:
    """An LLM teacher: critique + strict verdict from the conversation, retried while it does not parse."""

    def judge(chunk: list[WorkItem]) -> list[critique.Judgement]:
        return critique.judge(backend, [item.conversation for item in chunk], params, max_attempts)

    return judge


def critique_rows(
    chunk: Sequence[WorkItem],
    judgements: Sequence[critique.Judgement],
    teacher: Teacher,
    params_json: str,
    spec_hash: str,
) -> list[dict[str, Any]]:
    """The `expert_critiques` rows of one judged chunk."""
    created = utc_now()
    return [
        {
            "critique_id": item.keys[0],
            "answer_id": item.payload["answer_id"],
            "target": item.payload["target"],
            "answer_source": item.payload["answer_source"],
            "reference_verdict": item.payload["reference"],
            "agrees_with_reference": (j.parsed.verdict == item.payload["reference"])
            if item.payload["reference"] and j.parsed.ok
            else None,
            "teacher_id": teacher.teacher_id,
            "teacher_hash": teacher.teacher_hash,
            "backend": teacher.backend,
            "params_json": params_json,
            "spec_hash": spec_hash,
            "raw_text": j.raw_text,
            "critique": j.parsed.critique,
            "verdict": j.parsed.verdict,
            "parse_ok": j.parsed.ok,
            "parse_reason": j.parsed.reason,
            "attempts": j.attempts,
            "prompt_tokens": j.prompt_tokens,
            "completion_tokens": j.completion_tokens,
            "created_at": created,
            "verdict_score": j.verdict_score,
        }
        for item, j in zip(chunk, judgements, strict=True)
    ]
