"""Incremental, resumable generation and judging: work keyed by content hash, written one transaction per chunk.

The one skeleton every asset that generates or judges follows: plan what is missing (`plan` drops the keys
already stored) -> open one backend session -> turn each chunk of the rest into rows -> write them in one
transaction before starting the next chunk (`run_chunks`). A killed run loses at most the chunk in flight, and
a rerun continues where it stopped without redoing or duplicating anything. `run` is that loop for sampling
answers (`generate` with n = the samples still missing); judges call `run_chunks` with their own step.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sinternal_assets.generation.backends.base import Completion, GenerationBackend, Messages
from sinternal_assets.generation.sampling import SamplingParams

T = TypeVar("T")


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
Rows = list[dict[str, Any]]


def run_chunks(
    work: Sequence[T],
    compute: Callable[[list[T]], tuple[Rows, int]],
    write: Callable[[Rows], None],
    stats: RunStats,
    chunk_size: int = 8,
    log: Callable[[str], None] = print,
    unit: str = "rows",
    total: int | None = None,
) -> RunStats:
    """`compute` each chunk of `work` into (rows, completion tokens) and `write` the rows, one transaction per
    chunk, updating `stats` and logging counts and rates after every chunk. `total` is the count the log
    shows progress against (default: len(work))."""
    total = len(work) if total is None else total
    started = time.perf_counter() - stats.seconds  # continues the clock of an earlier call with the same stats
    for start in range(0, len(work), max(1, chunk_size)):
        rows, tokens = compute(list(work[start : start + max(1, chunk_size)]))
        write(rows)  # one transaction per chunk: the unit a crash can lose
        stats.generated += len(rows)
        stats.completion_tokens += tokens
        stats.seconds = time.perf_counter() - started
        rate = stats.generated / stats.seconds if stats.seconds else 0.0
        line = f"{stats.generated}/{total} {unit} ({rate:.2f}/s)"
        if stats.completion_tokens:
            line += f", {stats.completion_tokens} tokens, {stats.tokens_per_second:.1f} tok/s"
        log(line)
    return stats


def run(
    todo: list[tuple[WorkItem, list[int]]],
    stats: RunStats,
    backend: GenerationBackend,
    params: SamplingParams,
    build_row: RowBuilder,
    write: Callable[[Rows], None],
    chunk_size: int = 8,
    log: Callable[[str], None] = print,
) -> RunStats:
    """Sample the missing answers of `todo`: items missing the same number of samples share one `generate` call
    with that `n`; each chunk's rows are written before the next chunk starts."""
    by_count: dict[int, list[tuple[WorkItem, list[int]]]] = defaultdict(list)
    for item, missing in todo:
        by_count[len(missing)].append((item, missing))
    total = sum(len(m) for _, m in todo)
    for count, group in sorted(by_count.items()):
        chunk_params = replace(params, n=count)

        def compute(chunk: list[tuple[WorkItem, list[int]]], chunk_params=chunk_params) -> tuple[Rows, int]:
            completions = backend.generate([item.conversation for item, _ in chunk], chunk_params)
            rows = [
                build_row(item, sample_index, completion)
                for (item, missing), outs in zip(chunk, completions, strict=True)
                for sample_index, completion in zip(missing, outs, strict=True)
            ]
            return rows, sum(c.completion_tokens for outs in completions for c in outs)

        run_chunks(group, compute, write, stats, chunk_size, log, unit="samples generated", total=total)
    return stats
