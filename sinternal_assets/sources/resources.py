"""The pinned data artifacts and their local cache, as a Dagster resource."""

from pathlib import Path

from dagster import ConfigurableResource

from sinternal_assets.sources.artifacts import ArtifactStore, FetchedArtifact, load_pins


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
