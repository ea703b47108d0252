"""The code location's wiring as one reviewable file (in the manner of dagster-open-platform's `test_defs`):
asset keys with their groups, dependencies, kinds and checks; jobs and their selections; schedules; sensors and
their targets; resources. Any wiring change shows as a diff of `tests/snapshots/definitions.json`; regenerate it
on purpose with `SINTERNAL_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/unit/test_definitions_snapshot.py`."""

import json
import os
from pathlib import Path

from dagster_project.definitions import defs

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "definitions.json"


def wiring() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "kinds": sorted(node.kinds),
            "executable": node.is_executable,
            "checks": sorted(c.name for c in graph.get_check_keys_for_assets([key])),
            "tags": {k: v for k, v in sorted(node.tags.items()) if k.startswith("sinternal/")},
        }
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        jobs[job.name] = sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys)
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name}
        for s in sorted(defs.schedules or [], key=lambda s: s.name)
    }
    sensors = {
        s.name: {"jobs": sorted(j.name for j in s.jobs) if s.has_jobs else [], "status": s.default_status.value}
        for s in sorted(defs.sensors or [], key=lambda s: s.name)
    }
    resources = sorted(defs.resources or {})
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors, "resources": resources}


def test_definitions_match_the_snapshot():
    current = json.dumps(wiring(), indent=1, sort_keys=True) + "\n"
    if os.environ.get("SINTERNAL_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.is_file(), f"no snapshot yet: run with SINTERNAL_UPDATE_SNAPSHOT=1 to write {SNAPSHOT}"
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "the code location's wiring changed: review the diff, then regenerate the snapshot with "
        "SINTERNAL_UPDATE_SNAPSHOT=1 (see this module's docstring)"
    )


def test_every_training_asset_has_a_budget_and_is_evaluated():
    """An asset of the training or ablations group without the budget tag would train on no matched budget and
    never be evaluated: CHECKPOINT_ASSETS and the budget families are read from the tag."""
    from dagster_project.budgets import GRPO_ASSETS, SFT_ASSETS
    from sinternal_assets.training.assets import CHECKPOINT_ASSETS

    graph = defs.resolve_asset_graph()
    trainers = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).group_name in ("training", "ablations")
    }
    assert trainers == {a.key.to_user_string() for a in CHECKPOINT_ASSETS} == set(SFT_ASSETS) | set(GRPO_ASSETS)
    assert not set(SFT_ASSETS) & set(GRPO_ASSETS)
