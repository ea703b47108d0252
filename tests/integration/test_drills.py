"""Failure drills on real files and processes: a corrupt warehouse, a warehouse locked by another process, a
disk that fills up while a checkpoint is written, and a run killed under a real Dagster daemon. Each one: a clear
error that names the file and what to do (or the run failed and the queue moving on), and nothing already stored
lost or half-written. (A run killed mid-generation: test_generation.py; Argilla down during a push: test_review.py.)
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dagster_project.resources import TrainingLauncherResource, WarehouseResource
from sinternal_assets.storage.warehouse import Warehouse
from sinternal_assets.training import checkpoints as ckpt
from tests.conftest import TINY_SFT
from tests.integration.helpers import run
from tests.prerequisites import missing

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _failure(result) -> str:
    event = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return str(event.event_specific_data.error)


@pytest.fixture
def spec_db(tmp_path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    assert run(db, selection="safety_spec").success
    return db


def test_corrupt_warehouse_is_a_clear_error_and_the_file_is_left_as_it_was(spec_db):
    data = bytearray(spec_db.read_bytes())
    data[0:4096] = b"\xde\xad\xbe\xef" * 1024  # the header block
    spec_db.write_bytes(bytes(data))
    result = run(spec_db, selection="safety_spec", raise_on_error=False)
    assert not result.success
    message = _failure(result)
    assert str(spec_db) in message and "Move it aside" in message
    assert "not a readable DuckDB database" in message or "damaged or unreadable" in message
    assert spec_db.read_bytes() == bytes(data)  # not re-initialised over, not truncated


def test_a_warehouse_cut_in_half_is_named_and_its_bytes_stay_unchanged(spec_db):
    cut = spec_db.read_bytes()[: spec_db.stat().st_size // 2]
    spec_db.write_bytes(cut)
    for _attempt in range(2):  # a second attempt neither succeeds nor changes the file either
        result = run(spec_db, selection="safety_spec", raise_on_error=False)
        assert not result.success
        message = _failure(result)
        assert str(spec_db) in message and "damaged or unreadable" in message
        assert "Move it aside" in message and "re-materialize" in message
        assert spec_db.read_bytes() == cut


def test_locked_warehouse_waits_its_limit_then_fails_then_the_same_run_succeeds(spec_db):
    before = Warehouse(spec_db).table("safety_spec")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); c.execute('SELECT 1'); "
                "print('locked', flush=True); time.sleep(120)"
            ),
            str(spec_db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        waiting = {"warehouse": WarehouseResource(path=str(spec_db), lock_wait_s=3)}
        result = run(spec_db, selection="safety_spec", raise_on_error=False, extra_resources=waiting)
        assert not result.success and time.monotonic() - started < 60  # the stated limit, no silent retry loop
        message = _failure(result)
        assert str(spec_db) in message and "locked by another process" in message and "of the 3 s allowed" in message
    finally:
        holder.kill()
        holder.wait()
    assert run(spec_db, selection="safety_spec").success
    assert Warehouse(spec_db).table("safety_spec").equals(before)  # the same spec: nothing lost, nothing doubled


@pytest.fixture
def small_disk(tmp_path):
    """A real 1.3 GB filesystem (tmpfs; two 135M float32 checkpoints fit), so the disk really fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1300m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        missing(f"cannot mount a tmpfs here ({done.stderr.strip()}); the full-disk drills need root, as CI runs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_bytes: int) -> Path:
    filler = disk / "filler.bin"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as handle:
        handle.truncate(0)
        remaining = max(0, free - leave_bytes)
        block = b"\0" * (8 << 20)
        while remaining > 0:
            handle.write(block[: min(len(block), remaining)])
            remaining -= len(block)
    return filler


def test_full_disk_while_writing_a_checkpoint_keeps_the_previous_one(trained_db, small_disk, tmp_path):
    source, _ = trained_db
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(source, db)
    root = small_disk / "checkpoints"
    trainer = {"trainer": TrainingLauncherResource(checkpoint_root=str(root))}
    first = run(
        db,
        selection="verifier_sft",
        run_config={"ops": {"verifier_sft": {"config": {"train": TINY_SFT}}}},
        extra_resources=trainer,
    )
    assert first.success
    (previous,) = [p for p in (root / "verifier_sft").iterdir()]
    assert ckpt.is_complete(previous)
    files_before = {p.relative_to(previous): p.stat().st_size for p in previous.rglob("*") if p.is_file()}
    table_before = Warehouse(db).table("checkpoints")
    other_config = {"ops": {"verifier_sft": {"config": {"mode": "verdict_only", "train": TINY_SFT}}}}

    # 1. too little room to start: refused before anything is written
    filler = _fill(small_disk, leave_bytes=100 << 20)
    refused = run(db, selection="verifier_sft", run_config=other_config, extra_resources=trainer, raise_on_error=False)
    assert not refused.success
    message = _failure(refused)
    assert "not enough disk space" in message and str(root) in message and "MB are free" in message

    # 2. room to start but not to finish: the disk fills while the weights are written
    filler.unlink()
    base_bytes = ckpt.folder_bytes(Path(Warehouse(db).table("models")["path"][0]))
    _fill(small_disk, leave_bytes=base_bytes + (4 << 20))  # passes the pre-flight check, not adapter + merged model
    failed = run(db, selection="verifier_sft", run_config=other_config, extra_resources=trainer, raise_on_error=False)
    assert not failed.success
    message = _failure(failed)
    assert (
        "ran out of space while writing the checkpoint" in message and "previous checkpoints are untouched" in message
    )

    # the previous checkpoint is whole, nothing half-written looks finished, the unfinished folder is gone
    assert sorted(p.name for p in (root / "verifier_sft").iterdir()) == [previous.name]
    assert {p.relative_to(previous): p.stat().st_size for p in previous.rglob("*") if p.is_file()} == files_before
    assert ckpt.is_complete(previous)
    assert Warehouse(db).table("checkpoints").equals(table_before)
    os.sync()


def test_a_write_refused_mid_checkpoint_without_mount_privileges_keeps_the_previous_one(trained_db, tmp_path):
    """The same drill on any machine, no mount needed: a per-file size limit (RLIMIT_FSIZE, inherited by the
    training subprocess) makes the kernel refuse the merged weights mid-write (EFBIG), as a full disk would. The
    run fails saying so, the unfinished folder is gone, and the previous checkpoint and its row are untouched."""
    import resource
    import signal

    source, _ = trained_db
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(source, db)
    root = tmp_path / "checkpoints"
    trainer = {"trainer": TrainingLauncherResource(checkpoint_root=str(root))}
    assert run(
        db,
        selection="verifier_sft",
        run_config={"ops": {"verifier_sft": {"config": {"train": TINY_SFT}}}},
        extra_resources=trainer,
    ).success
    (previous,) = list((root / "verifier_sft").iterdir())
    files_before = {p.relative_to(previous): p.stat().st_size for p in previous.rglob("*") if p.is_file()}
    weights = max(files_before.values())
    table_before = Warehouse(db).table("checkpoints")
    limit = weights // 2  # far above the warehouse and the logs, below the merged weights file
    assert limit > 4 * db.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited: a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    from dagster import DagsterInstance

    instance = DagsterInstance.ephemeral()
    try:
        failed = run(
            db,
            selection="verifier_sft",
            raise_on_error=False,
            extra_resources=trainer,
            instance=instance,
            run_config={"ops": {"verifier_sft": {"config": {"mode": "verdict_only", "train": TINY_SFT}}}},
        )
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert not failed.success
    logs = " ".join(entry.user_message for entry in instance.all_logs(failed.run_id))
    assert "disk full while writing the checkpoint" in logs and "File too large" in logs
    assert sorted(p.name for p in (root / "verifier_sft").iterdir()) == [previous.name]
    assert {p.relative_to(previous): p.stat().st_size for p in previous.rglob("*") if p.is_file()} == files_before
    assert ckpt.is_complete(previous)
    assert Warehouse(db).table("checkpoints").equals(table_before)


# --- a run killed after it STARTED: the daemon's run monitoring fails it and the queue moves on ------------------

DRILL_POLL_S = 1  # the monitoring poll interval of the drill's instance (30 s in dagster_home/dagster.yaml)
DETECT_WITHIN_S = 45  # from the kill to FAILURE
RESTART_WITHIN_S = 120  # then the queued run starts and succeeds (the daemon restarts the killed code server)


def _descendants(pid: int) -> list[int]:
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    found = [int(c) for c in children]
    return found + [d for c in found for d in _descendants(c)]


def _wait_for(what: str, condition, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def daemon_home(tmp_path):
    """A Dagster instance with the project's dagster.yaml (its run launcher, queue and monitoring; the poll
    interval shortened), the drill's code location, and a real `dagster-daemon run` on them (stopped after)."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    config = yaml.safe_load((root / "dagster_home" / "dagster.yaml").read_text())
    config["run_monitoring"]["poll_interval_seconds"] = DRILL_POLL_S
    config["run_queue"]["user_code_failure_retry_delay"] = 2  # requeue quickly while the code server restarts
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    workspace = tmp_path / "workspace.yaml"
    location = Path(__file__).with_name("drill_location.py")
    workspace.write_text(yaml.safe_dump({"load_from": [{"python_file": {"relative_path": str(location)}}]}))
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    from dagster import DagsterInstance

    instance = DagsterInstance.from_config(str(home))  # creates the storage before two processes race to
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(workspace)],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield instance, workspace, env, daemon
    finally:
        os.killpg(daemon.pid, 9)
        daemon.wait(timeout=30)
        log.close()
        print((tmp_path / "daemon.log").read_text()[-4000:])


def test_a_run_killed_after_it_started_is_failed_by_the_daemon_and_the_queue_moves_on(daemon_home):
    """Drill: with the daemon running (max_concurrent_runs 1), kill -9 a STARTED run's processes (its worker, its
    step processes and the code server that launched it). Within DETECT_WITHIN_S the daemon marks it FAILURE (the
    run launcher's worker health check, by pid) and the run queued behind it starts and succeeds within
    RESTART_WITHIN_S (it waits in the queue while the daemon restarts the code server)."""
    from dagster import DagsterRunStatus, RunsFilter

    from dagster_project.run_launcher import reported_pid

    instance, workspace, env, daemon = daemon_home
    dagster = str(Path(sys.executable).with_name("dagster"))

    def launch(job: str) -> None:
        launched = subprocess.run(
            [dagster, "job", "launch", "-w", str(workspace), "-j", job], env=env, capture_output=True, text=True
        )
        assert launched.returncode == 0, launched.stderr

    def run_of(job: str):
        runs = instance.get_runs(RunsFilter(job_name=job))
        return runs[0] if runs else None

    launch("long_run")
    long_id = _wait_for(
        "long_run to start",
        lambda: (r := run_of("long_run")) and r.status == DagsterRunStatus.STARTED and r.run_id,
        120,
    )
    pid, _ = _wait_for("the run worker's pid", lambda: reported_pid(instance, long_id), 60)
    launch("quick_run")
    assert run_of("quick_run").status == DagsterRunStatus.QUEUED  # one run at a time: it waits behind long_run

    # The run's processes die at once, the code server that launched the worker with them (its parent: a run's
    # process group under `dagster dev`, the OOM killer, a reboot of the code server). A worker that dies alone is
    # reported by its code server; with the code server gone nothing but the daemon's health check can see it.
    code_server = int(subprocess.run(["ps", "-o", "ppid=", "-p", str(pid)], capture_output=True, text=True).stdout)
    assert code_server != daemon.pid
    victims = [code_server, *_descendants(code_server)]
    if os.getpgid(pid) != os.getpgid(daemon.pid):
        os.killpg(os.getpgid(pid), 9)
    for victim in victims:  # the same processes when the group is the daemon's own (`dagster-daemon run`)
        try:
            os.kill(victim, 9)
        except ProcessLookupError:
            pass
    killed_at = time.monotonic()

    failed = _wait_for(
        "the daemon to fail the killed run",
        lambda: (r := instance.get_run_by_id(long_id)).status == DagsterRunStatus.FAILURE and r,
        DETECT_WITHIN_S,
    )
    assert failed and time.monotonic() - killed_at <= DETECT_WITHIN_S
    messages = [e.message for e in instance.all_logs(long_id)]  # why: the health check's finding, with the pid
    assert any(f"run worker process {pid} is gone" in m or f"{pid} died" in m for m in messages), messages[-5:]
    quick = _wait_for(
        "the queued run to start and finish",
        lambda: (r := run_of("quick_run")) and r.status == DagsterRunStatus.SUCCESS and r,
        RESTART_WITHIN_S,
    )
    assert quick and daemon.poll() is None  # the daemon itself kept running
