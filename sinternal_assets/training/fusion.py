"""SOMF (safety-subspace model fusion) on state dicts.

A downstream fine-tune drifts the aligned model's weights: the task vector is fine-tuned minus aligned.
Coordinates where the task vector works against safety form the safety subspace; SOMF keeps the aligned
weights there and the fine-tuned ones elsewhere, regaining safety without losing the downstream skill.

The mask is learned from safety data to first order: with g the gradient of the safety loss (refusal
targets on harmful prompts) at the aligned weights, moving by the task vector t changes that loss by about
sum(g * t). The coordinates with the largest positive g * t (the ones that raise the safety loss most) are
masked, up to `mask_fraction` of all coordinates, globally across tensors.
fused = aligned + scale * t * (1 - mask).
"""

from __future__ import annotations

import torch

StateDict = dict[str, torch.Tensor]


def task_vector(finetuned: StateDict, aligned: StateDict) -> StateDict:
    if finetuned.keys() != aligned.keys():
        missing = sorted(set(aligned) ^ set(finetuned))[:5]
        raise ValueError(f"fine-tuned and aligned models differ in parameters, e.g. {missing}")
    vector = {}
    for name, weight in aligned.items():
        if finetuned[name].shape != weight.shape:
            raise ValueError(f"parameter {name}: shape {tuple(finetuned[name].shape)} vs {tuple(weight.shape)}")
        if weight.is_floating_point():
            vector[name] = finetuned[name].float() - weight.float()
    return vector


def safety_mask(vector: StateDict, safety_grads: StateDict, mask_fraction: float) -> dict[str, torch.Tensor]:
    """Boolean masks (True = safety-relevant: keep the aligned weight) over the task vector's coordinates."""
    if not 0.0 <= mask_fraction <= 1.0:
        raise ValueError(f"mask_fraction must be in [0, 1], got {mask_fraction}")
    harm = {
        name: (safety_grads[name].float() * t).clamp_min(0.0) for name, t in vector.items() if name in safety_grads
    }
    total = sum(h.numel() for h in harm.values())
    k = int(round(mask_fraction * total))
    positive = int(sum(int((h > 0).sum()) for h in harm.values()))
    k = min(k, positive)
    if k == 0:
        return {name: torch.zeros_like(t, dtype=torch.bool) for name, t in vector.items()}
    flat = torch.cat([h.flatten() for h in harm.values()])
    threshold = torch.topk(flat, k, sorted=True).values[-1]
    masks = {name: torch.zeros_like(t, dtype=torch.bool) for name, t in vector.items()}
    for name, h in harm.items():
        masks[name] = (h >= threshold) & (h > 0)
    return masks


def fuse(aligned: StateDict, vector: StateDict, masks: dict[str, torch.Tensor], scale: float = 1.0) -> StateDict:
    fused = {}
    for name, weight in aligned.items():
        if name not in vector:
            fused[name] = weight.clone()
            continue
        keep = (~masks[name]).to(vector[name].dtype)
        fused[name] = (weight.float() + scale * vector[name] * keep).to(weight.dtype)
    return fused


def mask_summary(masks: dict[str, torch.Tensor]) -> dict[str, float]:
    total = sum(m.numel() for m in masks.values())
    masked = sum(int(m.sum()) for m in masks.values())
    tensors = sum(1 for m in masks.values() if bool(m.any()))
    return {
        "masked_coordinates": masked,
        "total_coordinates": total,
        "masked_share": masked / total if total else 0.0,
        "tensors_touched": tensors,
    }
