"""Sensors. `annotation_sensor` imports annotators' responses from Argilla and asks for re-curation."""

import json

from dagster import (AssetKey, AssetMaterialization, DefaultSensorStatus, RunRequest, SensorEvaluationContext,
                     SensorResult, SkipReason, sensor)

from dagster._core.definitions.data_version import DATA_VERSION_TAG  # no public name for the tag in 1.13

from dagster_project.resources import ArgillaResource, WarehouseResource
from sinternal_assets.review.importer import import_reviews
from sinternal_assets.review.summary import review_metadata

CURATION_ASSETS = [AssetKey("reviewed_critiques")]
INBOX_INTERVAL_S = 30


def _cursor(raw: str | None) -> dict:
    try:
        return json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}


@sensor(name="annotation_sensor", minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        asset_selection=CURATION_ASSETS,
        description="Imports responses submitted in Argilla's critique_review since the last import into DuckDB's "
                    "human_reviews (exactly once), records the import as a materialization of human_reviews with "
                    "agreement figures, and requests re-materialization of the curation assets. Argilla down: the "
                    "tick fails with the reason and the next tick retries; nothing is lost.")
def annotation_sensor(context: SensorEvaluationContext, argilla: ArgillaResource, warehouse: WarehouseResource):
    client = argilla.client()  # ArgillaUnavailable fails this tick with a clear message; the next tick retries
    dataset = argilla.dataset(client)
    if dataset is None:
        return SkipReason(f"no dataset {argilla.dataset_name!r} in workspace {argilla.workspace!r} yet: "
                          "materialize critique_review first")
    wh = warehouse.get()
    # The import and its DuckDB cursor are one transaction and keyed by response version, so a re-read is a
    # no-op. The Dagster cursor only remembers how many imports were already announced downstream: if a tick
    # died after importing and before returning, the next one still requests the curation run.
    result = import_reviews(client, dataset, wh)
    announced = _cursor(context.cursor)
    announced_total = announced.get("imported_total", 0) if announced.get("dataset_id") == result.dataset_id else 0
    cursor = json.dumps({"dataset_id": result.dataset_id, "imported_total": result.total,
                         "response_cursor": result.cursor.isoformat() if result.cursor else None})
    if result.total <= announced_total:
        return SensorResult(skip_reason=SkipReason(f"no new responses ({result.seen} seen, all already imported)"),
                            cursor=cursor)
    context.log.info(f"annotation_sensor: imported {result.new} new response versions "
                     f"({result.total - announced_total} not yet announced downstream)")
    metadata = {"new_response_versions": result.new, "imported_total": result.total,
                "dataset_id": result.dataset_id, **review_metadata(wh)}
    return SensorResult(
        run_requests=[RunRequest(run_key=f"human-reviews-{result.dataset_id}-{result.total}",
                                 asset_selection=CURATION_ASSETS)],
        # The data version names the imported data exactly, so Dagster marks everything downstream stale.
        asset_events=[AssetMaterialization(asset_key="human_reviews", metadata=metadata,
                                           tags={DATA_VERSION_TAG: f"{result.dataset_id}:{result.total}"})],
        cursor=cursor,
    )


def make_prompt_inbox_sensor(job):
    @sensor(name="prompt_inbox_sensor", job=job, minimum_interval_seconds=INBOX_INTERVAL_S,
            default_status=DefaultSensorStatus.RUNNING,
            description="Watches the prompt inbox (<data dir>/inbox, or $SINTERNAL_INBOX): when its files change "
                        "(new, edited or removed files and mapping sidecars), runs ingest_prompts, which reads every "
                        "inbox file as a user prompt file. A bad file fails that run with the file's name and the "
                        "problem, and nothing is written.")
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
        return SensorResult(run_requests=[RunRequest(run_key=f"inbox-{current or 'empty-' + previous}",
                                                     run_config=config,
                                                     tags={"sinternal/inbox_files": ",".join(files)[:200]})],
                            cursor=current)

    return prompt_inbox_sensor
