"""The assembly and the layers stay as docs/architecture.md draws them: nothing registers itself
when imported (the composition root assembles), and imports point one way (import-linter's
contracts in pyproject.toml)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "accord"

SCRIPTS = {"__main__.py", "migrations/env.py", "evidence/verify_pack.py"}
"""Run as scripts: `python -m accord`, Alembic's environment, and the standalone pack verifier
(a third party runs it alone; its `__main__` guard is its only top-level call)."""


def _top_level(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements a module runs when imported (inside top-level if/try blocks too)."""
    for statement in statements:
        if isinstance(statement, ast.If):
            yield from _top_level(statement.body)
            yield from _top_level(statement.orelse)
        elif isinstance(statement, ast.Try):
            yield from _top_level(statement.body)
            for handler in statement.handlers:
                yield from _top_level(handler.body)
            yield from _top_level(statement.orelse)
            yield from _top_level(statement.finalbody)
        else:
            yield statement


def _imported_names(tree: ast.Module) -> set[str]:
    names = set()
    for statement in _top_level(tree.body):
        if isinstance(statement, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            names.update(a.asname or a.name for a in statement.names)
    return names


def _base(node: ast.expr) -> ast.expr:
    """`a` of `a.b.c(...)`, `a[k]`, `a.b[k].c`."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def registrations(source: str) -> list[str]:
    """Statements that, at import, call or change something another module defined: a call
    made for its effect on an imported name (`register(kind)`, `hooks.append(f)`), or an
    assignment into one (`registry[name] = x`, `module.setting = x`)."""
    tree = ast.parse(source)
    imported = _imported_names(tree)
    found = []
    for statement in _top_level(tree.body):
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            targets = [statement.value.func]
        elif isinstance(statement, ast.Assign):
            targets = [t for t in statement.targets if not isinstance(t, ast.Name | ast.Tuple)]
        elif isinstance(statement, ast.AugAssign | ast.AnnAssign):
            targets = [] if isinstance(statement.target, ast.Name) else [statement.target]
        for target in targets:
            base = _base(target)
            if isinstance(base, ast.Name) and base.id in imported:
                found.append(f"line {statement.lineno}: {ast.unparse(statement)[:100]}")
    return found


def test_no_module_registers_anything_at_import_time() -> None:
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        name = path.relative_to(SOURCE).as_posix()
        if name in SCRIPTS:
            continue
        hits = registrations(path.read_text(encoding="utf-8"))
        if hits:
            found[name] = hits
    assert found == {}, "register in accord.composition, not at import:\n" + "\n".join(
        f"{name} {hit}" for name, hits in found.items() for hit in hits
    )


def test_the_check_finds_each_way_of_registering_at_import() -> None:
    source = """
from accord.federation.kinds import register, KINDS
from accord.cases import service as cases
import accord.core.labels
local = []
local.append(1)
register(1)
cases.RECEIVED_HOOKS.append(f)
KINDS["x"] = 1
cases.LIMIT = 3
KINDS["y"] += 1
accord.core.labels.register_labels({})
if True:
    register(2)
"""
    assert [hit.split(":")[0] for hit in registrations(source)] == [
        "line 7",
        "line 8",
        "line 9",
        "line 10",
        "line 11",
        "line 12",
        "line 14",
    ]


def test_imports_point_one_way() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
