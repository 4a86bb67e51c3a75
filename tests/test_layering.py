"""Imports go one way only: contexta -> projections -> ledger."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {"ledger": ("projections", "contexta"), "projections": ("contexta",)}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_layers(package: str) -> None:
    modules = sorted((REPO / package).rglob("*.py"))
    assert modules
    for module in modules:
        bad = imports(module) & set(FORBIDDEN[package])
        assert not bad, f"{module.relative_to(REPO)} imports {sorted(bad)}"
