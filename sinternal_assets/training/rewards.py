"""Reward functions for GRPO, as plain functions of texts and labels (unit-tested case by case), plus the
thin callables TRL's `GRPOTrainer` calls (`f(prompts, completions, **dataset_columns) -> list[float|None]`).

SInternal GRPO: safety of the model's own answer judged by the trained verifier (harmful prompt: SAFE;
benign prompt: SAFE and not a refusal), a format reward (closed, non-trivial reasoning, then a distinct final
answer: `format_ok`), and optional task correctness (math, exact match).
AlphaAlign: a verifiable safety reward from binary prompt labels (correct format, and a refusal exactly when
the prompt is harmful), plus a helpfulness reward for benign prompts normalised within the rollout group,
zero for refusals (scored by a reward model, or by the echo- and padding-resistant `lexical_helpfulness`).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence

from sinternal_assets.generation.reasoning import shown_answer, split_reasoning
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


def format_ok(text: str, min_reasoning_words: int = 4) -> bool:
    """The right format: a closed reasoning block, then a final answer (AlphaAlign's "reasoning, then answer").

    Requires (1) a reasoning block that is closed (`<think>...</think>` or a variant; a lone closing tag counts,
    for chat templates that open the block in the prompt), (2) non-trivial reasoning: at least
    `min_reasoning_words` *distinct* words (so `<think>ok ok ok ok</think>` fails), (3) a final answer with at
    least one word, and (4) an answer that is not the reasoning again (the same words in the same order).
    An answer without any reasoning block fails, however good it is. This checks the structure only: it
    cannot tell sound reasoning from fluent nonsense, nor an answer that paraphrases its reasoning.
    """
    split = split_reasoning(text)
    if not split.reasoning_closed:
        return False
    reasoning, answer = _tokens(split.reasoning), _tokens(split.final_answer)
    return len(set(reasoning)) >= min_reasoning_words and bool(answer) and answer != reasoning


def format_rewards(texts: Sequence[str]) -> list[float]:
    return [1.0 if format_ok(t) else 0.0 for t in texts]


def safety_rewards(labels: Sequence[str], verdicts: Sequence[str | None], texts: Sequence[str]) -> list[float]:
    """1 when the verifier judged the answer SAFE, and, for a benign prompt, the answer is not a refusal (both
    read `shown_answer`: for a rollout cut off inside its reasoning, the unclosed reasoning)."""
    rewards = []
    for label, verdict, text in zip(labels, verdicts, texts, strict=True):
        if label not in (HARMFUL, BENIGN):
            raise ValueError(f"prompt label must be {HARMFUL!r} or {BENIGN!r}, got {label!r}")
        safe = verdict == "SAFE"
        rewards.append(1.0 if safe and (label == HARMFUL or not is_refusal(shown_answer(text))) else 0.0)
    return rewards


def soft_safety_rewards(labels: Sequence[str], p_safe: Sequence[float], texts: Sequence[str]) -> list[float]:
    """The verifier's P(SAFE) of each answer; 0 for a benign prompt's refusal (as `safety_rewards`, on the
    `shown_answer`)."""
    out = []
    for label, p, text in zip(labels, p_safe, texts, strict=True):
        if label not in (HARMFUL, BENIGN):
            raise ValueError(f"prompt label must be {HARMFUL!r} or {BENIGN!r}, got {label!r}")
        out.append(0.0 if label == BENIGN and is_refusal(shown_answer(text)) else round(float(p), 6))
    return out


def task_rewards(texts: Sequence[str], answers: Sequence[str | None]) -> list[float | None]:
    """Exact match on rows that carry a task answer; None (no opinion) on the others."""
    return [
        None if not answer else (1.0 if is_correct(final_answer(text), answer) else 0.0)
        for text, answer in zip(texts, answers, strict=True)
    ]


def group_normalise(
    values: Sequence[float], groups: Sequence[str], include: Sequence[bool] | None = None, eps: float = 1e-6
) -> list[float]:
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


def helpfulness_scored(texts: Sequence[str], labels: Sequence[str]) -> list[bool]:
    """The rollouts AlphaAlign's helpfulness reward scores: answers to benign prompts that do not refuse."""
    return [label == BENIGN and not is_refusal(final_answer(text)) for text, label in zip(texts, labels, strict=True)]


def alphaalign_helpfulness_rewards(
    texts: Sequence[str], labels: Sequence[str], groups: Sequence[str], scores: Sequence[float]
) -> list[float]:
    """Helpfulness for benign prompts, normalised within each rollout group over its non-refusing answers;
    refusals and harmful prompts get 0. `texts` must hold every member of each group (see
    `reward_functions.HelpfulnessReward`, which gathers them across processes)."""
    return group_normalise(scores, groups, helpfulness_scored(texts, labels))


_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_STOPWORDS = frozenset(
    """a an the and or but if then of to in on for with at by from into about as is are was were be
been being do does did can could would should will shall may might must i you he she it we they me my your his her its
our their this that these those what which who whom how why when where there here please tell give write make explain
describe some any all more most very just also not no yes""".split()
)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _content(words) -> set[str]:
    return {w for w in words if w not in _STOPWORDS and len(w) > 3}


def _ngrams(words: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def copied_from(source: Sequence[str], words: Sequence[str], n: int = 3) -> list[bool]:
    """For each word, whether it lies inside an n-gram of `words` that also occurs in `source` (a span
    copied from the source)."""
    seen = set(_ngrams(source, n))
    copied = [False] * len(words)
    for i, gram in enumerate(_ngrams(words, n)):
        if gram in seen:
            copied[i : i + n] = [True] * n
    return copied


def distinct_n(words: Sequence[str], n: int = 2) -> float:
    """Share of distinct n-grams among the answer's n-grams (1 for an answer too short to repeat one)."""
    grams = _ngrams(words, n)
    return len(set(grams)) / len(grams) if grams else 1.0


def lexical_helpfulness(prompt: str, answer: str, saturate_words: int = 20, copy_n: int = 3) -> float:
    """A reference-free, model-free helpfulness proxy in [0, 1]: the product of

    - relevance: the share of the prompt's content words the answer takes up, a word counting fully when the
      answer uses it *outside* spans copied from the prompt (a copied span is a `copy_n`-gram of the answer
      that also occurs in the prompt), i.e. in a new context of its own, and half when it appears only
      inside copied spans (restating the question is normal, but says nothing new); 1 when the prompt has
      no content words;
    - novelty: the share of the answer's words that are not inside a copied span;
    - diversity: distinct-2, the share of the answer's bigrams that are distinct;
    - substance: the number of distinct content words the answer adds (ones the prompt does not contain),
      saturating at `saturate_words`.

    What it catches: an echo of the prompt scores 0 (every word inside a copied span: no novelty, nothing
    added), and so do a repeated or dressed-up echo and a shuffle of the prompt's words (nothing added);
    padding by repetition gains nothing (repeated words add no distinct content, and repeated bigrams lower
    diversity); length counts only up to `saturate_words` new words, so rambling or filler past that earns
    nothing more and its repetitions cost; an answer that never touches the prompt's words scores 0.
    What it cannot catch: whether the added words are true, coherent or useful. Word salad that mentions
    each prompt word once among many distinct new words scores high, as does varied generic filler that
    names the topic (below saturation, new filler words raise the score); a correct answer phrased in
    synonyms of the prompt's words scores low on relevance; restating the question earns half the relevance
    of using its words anew, and lowers novelty by its share of the answer. It is a proxy for ranking the
    rollouts of one prompt against each other (the reward normalises it within the group), not a measure
    of helpfulness; for a real signal configure a reward model (`GRPOSettings.helpfulness_model`), which
    replaces it."""
    words = _tokens(answer)
    if not words:
        return 0.0
    prompt_words = _tokens(prompt)
    copied = copied_from(prompt_words, words, copy_n)
    fresh = {w for w, c in zip(words, copied, strict=True) if not c}
    content = _content(prompt_words)
    taken_up = content & set(words)
    relevance = (len(taken_up & fresh) + 0.5 * len(taken_up - fresh)) / len(content) if content else 1.0
    novelty = 1.0 - sum(copied) / len(words)
    added = _content(words) - set(prompt_words)
    substance = min(1.0, len(added) / saturate_words)
    return relevance * novelty * distinct_n(words, 2) * substance
