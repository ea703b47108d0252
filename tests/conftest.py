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
