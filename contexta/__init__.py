"""Contexta: local-first ML observability on an event-sourced ledger.

``from contexta import Contexta`` opens a workspace; every put and append is an immutable event
in the workspace's ledger, and queries are answered from rebuildable projections.
"""

from .common.errors import ContextaError
from .dataset import dataset
from .facade import Contexta

__all__ = ["Contexta", "ContextaError", "dataset"]
__version__ = "2.0.0.dev0"
