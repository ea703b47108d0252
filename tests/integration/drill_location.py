"""A code location for the run-monitoring drill (test_drills.py): a run that works for minutes, and a quick one."""

import time

from dagster import Definitions, job, op


@op
def work_for_minutes():
    for _ in range(600):  # a long step, as a training run is
        time.sleep(1)


@job
def long_run():
    work_for_minutes()


@op
def quick_step():
    return 1


@job
def quick_run():
    quick_step()


defs = Definitions(jobs=[long_run, quick_run])
