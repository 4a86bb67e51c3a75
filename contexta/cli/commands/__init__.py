"""One module per command group; each exposes ``register(subparsers)``."""

from . import audit, ledger_cmd, projections_cmd, runs

REGISTRY = [projections_cmd.register, audit.register, runs.register, ledger_cmd.register]

__all__ = ["REGISTRY"]
