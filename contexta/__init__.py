"""Contexta: local-first ML observability on an event-sourced ledger.

``from contexta import Contexta`` opens a workspace; every put and append is an immutable event
in the workspace's ledger, and queries are answered from rebuildable projections.

``Contexta`` and ``ContextaError`` are imported on first access: a process that needs only a
part (a reader of the ledger, the record store) does not load the facade.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# imported now: the function has its module's name, and importing the module (as any
# ``import contexta.dataset`` does) would otherwise leave the module under that name
from .dataset import dataset

if TYPE_CHECKING:
    from .common.errors import ContextaError
    from .facade import Contexta

__all__ = ["Contexta", "ContextaError", "dataset"]
__version__ = "2.0.0.dev0"

_HOMES = {"Contexta": ".facade", "ContextaError": ".common.errors"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
