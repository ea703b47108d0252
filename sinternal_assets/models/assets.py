"""Dagster asset of the `models` group: the base (policy) model as a Hugging Face folder."""

import os
from pathlib import Path

import polars as pl
from dagster import AssetExecutionContext, Config, MaterializeResult, asset
from pydantic import Field

from sinternal_assets.models.convert import ModelError, convert_gguf, resolve_folder
from sinternal_assets.sources.resources import ArtifactStoreResource
from sinternal_assets.storage.resources import WarehouseResource
from sinternal_assets.storage.warehouse import utc_now

EMBEDDED = "smollm2"


class BaseModelConfig(Config):
    model: str = Field(
        default_factory=lambda: os.environ.get("SINTERNAL_BASE_MODEL", EMBEDDED),
        description="'smollm2' (the embedded default), a local Hugging Face folder, or a hub id",
    )


@asset(
    group_name="models",
    compute_kind="transformers",
    description="The policy model as a float32 Hugging Face folder: the embedded SmolLM2-135M-Instruct GGUF "
    "converted once and cached by hash, or any configured folder / hub id.",
)
def base_model(
    context: AssetExecutionContext,
    config: BaseModelConfig,
    warehouse: WarehouseResource,
    artifacts: ArtifactStoreResource,
) -> MaterializeResult:
    if config.model == EMBEDDED:
        art = artifacts.fetch(EMBEDDED)[EMBEDDED]
        ggufs = art.glob("*.gguf")
        if len(ggufs) != 1:
            raise ModelError(f"artifact {EMBEDDED}: expected one .gguf file, found {len(ggufs)}")
        gguf = ggufs[0]
        info = convert_gguf(
            gguf, art.files[str(gguf.relative_to(art.root))], Path(artifacts.cache_dir) / "models", EMBEDDED
        )
        licence = art.pin.licence
    else:
        info = resolve_folder(config.model)
        licence = "see model card"
    context.log.info(
        f"base model {info.model_id}: {info.architecture}, {info.n_parameters / 1e6:.1f}M parameters "
        f"at {info.path} ({'converted' if info.converted else 'cached'} in {info.seconds:.1f}s)"
    )
    row = pl.DataFrame(
        [
            {
                "model_key": "base",
                "model_id": info.model_id,
                "path": str(info.path),
                "content_hash": info.content_hash,
                "architecture": info.architecture,
                "n_parameters": info.n_parameters,
                "dtype": info.dtype,
                "licence": licence,
                "has_chat_template": info.has_chat_template,
                "created_at": utc_now(),
            }
        ]
    )
    warehouse.get().write(upsert={"models": (row, ["model_key"])})
    return MaterializeResult(
        metadata={
            "model_id": info.model_id,
            "path": str(info.path),
            "content_hash": info.content_hash,
            "architecture": info.architecture,
            "n_parameters": info.n_parameters,
            "dtype": info.dtype,
            "has_chat_template": info.has_chat_template,
            "converted_now": info.converted,
            "seconds": round(info.seconds, 2),
            "licence": licence,
        }
    )
