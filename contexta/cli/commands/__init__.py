"""One module per command group; each exposes ``register(subparsers)``."""

from . import audit, ledger_cmd, projections_cmd, quality, runs
from . import watch as watch_cmd

REGISTRY = [
    runs.register,
    projections_cmd.register,
    audit.register,
    ledger_cmd.register,
    quality.register,
    watch_cmd.register,
]

__all__ = ["REGISTRY"]
