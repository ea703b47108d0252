"""The code's layers, checked on the source (AST), so the rule cannot silently erode:

- `dagster_project/` (the code location) assembles what `sinternal_assets/` defines; nothing in
  `sinternal_assets` imports `dagster_project`;
- only a stage's Dagster-facing modules (`assets.py`, `resources.py`, `checks.py`) import Dagster: every other
  module is plain logic, usable from a notebook or a training subprocess;
- no `_private` name is imported from another module.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAGSTER_FACING = {"assets.py", "resources.py", "checks.py"}


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) of every import in the file, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return out


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_sinternal_assets_never_imports_the_code_location():
    offenders = [
        f"{p.relative_to(ROOT)}:{line} imports {module}"
        for p in _modules("sinternal_assets")
        for line, module, _ in _imports(p)
        if module.split(".")[0] == "dagster_project"
    ]
    assert offenders == []


def test_only_assets_resources_and_checks_modules_import_dagster():
    offenders = [
        f"{p.relative_to(ROOT)}:{line} imports {module}"
        for p in _modules("sinternal_assets")
        if p.name not in DAGSTER_FACING
        for line, module, _ in _imports(p)
        if module.split(".")[0] in {"dagster", "dagster_k8s"}
    ]
    assert offenders == []


def test_no_private_name_crosses_modules():
    offenders = [
        f"{p.relative_to(ROOT)}:{line} imports {name} from {module}"
        for package in ("sinternal_assets", "dagster_project", "tests")
        for p in _modules(package)
        for line, module, names in _imports(p)
        if module.split(".")[0] in {"sinternal_assets", "dagster_project", "tests"}
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert offenders == []


def test_the_checks_would_catch_a_violation(tmp_path):
    bad = tmp_path / "module.py"
    bad.write_text(
        "from dagster_project.resources import X\nfrom sinternal_assets.a import _hidden\n"
        "def f():\n    import dagster\n",
        encoding="utf-8",
    )
    found = _imports(bad)
    assert (1, "dagster_project.resources", ["X"]) in found and (2, "sinternal_assets.a", ["_hidden"]) in found
    assert (4, "dagster", []) in found


def test_every_check_lives_in_the_stage_of_the_asset_it_guards():
    import importlib

    from dagster import AssetsDefinition

    from dagster_project.stages import stage_modules

    for module in stage_modules("checks"):
        stage = module.__name__.rsplit(".", 2)[-2]
        assets = importlib.import_module(f"sinternal_assets.{stage}.assets")
        own = {
            key
            for value in vars(assets).values()
            if isinstance(value, AssetsDefinition) and _defined_in(assets, value)
            for key in value.keys
        }
        guarded = {key.asset_key for check in module.CHECKS for key in check.check_keys}
        assert guarded <= own, f"{module.__name__} guards {sorted(k.to_user_string() for k in guarded - own)}"


def _defined_in(module, asset) -> bool:
    """Whether the asset's function is defined in `module` (not imported into it)."""
    return asset.op.compute_fn.decorated_fn.__module__ == module.__name__
