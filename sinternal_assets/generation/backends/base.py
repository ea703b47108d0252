"""The one interface every generation backend implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sinternal_assets.generation.sampling import SamplingParams

Messages = list[dict[str, str]]  # chat messages: [{"role": "system" | "user" | "assistant", "content": ...}]
Progress = Callable[[int, int, int], None]  # (prompts done, prompts total, completion tokens so far)


@dataclass(frozen=True)
class ChoiceScores:
    """What one forced-choice pass returns: per item, the probability of each choice (renormalised over its
    choices), and per item the hidden-state feature of each requested layer group at its verdict position
    ({group name: float32 vector}; empty dicts when no group was requested)."""

    probabilities: list[list[float]]
    states: list[dict[str, Any]]


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # stop | length
    prompt_tokens: int
    completion_tokens: int


class GenerationBackend(Protocol):
    name: str
    model_id: str

    def generate(
        self, conversations: Sequence[Messages], params: SamplingParams, progress: Progress | None = None
    ) -> list[list[Completion]]:
        """`params.n` completions per conversation, in input order."""
        ...
