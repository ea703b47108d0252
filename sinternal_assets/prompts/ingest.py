"""Ingest: read every prompt source (built-in artifacts and user files) into one validated frame."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from sinternal_assets.attacks.families import TEMPLATE_FAMILIES
from sinternal_assets.prompts.categories import CategoryMap
from sinternal_assets.prompts.sources import BUILTIN_SOURCES, PromptSource
from sinternal_assets.prompts.user_files import UserPromptFile, read_user_file
from sinternal_assets.sources.artifacts import FetchedArtifact

RAW_COLUMNS = ("text", "label", "category", "source_category", "source_record", "source", "licence")
REGISTRY_SCHEMA = {
    "source": pl.String,
    "kind": pl.String,
    "artifact": pl.String,
    "package": pl.String,
    "version": pl.String,
    "sha256": pl.String,
    "files_json": pl.String,
    "licence": pl.String,
    "upstream": pl.String,
    "n_records": pl.Int64,
    "description": pl.String,
}


def _registry_row(
    source: str, kind: str, art: FetchedArtifact, n_records: int, description: str, files: Iterable[str] | None = None
) -> dict:
    wanted = {m: art.files[m] for m in (files if files is not None else art.files)}
    return {
        "source": source,
        "kind": kind,
        "artifact": art.pin.name,
        "package": art.pin.package,
        "version": art.pin.version,
        "sha256": art.pin.sha256,
        "files_json": json.dumps(wanted, sort_keys=True),
        "licence": art.pin.licence,
        "upstream": art.pin.upstream,
        "n_records": n_records,
        "description": description,
    }


def read_builtin(
    artifacts: dict[str, FetchedArtifact],
    category_map: CategoryMap,
    sources: Iterable[PromptSource] = BUILTIN_SOURCES,
    max_per_source: int | None = None,
) -> tuple[pl.DataFrame, list[dict]]:
    frames, registry = [], []
    for source in sources:
        art = artifacts[source.artifact]
        frame = source.read(art)
        if max_per_source is not None:
            frame = frame.head(max_per_source)
        frame = frame.with_columns(category_map.map_frame(frame))
        frames.append(frame.select(RAW_COLUMNS))
        registry.append(_registry_row(source.name, source.kind, art, frame.height, source.description))
    return pl.concat(frames), registry


def template_registry(artifacts: dict[str, FetchedArtifact], family_sizes: dict[str, int]) -> list[dict]:
    rows = []
    for family, (artifact_name, description) in TEMPLATE_FAMILIES.items():
        if family in family_sizes:
            rows.append(
                _registry_row(
                    f"templates:{family}",
                    "jailbreak_templates",
                    artifacts[artifact_name],
                    family_sizes[family],
                    description,
                )
            )
    return rows


def read_user_files(
    files: Iterable[UserPromptFile], spec_category_ids: list[str]
) -> tuple[pl.DataFrame | None, list[dict]]:
    frames, registry = [], []
    seen: set[str] = set()
    for spec in files:
        if spec.source_name in seen:
            raise ValueError(f"two user prompt files share the source name {spec.source_name!r}: set `source`")
        seen.add(spec.source_name)
        frame, digest = read_user_file(spec, spec_category_ids)
        frames.append(frame.select(RAW_COLUMNS))
        registry.append(
            {
                "source": spec.source_name,
                "kind": "user_prompts",
                "artifact": str(Path(spec.path).resolve()),
                "package": "-",
                "version": "-",
                "sha256": digest,
                "files_json": json.dumps({Path(spec.path).name: digest}),
                "licence": spec.licence,
                "upstream": str(Path(spec.path).resolve()),
                "n_records": frame.height,
                "description": f"user-supplied {spec.file_format} file",
            }
        )
    return (pl.concat(frames) if frames else None), registry


def registry_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=REGISTRY_SCHEMA)
