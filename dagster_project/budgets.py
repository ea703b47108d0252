"""Matched training budgets: every method of a comparison trains on the same budget in every run profile.

Every SFT method (SInternal's verifier, refusal SFT, AltTrain, SOMF's downstream fine-tune) gets the same
optimizer steps, examples per step and sequence length, so each sees the same number of examples (a smaller
dataset is repeated); both GRPO methods (SInternal + GRPO, AlphaAlign) get the same prompts per step, rollouts
per prompt, completion length and steps. A profile that scaled one method and left the others at their CPU
defaults would favour it by construction. The report states each checkpoint's realised budget.
"""

from __future__ import annotations

import copy

from sinternal_assets.training.assets import CHECKPOINT_ASSETS, budget_of

# the training assets of each budget family, read from their tags (sinternal_assets.training.assets.BUDGET_TAG)
SFT_ASSETS = tuple(a.key.path[-1] for a in CHECKPOINT_ASSETS if budget_of(a) == "sft")
GRPO_ASSETS = tuple(a.key.path[-1] for a in CHECKPOINT_ASSETS if budget_of(a) == "grpo")
SFT_BUDGET_KEYS = ("max_steps", "epochs", "batch_size", "grad_accum", "max_length", "packing")
GRPO_BUDGET_KEYS = ("num_generations", "prompts_per_step", "max_prompts", "max_completion_length")


def with_matched_budgets(run_config: dict, sft: dict, grpo: dict, grpo_steps: int | None) -> dict:
    """`run_config` with the same SFT budget (`sft`: keys of SFT_BUDGET_KEYS) on every SFT method and the same
    GRPO budget (`grpo`: keys of GRPO_BUDGET_KEYS, plus `grpo_steps` optimizer steps) on every GRPO method."""
    unknown = (set(sft) - set(SFT_BUDGET_KEYS)) | (set(grpo) - set(GRPO_BUDGET_KEYS))
    if unknown:
        raise ValueError(f"not budget settings: {sorted(unknown)}")
    out = copy.deepcopy(run_config)
    ops = out.setdefault("ops", {})
    for name in SFT_ASSETS:
        config = ops.setdefault(name, {}).setdefault("config", {})
        config["train"] = {**config.get("train", {}), **sft}
    for name in GRPO_ASSETS:
        config = ops.setdefault(name, {}).setdefault("config", {})
        config["grpo"] = {**config.get("grpo", {}), **grpo}
        config["train"] = {**config.get("train", {}), "max_steps": grpo_steps}
    return out


def budget_settings_in(run_config_ops: dict) -> list[str]:
    """The budget settings that `ops` (a run config's) gives a training method directly, as `asset.path`: those
    belong in the budget that every method shares (a run configuration's `budgets`, see jobs.load_run_config)."""
    found = []
    for name in (*SFT_ASSETS, *GRPO_ASSETS):
        op = run_config_ops.get(name)
        config = op.get("config") if isinstance(op, dict) else None
        if not isinstance(config, dict):
            continue
        keys = (
            {"train": SFT_BUDGET_KEYS} if name in SFT_ASSETS else {"grpo": GRPO_BUDGET_KEYS, "train": ("max_steps",)}
        )
        for section, budget_keys in keys.items():
            settings = config.get(section)
            if isinstance(settings, dict):
                found += [f"{name}.config.{section}.{k}" for k in budget_keys if k in settings]
    return found
