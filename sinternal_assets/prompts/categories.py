"""Map each source's labels onto the safety spec's categories (explicit table + ordered keyword rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

MAP_FILE = Path(__file__).with_name("category_map.yaml")
KEYWORDS = "keywords:"


class CategoryError(ValueError):
    """A source label or category that the spec does not know."""


@dataclass(frozen=True)
class CategoryMap:
    sources: dict[str, dict[str, str]]
    rules: tuple[tuple[str, re.Pattern[str]], ...]

    def keyword_category(self, text: str) -> str | None:
        for category, pattern in self.rules:
            if pattern.search(text):
                return category
        return None

    def map_one(self, source: str, source_category: str, text: str) -> str:
        table = self.sources.get(source)
        if table is None:
            raise CategoryError(f"no category mapping for source {source!r} in {MAP_FILE.name}")
        target = table.get(source_category, table.get("*"))
        if target is None:
            raise CategoryError(
                f"source {source!r}: label {source_category!r} has no mapping in {MAP_FILE.name} "
                f"(known: {sorted(k for k in table if k != '*')})"
            )
        if target.startswith(KEYWORDS):
            return self.keyword_category(text) or target[len(KEYWORDS) :]
        return target

    def map_frame(self, frame: pl.DataFrame) -> pl.Series:
        """Category per row of a frame with `source`, `source_category`, `text`, `label` columns."""
        out = [
            "benign" if label == "benign" else self.map_one(source, source_category, text)
            for source, source_category, text, label in frame.select(
                "source", "source_category", "text", "label"
            ).iter_rows()
        ]
        return pl.Series("category", out, dtype=pl.String)

    def validate_against(self, spec_category_ids: list[str]) -> None:
        known = set(spec_category_ids)
        targets = {v.removeprefix(KEYWORDS) for table in self.sources.values() for v in table.values()}
        targets |= {c for c, _ in self.rules}
        unknown = sorted(targets - known)
        if unknown:
            raise CategoryError(f"{MAP_FILE.name} maps onto categories the safety spec lacks: {unknown}")


def load_category_map(path: Path = MAP_FILE) -> CategoryMap:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = tuple((r["category"], re.compile(r["pattern"], re.IGNORECASE)) for r in raw["keyword_rules"])
    sources = {name: {str(k): str(v) for k, v in table.items()} for name, table in raw["sources"].items()}
    return CategoryMap(sources=sources, rules=rules)
