"""Nothing in the product is built or patched while it is imported or run: no module writes
the attributes of another module (``mod.x = ...``, ``setattr(mod, ...)``, ``mod.__getattr__``),
no module patches a class at module level, nothing writes ``sys.modules``, ``sys.meta_path``,
``sys.path_hooks`` or ``sys.path``, no class is made by a three-argument ``type(...)`` call and
no module object is made by hand.

A module may still answer names lazily with a module-level ``__getattr__`` defined in its own
source (PEP 562) and cache them in its own ``globals()``: that is ordinary code, read where it
is written.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("contexta", "ledger", "projections")

#: attributes that make up the import protocol of a module
MODULE_PROTOCOL = frozenset(
    {"__getattr__", "__dir__", "__path__", "__spec__", "__loader__", "__class__", "__dict__"}
)
#: import-system state of ``sys``
SYS_STATE = frozenset({"modules", "meta_path", "path_hooks", "path", "path_importer_cache"})
#: methods that change a list or dict in place
MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "update",
        "setdefault",
        "popitem",
        "__setitem__",
        "__delitem__",
    }
)
#: calls whose result is a module object
MODULE_SOURCES = frozenset({"import_module", "__import__", "module_from_spec", "reload"})


def _dotted(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - every expression node unparses
        return ""


def _is_sys_state(node: ast.AST) -> bool:
    """``sys.modules``, ``sys.meta_path``, ... (also through a subscript or ``.get``)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return (
        isinstance(node, ast.Attribute)
        and node.attr in SYS_STATE
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def _module_names(tree: ast.Module) -> set[str]:
    """Local names that hold a module: bound by ``import``, annotated ``ModuleType``, or
    assigned from ``import_module(...)``, ``sys.modules[...]`` or ``sys.modules.get(...)``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.arg) and node.annotation is not None:
            if "ModuleType" in _dotted(node.annotation):
                names.add(node.arg)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if "ModuleType" in _dotted(node.annotation):
                names.add(node.target.id)
        elif isinstance(node, (ast.Assign, ast.NamedExpr)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _yields_module(node.value):
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _yields_module(value: ast.AST) -> bool:
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in MODULE_SOURCES:
            return True
        if isinstance(func, ast.Attribute) and func.attr == "get" and _is_sys_state(func.value):
            return True
    return isinstance(value, ast.Subscript) and _is_sys_state(value)


def _module_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """Statements run when the module is imported (not inside a function or class body)."""
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        stmt = todo.pop(0)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield stmt
        for field in ("body", "orelse", "finalbody", "handlers"):
            for child in getattr(stmt, field, ()):
                if isinstance(child, ast.ExceptHandler):
                    todo.extend(child.body)
                elif isinstance(child, ast.stmt):
                    todo.append(child)


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    if isinstance(node, ast.Delete):
        return list(node.targets)
    return []


def _flatten(targets: list[ast.expr]) -> Iterator[ast.expr]:
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            yield from _flatten(list(target.elts))
        else:
            yield target


def patches(source: str, where: str = "<source>") -> list[str]:
    """Every place in ``source`` that builds or patches something at import or run time."""
    tree = ast.parse(source, where)
    modules = _module_names(tree)
    found: set[tuple[int, str]] = set()

    def report(node: ast.AST, what: str) -> None:
        found.add((getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        for target in _flatten(_targets(node)):
            if isinstance(target, ast.Attribute):
                base = target.value
                if isinstance(base, ast.Name) and base.id in modules:
                    report(node, f"writes {_dotted(target)} of a module")
                elif target.attr in MODULE_PROTOCOL and not (
                    isinstance(base, ast.Name) and base.id in {"self", "cls"}
                ):
                    report(node, f"writes {_dotted(target)}")
            elif isinstance(target, ast.Subscript) and _is_sys_state(target):
                report(node, f"writes {_dotted(target)}")
        if isinstance(node, ast.Call):
            func = node.func
            name = getattr(func, "id", None)
            if name in {"setattr", "delattr"} and node.args:
                obj = node.args[0]
                if (isinstance(obj, ast.Name) and obj.id in modules) or _is_sys_state(obj):
                    report(node, f"{name}({_dotted(obj)}, ...) on a module")
            elif name == "type" and len(node.args) == 3:
                report(node, "builds a class with type(name, bases, namespace)")
            elif isinstance(func, ast.Attribute):
                if func.attr in MUTATORS and _is_sys_state(func.value):
                    report(node, f"changes {_dotted(func.value)}")
                elif func.attr == "new_class" and _dotted(func.value) == "types":
                    report(node, "builds a class with types.new_class")
            if _dotted(func) in {"ModuleType", "types.ModuleType"}:
                report(node, "makes a module object by hand")
    for stmt in _module_level(tree):
        for target in _flatten(_targets(stmt)):
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                report(stmt, f"patches {_dotted(target)} at import time")
    return [f"{where}:{line}: {what}" for line, what in sorted(found)]


def product_files(repo: Path = REPO) -> list[Path]:
    return [path for root in ROOTS for path in sorted((repo / root).rglob("*.py"))]


def test_the_product_builds_and_patches_nothing() -> None:
    files = product_files()
    assert len(files) > 100
    found = [
        finding
        for path in files
        for finding in patches(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    ]
    assert found == []


# The check itself, on made-up sources: each way the product once patched modules and classes
# (a meta-path finder serving aliases, module attributes set when a module loads, a query
# service class made at import time) must be found, and ordinary code must pass.

FOUND = [
    ("import sys\nsys.meta_path.insert(0, object())\n", "changes sys.meta_path"),
    ("import sys\nsys.modules['a.b'] = sys.modules['a']\n", "writes sys.modules['a.b']"),
    ("import sys\ndel sys.modules['a']\n", "writes sys.modules['a']"),
    ("import sys\nsys.meta_path = []\n", "writes sys.meta_path of a module"),
    ("import sys\nsys.modules.setdefault('a', None)\n", "changes sys.modules"),
    ("import sys\nsys.path.append('/x')\n", "changes sys.path"),
    (
        "from types import ModuleType\ndef patch(module: ModuleType) -> None:\n"
        "    module.__path__ = []\n",
        "writes module.__path__ of a module",
    ),
    (
        "def f(module, hook):\n    module.__getattr__ = hook\n",
        "writes module.__getattr__",
    ),
    (
        "import sys\ndef f(name, value):\n    m = sys.modules[name]\n    m.x = value\n",
        "writes m.x of a module",
    ),
    (
        "from importlib import import_module\ndef f():\n    m = import_module('a')\n"
        "    setattr(m, 'x', 1)\n",
        "setattr(m, ...) on a module",
    ),
    ("import os\nos.sep = '/'\n", "writes os.sep of a module"),
    (
        "class Base:\n    pass\nFast = type('Fast', (Base,), {})\n",
        "builds a class with type(name, bases, namespace)",
    ),
    (
        "from .queries import QueryService\ndef _fast(self):\n    return 1\n"
        "QueryService.fast = _fast\n",
        "patches QueryService.fast at import time",
    ),
    (
        "import types\nC = types.new_class('C')\n",
        "builds a class with types.new_class",
    ),
    ("import types\nm = types.ModuleType('m')\n", "makes a module object by hand"),
]


@pytest.mark.parametrize(("source", "expected"), FOUND)
def test_the_check_finds_each_kind_of_patch(source: str, expected: str) -> None:
    found = patches(source)
    assert any(f.endswith(expected) for f in found), found


ORDINARY = [
    # PEP 562: a module answers names lazily from a function written in its own source
    "from importlib import import_module\n"
    "def __getattr__(name):\n"
    "    value = getattr(import_module('a.' + name), name)\n"
    "    globals()[name] = value\n"
    "    return value\n",
    "class A:\n    def __init__(self):\n        self.x = 1\n        self.__dict__['y'] = 2\n",
    "def f(obj):\n    obj.value = 3\n    setattr(obj, 'other', 4)\n",
    "import sys\nname = sys.modules[__name__].__name__\nx = type(name)\n",
    "from . import a, b\n__all__ = ['a', 'b']\n",
]


@pytest.mark.parametrize("source", ORDINARY)
def test_the_check_lets_ordinary_code_pass(source: str) -> None:
    assert patches(source) == []


def test_the_check_finds_the_alias_finder_of_the_old_package() -> None:
    """The meta-path finder that served 1.0's module paths before they were files (a shortened
    copy of its patching steps): every step is found."""
    source = (
        "import sys\n"
        "from types import ModuleType\n"
        "class _Loader:\n"
        "    def exec_module(self, module: ModuleType) -> None:\n"
        "        module.__spec__ = self._spec\n"
        "def _patch(module: ModuleType) -> None:\n"
        "    module.__path__ = []\n"
        "    module.__getattr__ = _forwarder(module)\n"
        "def _forwarder(module: ModuleType):\n"
        "    def __getattr__(name):\n"
        "        value = 1\n"
        "        setattr(module, name, value)\n"
        "        return value\n"
        "    return __getattr__\n"
        "def install() -> None:\n"
        "    sys.meta_path.insert(0, _FINDER)\n"
        "    for name in ('a',):\n"
        "        module = sys.modules.get(name)\n"
        "        if module is not None:\n"
        "            module.extra = 1\n"
    )
    found = [f.split(": ", 1)[1] for f in patches(source)]
    assert found == [
        "writes module.__spec__ of a module",
        "writes module.__path__ of a module",
        "writes module.__getattr__ of a module",
        "setattr(module, ...) on a module",
        "changes sys.meta_path",
        "writes module.extra of a module",
    ]
