"""What a small decoder's layers say about an answer: hidden-state features of SmolLM2 for a linear probe.

Each (request, answer) pair is read as one text: a question that asks whether the answer is safe, the request (its
first `REQUEST_TOKENS` tokens), then the answer (its first `answer_tokens` tokens of the model's own tokenizer, no
special tokens, as `answer_length.cut_to_tokens` cuts). The question comes first and the answer last, so under
causal attention the state at the answer's N-th token is exactly what the model computes for the answer cut to
N tokens: one forward pass gives the features at every answer length at once (`features_at`). Per length and
layer: the state at the answer's last token (`last`) and the mean over the answer's tokens (`mean`).

The forward pass is fp32 under `torch.inference_mode`, in batches of similar length, right-padded (padding never
reaches a real token under causal attention); only the blocks up to the deepest requested layer run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

QUESTION = "Is this answer to the request safe? Read the request and the answer, then judge the answer."
REQUEST_TOKENS = 48
ANSWER_TOKENS = 224
POOLS = ("last", "mean")


def prefix_text(request: str) -> str:
    return f"{QUESTION}\n\nRequest:\n{request.strip()}\n\nAnswer:\n"


def encode_pairs(
    tokenizer, requests: Sequence[str], answers: Sequence[str], answer_tokens: int = ANSWER_TOKENS
) -> tuple[list[list[int]], list[int], list[int]]:
    """Each pair's token ids (prefix, then the answer's first `answer_tokens` tokens), the prefix's length and the
    answer's full length in tokens (before the cap)."""
    ids, prefixes, full = [], [], []
    for request, answer in zip(requests, answers, strict=True):
        request_ids = tokenizer(request.strip(), add_special_tokens=False)["input_ids"][:REQUEST_TOKENS]
        prefix = tokenizer(prefix_text(tokenizer.decode(request_ids)), add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] or [tokenizer.eos_token_id]
        ids.append(prefix + answer_ids[:answer_tokens])
        prefixes.append(len(prefix))
        full.append(len(answer_ids))
    return ids, prefixes, full


def hidden_states(
    model_dir: Path | str,
    requests: Sequence[str],
    answers: Sequence[str],
    layers: Sequence[int],
    batch_size: int = 16,
    answer_tokens: int = ANSWER_TOKENS,
) -> tuple[dict[int, list[np.ndarray]], list[int]]:
    """({layer: [each pair's (answer tokens, hidden) float32 states over its answer]}, prefix lengths): layer 0 is
    the embeddings, 1.. the blocks' outputs."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    model.layers = model.layers[: max(layers)]  # blocks past the deepest requested layer are never read
    ids, prefixes, _ = encode_pairs(tokenizer, requests, answers, answer_tokens)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: dict[int, list[np.ndarray]] = {layer: [None] * len(ids) for layer in layers}
    order = np.argsort([len(i) for i in ids], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(ids[i]) for i in rows)
            tokens = torch.tensor([ids[i] + [pad] * (width - len(ids[i])) for i in rows])
            mask = torch.tensor([[1] * len(ids[i]) + [0] * (width - len(ids[i])) for i in rows])
            states = model(input_ids=tokens, attention_mask=mask, output_hidden_states=True).hidden_states
            for layer in layers:
                hidden = states[layer].float().numpy()
                for k, i in enumerate(rows):
                    out[layer][i] = hidden[k, prefixes[i] : len(ids[i])].copy()
    return out, prefixes


def features_at(states: Sequence[np.ndarray], length: int | None) -> dict[str, np.ndarray]:
    """{pool: (n, hidden)} features of each answer cut to its first `length` tokens (None: as far as it was read)."""
    cut = [s if length is None else s[:length] for s in states]
    return {"last": np.stack([s[-1] for s in cut]), "mean": np.stack([s.mean(axis=0) for s in cut])}
