"""Wheel build step: ship the ledger and projection packages under names nobody else uses.

A source checkout imports the three packages as ``contexta``, ``ledger`` and ``projections``
(the repository's layout). ``ledger`` and ``projections`` are also the names of unrelated
projects on PyPI, so a wheel that installed them at top level would clash with either. A
regular wheel therefore holds ``contexta``, ``contexta_ledger`` and ``contexta_projections``:
this hook copies the three packages into a staging folder under those names and rewrites the
import statements that name the other two. An editable install keeps the source names (the
repository root goes on ``sys.path``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

RENAMED = {"ledger": "contexta_ledger", "projections": "contexta_projections"}
PACKAGES = ("contexta", *RENAMED)

# ``from ledger.x import y`` / ``from projections import z`` at any indentation
_FROM = re.compile(r"^(\s*)from (ledger|projections)(?=[.\s])", re.MULTILINE)
# ``import ledger`` (bound to the source name, so the code reads the same); a dotted
# ``import ledger.x`` cannot be bound so and is refused by :func:`leftover`
_IMPORT = re.compile(r"^(\s*)import (ledger|projections)\s*$", re.MULTILINE)


def rewrite(source: str) -> str:
    """``source`` with its imports of ``ledger`` and ``projections`` under the shipped names."""
    text = _FROM.sub(lambda m: f"{m[1]}from {RENAMED[m[2]]}", source)
    return _IMPORT.sub(lambda m: f"{m[1]}import {RENAMED[m[2]]} as {m[2]}", text)


def leftover(source: str) -> list[str]:
    """Import lines that still name a source package (a staged copy must have none)."""
    pattern = re.compile(r"^\s*(?:from|import) (?:ledger|projections)\b", re.MULTILINE)
    return [m[0].strip() for m in pattern.finditer(source)]


def stage(root: Path, into: Path) -> dict[str, str]:
    """Copy the packages to ``into`` under their shipped names; returns source -> wheel path."""
    shipped: dict[str, str] = {}
    for package in PACKAGES:
        name = RENAMED.get(package, package)
        target = into / name
        shutil.copytree(
            root / package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        for path in sorted(target.rglob("*.py")):
            text = rewrite(path.read_text(encoding="utf-8"))
            left = leftover(text)
            if left:
                raise RuntimeError(f"{path}: imports not rewritten: {left}")
            compile(text, str(path), "exec")
            path.write_text(text, encoding="utf-8")
        shipped[str(target)] = name
    return shipped


class RenamePackagesHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        self._staging = tempfile.TemporaryDirectory(prefix="contexta-wheel-")
        build_data["force_include"].update(stage(Path(self.root), Path(self._staging.name)))

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        staging = getattr(self, "_staging", None)
        if staging is not None:
            staging.cleanup()
