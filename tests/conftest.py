import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from sinternal_assets.paths import cache_dir  # noqa: E402
from sinternal_assets.sources.spec import load_spec  # noqa: E402


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def shared_cache() -> Path:
    """The real artifact cache (filled on first use by downloading the pinned wheels)."""
    return cache_dir()


@pytest.fixture
def tmp_db(tmp_path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(scope="session")
def argilla_service(tmp_path_factory):
    """A real Argilla + Redis started by scripts/argilla.sh (own ports, data and credentials), stopped after."""
    from tests.services import ArgillaService

    service = ArgillaService(tmp_path_factory.mktemp("argilla"))
    started = service.script("start")
    assert started.returncode == 0, f"scripts/argilla.sh start failed:\n{started.stdout}\n{started.stderr}"
    previous = {k: os.environ.get(k) for k in service.env()}
    os.environ.update(service.env())  # the resources resolve the local key and port from these
    try:
        yield service
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        service.script("stop")
