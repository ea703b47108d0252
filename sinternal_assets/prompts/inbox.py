"""The prompt inbox: a folder where people drop prompt files (CSV / JSONL / Parquet) for the pipeline to ingest.

`prompt_sources` reads every file in it as a user file named `inbox:<stem>`; a sidecar `<file>.yaml` (optional)
maps the columns with the same keys as a user prompt file (`text_column`, `label_column` or `label`,
`category_column` or `category`, `category_map`, `licence`, `source`, `format`, `max_chars`). The inbox sensor
watches the folder's fingerprint and asks for a re-ingest when it changes.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path

import yaml

from sinternal_assets.hashing import content_id, sha256_file
from sinternal_assets.paths import data_dir
from sinternal_assets.prompts.user_files import UserPromptFile

SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet")
MAPPING_KEYS = {f.name for f in dataclasses.fields(UserPromptFile)} - {"path"}
MAPPING_TYPES = {k: t for k, t in typing.get_type_hints(UserPromptFile).items() if k in MAPPING_KEYS}


class InboxError(ValueError):
    """An inbox file or its mapping cannot be used. `problems` lists all of the file's problems, each on a line
    that starts with the file."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


def default_inbox() -> Path:
    """$SINTERNAL_INBOX, else <data dir>/inbox."""
    return Path(os.environ.get("SINTERNAL_INBOX", "") or data_dir() / "inbox")


def inbox_files(folder: Path) -> list[Path]:
    """Prompt files in the inbox (not in sub-folders), in name order; none when the folder does not exist."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    )


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".yaml")


def inbox_specs(folder: Path) -> list[UserPromptFile]:
    """One user-file spec per inbox file, its mapping from the sidecar when present."""
    specs = []
    for path in inbox_files(folder):
        sidecar = _sidecar(path)
        mapping = _read_sidecar(sidecar) if sidecar.is_file() else {}
        mapping.setdefault("source", f"inbox:{path.stem}")
        specs.append(UserPromptFile(path=str(path), **mapping))
    return specs


def _read_sidecar(sidecar: Path) -> dict:
    """The sidecar's column settings; every unknown key and every value of the wrong type reported at once."""
    try:
        mapping = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InboxError(sidecar, [f"not valid YAML ({exc})"]) from exc
    except UnicodeDecodeError as exc:
        raise InboxError(
            sidecar, [f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"]
        ) from exc
    except OSError as exc:  # permission denied, ...
        raise InboxError(sidecar, [f"cannot be read ({exc.strerror or exc})"]) from exc
    if not isinstance(mapping, dict):
        raise InboxError(sidecar, [f"expected a mapping of column settings, got {type(mapping).__name__}"])
    problems = []
    unknown = set(mapping) - MAPPING_KEYS
    if unknown:
        problems.append(f"unknown key(s) {sorted(unknown, key=str)}; allowed: {sorted(MAPPING_KEYS)}")
    for key, value in mapping.items():
        if key in MAPPING_TYPES and not _is_a(value, MAPPING_TYPES[key]):
            expected = _describe(MAPPING_TYPES[key])
            problems.append(
                f"key {key!r}: expected {expected}, got {_got(value, text_expected=expected.startswith('text'))}"
            )
    if problems:
        raise InboxError(sidecar, problems)
    return mapping


def _is_a(value: object, hint: object) -> bool:
    """Whether a YAML value fits a field's type: str, int (not bool), None, unions of them, dict[str, str]."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_is_a(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if typing.get_origin(hint) is dict:
        key_type, value_type = typing.get_args(hint)
        return isinstance(value, dict) and all(_is_a(k, key_type) and _is_a(v, value_type) for k, v in value.items())
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: object) -> str:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if typing.get_origin(hint) is dict:
        key_type, value_type = typing.get_args(hint)
        return f"a mapping of {_describe(key_type)} to {_describe(value_type)}"
    names = {str: "text", int: "an integer", bool: "true or false", type(None): "null"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _got(value: object, text_expected: bool) -> str:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    got = f"{type(value).__name__} ({shown})"
    if isinstance(value, bool):
        got += "; YAML reads an unquoted yes/no/on/off/true/false as a boolean" + (
            ": quote it" if text_expected else ""
        )
    elif isinstance(value, dict):
        bad = next(((k, v) for k, v in value.items() if not (isinstance(k, str) and isinstance(v, str))), None)
        if bad is not None:
            got = f"a mapping with {type(bad[0]).__name__} key {bad[0]!r} to {type(bad[1]).__name__} value {bad[1]!r}"
    return got


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
