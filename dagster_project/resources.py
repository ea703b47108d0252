"""Dagster resources: thin, typed handles on the warehouse, the artifact cache and the quality gates."""


import os
from pathlib import Path

from dagster import ConfigurableResource

from sinternal_assets.paths import cache_dir, data_dir
from sinternal_assets.sources.artifacts import ArtifactStore, FetchedArtifact, load_pins
from sinternal_assets.storage.warehouse import Warehouse


def default_db_path() -> str:
    return os.environ.get("SINTERNAL_DB", str(data_dir() / "sinternal.duckdb"))


class WarehouseResource(ConfigurableResource):
    """The DuckDB file every asset reads and writes (one writer at a time)."""

    path: str

    def get(self) -> Warehouse:
        return Warehouse(Path(self.path))


class ArtifactStoreResource(ConfigurableResource):
    """Pinned data artifacts (see sinternal_assets/sources/artifacts.yaml) and their local cache."""

    cache_dir: str
    offline: bool = False

    def store(self) -> ArtifactStore:
        return ArtifactStore(Path(self.cache_dir), offline=self.offline)

    def fetch(self, *names: str) -> dict[str, FetchedArtifact]:
        pins = load_pins()
        unknown = [n for n in names if n not in pins]
        if unknown:
            raise KeyError(f"unknown artifact(s) {unknown}; known: {sorted(pins)}")
        store = self.store()
        return {name: store.fetch(pins[name]) for name in names}


class QualityGatesResource(ConfigurableResource):
    """Bounds the blocking data checks enforce."""

    min_harmful_share: float = 0.5
    max_harmful_share: float = 0.97
    min_pool_rows: int = 1
    max_prompt_chars: int = 20_000


class GenerationResource(ConfigurableResource):
    """Which engine generates, and with which model ('' = the `base` model in the warehouse).

    Backends: `transformers` (batched, the embedded default). The vLLM and OpenAI-compatible backends of
    the generation issue plug in here with the same interface.
    """

    backend: str = "transformers"
    model: str = ""
    batch_size: int = 8

    def open(self, default_model_path: str):
        from sinternal_assets.generation.backends.transformers_backend import TransformersBackend

        if self.backend != "transformers":
            raise ValueError(f"generation backend {self.backend!r} is not available; available: transformers")
        return TransformersBackend(self.model or default_model_path, batch_size=self.batch_size)


def default_resources() -> dict:
    return {
        "warehouse": WarehouseResource(path=default_db_path()),
        "artifacts": ArtifactStoreResource(
            cache_dir=str(cache_dir()),
            offline=os.environ.get("SINTERNAL_OFFLINE", "").lower() in {"1", "true", "yes"},
        ),
        "gates": QualityGatesResource(),
        "policy": GenerationResource(model=os.environ.get("SINTERNAL_POLICY_MODEL", "")),
        "teacher": GenerationResource(model=os.environ.get("SINTERNAL_TEACHER_MODEL", "")),
    }
