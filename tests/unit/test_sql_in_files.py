"""All SQL lives in `sql/`, loaded by name, checked on the source (AST), so the rule cannot silently erode:

- no module of `sinternal_assets/` or `dagster_project/` holds a SQL statement as a string literal or f-string
  (docstrings aside): a query is a file `sql/queries/<name>.sql`, run with `Warehouse.query(name, **params)`
  (or read with `load_query(name)`). The storage layer, `sinternal_assets/storage/warehouse.py`, is the one
  place allowed generic SQL built from identifiers (`SELECT * FROM {table}`, `DESCRIBE {table}`, the writes);
- every name passed as a literal to `.query(...)` or `load_query(...)` has its file;
- every file in `sql/queries/` is used by name somewhere (code, tests, benchmarks, the stages' `checks.py`
  files), except the few listed in KNOWN_UNUSED.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "sql" / "queries"
NO_SQL_PACKAGES = ("sinternal_assets", "dagster_project")
SQL_ALLOWED = {Path("sinternal_assets/storage/warehouse.py")}
# where a query may be used by name
USER_PACKAGES = ("sinternal_assets", "dagster_project", "tests", "benchmarks", "scripts")
# named queries that nothing uses (yet): kept, not deleted; remove a name here once it is used or deleted
KNOWN_UNUSED = {"prompt_pool_summary"}

# A statement's opening: SELECT (case-insensitive with a FROM later on, or upper-case on its own), WITH name AS (,
# INSERT INTO, UPDATE t SET, DELETE FROM, CREATE [OR REPLACE] [TEMP] TABLE/VIEW/...: prose such as
# "INSERT PROMPT HERE" or "with a friend" is no statement.
_SQL = re.compile(
    r"""^\s*(?:
        (?i:select)\s[\s\S]*\b(?i:from)\b
      | SELECT\b
      | (?i:with\s+(?:recursive\s+)?\w+\s*(?:\([^)]*\)\s*)?as\s*(?:not\s+)?(?:materialized\s+)?\()
      | (?i:insert\s+(?:or\s+\w+\s+)?into)\b
      | (?i:update\s+[\w."]+\s+set)\b
      | (?i:delete\s+from)\b
      | (?i:create\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?(?:unique\s+)?
           (?:table|view|index|sequence|schema|macro|type|function))\b
    )""",
    re.VERBOSE,
)


def _py_files(*packages: str) -> list[Path]:
    """The modules of `packages`, this one aside (its examples name queries that do not exist)."""
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py") if p != Path(__file__).resolve())


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring nodes (module, class, function)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _text(node: ast.expr) -> str | None:
    """The text of a string literal; an f-string's with `{}` for each placeholder."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def sql_literals(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, text) of every string literal or f-string in the module that opens a SQL statement."""
    skip = _docstrings(tree)
    for node in ast.walk(tree):  # an f-string's parts are not strings of their own
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
    found = []
    for node in ast.walk(tree):
        text = _text(node) if id(node) not in skip else None
        if text is not None and _SQL.match(text):
            found.append((node.lineno, " ".join(text.split())[:80]))
    return sorted(found)


def _expected_to_fail(tree: ast.Module) -> set[int]:
    """ids of the nodes inside a `with pytest.raises(...)` block (a test naming a missing query on purpose)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With | ast.AsyncWith) and any(
            isinstance(item.context_expr, ast.Call) and "raises" in ast.unparse(item.context_expr.func)
            for item in node.items
        ):
            out.update(id(n) for statement in node.body for n in ast.walk(statement))
    return out


def query_names(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, name) of every literal name passed to `<x>.query(...)` or `load_query(...)`, outside a
    `with pytest.raises(...)` block."""
    out = []
    skip = _expected_to_fail(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args or id(node) in skip:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        first = node.args[0]
        if (
            (name == "load_query" or (name == "query" and isinstance(func, ast.Attribute)))
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
        ):
            out.append((node.lineno, first.value))
    return sorted(out)


def _string_constants(tree: ast.Module) -> set[str]:
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_no_inline_sql_outside_the_storage_layer():
    offenders = [
        f"{p.relative_to(ROOT)}:{line}: {text!r}"
        for p in _py_files(*NO_SQL_PACKAGES)
        if p.relative_to(ROOT) not in SQL_ALLOWED
        for line, text in sql_literals(_parse(p))
    ]
    assert offenders == [], "move these statements to sql/queries/<name>.sql and run them with Warehouse.query(name)"


def test_every_named_query_has_its_file():
    missing = [
        f"{p.relative_to(ROOT)}:{line}: sql/queries/{name}.sql"
        for p in _py_files(*USER_PACKAGES)
        for line, name in query_names(_parse(p))
        if not (QUERIES / f"{name}.sql").is_file()
    ]
    assert missing == []


def test_every_query_file_is_used_by_name():
    used = set().union(*(_string_constants(_parse(p)) for p in _py_files(*USER_PACKAGES)))
    files = {f.stem for f in QUERIES.glob("*.sql")}
    unused = files - used
    assert sorted(unused - KNOWN_UNUSED) == [], "a query file nothing uses: use it, delete it, or list it here"
    assert sorted(KNOWN_UNUSED - unused) == [], "KNOWN_UNUSED names a query that is now used or gone: drop it"


def test_the_checks_would_catch_a_violation(tmp_path):
    bad = tmp_path / "module.py"
    bad.write_text(
        '"""Select what we need from the warehouse."""\n'
        'wh.sql("SELECT a FROM t")\n'
        "wh.sql(\n    'select a, b '\n    'from t WHERE x = $x'\n)\n"
        'conn.execute(f"SELECT {expr} AS h FROM frame")\n'
        'conn.execute("""\n  WITH x AS (SELECT 1) SELECT * FROM x""")\n'
        "Q = 'insert into t VALUES (1)'\n"
        'conn.execute("DELETE FROM t" + where)\n'
        'conn.execute("update t set a = 1")\n'
        'conn.execute("CREATE OR REPLACE TABLE t AS SELECT 1")\n'
        'text.partition("INSERT PROMPT HERE")\n'
        'say("with a friend")\n'
        'say("Select the best answer.")\n'
        'wh.query("no_such_query", x=1)\nload_query("current_spec")\nwh.query(name)\n'
        'with pytest.raises(WarehouseError):\n    wh.query("expected_missing")\n',
        encoding="utf-8",
    )
    tree = _parse(bad)
    assert [line for line, _ in sql_literals(tree)] == [2, 4, 7, 8, 10, 11, 12, 13]
    assert query_names(tree) == [(17, "no_such_query"), (18, "current_spec")]
    assert not (QUERIES / "no_such_query.sql").is_file() and (QUERIES / "current_spec.sql").is_file()
