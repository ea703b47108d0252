"""Which stages the code location loads: every `sinternal_assets/<stage>/` folder that has an `assets.py` (its
assets, and its checks in `checks.py` when it has any; `validation/checks.py` holds the check factories). Found
on disk, never kept by hand: a new stage folder is picked up as is. Only these Dagster-facing modules are
imported, so loading the definitions does not import the training stack."""

import importlib
from pathlib import Path
from types import ModuleType

import sinternal_assets

PACKAGE = Path(sinternal_assets.__file__).parent


def stage_modules(kind: str) -> list[ModuleType]:
    """The `sinternal_assets.<stage>.<kind>` modules (kind: assets | checks), in folder order."""
    return [
        importlib.import_module(f"sinternal_assets.{path.parent.name}.{kind}")
        for path in sorted(PACKAGE.glob(f"*/{kind}.py"))
        if (path.parent / "assets.py").is_file()
    ]
