"""Training, generation and forced-choice throughput: today's settings against the numeric policy and trainer
settings the pipeline now uses, side by side in one run (rounds alternate between the two, so a noisy shared
machine slows both alike; the ratio is what matters).

- SFT: the same verifier examples, the same number of optimizer steps, LoRA r16 / alpha 32 / lr 2e-4.
  `baseline` is what every run used before: fp32, gradient checkpointing on (TRL's default), packing (bfd,
  padding-free) as the study profile had it. `tuned` is the trainer as it is now (`trainers.sft_trainer`):
  the numeric policy of this machine (`models.numerics`), gradient checkpointing only where memory needs it,
  and the study profile's batches. Tokens/s counts the real tokens the trainer consumed (its own count). The loss
  curves of the two over the same steps are compared (mean absolute difference per step).
- Generation: batched greedy decoding of the same prompts, fp32 against the policy.
- Forced choice: P(SAFE) / P(UNSAFE) of the same verifier requests, fp32 against the policy.

On a CPU without native bf16 the policy is fp32, so generation and forced choice are the same path on both
sides (the ratio shows the noise); the SFT gain comes from the trainer settings alone.

    .venv/bin/python benchmarks/bench_training.py --steps 10 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_packing import examples  # noqa: E402
from benchmarks.common import embedded_model, run_record  # noqa: E402
from sinternal_assets.models import numerics  # noqa: E402
from sinternal_assets.training.job import LoraSpec, TrainSpec  # noqa: E402
from sinternal_assets.training.progress import Reporter  # noqa: E402

EXACT_BATCHES = "packing off: batches of exactly batch_size examples, padding-free"


def train_spec(steps: int, batch: int, max_length: int, packing: bool, checkpointing: str) -> TrainSpec:
    return TrainSpec(
        learning_rate=2e-4,
        epochs=100.0,
        max_steps=steps,
        batch_size=batch,
        grad_accum=1,
        max_length=max_length,
        packing=packing,
        seed=0,
        lora=LoraSpec(enabled=True, r=16, alpha=32, dropout=0.05, target_modules="all-linear"),
        gradient_checkpointing=checkpointing,
    )


def sft_round(model_path: str, rows: list[dict], spec: TrainSpec, policy: numerics.NumericPolicy) -> dict:
    """One training run of `spec.max_steps` steps; its tokens, seconds and per-step losses."""
    from sinternal_assets.training.trainers import sft_trainer

    with tempfile.TemporaryDirectory() as out:
        trainer, callback = sft_trainer(model_path, rows, spec, Reporter(False), "bench", Path(out), policy)
        started, cpu = time.perf_counter(), time.process_time()
        trainer.train()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        consumed = trainer.consumed.record()
        checkpointing = bool(trainer.args.gradient_checkpointing)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "real_tokens": consumed["real_tokens"],
        "supervised_tokens": consumed["supervised_tokens"],
        "examples_seen": consumed["examples_seen"],
        "gradient_checkpointing": checkpointing,
        "losses": [h["loss"] for h in callback.history if "loss" in h],
    }


def generation_round(model_path: str, prompts: list[list[dict]], precision: str, max_new_tokens: int) -> dict:
    from sinternal_assets.generation.backends.transformers_backend import TransformersBackend
    from sinternal_assets.generation.sampling import SamplingParams

    backend = TransformersBackend(model_path, batch_size=16, precision=precision)
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=max_new_tokens, n=1, seed=0)
    started, cpu = time.perf_counter(), time.process_time()
    outputs = backend.generate(prompts, params)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "tokens": sum(c.completion_tokens for o in outputs for c in o),
        "dtype": backend.numerics.dtype,
        "texts": [o[0].text for o in outputs],
    }


def choice_round(model_path: str, rows: list[dict], precision: str) -> dict:
    from sinternal_assets.generation.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(model_path, batch_size=16, precision=precision)
    items = [(row["prompt"], "VERDICT: ", ("SAFE", "UNSAFE")) for row in rows]
    started, cpu = time.perf_counter(), time.process_time()
    probabilities = backend.choice_probabilities(items)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "judgements": len(items),
        "p_safe": [p[0] for p in probabilities],
    }


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=48, help="verifier examples (real, varied lengths)")
    parser.add_argument("--steps", type=int, default=10, help="optimizer steps per SFT round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per side")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=640)
    parser.add_argument("--packing", choices=("on", "off"), default="on", help="the tuned side's packing")
    parser.add_argument("--prompts", type=int, default=32, help="generation prompts")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--judgements", type=int, default=48)
    parser.add_argument("--skip-sft", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "train_throughput.json"))
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    model_path = str(embedded_model())
    from transformers import AutoTokenizer

    rows = examples(args.examples, AutoTokenizer.from_pretrained(model_path), args.max_length)
    policy = numerics.choose("auto")
    fp32 = numerics.choose("fp32")
    baseline_spec = train_spec(args.steps, args.batch_size, args.max_length, True, "on")
    tuned_spec = train_spec(args.steps, args.batch_size, args.max_length, args.packing == "on", "auto")
    result: dict = {
        **run_record("bench_training.py"),
        "torch_capability": policy.torch_capability,
        "policy": policy.record(),
        "model": model_path,
        "examples": len(rows),
    }
    if not args.skip_sft:
        sides: dict[str, list[dict]] = {"baseline": [], "tuned": []}
        for r in range(args.rounds):
            for side, spec, side_policy in (("baseline", baseline_spec, fp32), ("tuned", tuned_spec, policy)):
                sides[side].append(sft_round(model_path, rows, spec, side_policy))
                last = sides[side][-1]
                print(f"round {r + 1} {side}: {last['real_tokens'] / last['seconds']:.1f} tok/s", flush=True)

        def rate(side: str, clock: str = "seconds") -> float:
            runs = sides[side]
            return sum(x["real_tokens"] for x in runs) / sum(x[clock] for x in runs)

        base_losses, tuned_losses = sides["baseline"][0]["losses"], sides["tuned"][0]["losses"]
        steps = min(len(base_losses), len(tuned_losses))
        differences = [abs(a - b) for a, b in zip(base_losses[:steps], tuned_losses[:steps], strict=True)]
        result["sft"] = {
            "steps_per_round": args.steps,
            "rounds": args.rounds,
            "batch_size": args.batch_size,
            "max_length": args.max_length,
            "baseline_settings": "fp32, gradient checkpointing on, packing (bfd, padding-free)",
            "tuned_settings": f"{policy.dtype}, gradient checkpointing auto "
            f"({'on' if sides['tuned'][0]['gradient_checkpointing'] else 'off'}), "
            + ("packing (bfd, padding-free)" if args.packing == "on" else EXACT_BATCHES),
            "baseline_tokens_per_s": round(rate("baseline"), 1),
            "tuned_tokens_per_s": round(rate("tuned"), 1),
            "ratio": round(rate("tuned") / rate("baseline"), 3),
            # per CPU-second of this process (both cores): what a shared machine's other load disturbs least
            "baseline_tokens_per_cpu_s": round(rate("baseline", "cpu_seconds"), 2),
            "tuned_tokens_per_cpu_s": round(rate("tuned", "cpu_seconds"), 2),
            "cpu_ratio": round(rate("tuned", "cpu_seconds") / rate("baseline", "cpu_seconds"), 3),
            "baseline_losses": base_losses,
            "tuned_losses": tuned_losses,
            "loss_mean_abs_difference": round(mean(differences), 5),
            "loss_max_abs_difference": round(max(differences), 5) if differences else None,
            "runs": {
                side: [{k: v for k, v in x.items() if k != "losses"} for x in runs] for side, runs in sides.items()
            },
        }
    prompts = [row["prompt"][-1:] for row in rows[: args.prompts]]  # the requests alone, as a policy reads them
    generation: dict[str, list[dict]] = {"baseline": [], "tuned": []}
    choice: dict[str, list[dict]] = {"baseline": [], "tuned": []}
    judged = rows[: args.judgements]
    for _ in range(args.rounds):
        for side, precision in (("baseline", "fp32"), ("tuned", "auto")):
            generation[side].append(generation_round(model_path, prompts, precision, args.new_tokens))
            choice[side].append(choice_round(model_path, judged, precision))
    gen_rate = {s: sum(x["tokens"] for x in g) / sum(x["seconds"] for x in g) for s, g in generation.items()}
    choice_rate = {s: sum(x["judgements"] for x in c) / sum(x["seconds"] for x in c) for s, c in choice.items()}
    gen_cpu = {s: sum(x["tokens"] for x in g) / sum(x["cpu_seconds"] for x in g) for s, g in generation.items()}
    choice_cpu = {s: sum(x["judgements"] for x in c) / sum(x["cpu_seconds"] for x in c) for s, c in choice.items()}
    same_text = mean(
        [float(a == b) for a, b in zip(generation["baseline"][0]["texts"], generation["tuned"][0]["texts"])]
    )
    p_diff = max(abs(a - b) for a, b in zip(choice["baseline"][0]["p_safe"], choice["tuned"][0]["p_safe"]))
    result["generation"] = {
        "prompts": len(prompts),
        "max_new_tokens": args.new_tokens,
        "tuned_dtype": generation["tuned"][0]["dtype"],
        "baseline_tokens_per_s": round(gen_rate["baseline"], 1),
        "tuned_tokens_per_s": round(gen_rate["tuned"], 1),
        "ratio": round(gen_rate["tuned"] / gen_rate["baseline"], 3),
        "cpu_ratio": round(gen_cpu["tuned"] / gen_cpu["baseline"], 3),
        "same_greedy_text_share": round(same_text, 3),
    }
    result["forced_choice"] = {
        "judgements": len(judged),
        "baseline_judgements_per_s": round(choice_rate["baseline"], 2),
        "tuned_judgements_per_s": round(choice_rate["tuned"], 2),
        "ratio": round(choice_rate["tuned"] / choice_rate["baseline"], 3),
        "cpu_ratio": round(choice_cpu["tuned"] / choice_cpu["baseline"], 3),
        "max_abs_p_safe_difference": round(p_diff, 5),
    }
    # the flat keys the issue asks for: the SFT figures at the top level
    if "sft" in result:
        for key in ("baseline_tokens_per_s", "tuned_tokens_per_s", "ratio"):
            result[key] = result["sft"][key]
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "sft"}
            | {"sft": {k: v for k, v in result.get("sft", {}).items() if k not in ("runs",)}},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
