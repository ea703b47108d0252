"""Sensors: they only detect and request runs; every warehouse write happens in a run. `annotation_sensor` sees new
responses in Argilla and runs the import and re-curation job;
`checkpoint_sensor` runs the evaluation job after a new checkpoint; `prompt_inbox_sensor` ingests new prompt
files. Each runs its job with the run profile's configuration (what the profile's main job uses), never the
assets' bare defaults."""

import json

from dagster import (
    DefaultSensorStatus,
    MultiAssetSensorEvaluationContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    multi_asset_sensor,
    sensor,
)

from dagster_project.resources import ArgillaResource
from sinternal_assets.review.importer import fetch_response_records
from sinternal_assets.review.submissions import new_submissions
from sinternal_assets.training.assets import CHECKPOINT_ASSETS

INBOX_INTERVAL_S = 30
CHECKPOINT_KEYS = [asset.key for asset in CHECKPOINT_ASSETS]


def _cursor(raw: str | None) -> dict:
    try:
        return json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}


def make_annotation_sensor(job, run_config: dict):
    @sensor(
        name="annotation_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Detects responses submitted (or discarded) in Argilla's critique_review (and its disputed "
        "queue) since its cursor and "
        "runs the review_followup job (human_reviews imports them into DuckDB exactly once, then reviewed "
        "verdicts and re-curation) with the run profile's configuration. It only reads Argilla: it never "
        "opens the warehouse, so a running job holding the file never fails it. Argilla down: the tick "
        "fails with the reason and the next tick retries; nothing is lost.",
    )
    def annotation_sensor(context: SensorEvaluationContext, argilla: ArgillaResource):
        return detect_and_request(context, argilla, run_config)

    return annotation_sensor


def detect_and_request(context: SensorEvaluationContext, argilla: ArgillaResource, run_config: dict):
    """One annotation-sensor tick: find response versions newer than the cursor, request the run that imports them."""
    client = argilla.client()  # ArgillaUnavailable fails this tick with a clear message; the next tick retries
    datasets = argilla.review_datasets(client)
    if not datasets:
        return SkipReason(
            f"no dataset {argilla.dataset_name!r} in workspace {argilla.workspace!r} yet: "
            "materialize critique_review first"
        )
    records = [record for dataset in datasets for record in fetch_response_records(client, str(dataset.id))]
    # the cursor is keyed by the datasets watched: the disputed queue's creation starts a new one (one extra
    # import run, which imports nothing twice)
    found = new_submissions(records, "+".join(str(d.id) for d in datasets), _cursor(context.cursor))
    cursor = json.dumps(found.cursor())
    if not found.new:
        return SensorResult(
            skip_reason=SkipReason(f"no new responses ({found.seen} response versions seen)"), cursor=cursor
        )
    context.log.info(f"annotation_sensor: {found.new} new response versions: requesting the import and re-curation")
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=found.run_key,
                run_config=run_config,
                tags={"sinternal/new_response_versions": str(found.new)},
            )
        ],
        cursor=cursor,
    )


def make_prompt_inbox_sensor(job):
    @sensor(
        name="prompt_inbox_sensor",
        job=job,
        minimum_interval_seconds=INBOX_INTERVAL_S,
        default_status=DefaultSensorStatus.RUNNING,
        description="Watches the prompt inbox (<data dir>/inbox, or $SINTERNAL_INBOX): when its files change "
        "(new, edited or removed files and mapping sidecars), runs ingest_prompts, which reads every "
        "inbox file as a user prompt file. A bad file fails that run with the file's name and the "
        "problem, and nothing is written.",
    )
    def prompt_inbox_sensor(context: SensorEvaluationContext):
        from sinternal_assets.prompts.inbox import default_inbox, fingerprint, inbox_files

        folder = default_inbox()
        current, previous = fingerprint(folder), context.cursor or ""
        if current == previous:
            return SkipReason(f"inbox {folder} unchanged ({len(inbox_files(folder))} file(s))")
        files = [p.name for p in inbox_files(folder)]
        context.log.info(f"prompt_inbox_sensor: inbox {folder} changed ({len(files)} file(s)): requesting an ingest")
        config = {"ops": {"prompt_sources": {"config": {"inbox": str(folder)}}}}
        # emptied (current == ''): one ingest without inbox files drops their prompts from the pool
        return SensorResult(
            run_requests=[
                RunRequest(
                    run_key=f"inbox-{current or 'empty-' + previous}",
                    run_config=config,
                    tags={"sinternal/inbox_files": ",".join(files)[:200]},
                )
            ],
            cursor=current,
        )

    return prompt_inbox_sensor


def make_checkpoint_sensor(job, run_config: dict):
    @multi_asset_sensor(
        name="checkpoint_sensor",
        monitored_assets=CHECKPOINT_KEYS,
        job=job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="A new checkpoint (any training asset materialized outside a job that already "
        "evaluates) runs the evaluation job with the run profile's configuration. "
        "Training itself waits for the weekly schedule.",
    )
    def checkpoint_sensor(context: MultiAssetSensorEvaluationContext):
        from dagster_project.jobs import EVALUATING_JOBS

        records = {key: record for key, record in context.latest_materialization_records_by_key().items() if record}
        if not records:
            return SkipReason("no new checkpoint")
        context.advance_all_cursors()
        fresh = []
        for key, record in records.items():
            run = context.instance.get_run_by_id(record.run_id) if record.run_id else None
            if run is None or run.job_name not in EVALUATING_JOBS:
                fresh.append((key.to_user_string(), record.storage_id))
        if not fresh:
            return SkipReason(
                f"new checkpoints {sorted(k.to_user_string() for k in records)} came from runs that "
                "already evaluate them"
            )
        context.log.info(f"checkpoint_sensor: new checkpoints {[k for k, _ in fresh]}: requesting an evaluation")
        run_key = "evaluate-" + "-".join(f"{k}@{storage_id}" for k, storage_id in sorted(fresh))
        return RunRequest(
            run_key=run_key[:250],
            run_config=run_config,
            tags={"sinternal/checkpoints": ",".join(k for k, _ in sorted(fresh))[:200]},
        )

    return checkpoint_sensor
