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

Then a direct before/after measurement, with far less sampling noise than the training log (where each prompt's
reward in a quarter is the mean of 4 rollouts at one step): the start policy and each trained policy each sample
`--eval-rollouts` rollouts per prompt with GRPO's own sampling (temperature as the job, `max_completion_length`
tokens, the same seeds for both), scored by the same reward functions (the frozen verifier's P(SAFE), the format
reward; the unweighted mean of the terms, as the control); per prompt, trained minus start, paired t over the
prompts.

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
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import run_record  # noqa: E402
from sinternal_assets.evaluation.controls import grpo_control, paired_t_difference, step_reward_means  # noqa: E402
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


def policy_rewards(model_path: str, job: TrainingJob, rows: list[dict], rollouts: int, safety) -> list[float]:
    """Per prompt, the mean over `rollouts` sampled answers of the unweighted mean of the GRPO reward's terms
    (`safety`, the frozen verifier's P(SAFE), and the format reward), the answers sampled as GRPO samples them."""
    from sinternal_assets.generation.backends.transformers_backend import TransformersBackend
    from sinternal_assets.generation.sampling import SamplingParams
    from sinternal_assets.training import reward_functions as rf

    settings = job.grpo
    params = SamplingParams(
        temperature=settings.temperature, top_p=1.0, max_new_tokens=settings.max_completion_length, n=rollouts, seed=7
    )
    outputs = TransformersBackend(model_path, batch_size=8).generate([r["prompt"] for r in rows], params)
    means = []
    for row, completions in zip(rows, outputs, strict=True):
        texts = [c.text for c in completions]
        n = len(texts)
        terms = [
            safety(None, texts, label=[row["label"]] * n, spec_text=[row["spec_text"]] * n,
                   prompt_text=[row["prompt_text"]] * n),
            rf.format_reward(None, texts),
        ]  # fmt: skip
        means.append(sum(sum(t) / n for t in terms) / len(terms))
    return means


def before_after(start: list[float], trained: list[float]) -> dict:
    difference, low, high, p = paired_t_difference(list(zip(start, trained, strict=True)))
    return {
        "start_mean": round(sum(start) / len(start), 4),
        "trained_mean": round(sum(trained) / len(trained), 4),
        "per_prompt_start": [round(v, 4) for v in start],
        "per_prompt_trained": [round(v, 4) for v in trained],
        "effect": difference,
        "ci_low": low,
        "ci_high": high,
        "p": p,
        "passed": low > 0,
    }


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
    values, what = step_reward_means(history)
    per_epoch = [round(sum(values[e * len(rows) : (e + 1) * len(rows)]) / len(rows), 4) for e in range(epochs)]
    unpaired = grpo_control(tag, [{k: v for k, v in h.items() if k != "prompt_groups"} for h in history])
    paired = grpo_control(tag, history)
    keep = ("effect", "ci_low", "ci_high", "p", "passed", "n", "note")
    outcome = (
        f"paired {paired['effect']:+.3f} [{paired['ci_low']:+.3f}, {paired['ci_high']:+.3f}] passed {paired['passed']}"
        if paired["effect"] is not None and paired["ci_low"] is not None
        else paired["note"]
    )
    print(f"{tag}: {seconds:.0f} s, reward per epoch {per_epoch}, {outcome}", flush=True)
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
        "model": str(out / tag / "model"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study-dir", default=str(ROOT / ".sinternal" / "study"))
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-6, 1e-5, 3e-5])
    parser.add_argument("--prompts", type=int, default=6, help="training prompts (half harmful, half benign)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-chars", type=int, default=600)
    parser.add_argument("--eval-rollouts", type=int, default=16, help="rollouts per prompt before/after (0: none)")
    parser.add_argument("--work", default="/tmp/grpo_control")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "grpo_control.json"))
    args = parser.parse_args()
    job, folder = study_job(Path(args.study_dir))
    rows = [json.loads(line) for line in (folder / "inputs" / "train.jsonl").read_text().splitlines() if line]
    prompts = chosen_prompts(rows, args.prompts, args.max_chars)
    out = Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    result = {
        **run_record("grpo_control.py"),
        "study_job": str(folder / "job.json"),
        "start_model": job.start_model,
        "study_learning_rate": job.train.learning_rate,
        "prompts": [{"group": r["group"], "label": r["label"], "chars": len(r["prompt_text"])} for r in prompts],
        "epochs": args.epochs,
        "eval_rollouts": args.eval_rollouts,
        "runs": [run_one(job, prompts, lr, args.epochs, out) for lr in args.lr],
    }
    if args.eval_rollouts:
        from sinternal_assets.training.reward_functions import VerifierSafetyReward

        # the frozen verifier, loaded once for every policy it scores
        safety = VerifierSafetyReward(job.grpo.verifier_model, 0, reward=job.grpo.verifier_reward)
        start = policy_rewards(job.start_model, job, prompts, args.eval_rollouts, safety)
        for run in result["runs"]:
            trained = policy_rewards(run["model"], job, prompts, args.eval_rollouts, safety)
            run["before_after"] = before_after(start, trained)
            shutil.rmtree(run["model"], ignore_errors=True)  # 0.5 GB of weights per run: the record is kept
            ba = run["before_after"]
            print(
                f"lr{run['learning_rate']:g} before/after: {ba['start_mean']:.3f} -> {ba['trained_mean']:.3f}, "
                f"{ba['effect']:+.3f} [{ba['ci_low']:+.3f}, {ba['ci_high']:+.3f}]",
                flush=True,
            )
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
