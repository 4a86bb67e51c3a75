"""Contexta: local-first ML observability on an event-sourced ledger.

``from contexta import Contexta`` opens a workspace; every put and append is an immutable event
in the workspace's ledger, and queries are answered from rebuildable projections.
"""

from ._aliases import install as _install_aliases

_install_aliases()

from .common.errors import ContextaError  # noqa: E402
from .dataset import dataset  # noqa: E402
from .facade import Contexta  # noqa: E402

__all__ = ["Contexta", "ContextaError", "dataset"]
__version__ = "2.0.0.dev0"
