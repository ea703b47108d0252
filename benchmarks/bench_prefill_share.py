"""The study's self-sampled answers (policy_answers: N = 4 samples of 40 tokens per jailbreak-wrapped train prompt,
T 0.9) with each prompt's forward pass shared by its N samples vs one whole row per sample, side by side in one
process, alternating, on the study's own prompts (its warehouse's `policy_slice`), same backend, same batch size.

    .venv/bin/python benchmarks/bench_prefill_share.py --db .sinternal/study/sinternal.duckdb --prompts 48

Writes benchmarks/results/prefill_share.json: seconds per round and mode, the speed-up (median of the per-round
ratios) and whether the two modes gave the same text for every sample (they should: same seeds per sample).
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
from sinternal_assets.generation.backends.transformers_backend import TransformersBackend  # noqa: E402
from sinternal_assets.generation.sampling import SamplingParams  # noqa: E402


def study_prompts(db: Path, n: int) -> list[str]:
    import duckdb

    sql = (ROOT / "sql/queries/policy_slice.sql").read_text()
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(sql, {"splits": ["train"], "max_prompts": n}).fetchall()
    if len(rows) < n:
        raise SystemExit(f"{db}: {len(rows)} train-split attacked prompts, {n} asked for")
    return [r[3] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / ".sinternal/study/sinternal.duckdb")
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8, help="prompts per generate call (the study's default)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/prefill_share.json")
    args = parser.parse_args()

    texts = study_prompts(args.db, args.prompts)
    conversations = [[{"role": "user", "content": t}] for t in texts]
    params = SamplingParams(temperature=0.9, max_new_tokens=40, n=4, seed=0)
    backend = TransformersBackend(embedded_model(), batch_size=args.batch_size)
    prompt_tokens = [len(backend.encode(c)) for c in conversations]
    timings: dict[str, list[float]] = {"shared": [], "per_row": []}
    outputs: dict[str, list[list[str]]] = {}
    for round_index in range(args.rounds):
        order = ("shared", "per_row") if round_index % 2 == 0 else ("per_row", "shared")
        for mode in order:
            backend.share_prefill = mode == "shared"
            started = time.perf_counter()
            result = backend.generate(conversations, params)
            timings[mode].append(round(time.perf_counter() - started, 2))
            outputs[mode] = [[c.text for c in completions] for completions in result]
            print(f"round {round_index + 1} {mode}: {timings[mode][-1]} s", flush=True)
    ratios = [p / s for p, s in zip(timings["per_row"], timings["shared"], strict=True)]
    samples = sum(len(o) for o in outputs["shared"])
    same = sum(a == b for x, y in zip(outputs["shared"], outputs["per_row"], strict=True) for a, b in zip(x, y))
    record = {
        **run_record("bench_prefill_share.py"),
        "db": str(args.db),
        "prompts": len(texts),
        "prompt_tokens": {"mean": round(statistics.mean(prompt_tokens), 1), "max": max(prompt_tokens)},
        "sampling": params.as_dict(),
        "batch_size": args.batch_size,
        "seconds": timings,
        "speedup_median": round(statistics.median(ratios), 3),
        "speedups": [round(r, 3) for r in ratios],
        "samples": samples,
        "identical_samples": same,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: record[k] for k in ("seconds", "speedup_median", "samples", "identical_samples")}))


if __name__ == "__main__":
    main()
