"""Progress of a training run, streamed back to whoever launched it.

Under Dagster Pipes (the launching asset sets DAGSTER_PIPES_CONTEXT) each logged step goes to the run's
log and the end result becomes the asset's materialization metadata; run by hand it prints JSON lines.
Only the main process reports: under `accelerate launch` with several processes, the others stay quiet.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator

from transformers import TrainerCallback


def is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0" and os.environ.get("LOCAL_RANK", "0") == "0"


class Reporter:
    """Prints to stdout (main process only)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def log(self, message: str) -> None:
        if self.enabled:
            print(message, flush=True)

    def metric(self, record: dict) -> None:
        if self.enabled:
            print(json.dumps({"metric": record}), flush=True)

    def materialize(self, metadata: dict) -> None:
        if self.enabled:
            print(json.dumps({"materialization": metadata}, default=str), flush=True)


class PipesReporter(Reporter):
    def __init__(self, pipes):
        super().__init__(True)
        self.pipes = pipes

    def log(self, message: str) -> None:
        self.pipes.log.info(message)

    def metric(self, record: dict) -> None:
        self.pipes.report_custom_message({"metric": record})

    def materialize(self, metadata: dict) -> None:
        self.pipes.report_asset_materialization(metadata=metadata)


@contextlib.contextmanager
def open_reporter() -> Iterator[Reporter]:
    if is_main_process() and "DAGSTER_PIPES_CONTEXT" in os.environ:
        from dagster_pipes import open_dagster_pipes

        with open_dagster_pipes() as pipes:
            yield PipesReporter(pipes)
    else:
        yield Reporter(enabled=is_main_process())


_KEEP = (
    "loss",
    "learning_rate",
    "grad_norm",
    "num_tokens",
    "reward",
    "reward_std",
    "entropy",
    "completions/mean_length",
    "frac_reward_zero_std",
)


class Consumption:
    """What the trainer consumed, counted from the batches it trained on (not from steps x batch size): examples
    (SFT: sequences, a packed row counting each example in it; GRPO: rollouts), supervised tokens (those with a
    label, the loss is on) and all real tokens. The trainer's `training_step` calls `add` on every micro-batch.
    For GRPO it also notes which prompts (their `group`) each micro-batch held, so that a logged step can say
    which prompts its rewards are the mean over (`take_groups`)."""

    def __init__(self):
        self.examples = 0
        self.supervised_tokens = 0
        self.tokens = 0
        self._groups: list[str] = []

    def add(self, inputs) -> None:
        if isinstance(inputs, list):  # GRPO: one row per rollout, before generation
            self.examples += len(inputs)
            self._groups.extend(str(row["group"]) for row in inputs if isinstance(row, dict) and "group" in row)
            return
        labels = inputs.get("labels")
        positions = inputs.get("position_ids")
        mask = inputs.get("attention_mask")
        if positions is not None and mask is None:  # padding-free: every sequence of the row starts at position 0
            self.examples += int((positions == 0).sum())
            self.tokens += int(positions.numel())
        else:
            rows = labels if labels is not None else inputs["input_ids"]
            self.examples += int(rows.shape[0])
            self.tokens += int(mask.sum()) if mask is not None else int(rows.numel())
        if labels is not None:  # the first position of a sequence has no prediction: its label never counts
            self.supervised_tokens += int((labels[..., 1:] != -100).sum())

    def take_groups(self) -> list[str]:
        """The distinct prompt groups trained on since the last call, in order of first appearance."""
        groups, self._groups = list(dict.fromkeys(self._groups)), []
        return groups

    def record(self) -> dict:
        return {
            "examples_seen": self.examples,
            "supervised_tokens": self.supervised_tokens,
            "real_tokens": self.tokens,
        }


class MetricsCallback(TrainerCallback):
    """Per logged step: loss, learning rate, step time and tokens/s (from the trainer's token count), plus
    every reward the GRPO trainer logs, and the running counts of what the trainer consumed (`Consumption`).
    Keeps the history for the manifest."""

    def __init__(self, reporter: Reporter, label: str, consumed: Consumption | None = None):
        self.reporter = reporter
        self.label = label
        self.consumed = consumed
        self.history: list[dict] = []
        self._step_started = 0.0
        self._seconds_since_log = 0.0
        self._steps_since_log = 0
        self._last_tokens = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._step_started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self._seconds_since_log += time.perf_counter() - self._step_started
        self._steps_since_log += 1

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs and not any(k.startswith("rewards/") or k == "reward" for k in logs):
            return  # the end-of-training summary, not a step
        record = {"step": state.global_step}
        record.update(
            {
                k: float(v)
                for k, v in logs.items()
                if (k in _KEEP or k.startswith("rewards/")) and isinstance(v, (int, float))
            }
        )
        if self.consumed is not None:
            record.update(self.consumed.record())
            groups = self.consumed.take_groups()
            if groups:  # GRPO: the prompts this step's rewards are over (pairs steps by prompt, controls.py)
                record["prompt_groups"] = groups
        if self._steps_since_log:
            record["step_time_s"] = self._seconds_since_log / self._steps_since_log
            if "num_tokens" in record and self._seconds_since_log > 0:
                record["tokens_per_s"] = (record["num_tokens"] - self._last_tokens) / self._seconds_since_log
        self._last_tokens = record.get("num_tokens", self._last_tokens)
        self._seconds_since_log, self._steps_since_log = 0.0, 0
        self.history.append(record)
        shown = ", ".join(f"{k} {v:.4g}" for k, v in record.items() if isinstance(v, float | int) and k != "step")
        self.reporter.log(f"{self.label} step {state.global_step}/{state.max_steps}: {shown}")
        self.reporter.metric(record)


def summarise(history: list[dict]) -> dict:
    """Headline figures of a run's history (for metadata and the checkpoints table)."""

    def values(key):
        return [r[key] for r in history if key in r]

    losses, speeds, times = values("loss"), values("tokens_per_s"), values("step_time_s")
    out = {"logged_steps": len(history)}
    if losses:
        out.update(first_loss=losses[0], final_loss=losses[-1])
    if speeds:
        out["mean_tokens_per_s"] = sum(speeds) / len(speeds)
    if times:
        out["mean_step_time_s"] = sum(times) / len(times)
    rewards = values("reward")
    if rewards:
        out.update(first_reward=rewards[0], final_reward=rewards[-1])
    return out
