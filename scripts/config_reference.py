"""Generate docs/configuration.md: the configuration reference, read from the code itself.

For every asset of `dagster_project.definitions.ASSETS`: the `dagster.Config` class its op takes (the type of
its `config` parameter), one row per field with nested Config fields flattened (`train.max_steps`, list items
as `user_files[].path`): type (with its bounds), default, description. Then every resource of
`dagster_project.resources.default_resources()` with its fields, the value each run profile gives it, and the
run configuration each profile's jobs apply on top of the asset defaults.

Usage (from the repository root):
    .venv/bin/python scripts/config_reference.py           # (re)write docs/configuration.md
    .venv/bin/python scripts/config_reference.py --check   # exit 1 when docs/configuration.md is out of date

Output is deterministic: values are computed with no SINTERNAL_* / ARGILLA_* variable set, and machine paths
are written as placeholders (<python>, <repo>, ~).
"""

from __future__ import annotations

import ast
import contextlib
import enum
import inspect
import io
import json
import os
import sys
import textwrap
import tokenize
import types
import typing
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "configuration.md"
REGENERATE = ".venv/bin/python scripts/config_reference.py"
ENV_PREFIXES = ("SINTERNAL_", "ARGILLA_")

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic import BaseModel  # noqa: E402
from pydantic_core import PydanticUndefined  # noqa: E402

BOUNDS = (
    ("gt", ">"),
    ("ge", "≥"),
    ("lt", "<"),
    ("le", "≤"),
    ("multiple_of", "multiple of"),
    ("min_length", "length ≥"),
    ("max_length", "length ≤"),
)


@contextlib.contextmanager
def neutral_environment() -> Iterator[None]:
    """No SINTERNAL_* / ARGILLA_* variable while defaults are computed (restored afterwards)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith(ENV_PREFIXES)]:
            del os.environ[key]
        os.environ.update(saved)


def placeholders(text: str) -> str:
    """Machine-specific paths as placeholders, so the reference reads the same on every machine."""
    text = text.replace(sys.executable, "<python>").replace(str(ROOT), "<repo>")
    home = str(Path.home())
    return text.replace(home, "~") if len(home) > 1 else text


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: str) -> str:
    return f"`{cell(text)}`" if text else ""


# -- types, values, descriptions ---------------------------------------------------------------------------------


def type_name(tp: object) -> str:
    if tp is type(None):
        return "None"
    if tp is Ellipsis:
        return "..."
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        ordered = [a for a in args if a is not type(None)] + [a for a in args if a is type(None)]
        return " | ".join(type_name(a) for a in ordered)
    if origin is typing.Literal:
        return " | ".join(json.dumps(value(a)) for a in args)
    if origin is not None:
        inner = ", ".join(type_name(a) for a in args)
        name = getattr(origin, "__name__", str(origin).replace("typing.", ""))
        return f"{name}[{inner}]" if inner else name
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return " | ".join(json.dumps(value(m)) for m in tp)
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def bounds(metadata: list) -> str:
    found = []
    for item in metadata:
        for attr, symbol in BOUNDS:
            bound = getattr(item, attr, None)
            if bound is not None:
                found.append(f"{symbol} {bound}")
    return f"({', '.join(found)})" if found else ""


def value(obj: object) -> object:
    """A default as plain JSON-able data (what a run config would write)."""
    if isinstance(obj, BaseModel):
        return {k: value(getattr(obj, k)) for k in type(obj).model_fields}
    if isinstance(obj, enum.Enum):
        return value(obj.value)
    if isinstance(obj, dict):
        return {str(k): value(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = [value(v) for v in obj]
        return sorted(items, key=repr) if isinstance(obj, set | frozenset) else items
    if isinstance(obj, Path):
        return str(obj)
    return obj


def show(obj: object) -> str:
    try:
        text = json.dumps(value(obj), ensure_ascii=False)
    except TypeError:
        text = repr(obj)
    return code(placeholders(text))


def kind_cell(field) -> str:
    """The type of a pydantic field with its bounds, for a table cell."""
    limits = bounds(field.metadata)
    return code(type_name(field.annotation)) + (f" {cell(limits)}" if limits else "")


def nested_model(tp: object) -> tuple[type[BaseModel] | None, str]:
    """(Config class, path suffix) when `tp` holds Config values: the class itself, or a list / dict of them."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return nested_model(args[0])
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return nested_model(real[0]) if len(real) == 1 else (None, "")
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp, ""
    if origin in (list, tuple, set, frozenset) and args and isinstance(args[0], type):
        if issubclass(args[0], BaseModel):
            return args[0], "[]"
    if origin is dict and len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
        return args[1], ".<key>"
    return None, ""


def trailing_comments(model: type) -> dict[str, str]:
    """`field: type = default  # comment`: the comments on field lines of the class (and its bases)."""
    out: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if "__annotations__" not in klass.__dict__ or klass.__module__.split(".")[0] in {"pydantic", "dagster"}:
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        comments = {
            tok.start[0]: tok.string.lstrip("#").strip()
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT
        }
        body = ast.parse(source).body[0]
        for node in getattr(body, "body", []):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                comment = comments.get(node.end_lineno or node.lineno, "")
                if comment:
                    out[node.target.id] = comment
                else:
                    out.pop(node.target.id, None)
    return out


def docstring(obj: object) -> str:
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split()) if doc else ""


def field_default(field) -> object:
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.default_factory()
    return PydanticUndefined


# -- rows --------------------------------------------------------------------------------------------------------


def config_rows(model: type[BaseModel], prefix: str = "", instance: object = None) -> list[list[str]]:
    """[path, type, default, description] per field; nested Config fields flattened under their parent.

    `instance`: the parent's default value, whose nested values win over the class defaults (a field's
    default_factory may set other values than the nested class's own defaults)."""
    rows: list[list[str]] = []
    comments = trailing_comments(model)
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        default = getattr(instance, name) if instance is not None else field_default(field)
        description = field.description or comments.get(name, "")
        sub, suffix = nested_model(field.annotation)
        kind = kind_cell(field)
        if sub is None:
            shown = "required" if default is PydanticUndefined else show(default)
            rows.append([code(path), kind, shown, cell(description)])
            continue
        description = description or docstring(sub)
        if suffix:  # a list / dict of Config values: the items' own defaults
            shown = "required" if default is PydanticUndefined else show(default)
            rows.append([code(path), kind, shown, cell(description)])
            rows += config_rows(sub, f"{path}{suffix}.")
        else:
            shown = "required" if default is PydanticUndefined else "see below"
            rows.append([code(path), kind, shown, cell(description)])
            rows += config_rows(sub, f"{path}.", None if default is PydanticUndefined else default)
    return rows


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def config_class(op) -> type[BaseModel] | None:
    """The `dagster.Config` class an op's compute function takes (its `config` parameter)."""
    from dagster import ConfigurableIOManager, ConfigurableResource

    fn = getattr(op.compute_fn, "decorated_fn", op.compute_fn)
    hints = typing.get_type_hints(fn)
    params = inspect.signature(fn).parameters

    def is_config(tp: object) -> bool:
        return (
            isinstance(tp, type)
            and issubclass(tp, BaseModel)
            and not issubclass(tp, ConfigurableResource | ConfigurableIOManager)
        )

    if is_config(hints.get("config")):
        return hints["config"]
    found = [hints[p] for p in params if is_config(hints.get(p))]
    return found[0] if found else None


def schema_fields(op) -> list[str]:
    """The top-level config field names Dagster itself sees for the op."""
    config_type = op.config_schema.config_type if op.config_schema else None
    fields = getattr(config_type, "fields", None)
    return list(fields) if fields else []


def schema_rows(op) -> list[list[str]]:
    """Fallback for an op configured by a plain Dagster config schema instead of a Config class."""
    rows = []
    for name, field in op.config_schema.config_type.fields.items():
        kind = field.config_type.given_name or field.config_type.kind.name.lower()
        shown = show(field.default_value) if field.default_provided else ("required" if field.is_required else "")
        rows.append([code(name), code(kind), shown, cell(field.description or "")])
    return rows


def asset_section(asset, resource_keys: set[str]) -> list[str]:
    from dagster import AssetsDefinition, OpDefinition

    if not isinstance(asset, AssetsDefinition):
        key = asset.key.to_user_string()
        lines = [f"### `{key}`", ""]
        if getattr(asset, "group_name", None):
            lines += [f"Group `{asset.group_name}`; no run configuration: not materialized by a run.", ""]
        if getattr(asset, "description", None):
            lines += [cell(asset.description), ""]
        return lines
    keys = sorted(k.to_user_string() for k in asset.keys)
    node = asset.node_def
    groups = sorted(set(asset.group_names_by_key.values()))
    lines = [f"### `{', '.join(keys)}`", ""]
    facts = [f"Group `{', '.join(groups)}`"] if groups else []
    if not isinstance(node, OpDefinition):
        return lines + ["; ".join(facts + [f"graph-backed (`{node.name}`): see its ops"]) + ".", ""]
    if keys != [node.name]:
        facts.append(f"op `{node.name}`")
    used = sorted(k for k in asset.required_resource_keys if k in resource_keys)
    if used:
        facts.append("resources " + ", ".join(f"`{k}`" for k in used))
    lines += ["; ".join(facts) + "." if facts else ""]
    description = next(iter(asset.descriptions_by_key.values()), "") if asset.descriptions_by_key else ""
    if description:
        lines += ["", cell(description)]
    lines.append("")
    model = config_class(node)
    header = ["field", "type", "default", "description"]
    if model is not None:
        declared, seen = list(model.model_fields), schema_fields(node)
        if seen and sorted(declared) != sorted(seen):
            raise RuntimeError(f"{node.name}: {model.__name__} declares {declared}, Dagster sees {seen}")
        lines += [f"Config class `{model.__module__}.{model.__qualname__}`:", ""]
        lines += table(header, config_rows(model)) if model.model_fields else ["No fields."]
    elif schema_fields(node):
        lines += table(header, schema_rows(node))
    else:
        lines += ["No configuration."]
    return lines + [""]


# -- resources and run profiles ----------------------------------------------------------------------------------


def resource_section(key: str, profiles: dict[str, dict]) -> list[str]:
    instances = {name: resources[key] for name, resources in profiles.items() if key in resources}
    klass = type(next(iter(instances.values())))
    lines = [f"### `{key}`: `{klass.__module__}.{klass.__qualname__}`", ""]
    doc = docstring(klass)
    if doc:
        lines += [cell(doc), ""]
    if not isinstance(next(iter(instances.values())), BaseModel):
        return lines + ["Not a configurable resource: no fields.", ""]
    comments = trailing_comments(klass)
    rows = []
    for name, field in klass.model_fields.items():
        class_default = field_default(field)
        row = [
            code(name),
            kind_cell(field),
            "required" if class_default is PydanticUndefined else show(class_default),
        ]
        for profile in profiles:
            instance = instances.get(profile)
            if instance is None:
                row.append("(absent)")
                continue
            current = value(getattr(instance, name))
            same = class_default is not PydanticUndefined and current == value(class_default)
            row.append("" if same else show(current))
        row.append(cell(field.description or comments.get(name, "")))
        rows.append(row)
    header = ["field", "type", "class default", *(f"`{p}` profile" for p in profiles), "description"]
    return lines + table(header, rows) + [""]


def flatten(config: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(config, dict) and config:
        for k, v in config.items():
            yield from flatten(v, f"{prefix}{k}.")
    else:
        yield prefix.rstrip("."), config


def run_config_rows(run_configs: dict[str, dict], asset_order: list[str]) -> list[list[str]]:
    cells: dict[tuple[str, str], dict[str, object]] = {}
    for profile, run_config in run_configs.items():
        for op, op_config in run_config.get("ops", {}).items():
            for path, setting in flatten(op_config.get("config", {})):
                cells.setdefault((op, path), {})[profile] = setting
    rank = {name: i for i, name in enumerate(asset_order)}
    ordered = sorted(cells, key=lambda k: rank.get(k[0], len(rank)))  # stable: paths keep their order
    return [
        [code(op), code(path), *(show(cells[(op, path)][p]) if p in cells[(op, path)] else "" for p in run_configs)]
        for op, path in ordered
    ]


# -- the document ------------------------------------------------------------------------------------------------


def render() -> str:
    with neutral_environment():
        from dagster_project.definitions import ASSETS
        from dagster_project.profiles import PROFILES, load_profile
        from dagster_project.resources import default_resources

        profiles = {name: load_profile({"SINTERNAL_PROFILE": name}) for name in PROFILES}
        resources = {name: p.resources for name, p in profiles.items()}
        defaults = list(default_resources())
        resource_keys = {k for r in resources.values() for k in r}
        asset_sections = [asset_section(a, resource_keys) for a in ASSETS]
        ordered = defaults + sorted(resource_keys - set(defaults))
        resource_sections = [resource_section(k, resources) for k in ordered]
        names = [k.to_user_string() for a in ASSETS for k in getattr(a, "keys", [a.key])]
        run_rows = run_config_rows({name: p.run_config for name, p in profiles.items()}, names)
        files = [
            f"`{name}`: `{placeholders(str(p.run_config_file)).removeprefix('<repo>/')}`"
            for name, p in profiles.items()
            if getattr(p, "run_config_file", "")
        ]
    lines = [
        "# Configuration reference",
        "",
        f"<!-- GENERATED by scripts/config_reference.py: do not edit by hand; regenerate with `{REGENERATE}`. -->",
        "",
        "Every asset's typed Dagster config (set it in the launchpad or a run config under "
        "`ops: <asset>: config:`), the resources, and what each run profile's jobs set on top of the asset "
        "defaults. Generated from the code: the tests fail when it is out of date.",
        "",
        "Conventions: nested Config fields are flattened (`train.max_steps`), items of a list of Config values "
        'are `field[].name`; a type\'s bounds are in brackets; defaults are JSON (`null`, `true`, `"text"`) '
        "as computed with no `SINTERNAL_*` / `ARGILLA_*` variable set (environment variables that change "
        "them: [operations.md](operations.md)); `<python>` is the interpreter that loads the code location, "
        "`<repo>` this checkout, `~` the home directory.",
        "",
        "Contents: [assets](#assets), [resources](#resources), [run profiles](#run-profiles).",
        "",
        "## Assets",
        "",
        "In the order of `dagster_project.definitions.ASSETS`.",
        "",
    ]
    for section in asset_sections:
        lines += section
    lines += [
        "## Resources",
        "",
        "The resources of `dagster_project.resources.default_resources()` (what the `local` profile uses) and what "
        "each run profile (`dagster_project/profiles.py`, `SINTERNAL_PROFILE`) gives them. A blank profile cell "
        "is the class default.",
        "",
    ]
    for section in resource_sections:
        lines += section
    lines += [
        "## Run profiles",
        "",
        "The run configuration each profile's jobs, schedule and sensors apply on top of the asset defaults "
        "(`embedded_default` takes all of it; every other job the part naming its own assets). A blank cell is "
        "the asset default.",
        "",
    ]
    if files:
        lines += ["Where each profile's run configuration comes from: " + "; ".join(files) + ".", ""]
    lines += table(["asset", "field", *(f"`{p}`" for p in profiles)], run_rows) if run_rows else ["None."]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv == ["--check"]:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: regenerate it with {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
