"""Contexta: local-first ML observability on an event-sourced ledger.

``from contexta import Contexta`` opens a workspace; every put and append is an immutable event
in the workspace's ledger, and queries are answered from rebuildable projections.

The names below are imported on first access: a process that needs only a part (the command
line, a reader of the ledger, the record store) does not load the facade and everything it
reaches.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .common.errors import ContextaError
    from .dataset import dataset
    from .facade import Contexta

__all__ = ["Contexta", "ContextaError", "dataset"]
__version__ = "2.0.0.dev0"

_HOMES = {"Contexta": ".facade", "ContextaError": ".common.errors", "dataset": ".dataset"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
