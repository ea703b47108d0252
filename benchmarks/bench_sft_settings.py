"""What LoRA dropout, gradient checkpointing and the micro-batch cost a study SFT step, side by side in one run.

The study's own verifier examples (the latest `verifier_sft` checkpoint's `inputs/train.jsonl` in the study
warehouse: spec + request + answer -> critique + verdict, fitted into 640 tokens) and its settings (LoRA r16 /
alpha 32 / lr 2e-4 on all linear layers, batches of exactly 4 examples, padding-free, the numeric policy of this
machine), trained for a few steps under four settings: LoRA dropout 0.05 (the study's) or 0 (PEFT's default; the
paper states none), gradient checkpointing on (what the memory rule chose for every study step) or off. Each
setting runs in a process of its own, so its peak RSS is its own; rounds alternate the settings so that a noisy
shared machine slows them alike. Every setting sees the same batches (same seed, same data) and its loss per step
is recorded: dropout changes the numbers, checkpointing must not.

The micro-batch: a step of 4 examples either as one padding-free row (the 4 examples flattened: micro-batch 4, the
attention runs over the whole row under a block-diagonal mask) or as 4 micro-batches of one example each,
accumulated into the same optimizer step (micro-batch 1 x 4: each example's attention is causal over itself
alone). Same examples per step, same loss (the token mean over the step's completion tokens either way).

    .venv/bin/python benchmarks/bench_sft_settings.py --steps 4 --rounds 2
    .venv/bin/python benchmarks/bench_sft_settings.py --only dropout0.05 dropout0 dropout0.05+micro1 dropout0+micro1 \
        --out benchmarks/results/sft_microbatch.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import embedded_model, run_record  # noqa: E402
from sinternal_assets.models import numerics  # noqa: E402
from sinternal_assets.training.job import LoraSpec, TrainSpec  # noqa: E402
from sinternal_assets.training.progress import Reporter  # noqa: E402

SETTINGS = {  # name: (LoRA dropout, gradient checkpointing, examples per micro-batch); 4 examples per step in all
    "dropout0.05+ckpt": (0.05, "on", 4),
    "dropout0.05": (0.05, "off", 4),
    "dropout0+ckpt": (0.0, "on", 4),
    "dropout0": (0.0, "off", 4),
    "dropout0.05+micro1": (0.05, "off", 1),
    "dropout0+micro1": (0.0, "off", 1),
}
EXAMPLES_PER_STEP = 4


def study_examples(study_dir: Path) -> Path:
    found = sorted((study_dir / "checkpoints" / "verifier_sft").glob("*/inputs/train.jsonl"), key=os.path.getmtime)
    if not found:
        raise SystemExit(f"no verifier_sft checkpoint under {study_dir}: run scripts/run-study.sh first")
    return found[-1]


def one(setting: str, data: Path, steps: int) -> dict:
    """Train `steps` steps under `setting` in this process; its step times, losses and peak RSS."""
    from sinternal_assets.training.trainers import sft_trainer

    dropout, checkpointing, micro = SETTINGS[setting]
    spec = TrainSpec(
        learning_rate=2e-4,
        epochs=1.0,
        max_steps=steps,
        batch_size=micro,
        grad_accum=EXAMPLES_PER_STEP // micro,
        max_length=640,
        packing=False,
        seed=0,
        lora=LoraSpec(enabled=True, r=16, alpha=32, dropout=dropout, target_modules="all-linear"),
        gradient_checkpointing=checkpointing,
    )
    rows = [json.loads(line) for line in data.read_text().splitlines() if line]
    policy = numerics.choose("auto")
    with tempfile.TemporaryDirectory() as out:
        trainer, callback = sft_trainer(str(embedded_model()), rows, spec, Reporter(False), setting, Path(out), policy)
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    steps_logged = [h for h in callback.history if "loss" in h]
    return {
        "setting": setting,
        "dropout": dropout,
        "gradient_checkpointing": bool(trainer.args.gradient_checkpointing),
        "micro_batch": micro,
        "seconds": round(seconds, 2),
        "step_times_s": [round(h["step_time_s"], 2) for h in steps_logged],
        "losses": [h["loss"] for h in steps_logged],
        "real_tokens": trainer.consumed.record()["real_tokens"],
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "precision": policy.dtype,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study-dir", default=str(ROOT / ".sinternal" / "study"))
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SETTINGS),
        default=list(SETTINGS),
        help="the settings to run (the first is the reference of the ratios)",
    )
    parser.add_argument("--one", choices=list(SETTINGS), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sft_settings.json"))
    args = parser.parse_args()
    data = study_examples(Path(args.study_dir))
    if args.one:
        print("RESULT " + json.dumps(one(args.one, data, args.steps)), flush=True)
        return
    runs: dict[str, list[dict]] = {s: [] for s in args.only}
    for r in range(args.rounds):
        for setting in args.only:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    setting,
                    "--steps",
                    str(args.steps),
                    "--study-dir",
                    args.study_dir,
                ],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
            )
            line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
            runs[setting].append(json.loads(line.removeprefix("RESULT ")))
            last = runs[setting][-1]
            print(
                f"round {r + 1} {setting}: steps {last['step_times_s']} s, peak {last['peak_rss_gib']} GiB", flush=True
            )

    def per_step(setting: str) -> float:  # the first step of each run is left out (warm-up)
        times = [t for run in runs[setting] for t in run["step_times_s"][1:]]
        return sum(times) / len(times)

    reference = per_step(args.only[0])
    result = {
        **run_record("bench_sft_settings.py"),
        "data": str(data),
        "reference": args.only[0],
        "steps_per_run": args.steps,
        "rounds": args.rounds,
        "summary": {
            s: {
                "seconds_per_step": round(per_step(s), 2),
                "ratio_to_reference": round(reference / per_step(s), 3),
                "peak_rss_gib": max(run["peak_rss_gib"] for run in runs[s]),
                "losses_round1": runs[s][0]["losses"],
            }
            for s in args.only
        },
        "runs": runs,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for s, v in result["summary"].items():
        print(f"{s:18s} {v['seconds_per_step']:6.2f} s/step  x{v['ratio_to_reference']:.2f}  {v['peak_rss_gib']} GiB")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
