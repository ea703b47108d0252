"""scripts/argilla.sh: idempotent start / stop / status, logins that survive a restart, clear errors."""

import os
import subprocess

import httpx
import pytest

from tests.services import ROOT, ArgillaService

pytestmark = pytest.mark.integration


def test_start_is_idempotent_and_logins_survive_a_restart(argilla_service):
    again = argilla_service.script("start")
    assert again.returncode == 0 and "already running" in again.stdout
    assert argilla_service.script("status").returncode == 0
    secrets = argilla_service.secrets()
    for value in (secrets["ARGILLA_OWNER_API_KEY"], secrets["ARGILLA_OWNER_PASSWORD"]):
        assert value not in again.stdout + again.stderr  # credentials are never printed
    token = httpx.post(
        f"{argilla_service.url}/api/v1/token",
        data={"username": secrets["ARGILLA_ANNOTATOR_USERNAME"], "password": secrets["ARGILLA_ANNOTATOR_PASSWORD"]},
    )
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    stopped = argilla_service.script("stop")
    assert stopped.returncode == 0 and "argilla: stopped" in stopped.stdout
    down = argilla_service.script("status")
    assert down.returncode == 3 and "argilla: not running" in down.stdout
    assert argilla_service.script("stop").returncode == 0  # stopping twice is fine
    restarted = argilla_service.script("start")
    assert restarted.returncode == 0, restarted.stderr
    me = httpx.get(f"{argilla_service.url}/api/v1/me", headers=headers)  # same auth secret: still signed in
    assert me.status_code == 200 and me.json()["username"] == secrets["ARGILLA_ANNOTATOR_USERNAME"]
    assert argilla_service.secrets() == secrets  # nothing regenerated


def test_missing_redis_is_a_clear_error(tmp_path):
    service = ArgillaService(tmp_path)
    env = {
        **os.environ,
        **service.env(),
        "SINTERNAL_REDIS_SERVER": str(tmp_path / "no-redis-server"),
        "PYTHONPATH": str(ROOT / "services" / "argilla"),
    }
    result = subprocess.run(
        [str(ROOT / ".venv-argilla" / "bin" / "python"), "-m", "sinternal_argilla.manage", "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert "redis-server not found at" in result.stderr and "apt-get install redis-server" in result.stderr
