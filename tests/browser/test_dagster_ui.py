"""The operator's flow in the real Dagster UI (`scripts/dagster-ui.sh`: `dagster dev`, webserver + daemon, on a
private instance), driven by Playwright in Debian's chromium (no browser download): the global asset lineage shows
every asset group of the code location; materializing `safety_spec` from its page launches a run that succeeds."""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from dagster_project.definitions import defs
from sinternal_assets.storage.warehouse import Warehouse
from tests.services import ROOT, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ASSET = "safety_spec"  # group sources: no upstream, no model, ~1 s (reads the YAML spec, writes DuckDB)
START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 120
STOP_GRACE_S = 30
ASSET_NODES = "{ assetNodes { assetKey { path } groupName } }"
RUN_QUERY = """query ($runId: ID!) { runOrError(runId: $runId) { __typename
  ... on Run { status assetMaterializations { assetKey { path } } } } }"""


def code_groups() -> set[str]:
    """The asset groups of the code location, as the code defines them (never a hard-coded list)."""
    graph = defs.get_repository_def().asset_graph
    return {graph.get(key).group_name for key in graph.get_all_asset_keys()}


class DagsterUI:
    """`scripts/dagster-ui.sh` on a free port with its own DAGSTER_HOME, data dir and warehouse; the script's
    `dagster dev` runs in its own process group (it spawns the webserver, the daemon and code servers)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.home = workdir / "dagster_home"
        self.data = workdir / "data"
        self.db = self.data / "sinternal.duckdb"
        self.log = workdir / "dagster-ui.log"
        self.home.mkdir()
        # The project's instance config (telemetry and the first-run "nux" dialog off, one run at a time).
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", self.home / "dagster.yaml")
        env = {k: v for k, v in os.environ.items() if k not in {"ARGILLA_API_URL", "ARGILLA_API_KEY"}}
        env.update(
            {
                "PORT": str(self.port),
                "DAGSTER_HOME": str(self.home),
                "SINTERNAL_DATA_DIR": str(self.data),
                "SINTERNAL_DB": str(self.db),
                "SINTERNAL_CACHE_DIR": str(workdir / "cache"),
                # annotation_sensor runs by default: give it no Argilla (its ticks fail at once), so it never
                # reaches a developer's local Argilla nor writes into this warehouse during the test.
                "SINTERNAL_ARGILLA_SECRETS": str(workdir / "no-argilla.env"),
            }
        )
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "wb") as log:
            # Own session = own process group, stopped as a whole. SIGINT/SIGTERM back to their defaults: a
            # parent started in the background (`cmd &`) ignores SIGINT, and `dagster dev` maps SIGTERM onto
            # the SIGINT handler, so it would otherwise ignore SIGTERM too and never shut down cleanly.
            self.proc = subprocess.Popen(
                ["bash", str(ROOT / "scripts" / "dagster-ui.sh")],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_default_signals,
            )

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=10)
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> list[dict]:
        """Until the webserver answers and the code location is loaded; returns its asset nodes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"scripts/dagster-ui.sh exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                nodes = self.graphql(ASSET_NODES)["assetNodes"]
                if nodes:
                    return nodes
            except (httpx.HTTPError, ValueError, AssertionError):
                pass  # not listening yet, or the code location is still loading
            time.sleep(1)
        pytest.fail(f"the Dagster UI did not serve the code location within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        pgid = self.proc.pid  # the session leader: its pid is the group id
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and _group_alive(pgid):
            self.proc.poll()  # reap the leader so it does not count as alive
            time.sleep(0.5)
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # zombies (exited, not yet reaped by their parent) still count for killpg; only live members matter
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@pytest.fixture
def dagster_ui(tmp_path):
    ui = DagsterUI(tmp_path)
    ui.start()
    try:
        yield ui
    finally:
        ui.stop()


def test_asset_graph_shows_every_group_and_materializes_safety_spec(tmp_path, dagster_ui, browser):
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect

    groups = code_groups()
    assert len(groups) >= 2, groups
    started = time.monotonic()
    nodes = dagster_ui.wait_ready()
    startup_s = time.monotonic() - started
    assert {node["groupName"] for node in nodes} == groups  # the UI's API serves what the code defines

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(30_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # 1. The global asset lineage (sidebar "Lineage" = /asset-groups): every group in the tree and in the graph.
    page.goto(f"{dagster_ui.url}/asset-groups")
    expect(page.get_by_text("Global asset lineage", exact=True)).to_be_visible()
    for group in sorted(groups):
        # the group tree: one button per group ("asset_group <name> <name>": icon label, then the name)
        expect(page.get_by_role("button", name=re.compile(rf"\b{re.escape(group)}$"))).to_be_visible()
        # the lineage graph (an SVG; collapsed groups are boxes with their name)
        expect(page.locator("svg foreignObject").get_by_text(group, exact=True)).to_be_visible()
    page.screenshot(path=str(tmp_path / "asset-graph.png"))

    # 2. The asset's page: Materialize (all its config has defaults, so it launches without the launchpad).
    page.goto(f"{dagster_ui.url}/assets/{ASSET}")
    expect(page.get_by_text("Never materialized")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"\bMaterialize$")).click()
    launched = page.get_by_role("region", name=re.compile("Notifications")).get_by_role("link", name="View")
    launchpad = page.get_by_role("dialog").filter(has_text="Launchpad")
    expect(launched.or_(launchpad)).to_be_visible()
    if launchpad.is_visible():
        # config without defaults (a future required field): launch as the launchpad scaffolds it; the
        # launchpad then opens the run's page itself (no toast)
        launchpad.get_by_role("button", name=re.compile(r"\bMaterialize$")).click()
    else:
        # 3. The run's page, followed from the "Launched run <id>  View" toast.
        href = launched.get_attribute("href") or ""
        assert re.fullmatch(r"/runs/[0-9a-f-]{36}", href), f"the launch toast links no run: {href!r}"
        try:
            launched.click(timeout=5_000)
        except PlaywrightTimeoutError:  # the toast closes itself after ~4 s: on a very slow machine, follow it
            page.goto(dagster_ui.url + href)
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    run_id = re.search(r"/runs/([0-9a-f-]{36})", page.url).group(1)

    # ... until the UI shows the run succeeded.
    run_started = time.monotonic()
    status = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).first  # the run's status tag
    expect(status).to_be_visible(timeout=RUN_TIMEOUT_S * 1000)
    run_s = time.monotonic() - run_started
    assert status.inner_text() == "Success", f"run {run_id} ended {status.inner_text()}:\n{dagster_ui.log_tail()}"
    expect(page.get_by_role("img", name="run_success").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Succeeded \([1-9]\d*\)$"))).to_be_visible()  # the step list
    expect(page.get_by_text("Errored (0)", exact=True)).to_be_visible()
    page.screenshot(path=str(tmp_path / "run-success.png"))

    # 4. Back on the asset's page: the latest materialization is that run.
    page.goto(f"{dagster_ui.url}/assets/{ASSET}")
    expect(page.locator(f'a[href^="/runs/{run_id}"]').first).to_be_visible()
    expect(page.get_by_text("Never materialized")).to_have_count(0)

    page.close()  # before the server goes: its errors would not be the UI's
    for name in ("asset-graph.png", "run-success.png"):
        shot = tmp_path / name
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000, name
    assert not errors, f"the Dagster UI raised JavaScript errors: {errors}"

    # 5. It really happened: the instance records the run's success and materialization, DuckDB holds the spec.
    run = dagster_ui.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run" and run["status"] == "SUCCESS", run
    assert [m["assetKey"]["path"] for m in run["assetMaterializations"]] == [[ASSET]]
    # DuckDB allows one writer per file: read it once nothing else (a sensor, a sensor-requested run) can hold it.
    dagster_ui.stop()
    assert Warehouse(dagster_ui.db, read_only=True).count("safety_spec") == 1
    print(f"dagster UI ready in {startup_s:.1f} s; run {run_id[:8]} succeeded {run_s:.1f} s after opening it")
