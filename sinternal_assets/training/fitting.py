"""Fit training examples into `max_length` tokens without cutting their target.

TRL truncates an example longer than `max_length` from its end, which cuts the completion first: for a
verification example, the critique and its `VERDICT:` line. Here an example that is too long is shortened in
its input instead: the middle of the user's request first, then the middle of the answer being judged, each
cut to a head and a tail with a visible marker (`[... 123 tokens cut ...]`) between them. The spec, the chat
template and the whole completion are never touched. An example that still does not fit, with its request
and answer cut to `MIN_KEEP` tokens each, is dropped. Both are counted.

A row names the parts of its prompt that may be shortened, in order, in `shortenable` (texts that occur
verbatim in its prompt messages: `formats` sets them); `fit_rows` removes the key.

Plain logic (no Dagster): the training process calls it with the start model's tokenizer.
"""

from __future__ import annotations

import copy
import dataclasses

SHORTENABLE = "shortenable"
MARKER = "[... {n} tokens cut ...]"
MIN_KEEP = 32  # tokens a shortened part keeps (half at its start, half at its end)


@dataclasses.dataclass
class FitReport:
    examples: int = 0  # examples given
    kept: int = 0  # examples that train (whole or shortened)
    shortened: int = 0  # kept after their request or answer was shortened
    dropped: int = 0  # too long even shortened: not trained on
    tokens_cut: int = 0  # input tokens removed by shortening
    max_length: int = 0
    lengths: list[int] = dataclasses.field(default_factory=list, repr=False)  # each kept example's tokens

    def record(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "lengths"}

    def longest_batch(self, batch_size: int) -> int:
        """Tokens of the longest batch of `batch_size` kept examples (the longest ones together)."""
        return sum(sorted(self.lengths, reverse=True)[:batch_size])


def conversation_length(tokenizer, row: dict) -> int:
    """Tokens of the whole example (prompt and completion) as the chat template renders it, as TRL counts it."""
    ids = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=True, return_dict=True)
    return len(ids["input_ids"])


def completion_length(tokenizer, row: dict) -> int:
    """Tokens the completion adds to its prompt (what the loss is on)."""
    prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=True, add_generation_prompt=True, return_dict=True)
    return conversation_length(tokenizer, row) - len(prompt["input_ids"])


def _cut_middle(tokenizer, text: str, remove: int) -> tuple[str, int]:
    """`text` with about `remove` tokens taken from its middle (keeping at least MIN_KEEP), and how many were."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    keep = max(MIN_KEEP, len(ids) - remove)
    if keep >= len(ids):
        return text, 0
    head, tail = ids[: keep // 2], ids[len(ids) - (keep - keep // 2) :]
    removed = len(ids) - keep
    cut = tokenizer.decode(head).rstrip() + f" {MARKER.format(n=removed)} " + tokenizer.decode(tail).lstrip()
    return cut, removed


def _replace(messages: list[dict], old: str, new: str) -> bool:
    for message in messages:
        if isinstance(message.get("content"), str) and old in message["content"]:
            message["content"] = message["content"].replace(old, new, 1)
            return True
    return False


def fit_row(tokenizer, row: dict, max_length: int) -> tuple[dict | None, int, int]:
    """The row within `max_length` tokens (unchanged, or shortened in its shortenable parts), or None when it
    cannot fit; the number of input tokens cut; its length. The completion is never changed."""
    row = copy.deepcopy(row)
    parts = [p for p in row.pop(SHORTENABLE, None) or [] if p]
    length = conversation_length(tokenizer, row)
    if length <= max_length:
        return row, 0, length
    cut_total = 0
    for part in parts:
        for _ in range(3):  # a cut can re-tokenise a few tokens differently at its edges: re-measure, retry
            excess = length - max_length
            if excess <= 0:
                break
            marker = len(tokenizer(MARKER.format(n=excess), add_special_tokens=False)["input_ids"]) + 2
            new, removed = _cut_middle(tokenizer, part, excess + marker)
            if not removed or not _replace(row["prompt"], part, new):
                break
            part, cut_total = new, cut_total + removed
            length = conversation_length(tokenizer, row)
    if length > max_length:
        return None, 0, length
    return row, cut_total, length


def fit_rows(tokenizer, rows: list[dict], max_length: int) -> tuple[list[dict], FitReport]:
    """Every row fitted into `max_length` (see fit_row), without the ones that cannot be, and the counts."""
    report = FitReport(examples=len(rows), max_length=max_length)
    kept = []
    for row in rows:
        fitted, cut, length = fit_row(tokenizer, row, max_length)
        if fitted is None:
            report.dropped += 1
            continue
        kept.append(fitted)
        report.kept += 1
        report.lengths.append(length)
        if cut:
            report.shortened += 1
            report.tokens_cut += cut
    return kept, report
