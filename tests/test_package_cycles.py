"""No import loop inside a package: the modules of each package listed import each other in one
direction only. Every import counts: module-level, function-local and type-checking ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = (
    "contexta.capture",
    "contexta.config",
    "contexta.contract",
    "contexta.interpretation.reporting",
    "contexta.store",
)


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Module name -> file of every module of ``package`` (its ``__init__`` is the package)."""
    folder = root.joinpath(*package.split("."))
    found = {}
    for path in sorted(folder.glob("*.py")):
        found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that ``module`` imports anywhere in its file."""
    package = module if path.stem == "__init__" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            targets = [target, *(f"{target}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(t for t in targets if t in known and t != module)
    return found


def cycles(root: Path, package: str) -> list[list[str]]:
    """The import loops among the modules of ``package`` (each a list of its modules)."""
    known = module_files(root, package)
    graph = {name: imported(name, path, known) for name, path in known.items()}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        order[node] = low[node] = len(order)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                loops.append(sorted(component))

    for name in sorted(graph):
        if name not in order:
            visit(name)
    return loops


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_loop_inside_the_package(package: str) -> None:
    assert module_files(REPO, package), package
    assert cycles(REPO, package) == []


def test_the_check_finds_a_loop(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "a.py").write_text("def f():\n    from .b import g\n")
    (folder / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n"
    )
    (folder / "c.py").write_text("from pkg import a\n")
    assert cycles(tmp_path, "pkg") == [["pkg.a", "pkg.b"]]
