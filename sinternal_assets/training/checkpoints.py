"""Checkpoint versions and folders.

A checkpoint's version is the content hash of what determines it (method, training data, configuration,
starting model): the same inputs reuse the stored checkpoint instead of training again, and changing any of
them gives a new folder next to the old ones. A run writes into `<version>.partial/` and renames it into
place only when complete, so a crash or a full disk never leaves a half-written checkpoint where a reader
would take it for a finished one, and never touches the previous checkpoints.
"""

from __future__ import annotations

import errno
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


BUDGET_KEYS = ("consumed", "fitting", "numerics")


def budget_of_manifest(manifest: dict) -> dict:
    """What a checkpoint's trainer consumed by its own counts, how its examples were fitted and the numeric
    policy, from its manifest (empty for a checkpoint trained before they were recorded)."""
    return {key: manifest[key] for key in BUDGET_KEYS if key in manifest}


def work_dir(root: Path, asset: str, version: str) -> Path:
    """A fresh `.partial` folder (a leftover from a crashed run is removed first)."""
    folder = final_dir(root, asset, version).with_name(f"{version}.partial")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def remove_orphans(root: Path, asset: str) -> tuple[list[str], int]:
    """Remove every `<version>.partial` folder of `asset` (any version): what a training killed before it published
    left behind. Called when a training of the asset starts, before one of its own runs in this process. Returns
    the removed folders' names and the bytes freed."""
    folder = Path(root) / asset
    removed, freed = [], 0
    for partial in sorted(folder.glob("*.partial")) if folder.is_dir() else []:
        if partial.is_dir():
            freed += folder_bytes(partial)
            shutil.rmtree(partial)
            removed.append(partial.name)
    return removed, freed


def publish(partial: Path, manifest: dict) -> Path:
    """Write the manifest last, then move the folder into place atomically."""
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    target = partial.with_name(partial.name.removesuffix(".partial"))
    if target.exists():  # an older incomplete folder under the final name (written by hand?)
        shutil.rmtree(target)
    os.replace(partial, target)
    return target


class CheckpointSpaceError(RuntimeError):
    """No room on the checkpoint disk: raised before training when the space is short, or after a write ran out."""


MB = 1 << 20
LOW_SPACE_BYTES = 64 * MB  # after a failed write, less than this free means the disk filled up


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def ensure_space(root: Path, needed: int, asset: str) -> None:
    """Refuse to start a training whose checkpoint cannot fit (the weights alone need `needed` bytes)."""
    Path(root).mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(root).free
    if free < needed:
        raise CheckpointSpaceError(
            f"{asset}: not enough disk space for a new checkpoint under {root}: it needs about {needed / MB:.0f} MB, "
            f"{free / MB:.0f} MB are free. Nothing was written and the previous checkpoints are untouched: free "
            f"space or point the `trainer` resource's checkpoint_root at a larger disk."
        )


def disk_full(error: BaseException | None) -> bool:
    """Whether an error (or one it was raised from) is the disk refusing more bytes: out of space, over quota, or
    a file over the size the filesystem or the process allows (EFBIG); libraries that wrap the OS error in their
    own type (safetensors) keep its text."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return True
        if any(text in str(error) for text in ("No space left on device", "Disk quota exceeded", "File too large")):
            return True
        error = error.__cause__ or error.__context__
    return False


def raise_if_out_of_space(error: BaseException, root: Path, partial: Path, asset: str, needed: int) -> None:
    """After a failed training: when the disk ran full, remove the unfinished folder (so the disk is not left full
    of it) and raise a clear CheckpointSpaceError; otherwise return and let the original error stand.

    The training subprocess's own exception does not cross the process boundary (it is in the run's log), so
    besides the error itself the test is the space: the checkpoint (about `needed` bytes, ~10% for the adapter
    and tokenizer on top) could not fit in what is free once the unfinished folder is counted back."""
    free = shutil.disk_usage(root).free
    usable = free + (folder_bytes(partial) if partial.exists() else 0)
    if not (disk_full(error) or free < LOW_SPACE_BYTES or usable < needed * 1.1):
        return
    shutil.rmtree(partial, ignore_errors=True)
    raise CheckpointSpaceError(
        f"{asset}: the disk under {root} ran out of space while writing the checkpoint ({free / MB:.0f} MB free "
        f"when it failed). The unfinished folder {partial.name} was removed and the previous checkpoints are "
        f"untouched: free space or point the `trainer` resource's checkpoint_root at a larger disk."
    ) from error


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
