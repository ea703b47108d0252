"""Checkpoint versions and folders.

A checkpoint's version is the content hash of what determines it (method, training data, configuration,
starting model): the same inputs reuse the stored checkpoint instead of training again, and changing any of
them gives a new folder next to the old ones. A run writes into `<version>.partial/` and renames it into
place only when complete, so a crash or a full disk never leaves a half-written checkpoint where a reader
would take it for a finished one, and never touches the previous checkpoints.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sinternal_assets.hashing import content_id, sha256_file, stable_json

MANIFEST = "manifest.json"
MODEL_DIR = "model"
ADAPTER_DIR = "adapter"


def checkpoint_version(method: str, data_hash: str, config: dict, start_model_hash: str) -> str:
    return content_id(method, data_hash, config, start_model_hash, length=16)


def final_dir(root: Path, asset: str, version: str) -> Path:
    return Path(root) / asset / version


def is_complete(folder: Path) -> bool:
    return (folder / MANIFEST).is_file() and (folder / MODEL_DIR / "config.json").is_file()


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def work_dir(root: Path, asset: str, version: str) -> Path:
    """A fresh `.partial` folder (a leftover from a crashed run is removed first)."""
    folder = final_dir(root, asset, version).with_name(f"{version}.partial")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def publish(partial: Path, manifest: dict) -> Path:
    """Write the manifest last, then move the folder into place atomically."""
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    target = partial.with_name(partial.name.removesuffix(".partial"))
    if target.exists():  # an older incomplete folder under the final name (written by hand?)
        shutil.rmtree(target)
    os.replace(partial, target)
    return target


def write_jsonl(rows: list[dict], path: Path) -> str:
    """Write rows as JSON lines (canonical), return the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(stable_json(row) + "\n")
    return sha256_file(path)


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not valid JSON ({error.msg})") from error
    return rows
