"""Schedules. `weekly_retraining` runs the `retraining` job when there are new prompts or new human reviews.

The tick fingerprints the retraining inputs in DuckDB (the prompt pool and the imported human reviews,
`sql/queries/retraining_inputs.sql`) and tags the run with it; a later tick with the same fingerprint finds
that run and skips. So an idle week costs nothing, and generation, being keyed by content hash, only produces
what is new when it does run.
"""

from dagster import DagsterRunStatus, RunRequest, RunsFilter, ScheduleEvaluationContext, SkipReason, schedule

from dagster_project.resources import WarehouseResource

INPUTS_TAG = "sinternal/retraining_inputs"
WEEKLY = "0 3 * * 1"  # Mondays 03:00
# runs that count as "this input was already (or is being) retrained"
NOT_FAILED = [
    DagsterRunStatus.SUCCESS,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
]


def retraining_inputs(warehouse: WarehouseResource) -> dict | None:
    """The fingerprint of what retraining reads and the counts behind it; None before the prompts exist."""
    from sinternal_assets.storage.warehouse import Warehouse

    wh: Warehouse = warehouse.reader()  # read-only, and no waiting: a busy file skips this tick (see below)
    wh.lock_wait_s = 0.0
    if not wh.path.is_file():
        return None
    row = wh.query("retraining_inputs").row(0, named=True)
    return row if row["n_prompts"] else None


def make_weekly_retraining(job, cron: str = WEEKLY):
    @schedule(
        name="weekly_retraining",
        cron_schedule=cron,
        job=job,
        execution_timezone="UTC",
        description="Weekly: when the prompt pool or the human reviews changed since the last retraining "
        "run, regenerate what is new, re-curate, retrain and re-evaluate; otherwise skip.",
    )
    def weekly_retraining(context: ScheduleEvaluationContext, warehouse: WarehouseResource):
        from sinternal_assets.storage.warehouse import WarehouseError

        try:
            inputs = retraining_inputs(warehouse)
        except WarehouseError as error:
            if "locked by another process" not in str(error):
                raise
            # a run holds the file (the schedule never waits for it): skipping would cost a week, so retrain anyway;
            # the run queues behind the one holding the file, and generation keyed by content hash redoes nothing
            context.log.info("weekly_retraining: the warehouse is in use by a run; requesting retraining anyway")
            return RunRequest(tags={INPUTS_TAG: "unknown: the warehouse was in use at the tick"})
        if inputs is None:
            return SkipReason(
                "no prompt pool in the warehouse yet: run the embedded_default job (or ingest_prompts) first"
            )
        fingerprint = inputs["fingerprint"]
        done = context.instance.get_runs(
            RunsFilter(job_name=job.name, tags={INPUTS_TAG: fingerprint}, statuses=NOT_FAILED), limit=1
        )
        if done:
            return SkipReason(
                f"nothing new since run {done[0].run_id}: {inputs['n_prompts']} prompts, "
                f"{inputs['n_reviews']} human reviews"
            )
        context.log.info(
            f"weekly_retraining: new inputs ({inputs['n_prompts']} prompts, "
            f"{inputs['n_reviews']} human reviews): requesting a retraining run"
        )
        return RunRequest(run_key=f"retraining-{fingerprint}", tags={INPUTS_TAG: fingerprint})

    return weekly_retraining
