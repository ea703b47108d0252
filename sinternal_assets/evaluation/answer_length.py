"""Answers cut to the length the policy writes, so a judge is measured on answers like the ones it judges.

The policy's evaluated answers are at most `eval_generations`' `max_new_tokens` tokens long; the human-labelled
answers that measure the judges were written by other models, at full length. `cut_to_tokens` keeps each
labelled answer's first `max_tokens` tokens of the policy's own tokenizer (no special tokens), decoded back to
text: an answer that already fits is returned unchanged, so it shares its full-length judgement (same text, same
cache key). `eval_token_budget` reads that budget from the sampling parameters of the evaluated generations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import polars as pl

# the length a judgement was measured at: the labelled answer as written, or cut to the eval token budget
FULL = "full"
EVAL = "eval"


def cut_to_tokens(texts: Sequence[str], tokenizer, max_tokens: int) -> list[str]:
    """Each text's first `max_tokens` tokens, decoded (unchanged when it has no more than that)."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    if not texts:
        return []
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return [
        text if len(tokens) <= max_tokens else tokenizer.decode(tokens[:max_tokens], skip_special_tokens=True)
        for text, tokens in zip(texts, ids, strict=True)
    ]


def eval_token_budget(params_json: Sequence[str]) -> int | None:
    """The token budget of the evaluated answers: the largest `max_new_tokens` among the sampling parameters
    (`eval_sampling_params.sql` rows' JSON) of the generations the evaluation selected; None when none."""
    budgets = [int(json.loads(p)["max_new_tokens"]) for p in params_json]
    return max(budgets) if budgets else None


def with_cut_responses(labels: pl.DataFrame, tokenizer, max_tokens: int | None) -> pl.DataFrame:
    """The `human_labels` frame with `response_cut`: each human-labelled response cut to `max_tokens` tokens
    (`cut_to_tokens`); null for constructed labels (they measure nothing at the policy's length) and for every
    row when there is no budget (no evaluated answers)."""
    human = labels["label_kind"] == "human"
    cut = [None] * labels.height
    if max_tokens is not None:
        rows = [i for i, h in enumerate(human.to_list()) if h]
        texts = cut_to_tokens([labels["response_text"][i] for i in rows], tokenizer, max_tokens)
        for i, text in zip(rows, texts, strict=True):
            cut[i] = text
    return labels.with_columns(pl.Series("response_cut", cut, dtype=pl.String))
