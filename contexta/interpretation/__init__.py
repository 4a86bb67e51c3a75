"""Queries over the projections and their result types.

Names of 1.0's ``contexta.interpretation`` live in submodules: result types, queries,
diagnostics, lineage, provenance and run-list filters, then trends, alerts, aggregation, anomaly
and reports, are imported on first access, so importing ``contexta`` does not load
interpretation code a process never uses.
"""

from importlib import import_module
from importlib.util import find_spec
from typing import Any

#: the result types (``results.__all__``; a test keeps the two equal), imported on first access
#: like the rest: a process that only logs, or reads history, never creates their classes
_RESULTS = (
    "ArtifactChange",
    "ArtifactKindCountRow",
    "ArtifactRecord",
    "BatchRecord",
    "CompletenessNote",
    "DeploymentRecord",
    "EvidenceLink",
    "MetricDelta",
    "MultiRunComparison",
    "MultiRunMetricRow",
    "ObservationRecord",
    "ParamChange",
    "ProvenanceComparison",
    "ProvenanceView",
    "RelationRecord",
    "RunComparison",
    "RunRecord",
    "RunSnapshot",
    "SampleRecord",
    "StageComparison",
    "StageRecord",
)

#: public name -> the submodule defining it (imported on first access)
_HOMES = {
    **dict.fromkeys(_RESULTS, "results"),
    "ComparisonError": "errors",
    "DiagnosticsError": "run_diagnostics",
    "DiagnosticsIssue": "run_diagnostics",
    "DiagnosticsPolicy": "run_diagnostics",
    "DiagnosticsResult": "run_diagnostics",
    "DiagnosticsService": "run_diagnostics",
    "EnvironmentDiff": "provenance_audit",
    "EnvironmentValueChange": "provenance_audit",
    "LineageEdge": "lineage_traversal",
    "LineageError": "errors",
    "LineagePolicy": "lineage_traversal",
    "LineageService": "lineage_traversal",
    "LineageTraversal": "lineage_traversal",
    "MetricCondition": "run_list",
    "ProvenanceError": "provenance_audit",
    "ProvenanceService": "provenance_audit",
    "QueryService": "workspace_queries",
    "ReproducibilityAudit": "provenance_audit",
    "RunListQuery": "run_list",
    "TimeRange": "run_list",
}

__all__ = sorted(_HOMES)

#: modules whose public names (``__all__``) are re-exported on first access
_LAZY_MODULES = (
    "trend_analysis",
    "alert_evaluation",
    "run_aggregation",
    "anomaly_detection",
    "reports",
)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(import_module(f"{__name__}.{home}"), name)
        globals()[name] = value
        return value
    if find_spec(f"{__name__}.{name}") is not None:  # a submodule: no sweep of the others
        return import_module(f"{__name__}.{name}")
    for module_name in _LAZY_MODULES:  # a module that fails to import fails this lookup
        module = import_module(f"{__name__}.{module_name}")
        if name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
