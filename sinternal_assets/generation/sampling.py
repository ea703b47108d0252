"""Sampling parameters with the same meaning on every backend, and the content key of a generation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sinternal_assets.hashing import content_id


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 256
    n: int = 2  # completions per prompt
    seed: int = 0
    stop: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if self.max_new_tokens < 1 or self.n < 1:
            raise ValueError("max_new_tokens and n must be >= 1")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data


def generation_key(prompt: str, template_id: str, model_hash: str, params: SamplingParams, sample_index: int) -> str:
    """The content key of one completion: a rerun with the same key never generates it again."""
    per_sample = {k: v for k, v in params.as_dict().items() if k != "n"}  # n=4 reuses the samples of n=2
    return content_id(prompt, template_id, model_hash, per_sample, sample_index, length=32)
