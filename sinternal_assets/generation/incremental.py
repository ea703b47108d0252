"""Incremental, resumable generation: work keyed by content hash, written one transaction per chunk.

`plan` drops the keys already stored; `run` generates the rest chunk by chunk and hands each chunk's rows
to `write` before starting the next, so a killed run loses at most the chunk in flight and a rerun
continues where it stopped, without redoing or duplicating anything.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sinternal_assets.generation.backends.base import Completion, GenerationBackend, Messages
from sinternal_assets.generation.sampling import SamplingParams


@dataclass(frozen=True)
class WorkItem:
    """One conversation and the keys of the samples wanted from it (one key per sample index)."""

    conversation: Messages
    keys: tuple[str, ...]
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunStats:
    planned: int = 0  # samples wanted
    skipped: int = 0  # already stored
    generated: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "planned": self.planned,
            "skipped": self.skipped,
            "generated": self.generated,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 2),
            "tokens_per_second": round(self.tokens_per_second, 2),
        }


def plan(items: Sequence[WorkItem], existing: set[str]) -> tuple[list[tuple[WorkItem, list[int]]], RunStats]:
    """(item, sample indices still missing) for every item with work left."""
    stats = RunStats(planned=sum(len(i.keys) for i in items))
    todo = []
    for item in items:
        missing = [k for k, key in enumerate(item.keys) if key not in existing]
        stats.skipped += len(item.keys) - len(missing)
        if missing:
            todo.append((item, missing))
    return todo, stats


RowBuilder = Callable[[WorkItem, int, Completion], dict[str, Any]]


def run(
    todo: list[tuple[WorkItem, list[int]]],
    stats: RunStats,
    backend: GenerationBackend,
    params: SamplingParams,
    build_row: RowBuilder,
    write: Callable[[list[dict[str, Any]]], None],
    chunk_size: int = 8,
    log: Callable[[str], None] = print,
) -> RunStats:
    # Items missing the same number of samples can share one `generate` call with that `n`.
    by_count: dict[int, list[tuple[WorkItem, list[int]]]] = defaultdict(list)
    for item, missing in todo:
        by_count[len(missing)].append((item, missing))
    total = sum(len(m) for _, m in todo)
    started = time.perf_counter()
    for count, group in sorted(by_count.items()):
        chunk_params = replace(params, n=count)
        for start in range(0, len(group), chunk_size):
            chunk = group[start : start + chunk_size]
            completions = backend.generate([item.conversation for item, _ in chunk], chunk_params)
            rows = [
                build_row(item, sample_index, completion)
                for (item, missing), outs in zip(chunk, completions, strict=True)
                for sample_index, completion in zip(missing, outs, strict=True)
            ]
            write(rows)  # one transaction per chunk: the unit a crash can lose
            stats.generated += len(rows)
            stats.completion_tokens += sum(c.completion_tokens for outs in completions for c in outs)
            stats.seconds = time.perf_counter() - started
            log(
                f"{stats.generated}/{total} samples generated, {stats.completion_tokens} tokens, "
                f"{stats.tokens_per_second:.1f} tok/s"
            )
    stats.seconds = time.perf_counter() - started
    return stats
