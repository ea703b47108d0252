"""What the benchmarks share."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

from sinternal_assets.models import numerics
from sinternal_assets.paths import cache_dir

ROOT = Path(__file__).resolve().parents[1]


def embedded_model() -> Path:
    """The converted embedded model folder (run `base_model` or scripts/run-main.sh first)."""
    folders = sorted((cache_dir() / "models").glob("*/config.json"))
    if not folders:
        raise SystemExit(f"no converted model under {cache_dir() / 'models'}: materialize `base_model` first")
    return folders[0].parent


def run_record(script: str) -> dict:
    """What every raw result starts with: date, commit (`-dirty` when the tree had uncommitted changes, so the
    record never claims a commit whose code did not run), the command, the machine, and the CPU with its native-bf16
    flag and the numeric path the policy picks on it."""
    policy = numerics.choose("auto")
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=7"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "date": date.today().isoformat(),
        "commit": commit,
        "command": " ".join([f"benchmarks/{script}", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "cpu": policy.cpu,
        "cpu_bf16": policy.cpu_bf16,
        "precision": policy.dtype,
    }
