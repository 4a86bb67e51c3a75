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

REGISTRY = [
    runs.register,
    projections_cmd.register,
    audit.register,
    ledger_cmd.register,
    publish_cmd.register,
    quality.register,
    watch_cmd.register,
    import_cmd.register,
    compat_runs.register,
    compat_analysis.register,
    compat_reports.register,
    compat_recovery.register,
    serve.register,
    answers.register,
]

__all__ = ["REGISTRY"]
