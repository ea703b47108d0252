"""Entry point of a training job: `python -m sinternal_assets.training.run <job.json>`, normally under
`accelerate launch` (see launch.py) started by a Dagster asset through Pipes. Trains into the job's `.partial`
folder, writes the manifest and moves the folder into place; only then is the checkpoint visible. The job file
is a `TrainingJob` (job.py), read back through that type."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from sinternal_assets.training.checkpoints import disk_full, publish
from sinternal_assets.training.job import TrainingJob
from sinternal_assets.training.progress import is_main_process, open_reporter, summarise
from sinternal_assets.training.trainers import METHODS


def run(job: TrainingJob) -> dict | None:
    partial = Path(job.partial_dir)
    with open_reporter() as reporter:
        started = time.perf_counter()
        try:
            result = METHODS[job.method](job, reporter, partial)
        except Exception as error:
            if disk_full(error):  # say it plainly in the run's log, and leave nothing half-written behind
                reporter.log(
                    f"disk full while writing the checkpoint into {partial}: {error}; the unfinished "
                    "folder is removed, earlier checkpoints are untouched"
                )
                shutil.rmtree(partial, ignore_errors=True)
            raise
        if not is_main_process():
            return None
        summary = summarise(result["history"])
        manifest = {
            "asset": job.asset,
            "version": job.version,
            "method": job.method,
            "start_model": job.start_model,
            "start_model_hash": job.start_model_hash,
            "data_hash": job.data_hash,
            "n_examples": job.n_examples,
            "config": job.config,
            "seconds": round(time.perf_counter() - started, 2),
            "summary": summary,
            "history": result["history"],
            # what the trainer consumed (its own counts), how the examples were fitted into max_length, and the
            # numeric policy it ran under
            **{k: result[k] for k in ("consumed", "fitting", "numerics", "fusion", "safety_fitting") if k in result},
        }
        final = publish(partial, manifest)
        reporter.materialize(
            {
                "checkpoint": str(final),
                "seconds": manifest["seconds"],
                **summary,
                # nested records travel as JSON metadata (Pipes takes raw scalars, or {raw_value, type})
                **{
                    k: {"raw_value": result[k], "type": "json"}
                    for k in ("consumed", "fitting", "numerics")
                    if k in result
                },
            }
        )
        return manifest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m sinternal_assets.training.run <job.json>", file=sys.stderr)
        return 2
    run(TrainingJob.from_json(Path(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
