"""The training job: everything a checkpoint asset asks the training process to do, as one typed value.

`assets.py` (`run_training`) builds a `TrainingJob` and writes it to `<checkpoint>.partial/job.json`
(`to_json`); the training process (`run.py`, under `accelerate launch`) reads it back through the same type
(`from_json`) and hands it to its method in `trainers.py`. The job is validated when it is built and when it is
read: a missing, unknown or mistyped field is an error that names the file and the field.

Plain logic (no Dagster): the training process imports it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import ConfigDict, TypeAdapter, ValidationError, model_validator
from pydantic.dataclasses import dataclass

Method = Literal["sft", "grpo", "somf"]
Reward = Literal["sinternal", "alphaalign"]

# unknown fields are errors: a misspelt or renamed setting must not silently fall back to a default
_STRICT = ConfigDict(extra="forbid")


@dataclass(frozen=True, config=_STRICT)
class LoraSpec:
    """LoRA adapters (merged on export); `enabled=False` is full fine-tuning."""

    enabled: bool
    r: int
    alpha: int
    dropout: float
    target_modules: str


@dataclass(frozen=True, config=_STRICT)
class TrainSpec:
    """The optimizer settings of a run (the asset's `train` config)."""

    learning_rate: float
    epochs: float
    max_steps: Optional[int]  # None: the full epochs
    batch_size: int
    grad_accum: int
    max_length: int
    packing: bool
    seed: int
    lora: LoraSpec
    gradient_checkpointing: Literal["auto", "on", "off"] = "auto"  # auto: only when activations would not fit


@dataclass(frozen=True, config=_STRICT)
class RewardWeightsSpec:
    safety: float
    format: float
    task: float
    helpfulness: float


@dataclass(frozen=True, config=_STRICT)
class GRPOSpec:
    """GRPO's settings (the asset's `grpo` config) and the reward it trains on."""

    reward: Reward
    num_generations: int
    prompts_per_step: int
    max_prompts: int
    math_tasks: int
    max_completion_length: int
    temperature: float
    beta: float
    verifier_max_new_tokens: int
    verifier_reward: Literal["verdict", "p_safe"]
    helpfulness_model: str  # '' = the lexical proxy
    reward_weights: RewardWeightsSpec
    verifier_model: Optional[str] = None  # the frozen verifier judging the rollouts (reward `sinternal`)

    @model_validator(mode="after")
    def _verifier_for_sinternal(self) -> GRPOSpec:
        if self.reward == "sinternal" and not self.verifier_model:
            raise ValueError("reward 'sinternal' needs verifier_model (the verifier checkpoint judging rollouts)")
        if self.verifier_reward == "p_safe" and self.verifier_max_new_tokens != 0:
            raise ValueError(
                "verifier_reward 'p_safe' reads P(SAFE) at the verdict position right after the request: it needs "
                f"verifier_max_new_tokens 0, got {self.verifier_max_new_tokens}"
            )
        return self


@dataclass(frozen=True, config=_STRICT)
class SOMFSpec:
    """SOMF's fusion settings; the downstream fine-tune is the job's `train`."""

    mask_fraction: float
    scale: float
    keep_downstream: bool


@dataclass(frozen=True, config=_STRICT)
class TrainingJob:
    """One training run: which checkpoint, from which model, on which data, with which settings."""

    asset: str
    method: Method
    version: str
    start_model: str
    start_model_hash: str
    data_hash: str
    n_examples: int
    config: dict[str, Any]  # the asset's whole config, as recorded in the manifest
    train: TrainSpec
    partial_dir: str  # the `.partial` folder the run trains into
    data: str  # the training rows (JSONL)
    grpo: Optional[GRPOSpec] = None  # method `grpo` only
    somf: Optional[SOMFSpec] = None  # method `somf` only
    safety_data: Optional[str] = None  # method `somf`: the safety examples (JSONL) the mask is learned from
    precision: Literal["auto", "fp32", "bf16"] = "auto"  # resolved where it trains (models.numerics.choose)

    @model_validator(mode="after")
    def _sections_match_the_method(self) -> TrainingJob:
        needed = {"grpo": self.method == "grpo", "somf": self.method == "somf", "safety_data": self.method == "somf"}
        for name, wanted in needed.items():
            present = getattr(self, name) is not None
            if present != wanted:
                raise ValueError(f"method {self.method!r} {'needs' if wanted else 'takes no'} `{name}`")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Any, source: str = "training job") -> TrainingJob:
        try:
            return _ADAPTER.validate_python(data)
        except ValidationError as error:
            raise ValueError(f"{source}: not a valid training job: {describe(error)}") from None

    @classmethod
    def from_json(cls, path: Path) -> TrainingJob:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a valid training job: not JSON ({error})") from None
        return cls.from_dict(data, str(path))


def describe(error: ValidationError) -> str:
    """Each problem of a validation error as `field.path: message`, joined by '; '."""
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "(job)"
        kind = problem["type"]
        if kind == "missing":
            parts.append(f"{where}: missing")
        elif kind == "unexpected_keyword_argument":
            parts.append(f"{where}: unknown field")
        elif kind == "value_error":
            parts.append(f"{where}: {problem['msg'].removeprefix('Value error, ')}")
        else:
            parts.append(f"{where}: {problem['msg']} (got {problem['input']!r})")
    return "; ".join(parts)


_ADAPTER = TypeAdapter(TrainingJob)
