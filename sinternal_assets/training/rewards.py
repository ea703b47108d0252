"""Reward functions for GRPO, as plain functions of texts and labels (unit-tested case by case), plus the
thin callables TRL's `GRPOTrainer` calls (`f(prompts, completions, **dataset_columns) -> list[float|None]`).

SInternal GRPO: safety of the model's own answer judged by the trained verifier (harmful prompt: SAFE;
benign prompt: SAFE and not a refusal), a format reward, and optional task correctness (math, exact match).
AlphaAlign: a verifiable safety reward from binary prompt labels (correct format, and a refusal exactly when
the prompt is harmful), plus a helpfulness reward for benign prompts normalised within the rollout group,
zero for refusals.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence

from sinternal_assets.generation.reasoning import split_reasoning
from sinternal_assets.judging.refusal import is_refusal
from sinternal_assets.tasks.arithmetic import is_correct

HARMFUL, BENIGN = "harmful", "benign"


def completion_text(completion) -> str:
    """TRL passes a conversational completion as a list of messages, a plain one as a string."""
    if isinstance(completion, str):
        return completion
    return "".join(message.get("content", "") for message in completion)


def final_answer(text: str) -> str:
    return split_reasoning(text).final_answer


def format_ok(text: str) -> bool:
    """Reasoning, when opened, is closed, and a non-empty final answer follows it."""
    split = split_reasoning(text)
    return split.reasoning_closed and bool(split.final_answer.strip())


def format_rewards(texts: Sequence[str]) -> list[float]:
    return [1.0 if format_ok(t) else 0.0 for t in texts]


def safety_rewards(labels: Sequence[str], verdicts: Sequence[str | None], texts: Sequence[str]) -> list[float]:
    """1 when the verifier judged the answer SAFE, and, for a benign prompt, the answer is not a refusal."""
    rewards = []
    for label, verdict, text in zip(labels, verdicts, texts, strict=True):
        if label not in (HARMFUL, BENIGN):
            raise ValueError(f"prompt label must be {HARMFUL!r} or {BENIGN!r}, got {label!r}")
        safe = verdict == "SAFE"
        rewards.append(1.0 if safe and (label == HARMFUL or not is_refusal(final_answer(text))) else 0.0)
    return rewards


def task_rewards(texts: Sequence[str], answers: Sequence[str | None]) -> list[float | None]:
    """Exact match on rows that carry a task answer; None (no opinion) on the others."""
    return [None if not answer else (1.0 if is_correct(final_answer(text), answer) else 0.0)
            for text, answer in zip(texts, answers, strict=True)]


def group_normalise(values: Sequence[float], groups: Sequence[str], include: Sequence[bool] | None = None,
                    eps: float = 1e-6) -> list[float]:
    """(value - group mean) / group std over the included members of each group; excluded members and
    groups with a single included member (nothing to compare with) get 0."""
    include = [True] * len(values) if include is None else list(include)
    members: dict[str, list[int]] = defaultdict(list)
    for index, (group, keep) in enumerate(zip(groups, include, strict=True)):
        if keep:
            members[group].append(index)
    out = [0.0] * len(values)
    for indices in members.values():
        if len(indices) < 2:
            continue
        mean = sum(values[i] for i in indices) / len(indices)
        std = math.sqrt(sum((values[i] - mean) ** 2 for i in indices) / len(indices))
        for i in indices:
            out[i] = 0.0 if std < eps else (values[i] - mean) / std
    return out


def alphaalign_safety_rewards(texts: Sequence[str], labels: Sequence[str]) -> list[float]:
    """1 when the format is right and the answer refuses exactly when the prompt is harmful."""
    rewards = []
    for text, label in zip(texts, labels, strict=True):
        if label not in (HARMFUL, BENIGN):
            raise ValueError(f"prompt label must be {HARMFUL!r} or {BENIGN!r}, got {label!r}")
        refused = is_refusal(final_answer(text))
        rewards.append(1.0 if format_ok(text) and refused == (label == HARMFUL) else 0.0)
    return rewards


def alphaalign_helpfulness_rewards(texts: Sequence[str], labels: Sequence[str], groups: Sequence[str],
                                   scores: Sequence[float]) -> list[float]:
    """Helpfulness for benign prompts, normalised within each rollout group over its non-refusing answers;
    refusals and harmful prompts get 0."""
    include = [label == BENIGN and not is_refusal(final_answer(text))
               for text, label in zip(texts, labels, strict=True)]
    return group_normalise(scores, groups, include)


_WORD = re.compile(r"[a-z][a-z'-]+")
_STOPWORDS = frozenset("""a an the and or but if then of to in on for with at by from into about as is are was were be
been being do does did can could would should will shall may might must i you he she it we they me my your his her its
our their this that these those what which who whom how why when where there here please tell give write make explain
describe some any all more most very just also not no yes""".split())


def lexical_helpfulness(prompt: str, answer: str, saturate_words: int = 40) -> float:
    """A reference-free helpfulness proxy in [0, 1]: the share of the prompt's content words the answer takes
    up, times how far the answer is from empty (saturating at `saturate_words` words). Crude by design; a
    reward model can replace it (`GRPOSettings.helpfulness_model`)."""
    content = {w for w in _WORD.findall(prompt.lower()) if w not in _STOPWORDS and len(w) > 3}
    words = _WORD.findall(answer.lower())
    if not words:
        return 0.0
    coverage = len(content & set(words)) / len(content) if content else 1.0
    return coverage * min(1.0, len(words) / saturate_words)
