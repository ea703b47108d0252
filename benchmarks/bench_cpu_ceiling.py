"""Where the study's CPU time goes, against what this CPU can do at all: the sustained fp32 matrix-multiply rate at
the embedded model's own shapes, one forward pass of the model over a batch like the judges' and the generators'
prefill (its tokens/s and the GFLOP/s they imply), the forward's time by operator (torch.profiler), and the same
forward under torch.compile (the one software lever left that keeps the numerics: fused kernels, same fp32).

    .venv/bin/python benchmarks/bench_cpu_ceiling.py --seq 256 --batch 8

FLOPs are counted from the model's config: 2 x the non-embedding weights per token (the linear layers), plus the
attention's scores and values (4 x hidden x the positions a token attends to, causal: (seq + 1) / 2 on average)
per layer; the output head is left out (the judges keep the last position's logits only). Writes
benchmarks/results/cpu_ceiling.json.
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


def timed(fn, seconds: float, at_least: int = 3) -> list[float]:
    """Seconds per call of `fn`, called until `seconds` have passed (at least `at_least` times), after one warm-up."""
    fn()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < at_least or time.perf_counter() - started < seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def gemm_rates(tokens: int, hidden: int, intermediate: int, kv: int, seconds: float) -> dict[str, float]:
    """Sustained GFLOP/s of x[tokens, k] @ w[k, n] (as nn.Linear runs it) at the model's projection shapes."""
    import torch

    rates = {}
    for name, (k, n) in {
        "q/o proj": (hidden, hidden),
        "k/v proj": (hidden, kv),
        "mlp up/gate": (hidden, intermediate),
        "mlp down": (intermediate, hidden),
    }.items():
        x, w = torch.randn(tokens, k), torch.randn(n, k)
        with torch.no_grad():
            t = statistics.median(timed(lambda x=x, w=w: torch.nn.functional.linear(x, w), seconds))
        rates[name] = round(2 * tokens * k * n / t / 1e9, 1)
    return rates


def forward_flops(config, batch: int, seq: int) -> float:
    """FLOPs of one forward over batch x seq tokens, as the module docstring counts them."""
    hidden, layers = config.hidden_size, config.num_hidden_layers
    head_dim = getattr(config, "head_dim", None) or hidden // config.num_attention_heads
    kv = config.num_key_value_heads * head_dim
    per_layer = 2 * (2 * hidden * hidden + 2 * hidden * kv + 3 * hidden * config.intermediate_size)
    attention = 4 * config.num_attention_heads * head_dim * (seq + 1) / 2
    return batch * seq * layers * (per_layer + attention)


def by_operator(model, inputs, top: int = 12) -> list[dict]:
    """One forward's self CPU time per operator, largest first, with its share."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        model(**inputs)
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    events.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    return [
        {
            "op": e.key,
            "calls": e.count,
            "self_ms": round(e.self_cpu_time_total / 1e3, 1),
            "share": round(e.self_cpu_time_total / total, 3),
        }
        for e in events[:top]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=8, help="rows per forward (the judges' and generators' batch)")
    parser.add_argument("--seq", type=int, default=256, help="tokens per row (a judged item runs ~220 after the spec)")
    parser.add_argument("--seconds", type=float, default=20.0, help="timing window per measurement")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile measurement")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/cpu_ceiling.json")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM

    record = run_record(Path(__file__).name) | {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
    }
    model = AutoModelForCausalLM.from_pretrained(embedded_model(), dtype=torch.float32).eval()
    config = model.config
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    tokens = args.batch * args.seq
    print(f"{record['cpu']}, {record['threads']} threads, torch {torch.__version__} ({record['torch_capability']})")

    gemm = gemm_rates(
        tokens, config.hidden_size, config.intermediate_size, config.num_key_value_heads * head_dim, args.seconds / 4
    )
    print("fp32 GEMM GFLOP/s at the model's shapes:", gemm)

    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, config.vocab_size, (args.batch, args.seq), generator=generator)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "use_cache": False, "logits_to_keep": 1}
    flops = forward_flops(config, args.batch, args.seq)

    def forward(m=model):
        with torch.no_grad():
            return m(**inputs).logits

    eager_times = timed(forward, args.seconds)
    eager = statistics.median(eager_times)
    result = {
        "gemm_gflops": gemm,
        "forward": {
            "batch": args.batch,
            "seq": args.seq,
            "gflop": round(flops / 1e9, 1),
            "eager_s": round(eager, 3),
            "eager_tokens_per_s": round(tokens / eager, 1),
            "eager_gflops": round(flops / eager / 1e9, 1),
            "eager_rounds": len(eager_times),
        },
        "operators": by_operator(model, inputs),
    }
    print(json.dumps(result["forward"]))
    for row in result["operators"]:
        print(f"  {row['op']:<45} {row['calls']:>5} calls {row['self_ms']:>9.1f} ms  {row['share']:.1%}")

    if not args.no_compile:
        reference = forward()
        compiled = torch.compile(model)
        started = time.perf_counter()
        out = forward(compiled)
        compile_s = time.perf_counter() - started
        compiled_times = timed(lambda: forward(compiled), args.seconds)
        fast = statistics.median(compiled_times)
        result["compiled"] = {
            "compile_s": round(compile_s, 1),
            "s": round(fast, 3),
            "tokens_per_s": round(tokens / fast, 1),
            "gflops": round(flops / fast / 1e9, 1),
            "speedup": round(eager / fast, 2),
            "max_abs_logit_diff": float((out - reference).abs().max()),
            "rounds": len(compiled_times),
        }
        print("torch.compile:", json.dumps(result["compiled"]))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record | result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
