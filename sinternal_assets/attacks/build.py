"""Build attacked prompts: every pool prompt as-is (`none`) plus K deterministic attack variants."""

from __future__ import annotations

import random

import polars as pl

from sinternal_assets.attacks.families import NONE, Family
from sinternal_assets.hashing import content_id

ATTACK_COLUMNS = (
    "attack_id",
    "prompt_id",
    "family",
    "family_role",
    "template_id",
    "variant",
    "text",
    "label",
    "category",
    "split",
    "source",
    "n_chars",
)


def build_attacked_prompts(
    pool: pl.DataFrame,
    families: list[Family],
    *,
    variants_per_prompt: int = 2,
    attack_labels: tuple[str, ...] = ("harmful", "benign"),
    seed: int = 0,
) -> pl.DataFrame:
    """One `none` row per prompt, plus up to `variants_per_prompt` attacked versions of it.

    Train-split prompts draw from train-side families only; eval-split prompts draw from train-side and
    held-out families. The draw is seeded by (seed, prompt_id), so it is stable when the pool grows.
    """
    if variants_per_prompt < 0:
        raise ValueError("variants_per_prompt must be >= 0")
    by_name = {f.name: f for f in families}
    if NONE not in by_name:
        raise ValueError("the `none` family is required")
    train_side = [f for f in families if f.role == "train" and f.name != NONE]
    heldout = [f for f in families if f.role == "heldout"]
    rows: list[tuple] = []
    for prompt_id, text, label, category, split, source in pool.select(
        "prompt_id", "text", "label", "category", "split", "source"
    ).iter_rows():

        def add(family: Family, template_id: str, variant: int, attacked: str) -> None:
            rows.append(
                (
                    content_id(prompt_id, family.name, template_id, variant),
                    prompt_id,
                    family.name,
                    family.role,
                    template_id,
                    variant,
                    attacked,
                    label,
                    category,
                    split,
                    source,
                    len(attacked),
                )
            )

        add(by_name[NONE], NONE, 0, text)
        if label not in attack_labels or variants_per_prompt == 0:
            continue
        eligible = train_side + (heldout if split == "eval" else [])
        if not eligible:
            continue
        rng = random.Random(f"{seed}:{prompt_id}")
        chosen = rng.sample(eligible, min(variants_per_prompt, len(eligible)))
        for variant, family in enumerate(chosen, start=1):
            template_id, attacked = family.render(text, rng.randrange(family.n_variants))
            add(family, template_id, variant, attacked)
    schema = dict(zip(ATTACK_COLUMNS, (pl.String,) * 5 + (pl.Int32,) + (pl.String,) * 5 + (pl.Int32,)))
    return pl.DataFrame(rows, schema=schema, orient="row")


def family_table(families: list[Family]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (
                f.name,
                f.role if f.name != NONE else "train",
                f.kind,
                f.n_variants if f.kind == "template" else 0,
                f.source,
                f.licence,
                f.description,
            )
            for f in families
        ],
        schema={
            "family": pl.String,
            "role": pl.String,
            "kind": pl.String,
            "n_templates": pl.Int32,
            "source": pl.String,
            "licence": pl.String,
            "description": pl.String,
        },
        orient="row",
    )
