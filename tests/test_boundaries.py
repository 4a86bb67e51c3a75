"""No module reaches a `_private` name of another package.

A package is a top-level package (`ledger`, `projections`, `contexta`) or a subpackage of
`contexta` (`contexta.cli`, `contexta.store`, ...); the top-level modules of `contexta`
(`facade.py`, `live.py`, ...) form the package `contexta` itself.

What counts as a reach-in:
- `from x import _name` and `from x._mod import name` where `x` is another package;
- `import x._mod` where `x` is another package;
- `obj._name` and `getattr(obj, "_name")` where `obj` is not `self`/`cls` and either `obj` is a
  module imported from another package, or `_name` is defined in another of our packages and
  nowhere in the package making the access (names no package of ours defines, such as the
  `_replace` of a named tuple or `sys._getframe`, belong to the standard library).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("ledger", "projections", "contexta")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Module:
    path: Path
    name: str  # dotted module name, e.g. contexta.cli.commands.watch
    is_package: bool  # an __init__.py

    @property
    def package(self) -> str:
        return package_of(self.name)


def package_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "contexta" or len(parts) == 1:
        return parts[0]
    candidate = REPO / "contexta" / parts[1]
    return f"contexta.{parts[1]}" if candidate.is_dir() else "contexta"


def modules(roots: tuple[str, ...] = ROOTS, repo: Path = REPO) -> list[Module]:
    found = []
    for root in roots:
        for path in sorted((repo / root).rglob("*.py")):
            rel = path.relative_to(repo).with_suffix("")
            parts = list(rel.parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found.append(Module(path, ".".join(parts), is_package))
    return found


def resolve(module: Module, node: ast.ImportFrom) -> str:
    """The absolute dotted name an `ImportFrom` names."""
    if node.level == 0:
        return node.module or ""
    base = module.name.split(".")
    if not module.is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def ours(name: str) -> bool:
    return name.split(".")[0] in ROOTS


def defined_private_names(tree: ast.AST) -> set[str]:
    """Private names a module defines: functions, classes, assignments, attributes it sets."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[-1])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Call) and _setattr_name(node):
            names.add(_setattr_name(node) or "")
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
        ):
            names |= {
                c.value
                for c in ast.walk(node.value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
    return {n for n in names if _private(n)}


def _setattr_name(node: ast.Call) -> str | None:
    func = node.func
    is_setattr = (isinstance(func, ast.Name) and func.id == "setattr") or (
        isinstance(func, ast.Attribute) and func.attr == "__setattr__"
    )
    if is_setattr and len(node.args) >= 2:
        arg = node.args[1]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None


def _module_aliases(module: Module, tree: ast.AST) -> dict[str, str]:
    """Local names bound to modules of ours (by `import x.y as z` or `from x import mod`)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if ours(alias.name):
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source = resolve(module, node)
            if not ours(source):
                continue
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if _is_module(target):
                    aliases[alias.asname or alias.name] = target
    return aliases


def _is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _self_like(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in {"self", "cls"}


def reach_ins(mods: list[Module]) -> list[str]:
    trees = {m.name: ast.parse(m.path.read_text(), str(m.path)) for m in mods}
    owned: dict[str, set[str]] = defaultdict(set)
    for m in mods:
        owned[m.package] |= defined_private_names(trees[m.name])
    everything = set().union(*owned.values())
    findings: list[str] = []
    for m in mods:
        tree = trees[m.name]
        aliases = _module_aliases(m, tree)
        where = m.path.relative_to(REPO)

        def foreign_module(dotted: str, m: Module = m) -> bool:
            return ours(dotted) and package_of(dotted) != m.package

        def report(node: ast.AST, what: str, where: Path = where) -> None:
            findings.append(f"{where}:{getattr(node, 'lineno', 0)}: {what}")

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if foreign_module(alias.name) and any(_private(p) for p in parts):
                        report(node, f"import {alias.name}")
            elif isinstance(node, ast.ImportFrom):
                source = resolve(m, node)
                if not foreign_module(source):
                    continue
                if any(_private(p) for p in source.split(".")):
                    report(node, f"from {source} import ...")
                for alias in node.names:
                    if _private(alias.name):
                        report(node, f"from {source} import {alias.name}")
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                if _foreign_access(node.value, node.attr, m, aliases, owned, everything):
                    report(node, f"{ast.unparse(node.value)}.{node.attr}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"getattr", "hasattr", "setattr", "delattr"}
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and _private(node.args[1].value)
            ):
                obj, name = node.args[0], node.args[1].value
                if _foreign_access(obj, name, m, aliases, owned, everything):
                    report(node, f'{node.func.id}({ast.unparse(obj)}, "{name}")')
    return findings


def _foreign_access(
    obj: ast.expr,
    name: str,
    m: Module,
    aliases: dict[str, str],
    owned: dict[str, set[str]],
    everything: set[str],
) -> bool:
    if _self_like(obj):
        return False
    dotted = ast.unparse(obj)
    head = dotted.split(".")[0]
    if head in aliases:
        target = aliases[head] + dotted[len(head) :]
        if _is_module(target) and package_of(target) != m.package:
            return True
    return name in everything and name not in owned[m.package]


#: Reach-ins left for the owners of the files named (the stores give no public handle on their
#: workspace yet); each entry must still be found, so a mended one is removed from here.
KNOWN: set[str] = set()


def test_no_module_reaches_a_private_name_of_another_package() -> None:
    found = [re.sub(r":\d+:", ":", f, count=1) for f in reach_ins(modules())]
    assert set(found) >= KNOWN, f"no longer found, remove from KNOWN: {KNOWN - set(found)}"
    findings = [f for f in found if f not in KNOWN]
    assert not findings, "reach-ins across packages:\n" + "\n".join(findings)


# The walk itself is checked on small made-up trees, so a walk that finds nothing cannot pass
# as a clean tree.


def _tree(tmp_path: Path, files: dict[str, str]) -> list[Module]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [
        Module(
            tmp_path / rel,
            ".".join(Path(rel).with_suffix("").parts).removesuffix(".__init__"),
            rel.endswith("__init__.py"),
        )
        for rel in files
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ledger.writer import _LIVE\n", "from ledger.writer import _LIVE"),
        ("from ..capture import _build\n", "from contexta.capture import _build"),
        ("from ..capture._build import x\n", "from contexta.capture._build import ..."),
        ("import ledger._inner\n", "import ledger._inner"),
        ("def f(ctx):\n    return ctx._workspace\n", "ctx._workspace"),
        ('def f(ctx):\n    return getattr(ctx, "_workspace")\n', 'getattr(ctx, "_workspace")'),
        ("from ledger import writer\nwriter._other\n", "writer._other"),
    ],
)
def test_walk_finds_each_kind_of_reach_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected: str
) -> None:
    mods = _fake_repo(tmp_path, monkeypatch, {"contexta/cli/cmd.py": source})
    assert any(expected in f for f in reach_ins(mods)), reach_ins(mods)


@pytest.mark.parametrize(
    "source",
    [
        "class A:\n    def f(self):\n        return self._workspace\n",
        "from . import _helpers\n",
        "from ._helpers import x\n",
        "def f(t):\n    return t._replace(a=1)\n",
        "def f(ctx):\n    return ctx.workspace\n",
    ],
)
def test_walk_lets_package_internal_access_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    mods = _fake_repo(tmp_path, monkeypatch, {"contexta/cli/cmd.py": source})
    assert reach_ins(mods) == []


def _fake_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str]
) -> list[Module]:
    import sys

    module = sys.modules[__name__]
    monkeypatch.setattr(module, "REPO", tmp_path)
    files = {
        "ledger/__init__.py": "",
        "ledger/writer.py": "_LIVE = {}\n_other = 1\n",
        "ledger/_inner.py": "",
        "contexta/__init__.py": "",
        "contexta/facade.py": "class C:\n    def __init__(self):\n        self._workspace = 1\n",
        "contexta/capture/__init__.py": "",
        "contexta/capture/_build.py": "x = 1\n",
        "contexta/cli/__init__.py": "",
        "contexta/cli/_helpers.py": "x = 1\n",
        **extra,
    }
    return _tree(tmp_path, files)
