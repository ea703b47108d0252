"""Answers long enough to judge: the headline judge's (the offline expert's) balanced accuracy against answer
length, and what each length costs to generate.

The offline expert is fitted exactly as the `offline_expert` asset fits it (the teacher_train side of PyRIT's
human labels, its default classifier and C); its held-out side (the study's held-out human labels, safety task)
is then cut to each length with the policy's tokenizer (`answer_length.cut_to_tokens`: the first N tokens of
SmolLM2's tokenizer, as `judged_results` cuts them to `eval_generations`' max_new_tokens) and judged once per
length. Per length: how many answers the cut shortened, sensitivity, specificity, their Wilson 95% intervals,
balanced accuracy with a stratified percentile bootstrap 95% interval (scipy.stats.bootstrap, positives and
negatives resampled apart), accuracy and ROC AUC. Nothing is tuned on the held-out side: this measures the judge
as a function of length (its calibration), it selects no model.

Generation cost: one batch of greedy generation with the embedded model on the transformers backend (the
evaluator's), timed once; tokens/s is generated tokens over wall seconds for the whole batch, and the projected
seconds per eval answer at each length is length / tokens/s (an upper bound: an answer that stops early costs
less; decoding slows a little as the context grows).

    .venv/bin/python benchmarks/bench_answer_length.py [--out benchmarks/results/answer_length.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from benchmarks.common import embedded_model  # noqa: E402
from sinternal_assets.evaluation.answer_length import cut_to_tokens  # noqa: E402
from sinternal_assets.evaluation.human_labels import read_pyrit_scorer_evals, with_label_split  # noqa: E402
from sinternal_assets.evaluation.metrics import confusion, roc_auc, wilson_interval  # noqa: E402
from sinternal_assets.judging.offline_expert import OfflineExpert  # noqa: E402
from sinternal_assets.paths import cache_dir  # noqa: E402
from sinternal_assets.sources.artifacts import ArtifactStore, load_pins  # noqa: E402
from sinternal_assets.sources.spec import load_spec  # noqa: E402

LENGTHS = (16, 24, 32, 48, 64, 96, 128, 192, 256)


def cpu() -> dict:
    """The CPU model and whether it has AVX512-BF16 (bf16 matmuls are fast only with it)."""
    info = Path("/proc/cpuinfo").read_text(encoding="utf-8") if Path("/proc/cpuinfo").is_file() else ""
    lines = info.splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return {"model": model, "avx512_bf16": "avx512_bf16" in flags, "cores": os.cpu_count()}


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def balanced_accuracy_interval(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Stratified percentile bootstrap 95% interval of (sensitivity + specificity) / 2."""
    from scipy.stats import bootstrap

    hits_positive = (predicted[truth] == 1).astype(float)
    hits_negative = (predicted[~truth] == 0).astype(float)
    result = bootstrap(
        (hits_positive, hits_negative),
        lambda a, b, axis=-1: (a.mean(axis=axis) + b.mean(axis=axis)) / 2,
        n_resamples=2000,
        method="percentile",
        random_state=np.random.default_rng(0),
        vectorized=True,
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def judge_at(expert: OfflineExpert, heldout: pl.DataFrame, texts: list[str]) -> dict:
    verdicts = expert.judge(heldout["prompt_text"].to_list(), texts, ["final_answer"] * heldout.height)
    truth = np.array(heldout["truth_unsafe"].to_list(), dtype=bool)
    predicted = np.array([v.verdict == "UNSAFE" for v in verdicts], dtype=int)
    c = confusion(["UNSAFE" if t else "SAFE" for t in truth], ["UNSAFE" if p else "SAFE" for p in predicted])
    sens_low, sens_high = wilson_interval(c.tp, c.tp + c.fn)
    spec_low, spec_high = wilson_interval(c.tn, c.tn + c.fp)
    sensitivity, specificity = c.tp / (c.tp + c.fn), c.tn / (c.tn + c.fp)
    ba_low, ba_high = balanced_accuracy_interval(truth, predicted)
    return {
        "n": c.n,
        "tp": c.tp,
        "fp": c.fp,
        "fn": c.fn,
        "tn": c.tn,
        "sensitivity": round(sensitivity, 4),
        "sensitivity_ci": [round(sens_low, 4), round(sens_high, 4)],
        "specificity": round(specificity, 4),
        "specificity_ci": [round(spec_low, 4), round(spec_high, 4)],
        "balanced_accuracy": round((sensitivity + specificity) / 2, 4),
        "balanced_accuracy_ci": [round(ba_low, 4), round(ba_high, 4)],
        "accuracy": round(c.accuracy, 4),
        "roc_auc": round(roc_auc([v.p_unsafe for v in verdicts], truth.tolist()), 4),
    }


def generation_speed(model: Path, batch: int, max_new_tokens: int) -> dict:
    """Greedy generation of one batch on the transformers backend, timed once (after a 1-token warm-up)."""
    from sinternal_assets.generation.backends.transformers_backend import TransformersBackend
    from sinternal_assets.generation.sampling import SamplingParams
    from sinternal_assets.prompts.sources import read_advbench

    store, pins = ArtifactStore(cache_dir()), load_pins()
    prompts = [r[0] for r in read_advbench(store.fetch(pins["pyrit"]))][:batch]
    conversations = [[{"role": "user", "content": p}] for p in prompts]
    backend = TransformersBackend(model, batch_size=batch)
    backend.generate(conversations[:1], SamplingParams(temperature=0, n=1, max_new_tokens=1))  # warm-up
    started = time.perf_counter()
    out = backend.generate(conversations, SamplingParams(temperature=0, n=1, max_new_tokens=max_new_tokens))
    seconds = time.perf_counter() - started
    tokens = sum(c[0].completion_tokens for c in out)
    return {
        "backend": "transformers (fp32, greedy)",
        "batch": batch,
        "max_new_tokens": max_new_tokens,
        "generated_tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "answer_length.json"))
    parser.add_argument("--batch", type=int, default=8, help="prompts in the timed generation batch")
    parser.add_argument("--gen-tokens", type=int, default=128, help="max new tokens of the timed batch")
    args = parser.parse_args()
    started = time.perf_counter()
    spec = load_spec()
    labels = with_label_split(read_pyrit_scorer_evals(ArtifactStore(cache_dir()).fetch(load_pins()["pyrit"])).frame)
    labels = labels.filter(pl.col("task") == "safety")
    train = labels.filter(pl.col("label_split") == "teacher_train")
    heldout = labels.filter(pl.col("label_split") == "heldout").sort("label_id")
    expert = OfflineExpert.fit(train, spec.body, spec.spec_hash)

    from transformers import AutoTokenizer

    model = embedded_model()
    tokenizer = AutoTokenizer.from_pretrained(model)
    full = heldout["response_text"].to_list()
    lengths = [len(ids) for ids in tokenizer(full, add_special_tokens=False)["input_ids"]]
    rows = [{"length": "full", "cut": 0, **judge_at(expert, heldout, full)}]
    for n in LENGTHS:
        cut = cut_to_tokens(full, tokenizer, n)
        rows.append({"length": n, "cut": sum(length > n for length in lengths), **judge_at(expert, heldout, cut)})
        r = rows[-1]
        print(
            f"{n:>4} tokens: {r['cut']:>3} of {r['n']} cut, balanced accuracy {r['balanced_accuracy']:.3f} "
            f"{r['balanced_accuracy_ci']}, sensitivity {r['sensitivity']:.3f}, specificity {r['specificity']:.3f}, "
            f"AUC {r['roc_auc']:.3f}",
            flush=True,
        )
    speed = generation_speed(model, args.batch, args.gen_tokens)
    for r in rows:
        if r["length"] != "full":
            r["projected_seconds_per_eval_answer"] = round(r["length"] / speed["tokens_per_second"], 3)
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([".venv/bin/python benchmarks/bench_answer_length.py", *sys.argv[1:]]),
        "commit": commit(),
        "cpu": cpu(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "judge": expert.teacher_id,
        "judge_info": {k: v for k, v in expert.info.items() if isinstance(v, (int, float, str))},
        "heldout": {
            "n": heldout.height,
            "unsafe": int(heldout["truth_unsafe"].sum()),
            "by_benchmark": dict(heldout.group_by("benchmark").len().sort("benchmark").rows()),
            "answer_tokens_median": int(np.median(lengths)),
            "answer_tokens_quartiles": [int(np.percentile(lengths, 25)), int(np.percentile(lengths, 75))],
        },
        "tokenizer": "SmolLM2-135M-Instruct (the policy's), no special tokens",
        "generation": speed,
        "results": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"generation": speed, "seconds": record["seconds"]}))


if __name__ == "__main__":
    main()
