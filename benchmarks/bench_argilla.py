"""Argilla review throughput and search latency, against a private real Argilla started by scripts/argilla.sh.

1. Push rate: our pusher (`push_records`: bulk upserts of up to 500 records, changed-only) against a plain
   per-record SDK loop (`dataset.records.log([record])` for each record), same records, one run.
2. Search-page latency of our SQL search backend with 5,000 and 50,000 records in the dataset: the
   queries the annotation UI and the sensor send (HTTP round trip, server time included), p50 / p95.

    .venv/bin/python benchmarks/bench_argilla.py --loop-records 300 --sizes 5000 50000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sinternal_assets.review.dataset import review_content, to_argilla_record  # noqa: E402
from sinternal_assets.review.push import ensure_dataset, push_records  # noqa: E402
from sinternal_assets.storage.warehouse import Warehouse  # noqa: E402
from tests.services import ArgillaService  # noqa: E402

WORDS = (
    "the model explains that it cannot help with weapons synthesis but offers safety resources and "
    "describes general chemistry history while refusing operational detail for the request"
).split()
FAMILIES = ["none", "jailbreakchat", "inthewild", "prefix_injection", "refusal_suppression", "roleplay"]
CATEGORIES = ["weapons", "cybercrime", "self_harm", "hate", "fraud", "privacy", "benign"]


def synthetic_rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)

    def text(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words))

    rows = []
    for i in range(n):
        verdict = rng.choice(["SAFE", "UNSAFE"])
        rows.append(
            {
                "critique_id": f"bench-{seed}-{i:06d}",
                "target": "final_answer",
                "spec_name": "sinternal v1",
                "spec_excerpt": text(50),  # the compact spec: the same length on every record
                "category": rng.choice(CATEGORIES),
                "prompt_text": text(60),
                "reasoning": "",
                "final_answer": text(90),
                "critique": text(50),
                "raw_text": "",
                "verdict": verdict,
                "parse_ok": True,
                "verdict_score": round(rng.random(), 3),
                "teacher_id": "SmolLM2-135M-Instruct",
                "source": "advbench",
                "attack_family": rng.choice(FAMILIES),
                "split": rng.choice(["train", "eval"]),
                "label": rng.choice(["harmful", "benign"]),
                "route": "audit",
                "reference_verdict": None,
                "priority": 2,
                "queue_position": i,
            }
        )
    return rows


def timed_search(client, dataset_id: str, body: dict, repeats: int, me: bool = False, limit: int = 50) -> dict:
    path = f"/api/v1/{'me/' if me else ''}datasets/{dataset_id}/records/search"
    seconds, total = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.api.http_client.post(
            path, json=body, params={"include": ["responses", "suggestions"], "offset": 0, "limit": limit}
        )
        response.raise_for_status()
        seconds.append(time.perf_counter() - start)
        total = response.json()["total"]
    seconds.sort()
    return {
        "p50_ms": round(1000 * statistics.median(seconds), 1),
        "p95_ms": round(1000 * seconds[max(0, int(0.95 * len(seconds)) - 1)], 1),
        "total": total,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loop-records", type=int, default=300)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "argilla.json")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="reuse the server state of an earlier run (records already pushed are skipped)",
    )
    parser.add_argument("--skip-push-comparison", action="store_true")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-argilla-"))
    service = ArgillaService(work)
    started = service.script("start")
    if started.returncode:
        print(started.stdout, started.stderr, file=sys.stderr)
        return 1
    results: dict = {"machine": f"{platform.processor() or platform.machine()}, {platform.platform()}"}
    try:
        owner, annotator = service.client(), service.client("ANNOTATOR")
        wh = Warehouse(work / "bench.duckdb")

        # 1. push rate, side by side on the same records
        if args.skip_push_comparison:
            args.loop_records = 0
        contents = [review_content(r) for r in synthetic_rows(args.loop_records, seed=1)]
        loop_ds, _ = ensure_dataset(owner, f"bench_loop_{time.time_ns()}", "sinternal")
        start = time.perf_counter()
        for content in contents:
            loop_ds.records.log([to_argilla_record(content)])
        loop_s = time.perf_counter() - start
        if contents:
            bulk_ds, _ = ensure_dataset(owner, f"bench_bulk_{time.time_ns()}", "sinternal")
            stats = push_records(bulk_ds, contents, wh, log=lambda _m: None)
            results["push"] = {
                "records": len(contents),
                "per_record_loop_s": round(loop_s, 2),
                "per_record_loop_rps": round(len(contents) / loop_s, 1),
                "bulk_s": round(stats.seconds, 2),
                "bulk_rps": round(stats.records_per_second, 1),
                "speedup": round(loop_s / stats.seconds, 1),
            }
            print(json.dumps(results["push"]), flush=True)

        # 2. search latency as the dataset grows
        results["search"] = {}
        for size in args.sizes:
            dataset, _ = ensure_dataset(owner, f"bench_search_{size}", "sinternal")
            rows = [review_content(r) for r in synthetic_rows(size, seed=size)]
            push = push_records(dataset, rows, wh, log=lambda _m: None)
            # a few answered records, so the pending queue has something to exclude
            for record in list(dataset.records(limit=20)) if push.pushed else []:
                annotator.api.http_client.post(
                    f"/api/v1/records/{record._server_id}/responses",
                    json={"values": {"verdict": {"value": "safe"}}, "status": "submitted"},
                ).raise_for_status()
            pending = {
                "filters": {
                    "and": [
                        {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]}
                    ]
                }
            }
            metadata_filter = {
                "filters": {
                    "and": [
                        {
                            "type": "terms",
                            "scope": {"entity": "metadata", "metadata_property": "attack_family"},
                            "values": ["roleplay"],
                        },
                        {
                            "type": "terms",
                            "scope": {"entity": "metadata", "metadata_property": "split"},
                            "values": ["eval"],
                        },
                    ]
                }
            }
            # name: (body, as the annotator through /me/ (the UI's endpoint), page size)
            queries = {
                "owner: first page": ({}, False, 50),
                "owner: metadata attack_family + split": (metadata_filter, False, 50),
                "owner: suggestion score <= 0.3, sorted by teacher_score": (
                    {
                        "filters": {
                            "and": [
                                {
                                    "type": "range",
                                    "scope": {"entity": "suggestion", "question": "verdict", "property": "score"},
                                    "le": 0.3,
                                }
                            ]
                        },
                        "sort": [
                            {"scope": {"entity": "metadata", "metadata_property": "teacher_score"}, "order": "asc"}
                        ],
                    },
                    False,
                    50,
                ),
                "owner: text query 'weapons chemistry'": ({"query": {"text": {"q": "weapons chemistry"}}}, False, 50),
                "sensor: records with submitted responses": (
                    {
                        "filters": {
                            "and": [
                                {
                                    "type": "terms",
                                    "scope": {"entity": "response", "property": "status"},
                                    "values": ["submitted", "discarded"],
                                }
                            ]
                        }
                    },
                    False,
                    500,
                ),
                "annotator: pending queue, page of 10": (pending, True, 10),
                "annotator: pending queue, page of 50": (pending, True, 50),
                "annotator: pending + attack_family + split, page of 10": (
                    {"filters": {"and": [*pending["filters"]["and"], *metadata_filter["filters"]["and"]]}},
                    True,
                    10,
                ),
            }
            results["search"][size] = {"push_rps": round(push.records_per_second, 1) if push.pushed else None}
            for name, (body, as_annotator, limit) in queries.items():
                client = annotator if as_annotator else owner
                results["search"][size][name] = timed_search(
                    client, str(dataset.id), body, args.repeats, me=as_annotator, limit=limit
                )
            engine = subprocess.run(
                [
                    str(ROOT / ".venv-argilla" / "bin" / "python"),
                    str(ROOT / "benchmarks" / "argilla_engine_timing.py"),
                    f"bench_search_{size}",
                    service.secrets()["ARGILLA_ANNOTATOR_USERNAME"],
                    str(args.repeats),
                ],
                env={
                    **os.environ,
                    "ARGILLA_DATABASE_URL": "sqlite+aiosqlite:///"
                    f"{work / 'data' / 'argilla' / 'argilla.db'}?check_same_thread=False",
                },
                capture_output=True,
                text=True,
                check=True,
            )
            results["search"][size]["engine only (p50 ms, page of 10)"] = json.loads(engine.stdout.splitlines()[-1])
            print(json.dumps({size: results["search"][size]}), flush=True)
    finally:
        service.script("stop")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
