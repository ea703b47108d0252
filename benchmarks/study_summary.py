"""The study run's record: wall time per stage (from the Dagster instance's step statistics), the report's summary
tables and the judges' measured accuracy (from the evaluation_report materialization), the positive controls
(`controls`: name, method, baseline, measure, n, effect, ci_low, ci_high, p, passed, note), the structured numbers
behind every report table (`tables`: the report's `.tables.json`), the linear probes per checkpoint (`probes`, from
that table: `probes_by_checkpoint`), the training budget of each checkpoint as its trainer counted it (`budgets`:
`budgets_by_checkpoint`) and the numeric paths they trained on (`numerics`), the commit, and the offline expert's
accuracy (from the warehouse). Written by
scripts/run-study.sh as `<out>.json` (raw), `<out>.md` (tables) and `<out>.items.parquet`: every judgement per
item (item id, checkpoint, judge, score, verdict, human label where one exists; `per_item.per_item_results`), its
file name recorded in the JSON as `per_item_results`.

    .venv/bin/python benchmarks/study_summary.py --db $SINTERNAL_DB --job study --out benchmarks/results/study-DATE
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dagster import AssetKey, DagsterInstance, RunsFilter  # noqa: E402

from sinternal_assets.evaluation.per_item import per_item_results  # noqa: E402
from sinternal_assets.evaluation.results import training_curves  # noqa: E402
from sinternal_assets.reporting import markdown_table  # noqa: E402
from sinternal_assets.storage.warehouse import Warehouse  # noqa: E402


def write_per_item(db: Path, out: Path) -> dict:
    """Every judgement of the warehouse's current evaluation, per item, to `<out>.items.parquet`; what the JSON
    records of it (its file name beside the JSON, and rows per subject and judge)."""
    wh = Warehouse(db)
    frame = per_item_results(wh.query("judged_generations"), wh.query("judged_labels"))
    path = out.with_name(out.name + ".items.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    counts = frame.group_by("subject", "judge", "length").len().sort("subject", "judge", "length")
    return {"file": path.name, "rows": frame.height, "by_subject_judge_length": counts.to_dicts()}


CONTROL_FIELDS = ("name", "method", "baseline", "measure", "n", "effect", "ci_low", "ci_high", "p", "passed", "note")


def controls_of(tables: dict | None) -> list[dict]:
    """The positive controls the evaluation report computed (the `controls` table of its `.tables.json`, as
    `per_item.tables_record` wrote it), each with the fields the study's JSON keeps; empty when it recorded none."""
    rows = ((tables or {}).get("tables") or {}).get("controls") or []
    return [{field: row.get(field) for field in CONTROL_FIELDS} for row in rows]


def summarise(db: Path, job: str) -> dict:
    instance = DagsterInstance.get()
    runs = instance.get_runs(filters=RunsFilter(job_name=job), limit=1)
    if not runs:
        raise SystemExit(f"no run of job {job!r} in the Dagster instance at $DAGSTER_HOME")
    run = runs[0]
    stats = instance.get_run_stats(run.run_id)
    steps = sorted(
        (
            {
                "step": s.step_key,
                "status": str(s.status.value if s.status else None),
                "seconds": round((s.end_time or 0) - (s.start_time or 0), 1) if s.start_time else None,
            }
            for s in instance.get_run_step_stats(run.run_id)
        ),
        key=lambda s: -(s["seconds"] or 0),
    )
    event = instance.get_latest_materialization_event(AssetKey("evaluation_report"))
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    wh = Warehouse(db)
    expert = wh.table("offline_experts").sort("created_at").tail(1).to_dicts()
    trained = wh.query("evaluated_checkpoint_names")["checkpoint"].to_list()
    trained_rows = wh.query("checkpoint_budgets", checkpoints=[c for c in trained if c != "base"])
    curves = training_curves(trained_rows)
    tables = (
        json.loads(Path(str(metadata["tables_json"].value)).read_text(encoding="utf-8"))
        if "tables_json" in metadata
        else None
    )
    record = {
        "job": job,
        "run_id": run.run_id,
        "status": str(run.status.value),
        "wall_seconds": round((stats.end_time or 0) - (stats.start_time or 0), 1),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.node()} ({platform.machine()}, {__import__('os').cpu_count()} cores)",
        "steps": steps,
        "report": str(metadata["report"].value) if "report" in metadata else None,
        "summary_md": metadata["summary"].value if "summary" in metadata else None,
        "judge_accuracy_md": metadata["judge_accuracy"].value if "judge_accuracy" in metadata else None,
        "controls": controls_of(tables),
        "tables": tables,
        "offline_expert": {k: str(v) for k, v in expert[0].items()} if expert else None,
        "training_curves": curves.to_dicts(),
    }
    record["probes"] = probes_by_checkpoint(record["tables"])
    record["budgets"] = budgets_by_checkpoint(trained_rows.to_dicts())
    distinct = {json.dumps(b["numerics"], sort_keys=True) for b in record["budgets"].values()}
    record["numerics"] = [json.loads(n) for n in sorted(distinct)]
    record["commit"] = current_commit()
    return record


def current_commit() -> str | None:
    """The checkout's commit (with `+changes` when its tracked files differ from it), None outside git."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], capture_output=True).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


def budgets_by_checkpoint(rows: list[dict]) -> dict:
    """Per trained checkpoint, what its trainer counted it consumed (`checkpoint_budgets.sql` rows: `budget_json`
    is written by the training run from the trainer's own counts, not from steps x batch): its method family,
    examples in its data, examples seen, epochs, optimizer steps, real and supervised tokens, the examples
    shortened or dropped to fit `max_length`, and the numeric path it trained on."""
    out = {}
    for row in rows:
        budget = json.loads(row.get("budget_json") or "{}")
        consumed, fitting = budget.get("consumed") or {}, budget.get("fitting") or {}
        out[row["checkpoint"]] = {
            "method": row["method"],
            "examples_in_data": consumed.get("examples_in_data"),
            "examples_seen": consumed.get("examples_seen"),
            "epochs": consumed.get("epochs"),
            "optimizer_steps": consumed.get("optimizer_steps"),
            "real_tokens": consumed.get("real_tokens"),
            "supervised_tokens": consumed.get("supervised_tokens"),
            "examples_shortened": fitting.get("shortened"),
            "examples_dropped": fitting.get("dropped"),
            "numerics": budget.get("numerics") or {},
        }
    return out


PROBE_FIELDS = (
    "layers",
    "auc",
    "ci_low",
    "ci_high",
    "accuracy",
    "accuracy_ci_low",
    "accuracy_ci_high",
    "n_fit",
    "n_heldout",
    "n_paired",
    "auc_minus_base",
    "diff_ci_low",
    "diff_ci_high",
)


def probes_by_checkpoint(tables: dict | None) -> dict:
    """Per checkpoint, from the report's `probes` table (`tables` is its `.tables.json` record): each layer group's
    probe (`groups`: auc, ci_low, ci_high, accuracy, n_fit, n_heldout, the difference to base ...) and the group
    with the highest held-out AUC (`best`, with its `layer_group`); {} without probes."""
    rows = ((tables or {}).get("tables") or {}).get("probes") or []
    out: dict = {}
    for row in rows:
        entry = out.setdefault(row["checkpoint"], {"best": None, "groups": {}})
        entry["groups"][row["layer_group"]] = {k: row.get(k) for k in PROBE_FIELDS}
        best = entry["best"]
        if row.get("auc") is not None and (best is None or row["auc"] > best["auc"]):
            entry["best"] = {"layer_group": row["layer_group"], **entry["groups"][row["layer_group"]]}
    return out


def probes_markdown(probes: dict) -> str:
    import polars as pl

    if not probes:
        return "(no probes: see the report's probes section)"
    rows = [
        {"checkpoint": c, "layer group": f"{g} ({v['layers']})", **{k: v[k] for k in PROBE_FIELDS if k != "layers"}}
        for c, entry in probes.items()
        for g, v in entry["groups"].items()
    ]
    return markdown_table(pl.DataFrame(rows), max_rows=200)


def to_markdown(record: dict) -> str:
    import polars as pl

    steps = pl.DataFrame(record["steps"], schema={"step": pl.String, "status": pl.String, "seconds": pl.Float64})
    lines = [
        f"# Study run {record['run_id']} ({record['status']})",
        f"Date {record['date']}, commit {record.get('commit')}, machine {record['machine']}, wall time "
        f"{record['wall_seconds']} s ({record['wall_seconds'] / 60:.1f} min). Report: {record['report']}",
        "Numeric path of the training runs: "
        + (
            "; ".join(f"{n.get('device')} {n.get('dtype')} ({n.get('reason')})" for n in record.get("numerics") or [])
            or "(none recorded)"
        ),
        "## Positive controls (if one fails, the comparisons are suspect)",
        markdown_table(pl.DataFrame(record["controls"])) if record.get("controls") else "(none recorded)",
        "## Results (from the evaluation report)",
        record["summary_md"] or "(no evaluation report)",
        "## Judges' measured accuracy on held-out human labels",
        record["judge_accuracy_md"] or "(none)",
        "## Offline expert teacher",
        markdown_table(pl.DataFrame([record["offline_expert"]])) if record["offline_expert"] else "(none)",
        "## Linear probes on the verdict position's hidden states (fit: teacher_train, measured: held-out)",
        probes_markdown(record.get("probes") or {}),
        "## Training budgets as each trainer counted them",
        budgets_markdown(record.get("budgets") or {}),
        "## Training curves (every logged step)",
        curves_markdown(record["training_curves"]),
        "## Wall time per step (slowest first)",
        markdown_table(steps, max_rows=200),
    ]
    return "\n\n".join(lines) + "\n"


def budgets_markdown(budgets: dict) -> str:
    import polars as pl

    if not budgets:
        return "(no checkpoint trained)"
    rows = [
        {"checkpoint": c, **{k: v for k, v in b.items() if k != "numerics"}, "dtype": b["numerics"].get("dtype")}
        for c, b in budgets.items()
    ]
    return markdown_table(pl.DataFrame(rows), max_rows=200)


def curves_markdown(rows: list[dict]) -> str:
    """One row per checkpoint and metric: its logged values, step by step."""
    import polars as pl

    if not rows:
        return "(no trainer logged a step)"
    frame = (
        pl.DataFrame(rows)
        .sort("checkpoint", "metric", "step")
        .group_by("checkpoint", "metric", maintain_order=True)
        .agg(
            pl.len().alias("logged steps"),
            pl.col("value").round(3).cast(pl.String).str.join(", ").alias("values, first to last"),
        )
    )
    return markdown_table(frame, max_rows=200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--job", default="study")
    parser.add_argument("--out", required=True, type=Path, help="path without suffix: writes .json and .md")
    args = parser.parse_args()
    record = summarise(args.db, args.job)
    record["per_item_results"] = write_per_item(args.db, args.out)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(to_markdown(record), encoding="utf-8")
    print(f"wrote {args.out}.json, {args.out}.md and {record['per_item_results']['file']}")


if __name__ == "__main__":
    main()
