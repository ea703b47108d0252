"""GRPO's positive control (issue 23, control (c)) examined on the train side: can SInternal's GRPO raise its own
reward on this machine at all, and at which learning rate?

The study's own GRPO job (`verifier_grpo`'s `job.json` in the study warehouse: the SFT verifier as the start model
and as the frozen judge, P(SAFE) reward, format reward, 4 rollouts of 32 tokens, full fine-tuning, beta 0) re-run
with two things changed: the learning rate (one run per value given) and the prompt schedule, which becomes a few
of the job's own training prompts for 4 epochs, one prompt per step. Then the first and the last quarter of the
steps hold the same prompts, and the control pairs each prompt's reward before and after
(`controls.grpo_control`, paired t over the prompts); the study's schedule (24 different prompts, one per step)
leaves the prompts' own spread in the comparison. Also reported: the same control as an unpaired Welch t over the
steps (the logged prompts dropped), and the mean reward per epoch.

The prompts: the first `--prompts / 2` harmful and as many benign rows of the job's data (its own order) whose
request is at most `--max-chars` characters (a cost choice: a step pads its rollouts to its prompt, and the job's
requests run to ~4,400 characters). No evaluation prompt and no human label is read.

    .venv/bin/python benchmarks/grpo_control.py --lr 1e-6 1e-5 3e-5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sinternal_assets.evaluation.controls import grpo_control, step_reward_means  # noqa: E402
from sinternal_assets.models import numerics  # noqa: E402
from sinternal_assets.training.job import TrainingJob  # noqa: E402


def study_job(study_dir: Path) -> tuple[TrainingJob, Path]:
    jobs = sorted((study_dir / "checkpoints" / "verifier_grpo").glob("*/job.json"), key=lambda p: p.stat().st_mtime)
    if not jobs:
        raise SystemExit(f"no verifier_grpo checkpoint under {study_dir}: run scripts/run-study.sh first")
    return TrainingJob.from_json(jobs[-1]), jobs[-1].parent


def chosen_prompts(rows: list[dict], n: int, max_chars: int) -> list[dict]:
    picked = []
    for label in ("harmful", "benign"):
        fitting = [
            r for r in rows if r["label"] == label and not r.get("task_answer") and len(r["prompt_text"]) <= max_chars
        ]
        if len(fitting) < n // 2:
            raise SystemExit(f"only {len(fitting)} {label} prompts of at most {max_chars} characters, need {n // 2}")
        picked += fitting[: n // 2]
    return picked


def run_one(job: TrainingJob, rows: list[dict], lr: float, epochs: int, out: Path) -> dict:
    tag = f"lr{lr:g}"
    partial = out / f"{tag}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(out / tag, ignore_errors=True)
    partial.mkdir(parents=True)
    data = partial / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    steps = len(rows) * epochs  # one prompt per step (prompts_per_step 1)
    variant = dataclasses.replace(
        job,
        version=tag,
        partial_dir=str(partial),
        data=str(data),
        n_examples=len(rows),
        train=dataclasses.replace(job.train, learning_rate=lr, max_steps=steps, epochs=float(epochs)),
        grpo=dataclasses.replace(job.grpo, prompts_per_step=1, max_prompts=len(rows), math_tasks=0),
    )
    job_path = out / f"{tag}.job.json"
    variant.to_json(job_path)
    started = time.perf_counter()
    log = out / f"{tag}.log"
    with log.open("w") as handle:
        subprocess.run(
            [sys.executable, "-m", "sinternal_assets.training.run", str(job_path)],
            cwd=ROOT,
            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
            stdout=handle,
            stderr=subprocess.STDOUT,
            check=True,
        )
    seconds = time.perf_counter() - started
    manifest = json.loads((out / tag / "manifest.json").read_text())
    history = manifest["history"]
    shutil.rmtree(out / tag / "model", ignore_errors=True)  # 0.5 GB of weights per run: only the record is kept
    values, what = step_reward_means(history)
    per_epoch = [round(sum(values[e * len(rows) : (e + 1) * len(rows)]) / len(rows), 4) for e in range(epochs)]
    unpaired = grpo_control(tag, [{k: v for k, v in h.items() if k != "prompt_groups"} for h in history])
    paired = grpo_control(tag, history)
    keep = ("effect", "ci_low", "ci_high", "p", "passed", "n", "note")
    print(
        f"{tag}: {seconds:.0f} s, reward per epoch {per_epoch}, paired {paired['effect']:+.3f} "
        f"[{paired['ci_low']:+.3f}, {paired['ci_high']:+.3f}] passed {paired['passed']}",
        flush=True,
    )
    return {
        "learning_rate": lr,
        "steps": steps,
        "seconds": round(seconds, 1),
        "values": what,
        "step_rewards": [round(v, 4) for v in values],
        "step_prompts": [h.get("prompt_groups") for h in history if "prompt_groups" in h],
        "reward_per_epoch": per_epoch,
        "completion_mean_length": [h.get("completions/mean_length") for h in history if "loss" in h],
        "grad_norm": [h.get("grad_norm") for h in history if "loss" in h],
        "control_paired": {k: paired.get(k) for k in keep},
        "control_welch": {k: unpaired.get(k) for k in keep},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study-dir", default=str(ROOT / ".sinternal" / "study"))
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-6, 1e-5, 3e-5])
    parser.add_argument("--prompts", type=int, default=6, help="training prompts (half harmful, half benign)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-chars", type=int, default=600)
    parser.add_argument("--work", default="/tmp/grpo_control")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "grpo_control.json"))
    args = parser.parse_args()
    job, folder = study_job(Path(args.study_dir))
    rows = [json.loads(line) for line in (folder / "inputs" / "train.jsonl").read_text().splitlines() if line]
    prompts = chosen_prompts(rows, args.prompts, args.max_chars)
    out = Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    policy = numerics.choose("auto")
    result = {
        "date": date.today().isoformat(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
        "command": " ".join(["benchmarks/grpo_control.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "cpu": policy.cpu,
        "cpu_bf16": policy.cpu_bf16,
        "precision": policy.dtype,
        "study_job": str(folder / "job.json"),
        "start_model": job.start_model,
        "study_learning_rate": job.train.learning_rate,
        "prompts": [{"group": r["group"], "label": r["label"], "chars": len(r["prompt_text"])} for r in prompts],
        "epochs": args.epochs,
        "runs": [run_one(job, prompts, lr, args.epochs, out) for lr in args.lr],
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
