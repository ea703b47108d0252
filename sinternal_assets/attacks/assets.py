"""Dagster asset of the `attacks` group: jailbreak-wrapped prompts by family."""

import time

from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field, field_validator

from sinternal_assets.attacks.build import build_attacked_prompts, family_table
from sinternal_assets.attacks.families import ROLES, TEMPLATE_FAMILIES, load_families, resolve_roles
from sinternal_assets.choices import only
from sinternal_assets.hashing import sha256_text
from sinternal_assets.prompts.assets import prompt_pool
from sinternal_assets.prompts.user_files import LABELS
from sinternal_assets.reporting import markdown_table
from sinternal_assets.sources.resources import ArtifactStoreResource
from sinternal_assets.storage.resources import WarehouseResource


class AttackConfig(Config):
    variants_per_prompt: int = Field(default=2, ge=0, description="attacked versions per prompt besides the plain one")
    attack_labels: list[str] = Field(
        default_factory=lambda: ["harmful", "benign"], description="labels whose prompts get attacked versions"
    )
    family_roles: dict[str, str] = Field(
        default_factory=dict, description="override a family's role: train | heldout | off"
    )
    seed: int = 0
    max_template_chars: int = Field(default=6000, description="skip templates longer than this")
    _labels_known = field_validator("attack_labels")(only(LABELS))
    _roles_known = field_validator("family_roles")(only(ROLES))  # family names are checked against the artifacts


@asset(
    group_name="attacks",
    deps=[prompt_pool],
    compute_kind="jinja",
    description="Each pool prompt as written (`none`) plus attacked variants from real jailbreak templates and "
    "programmatic transforms; held-out families only on eval prompts.",
)
def attacked_prompts(
    context: AssetExecutionContext,
    config: AttackConfig,
    warehouse: WarehouseResource,
    artifacts: ArtifactStoreResource,
) -> MaterializeResult:
    started = time.perf_counter()
    wh = warehouse.get()
    pool = wh.table("prompt_pool")
    if pool.is_empty():
        raise RuntimeError("prompt_pool is empty: materialize `prompt_pool` first")
    roles = resolve_roles(config.family_roles)
    fetched = artifacts.fetch(*sorted({a for a, _ in TEMPLATE_FAMILIES.values()}))
    families = load_families(fetched, roles, config.max_template_chars)
    attacked = build_attacked_prompts(
        pool,
        families,
        variants_per_prompt=config.variants_per_prompt,
        attack_labels=tuple(config.attack_labels),
        seed=config.seed,
    )
    table = family_table(families)
    wh.write(replace={"attack_families": table, "attacked_prompts": attacked})
    summary = wh.query("attack_family_summary")
    seconds = time.perf_counter() - started
    context.log.info(f"attacked_prompts: {attacked.height} rows over {table.height} families in {seconds:.1f}s")
    return MaterializeResult(
        metadata={
            "n_rows": attacked.height,
            "n_families": table.height,
            "train_families": ", ".join(table.filter(table["role"] == "train")["family"].to_list()),
            "heldout_families": ", ".join(table.filter(table["role"] == "heldout")["family"].to_list()),
            "content_hash": sha256_text("\n".join(sorted(attacked["attack_id"].to_list()))),
            "families": MetadataValue.md(markdown_table(summary)),
            "seconds": round(seconds, 2),
        }
    )
