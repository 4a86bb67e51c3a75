"""Read models folded from the ledger.

Vocabulary: ``apply`` (fold a batch), ``reset``, ``catch_up`` (fold what is new), ``rebuild``
(fold the whole log), ``checkpoint`` (the last seq folded, saved atomically with the state).
"""

from .base import LOCATOR_FIELDS, Projection
from .engine import ALL_PROJECTIONS, ProjectionStatus, Projector, RebuildStats
from .query import as_of, latest_per
from .store import Checkpoint, LoadError

__all__ = [
    "ALL_PROJECTIONS",
    "LOCATOR_FIELDS",
    "Checkpoint",
    "LoadError",
    "Projection",
    "ProjectionStatus",
    "Projector",
    "RebuildStats",
    "as_of",
    "latest_per",
]
