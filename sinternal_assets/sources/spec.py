"""The safety specification: load, validate, hash and render."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml

from sinternal_assets.hashing import sha256_text, stable_json

DEFAULT_SPEC_PATH = Path(__file__).with_name("default_spec.yaml")
BENIGN = "benign"
# What of the spec a verifier or judge reads with each item: the whole rendered spec (`full`, as the paper) or
# its summary with the names of all harm categories (`compact`: shorter, for speed). Both are the same text for
# every item: a context that depended on the item's category would tell the judge the item's label.
SpecContext = Literal["compact", "full"]
DEFAULT_SPEC_CONTEXT: SpecContext = "compact"


class SpecError(ValueError):
    """The spec file is malformed."""


@dataclass(frozen=True)
class SafetySpec:
    name: str
    version: str
    path: str
    body: dict[str, Any]
    spec_hash: str

    @property
    def categories(self) -> list[dict[str, str]]:
        return list(self.body["categories"])

    @property
    def category_ids(self) -> list[str]:
        return [c["id"] for c in self.body["categories"]]

    @property
    def harm_category_ids(self) -> list[str]:
        return [c for c in self.category_ids if c != BENIGN]

    def render(self) -> str:
        """The spec as plain text, the way a verifier or teacher reads it in its prompt."""
        lines = [
            f"# Safety specification {self.name} v{self.version}",
            "",
            self.body["summary"].strip(),
            "",
            "## Harm categories",
        ]
        for cat in self.body["categories"]:
            lines.append(f"- {cat['id']} ({cat['name']}): {cat['definition'].strip()}")
        for kind in ("unsafe", "safe", "helpfulness_failures"):
            rules = self.body["answer_rules"].get(kind, [])
            if rules:
                lines += [
                    "",
                    f"## {kind.replace('_', ' ').capitalize()} answers"
                    if kind != "helpfulness_failures"
                    else "## Helpfulness failures",
                ]
                lines += [f"- {r['id']}: {r['rule'].strip()}" for r in rules]
        lines += ["", "## Verdict format", self.body["verdict_format"].strip()]
        return "\n".join(lines)


def _require(cond: bool, path: Path, message: str) -> None:
    if not cond:
        raise SpecError(f"{path}: {message}")


def load_spec(path: Path | str | None = None) -> SafetySpec:
    path = Path(path) if path else DEFAULT_SPEC_PATH
    if not path.is_file():
        raise SpecError(f"{path}: safety spec file not found")
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not valid UTF-8 ({exc})") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML ({exc})") from exc
    _require(isinstance(body, dict), path, "top level must be a mapping")
    for key in ("name", "version", "summary", "categories", "answer_rules", "verdict_format"):
        _require(key in body, path, f"missing required key {key!r}")
    cats = body["categories"]
    _require(isinstance(cats, list) and cats, path, "'categories' must be a non-empty list")
    seen: set[str] = set()
    for i, cat in enumerate(cats):
        _require(isinstance(cat, dict), path, f"categories[{i}] must be a mapping")
        for key in ("id", "name", "definition"):
            _require(bool(str(cat.get(key, "")).strip()), path, f"categories[{i}] is missing {key!r}")
        _require(cat["id"] not in seen, path, f"category id {cat['id']!r} appears twice")
        seen.add(cat["id"])
    _require(BENIGN in seen, path, f"the spec must define the {BENIGN!r} category for harmless prompts")
    rules = body["answer_rules"]
    _require(
        isinstance(rules, dict) and rules.get("unsafe") and rules.get("safe"),
        path,
        "'answer_rules' needs non-empty 'unsafe' and 'safe' lists",
    )
    body["version"] = str(body["version"])
    return SafetySpec(
        name=str(body["name"]),
        version=body["version"],
        path=str(path.resolve()),
        body=body,
        spec_hash=sha256_text(stable_json(body)),
    )


def spec_tables(spec: SafetySpec, created_at: datetime) -> dict[str, pl.DataFrame]:
    """The rows of the `safety_spec` and `spec_categories` tables for one spec."""
    return {
        "safety_spec": pl.DataFrame(
            [
                {
                    "spec_hash": spec.spec_hash,
                    "name": spec.name,
                    "version": spec.version,
                    "source_path": spec.path,
                    "body_json": json.dumps(spec.body, sort_keys=True),
                    "rendered_text": spec.render(),
                    "created_at": created_at,
                }
            ]
        ),
        "spec_categories": pl.DataFrame(
            [
                {
                    "spec_hash": spec.spec_hash,
                    "category_id": c["id"],
                    "name": c["name"],
                    "definition": c["definition"].strip(),
                }
                for c in spec.categories
            ]
        ),
    }
