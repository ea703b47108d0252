"""The prompt inbox: a folder where people drop prompt files (CSV / JSONL / Parquet) for the pipeline to ingest.

`prompt_sources` reads every file in it as a user file named `inbox:<stem>`; a sidecar `<file>.yaml` (optional)
maps the columns with the same keys as a user prompt file (`text_column`, `label_column` or `label`,
`category_column` or `category`, `category_map`, `licence`, `source`, `format`, `max_chars`). The inbox sensor
watches the folder's fingerprint and asks for a re-ingest when it changes.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import yaml

from sinternal_assets.hashing import content_id, sha256_file
from sinternal_assets.paths import data_dir
from sinternal_assets.prompts.user_files import UserPromptFile

SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet")
MAPPING_KEYS = {f.name for f in dataclasses.fields(UserPromptFile)} - {"path"}


class InboxError(ValueError):
    """An inbox file or its mapping cannot be used."""


def default_inbox() -> Path:
    """$SINTERNAL_INBOX, else <data dir>/inbox."""
    return Path(os.environ.get("SINTERNAL_INBOX", "") or data_dir() / "inbox")


def inbox_files(folder: Path) -> list[Path]:
    """Prompt files in the inbox (not in sub-folders), in name order; none when the folder does not exist."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not p.name.startswith("."))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".yaml")


def inbox_specs(folder: Path) -> list[UserPromptFile]:
    """One user-file spec per inbox file, its mapping from the sidecar when present."""
    specs = []
    for path in inbox_files(folder):
        mapping: dict = {}
        sidecar = _sidecar(path)
        if sidecar.is_file():
            try:
                mapping = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise InboxError(f"{sidecar}: not valid YAML ({exc})") from exc
            if not isinstance(mapping, dict):
                raise InboxError(f"{sidecar}: expected a mapping of column settings, got {type(mapping).__name__}")
            unknown = set(mapping) - MAPPING_KEYS
            if unknown:
                raise InboxError(f"{sidecar}: unknown key(s) {sorted(unknown)}; allowed: {sorted(MAPPING_KEYS)}")
        mapping.setdefault("source", f"inbox:{path.stem}")
        specs.append(UserPromptFile(path=str(path), **mapping))
    return specs


def fingerprint(folder: Path) -> str:
    """A content hash of the inbox (every file and sidecar by name and sha256); '' when it holds no file."""
    files = inbox_files(folder)
    if not files:
        return ""
    parts = []
    for path in files:
        sidecar = _sidecar(path)
        parts.append((path.name, sha256_file(path), sha256_file(sidecar) if sidecar.is_file() else ""))
    return content_id(parts, length=32)
