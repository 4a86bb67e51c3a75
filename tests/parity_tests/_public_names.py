"""The public names of ``Contexta`` and of every 1.0 import path, as this package answers them.

``python -m tests.parity_tests._public_names`` writes them to ``data/public_names.json``; that
file was generated once, before the read surface was reorganised, and
``test_public_names.py`` checks the current names against it.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from pathlib import Path
from types import ModuleType

DATA = Path(__file__).parent / "data" / "public_names.json"

#: Every module path of Contexta 1.0.0 (its package, one dotted name per module file).
C10_MODULE_PATHS_FILE = Path(__file__).parent / "data" / "c10_module_paths.txt"


def module_names(module: ModuleType) -> list[str]:
    """The module's declared public names (``__all__``), else its public non-module names."""
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return sorted(set(declared))
    return sorted(
        n
        for n in dir(module)
        if not n.startswith("_") and not isinstance(getattr(module, n), ModuleType)
    )


def contexta_names() -> list[str]:
    """Public names of the ``Contexta`` class and of an instance (instance attributes too)."""
    from contexta import Contexta

    with tempfile.TemporaryDirectory() as tmp:
        ctx = Contexta(workspace=Path(tmp) / "ws")
        names = set(dir(Contexta)) | set(vars(ctx))
        ctx.close()
    return sorted(n for n in names if not n.startswith("_"))


def module_paths() -> list[str]:
    return [line.strip() for line in C10_MODULE_PATHS_FILE.read_text().splitlines() if line.strip()]


def current() -> dict[str, list[str]]:
    """Path -> public names for every 1.0 module path this package imports (``<missing>`` for
    one it does not), and ``Contexta`` -> its public names."""
    out: dict[str, list[str]] = {"Contexta": contexta_names()}
    for path in module_paths():
        try:
            module = importlib.import_module(path)
        except ImportError:
            out[path] = ["<missing>"]
            continue
        out[path] = module_names(module)
    return out


if __name__ == "__main__":
    DATA.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {DATA}\n")
