"""The forced-choice pass (what `judged_results` runs for every checkpoint acting as a verifier) in batches capped
at `CHOICE_BATCH_TOKENS` padded tokens against fixed batches of 8 rows, side by side in one process, alternating,
on the study's own judged items: its held-out human labels at full length and cut to the eval answers' 64 tokens,
and its probe-fit items, every `--every`-th of them in order of length (so that the sample keeps the length mix).

    .venv/bin/python benchmarks/bench_choice_batches.py --db .sinternal/study/sinternal.duckdb --every 4

Writes benchmarks/results/choice_batches.json: seconds per round and mode, the speed-up (median of the per-round
ratios), the padded tokens and the attention square each mode computes, and the largest difference between the
two modes' probabilities (batching must not change a verdict's score beyond float noise).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import embedded_model, run_record  # noqa: E402
from sinternal_assets.evaluation.answer_length import with_cut_responses  # noqa: E402
from sinternal_assets.evaluation.judges import UNSAFE, VERDICT_PREFIX  # noqa: E402
from sinternal_assets.generation import critique  # noqa: E402
from sinternal_assets.generation.backends.transformers_backend import (  # noqa: E402
    CHOICE_BATCH_TOKENS,
    TransformersBackend,
    shared_prefix_length,
    token_batches,
)

CUT_TOKENS = 64  # the study's eval answers


def study_items(db: Path, tokenizer) -> list[tuple[str, str, str, str]]:
    """(spec, prompt, answer, target) of every item the study's checkpoints forced-choose: the held-out safety
    labels (full and cut) and the probe-fit items."""
    import duckdb
    import polars as pl

    with duckdb.connect(str(db), read_only=True) as con:
        judged = set(con.execute("select distinct subject_id from judged_results where subject = 'label'").fetchall())
        labels = con.execute("select * from human_labels").pl()
        probe_fit = con.execute("select * from probe_fit_labels").pl()
    labels = labels.filter(pl.col("label_id").is_in([j[0] for j in judged]))
    labels = with_cut_responses(labels, tokenizer, CUT_TOKENS)
    columns = ("spec_text", "prompt_text", "response_text", "target")
    items = [tuple(r) for r in labels.select(columns).iter_rows()]
    items += [
        (r[0], r[1], r[4], r[3])
        for r in labels.select(*columns, "response_cut").iter_rows()
        if r[4] is not None and r[4] != r[2]
    ]
    items += [tuple(r) for r in probe_fit.select(columns).iter_rows()]
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / ".sinternal/study/sinternal.duckdb")
    parser.add_argument("--every", type=int, default=4, help="every n-th item in order of length")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/choice_batches.json")
    args = parser.parse_args()

    backend = TransformersBackend(embedded_model(), batch_size=8)
    everything = study_items(args.db, backend.tokenizer)
    conversations = [critique.teacher_messages(s, p, a, t, False) for s, p, a, t in everything]
    encoded = [backend.encode(c) for c in conversations]
    chosen = sorted(range(len(conversations)), key=lambda i: len(encoded[i]))[:: args.every]
    items = [(conversations[i], VERDICT_PREFIX, ("SAFE", UNSAFE)) for i in chosen]
    rows = [encoded[i] for i in chosen]
    shared = shared_prefix_length(rows, min(len(r) for r in rows) - 1)
    own = [len(r) - shared for r in rows]
    modes = {"capped": CHOICE_BATCH_TOKENS, "fixed8": 10**12}

    def work(cap: int) -> dict:
        batches = token_batches(own, backend.batch_size, cap)
        return {
            "batches": len(batches),
            "padded_tokens": sum(len(b) * max(own[i] for i in b) for b in batches),
            "attention_square": sum(
                len(b) * max(own[i] for i in b) * (max(own[i] for i in b) + shared) for b in batches
            ),
        }

    print(
        f"{len(items)} of {len(everything)} items, {sum(own)} own tokens (+{shared} shared), longest {max(own)}; "
        f"{ {m: work(c) for m, c in modes.items()} }",
        flush=True,
    )
    timings: dict[str, list[float]] = {m: [] for m in modes}
    scores: dict[str, list[list[float]]] = {}
    for round_index in range(args.rounds):
        order = list(modes) if round_index % 2 == 0 else list(reversed(modes))
        for mode in order:
            backend.choice_batch_tokens = modes[mode]
            started = time.perf_counter()
            scores[mode] = backend.choice_scores(items, backend.layer_groups()).probabilities
            timings[mode].append(time.perf_counter() - started)
            print(f"round {round_index + 1} {mode}: {timings[mode][-1]:.1f} s", flush=True)
    ratios = [f / c for f, c in zip(timings["fixed8"], timings["capped"], strict=True)]
    difference = max(abs(a - b) for x, y in zip(scores["capped"], scores["fixed8"], strict=True) for a, b in zip(x, y))
    result = run_record(Path(__file__).name) | {
        "items": len(items),
        "items_in_study": len(everything),
        "own_tokens": sum(own),
        "shared_prefix_tokens": shared,
        "longest_row": max(own),
        "cap_tokens": CHOICE_BATCH_TOKENS,
        "work": {m: work(c) for m, c in modes.items()},
        "seconds": timings,
        "speedup": round(statistics.median(ratios), 3),
        "max_probability_difference": difference,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"speed-up {result['speedup']}x, largest probability difference {difference:.2e}; wrote {args.out}")


if __name__ == "__main__":
    main()
