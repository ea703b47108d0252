"""The code location loads and is complete; the real dagster-webserver serves every asset group."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dagster_project.definitions import defs
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
GROUPS = {
    "sources",
    "prompts",
    "attacks",
    "models",
    "generation",
    "annotation",
    "curation",
    "training",
    "ablations",
    "evaluation",
}


def test_definitions_load_with_groups_checks_and_job():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == GROUPS
    check_keys = graph.asset_check_keys
    assert len(check_keys) >= 30
    assert all(graph.get_check_spec(k).blocking for k in check_keys)
    assert defs.resolve_job_def("embedded_default") is not None


@pytest.mark.integration
def test_webserver_serves_every_asset_group(tmp_path):
    port = free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "SINTERNAL_DATA_DIR": str(tmp_path / "data")}
    webserver = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen(
        [str(webserver), "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    query = "{ assetNodes { assetKey { path } groupName } }"
    try:
        deadline = time.monotonic() + 120
        data = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=5)
                if response.status_code == 200 and response.json().get("data", {}).get("assetNodes"):
                    data = response.json()["data"]["assetNodes"]
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert data is not None, "webserver did not answer GraphQL in time"
        assert {node["groupName"] for node in data} == GROUPS
        names = {node["assetKey"]["path"][-1] for node in data}
        assert {
            "safety_spec",
            "prompt_sources",
            "prompt_pool",
            "attacked_prompts",
            "base_model",
            "policy_answers",
            "expert_critiques",
        } <= names
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
