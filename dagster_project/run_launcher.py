"""The run launcher of the local instance (`dagster_home/dagster.yaml`): Dagster's default local launcher plus a run
worker health check, so the daemon's run monitoring fails a run whose process died after it STARTED (kill -9,
the OOM killer) and the queue (`max_concurrent_runs: 1`) moves on.

Dagster's DefaultRunLauncher has no health check: without one, run monitoring only times out runs stuck in
STARTING or CANCELING, and a killed run stays STARTED forever. The run worker reports its pid in an engine event
("Started process for run (pid: N)"); the check asks the operating system whether that process is still alive
(not gone, not a zombie, and not a later process that reused the pid). The daemon and the run workers of the local
launcher run on the same host, which is what a pid check needs.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterEventType, DagsterRun, DagsterRunStatus, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

PID_KEY = "pid"
# a process that started this long after the run worker reported its pid is a later process reusing the pid
PID_REUSE_SLACK_S = 5.0


def process_state(pid: int) -> str | None:
    """The one-letter state of process `pid` from /proc (R, S, D, Z...); None when no such process exists.
    Without /proc, 'S' when signal 0 reaches it (it exists), None when it does not."""
    if Path("/proc/self/stat").exists():
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return None
        return text[text.rindex(")") + 2 :].split()[0]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return "S"  # someone else's process: it exists
    return "S"


def process_started_at(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), from /proc; None when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: start time in clock ticks


def reported_pid(instance, run_id: str) -> tuple[int, float] | None:
    """The pid the run's worker reported last, and when it reported it."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT, ascending=False).records
    for record in records:
        event = record.event_log_entry.dagster_event
        metadata = event.engine_event_data.metadata if event and event.engine_event_data else {}
        if PID_KEY in metadata:
            try:
                return int(metadata[PID_KEY].value), record.event_log_entry.timestamp
            except (TypeError, ValueError):
                continue
    return None


class HealthCheckedRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose run workers are health-checked by pid (see the module docstring)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        if run.status != DagsterRunStatus.STARTED:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, f"run is {run.status.value}, not STARTED")
        found = reported_pid(self._instance, run.run_id)
        if found is None:  # the worker has not reported its pid yet: the start timeout covers a worker never up
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the run worker has not reported its pid yet")
        pid, reported_at = found
        state = process_state(pid)
        if state is None:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} is gone (killed or crashed)")
        if state == "Z":
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} died (a zombie)")
        started = process_started_at(pid)
        if started is not None and started > reported_at + PID_REUSE_SLACK_S:
            return CheckRunHealthResult(
                WorkerStatus.FAILED, f"run worker process {pid} is gone (the pid now belongs to a later process)"
            )
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker process {pid} is alive")
