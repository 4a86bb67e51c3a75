"""The query fast paths, now in ``contexta.interpretation.fast_paths`` (kept importable for
older benchmark drivers)."""

from contexta.interpretation.fast_paths import (  # noqa: F401
    install,
    list_runs,
    resolve_many,
    select_best_run,
    stages_of,
)
