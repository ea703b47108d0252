"""Matched training budgets: every method of a comparison trains on the same budget in every run profile.

The budget is what the trainer consumes, counted by the trainer itself (training.progress.Consumption), and
read back by the report's budget table:
- SFT family (SInternal's verifier and its ablations, refusal SFT, AltTrain, SOMF's downstream fine-tune):
  **examples seen** = optimizer steps x batch size x gradient accumulation, the same for every method. This holds
  exactly without packing (a micro-batch takes exactly `batch_size` whole examples, flattened padding-free, and a
  step `grad_accum` micro-batches; the profiles run so: the study as 4 micro-batches of one example, whose
  attention on a CPU is then causal over each example alone); with `packing: true` a step takes `batch_size`
  packed rows, so methods with shorter examples see more of them, and the budget table shows by how much. Examples
  seen rather than tokens: the methods' targets differ in length by design (a refusal is shorter than a critique),
  and equal examples give every method the same number of updates over the same number of prompts, as the papers'
  "N epochs of M examples" do; the supervised tokens each method consumed are reported beside it. A smaller
  dataset is repeated (more epochs). Examples longer than `max_length` are shortened in their input, never in
  their target, or dropped (training.fitting): both counted in the table.
- GRPO family (SInternal + GRPO, AlphaAlign): the same prompts per step, rollouts per prompt, completion length
  and steps, so the same rollouts seen.
A profile that scaled one method and left the others at their CPU defaults would favour it by construction.
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
