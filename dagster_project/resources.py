"""The code location's resources, assembled from the stages that own them (each resource lives beside what uses
it, in `sinternal_assets`); `default_resources()` is the embedded default, the run profiles override it."""

import os

from sinternal_assets.generation.resources import GenerationResource
from sinternal_assets.paths import cache_dir
from sinternal_assets.review.resources import ArgillaResource
from sinternal_assets.sources.resources import ArtifactStoreResource
from sinternal_assets.storage.resources import WarehouseResource, default_db_path
from sinternal_assets.training.resources import TrainingLauncherResource
from sinternal_assets.validation.resources import QualityGatesResource

__all__ = [
    "ArgillaResource",
    "ArtifactStoreResource",
    "GenerationResource",
    "QualityGatesResource",
    "TrainingLauncherResource",
    "WarehouseResource",
    "default_db_path",
    "default_resources",
]


def _generation_from_env(role: str) -> GenerationResource:
    """SINTERNAL_<ROLE>_BACKEND / _MODEL / _BASE_URL / _API_KEY_ENV (the key itself stays in its own variable)."""

    def env(name: str, default: str = "") -> str:
        return os.environ.get(f"SINTERNAL_{role}_{name}", default)

    # the embedded teacher is the offline expert (the 135M model cannot judge); SINTERNAL_TEACHER_BACKEND=vllm or
    # openai (with _MODEL, _BASE_URL) makes an LLM the teacher instead
    return GenerationResource(
        backend=env("BACKEND", "offline_expert" if role == "TEACHER" else "transformers"),
        model=env("MODEL"),
        base_url=env("BASE_URL"),
        api_key_env=env("API_KEY_ENV", "OPENAI_API_KEY"),
    )


def default_resources() -> dict:
    return {
        "warehouse": WarehouseResource(path=default_db_path()),
        "artifacts": ArtifactStoreResource(
            cache_dir=str(cache_dir()),
            offline=os.environ.get("SINTERNAL_OFFLINE", "").lower() in {"1", "true", "yes"},
        ),
        "gates": QualityGatesResource(),
        "policy": _generation_from_env("POLICY"),
        "teacher": _generation_from_env("TEACHER"),
        "evaluator": _generation_from_env("EVALUATOR"),
        "argilla": ArgillaResource(
            api_url=os.environ.get("ARGILLA_API_URL", ""),
            dataset_name=os.environ.get("SINTERNAL_ARGILLA_DATASET", "critique_review"),
        ),
        "trainer": TrainingLauncherResource(),
    }
