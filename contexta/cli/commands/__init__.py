"""One module per command group; each exposes ``register(subparsers)``."""

from . import (
    answers,
    audit,
    compat_analysis,
    compat_recovery,
    compat_reports,
    compat_runs,
    import_cmd,
    ledger_cmd,
    projections_cmd,
    publish_cmd,
    quality,
    runs,
    serve,
)
from . import watch as watch_cmd

#: The command modules, in the order their ``register`` runs: a later one may extend an earlier
#: one's command (``compat_runs`` adds 1.0's filters to ``runs``, ``publish_cmd`` adds
#: ``ledger publish``). Each names the top-level commands it adds or extends in ``COMMANDS``.
REGISTRY = [
    runs,
    projections_cmd,
    audit,
    ledger_cmd,
    publish_cmd,
    quality,
    watch_cmd,
    import_cmd,
    compat_runs,
    compat_analysis,
    compat_reports,
    compat_recovery,
    serve,
    answers,
]

__all__ = ["REGISTRY"]
