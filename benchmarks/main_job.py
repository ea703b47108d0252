"""The main job end to end from a fresh clone: clone the committed HEAD into a temporary folder, run
`scripts/run-main.sh` there (set-up with warm download caches, Argilla + Redis start, the `embedded_default` job,
the summary) under `/usr/bin/time -v`, then read every step's seconds from the clone's Dagster instance.

    .venv/bin/python benchmarks/main_job.py            # writes benchmarks/results/main_job.json

Target (issue "Training that learns"): the job in <= 8 minutes on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sinternal_assets.models.numerics import choose  # noqa: E402


def step_seconds(dagster_home: Path) -> tuple[str, float, dict[str, float]]:
    """The latest run's id, its wall seconds and each step's seconds, from the instance in `dagster_home`."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        record = instance.get_run_records(limit=1)[0]
        run = record.dagster_run
        stats = instance.get_run_step_stats(run.run_id)
        steps = {s.step_key: round(s.end_time - s.start_time, 1) for s in stats if s.start_time and s.end_time}
        wall = (record.end_time or time.time()) - (record.start_time or record.create_timestamp.timestamp())
    return run.run_id, round(wall, 1), dict(sorted(steps.items(), key=lambda kv: -kv[1]))


def training_breakdown(data_dir: Path, steps: dict[str, float]) -> dict[str, dict]:
    """Where each training asset's seconds went, from its checkpoint manifest: the Dagster step's seconds, the
    training process's own (model load, data, optimizer steps, export; `seconds`), the optimizer steps' (the sum
    of the logged step times) and the rest of the step (process start-up and imports, the launcher, the asset's
    own work before and after)."""
    out = {}
    for manifest_path in sorted(data_dir.glob("checkpoints/*/*/manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        asset = manifest["asset"]
        history = manifest.get("history", [])
        optimizer = sum(r.get("step_time_s", 0.0) for r in history)
        out[asset] = {
            "step_s": steps.get(asset),
            "process_s": manifest.get("seconds"),
            "optimizer_steps": len(history),
            "optimizer_s": round(optimizer, 1),
            "outside_process_s": round(steps[asset] - manifest["seconds"], 1) if asset in steps else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "main_job.json"))
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "sinternal"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SINTERNAL_", "DAGSTER_"))}
        started = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-v", "bash", "scripts/run-main.sh"],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        total = time.perf_counter() - started
        # run-main.sh leaves Argilla and Redis running for annotation: stop the clone's before its folder goes
        subprocess.run(["bash", "scripts/argilla.sh", "stop"], cwd=clone, env=env, capture_output=True)
        if done.returncode != 0:
            kept = Path(tempfile.mkdtemp(prefix="main-job-failed-")) / "run-main.log"
            kept.write_text(done.stdout + done.stderr)
            print(done.stdout[-4000:], done.stderr[-4000:], sep="\n")
            raise SystemExit(f"scripts/run-main.sh failed ({done.returncode}); its whole log: {kept}")
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        run_id, job_seconds, steps = step_seconds(clone / "dagster_home")
        breakdown = training_breakdown(clone / ".sinternal", steps)
    policy = choose("auto")
    result = {
        "date": date.today().isoformat(),
        "commit": commit.stdout.strip(),
        "machine": f"{os.cpu_count()} cores, CPU {policy.cpu}, native bf16 {policy.cpu_bf16}",
        "numerics": policy.dtype,
        "command": "benchmarks/main_job.py (git clone of HEAD into a temp dir; bash scripts/run-main.sh </dev/null)",
        "run_main_seconds": round(total, 1),
        "embedded_default_job_seconds": job_seconds,
        "target_job_seconds": 480,
        "dagster_run_id": run_id,
        "max_rss_kb": int(rss.group(1)) if rss else None,
        "step_seconds": steps,
        "training_breakdown": breakdown,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "step_seconds"}, indent=2))
    print("slowest steps:", list(steps.items())[:12])
    for asset, row in breakdown.items():
        print(asset, row)


if __name__ == "__main__":
    main()
