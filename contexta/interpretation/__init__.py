"""Queries over the projections and their result types.

Names of 1.0's ``contexta.interpretation`` live in submodules: queries and results here;
diagnostics, lineage, provenance, run-list filters beside them; trends, alerts, aggregation,
anomaly and reports are resolved lazily from their modules on first access.
"""

from importlib import import_module
from typing import Any

from .diagnostics import (
    DiagnosticsError,
    DiagnosticsIssue,
    DiagnosticsPolicy,
    DiagnosticsResult,
    DiagnosticsService,
)
from .errors import ComparisonError, LineageError
from .lineage import LineageEdge, LineagePolicy, LineageService, LineageTraversal
from .provenance import (
    EnvironmentDiff,
    EnvironmentValueChange,
    ProvenanceError,
    ProvenanceService,
    ReproducibilityAudit,
)
from .queries import QueryService
from .results import *  # noqa: F403
from .results import __all__ as _results
from .run_list import MetricCondition, RunListQuery, TimeRange

__all__ = [
    "ComparisonError",
    "DiagnosticsError",
    "DiagnosticsIssue",
    "DiagnosticsPolicy",
    "DiagnosticsResult",
    "DiagnosticsService",
    "EnvironmentDiff",
    "EnvironmentValueChange",
    "LineageEdge",
    "LineageError",
    "LineagePolicy",
    "LineageService",
    "LineageTraversal",
    "MetricCondition",
    "ProvenanceError",
    "ProvenanceService",
    "QueryService",
    "ReproducibilityAudit",
    "RunListQuery",
    "TimeRange",
    *_results,
]

#: modules whose public names are re-exported on first access (built concurrently elsewhere)
_LAZY_MODULES = ("trends", "alerts", "aggregation", "anomaly", "reports")


def __getattr__(name: str) -> Any:
    for module_name in _LAZY_MODULES:
        try:
            module = import_module(f"{__name__}.{module_name}")
        except ImportError:
            continue
        if name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
