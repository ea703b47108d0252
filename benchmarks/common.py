"""What the benchmarks share."""

from __future__ import annotations

from pathlib import Path

from sinternal_assets.paths import cache_dir


def embedded_model() -> Path:
    """The converted embedded model folder (run `base_model` or scripts/run-main.sh first)."""
    folders = sorted((cache_dir() / "models").glob("*/config.json"))
    if not folders:
        raise SystemExit(f"no converted model under {cache_dir() / 'models'}: materialize `base_model` first")
    return folders[0].parent
