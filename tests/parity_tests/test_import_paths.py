"""Every 1.0 import path is a module file of its own (no alias of another module, nothing
patched in), imported by each of Python's spellings, and every object it gives is the object
of the module that defines it: pickles naming either path load."""

from __future__ import annotations

import importlib
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.contract_tests.helpers import EXAMPLES
from tests.parity_tests._public_names import DATA, module_paths
from tests.parity_tests.test_public_names import RECORDED

#: the 1.0 paths this package has (the recorded list marks the others ``<missing>``)
PATHS = [p for p in module_paths() if RECORDED[p] != ["<missing>"] and p != "contexta.__main__"]


def test_the_recorded_list_covers_the_paths() -> None:
    assert DATA.is_file()
    assert len(PATHS) > 90


@pytest.mark.parametrize("path", PATHS)
def test_each_1_0_path_is_a_file_of_its_own(path: str) -> None:
    module = importlib.import_module(path)
    assert module.__name__ == path
    assert module.__spec__ is not None and module.__spec__.name == path
    source = Path(module.__file__ or "").relative_to(REPO)
    parts = path.split(".")
    assert source in {Path(*parts).with_suffix(".py"), Path(*parts, "__init__.py")}


@pytest.mark.parametrize("path", [p for p in PATHS if p.count(".") >= 2])
def test_import_as_and_from_import_give_the_same_module(path: str) -> None:
    parent, _, leaf = path.rpartition(".")
    namespace: dict[str, Any] = {}
    exec(f"import {path} as m\nfrom {parent} import {leaf} as n", namespace)
    assert namespace["m"] is namespace["n"] is sys.modules[path]


def _classes(path: str) -> list[type]:
    module = importlib.import_module(path)
    return [v for n in RECORDED[path] if isinstance(v := getattr(module, n), type)]


@pytest.mark.parametrize("path", PATHS)
def test_each_class_a_1_0_path_gives_is_found_where_it_says_it_lives(path: str) -> None:
    """A pickle names a class by ``__module__`` and ``__qualname__``: both must import."""
    for cls in _classes(path):
        home = importlib.import_module(cls.__module__)
        assert getattr(home, cls.__qualname__) is cls, (path, cls)


def _paths_giving(cls: type) -> list[str]:
    return [
        path
        for path in PATHS
        if getattr(importlib.import_module(path), cls.__name__, None) is cls
        and path != cls.__module__
    ]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_pickle_naming_a_1_0_path_loads(name: str) -> None:
    """Pickles written under 1.0's module names (``contexta.contract.models.context.Run``)
    load as the same model."""
    model = EXAMPLES[name]()
    cls = type(model)
    data = pickle.dumps(model, protocol=0)
    own = f"c{cls.__module__}\n{cls.__qualname__}\n".encode()
    assert own in data
    paths = _paths_giving(cls)
    assert paths, cls
    for path in paths:
        renamed = data.replace(own, f"c{path}\n{cls.__qualname__}\n".encode())
        assert renamed != data
        assert pickle.loads(renamed) == model, path
