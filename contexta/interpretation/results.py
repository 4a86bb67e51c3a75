"""Result types of the queries (contract section 4): frozen dataclasses with ``to_dict``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .result_base import (
    CompletenessNote,
    EvidenceLink,
    ProvenanceView,
    Result,
    _empty,
)

if TYPE_CHECKING:  # imported on first access (see __getattr__ at the end)
    from .comparison_results import (
        ArtifactChange,
        ArtifactKindCountRow,
        MetricDelta,
        MultiRunComparison,
        MultiRunMetricRow,
        ParamChange,
        ProvenanceComparison,
        RunComparison,
        StageComparison,
    )

__all__ = [
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
]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RunRecord(Result):
    run_id: str
    project_name: str
    name: str
    status: str
    started_at: str | None = None
    ended_at: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)
    metadata: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class StageRecord(Result):
    stage_id: str
    run_id: str
    name: str
    status: str
    order: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)
    metadata: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DeploymentRecord(Result):
    deployment_id: str
    project_name: str
    name: str
    status: str
    run_id: str | None = None
    artifact_ref: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    order: int = 0
    metadata: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BatchRecord(Result):
    batch_id: str
    run_id: str
    stage_id: str
    name: str
    status: str
    order: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SampleRecord(Result):
    sample_id: str
    run_id: str
    stage_id: str
    batch_id: str | None
    name: str
    observed_at: str
    retention_class: str | None = None
    redaction_profile: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ArtifactRecord(Result):
    artifact_ref: str
    run_id: str
    stage_id: str | None
    kind: str
    created_at: str | None = None
    location: str | None = None
    hash_value: str | None = None
    size_bytes: int | None = None
    attributes: Mapping[str, Any] = field(default_factory=_empty)
    content_type: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RelationRecord(Result):
    relation_ref: str
    relation_type: str
    source_ref: str
    target_ref: str
    recorded_at: str
    origin_marker: str
    confidence_marker: str


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ObservationRecord(Result):
    record_id: str
    run_id: str
    stage_id: str | None
    record_type: str
    key: str
    observed_at: str
    value: Any = None
    message: str | None = None
    completeness_marker: str = "complete"
    degradation_marker: str = "none"
    payload: Mapping[str, Any] = field(default_factory=_empty)
    tags: Mapping[str, str] = field(default_factory=_empty)
    schema_version: str = "1"
    producer_ref: str | None = None
    correlation_id: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RunSnapshot(Result):
    run: RunRecord
    deployments: tuple[DeploymentRecord, ...] = ()
    stages: tuple[StageRecord, ...] = ()
    batches: tuple[BatchRecord, ...] = ()
    samples: tuple[SampleRecord, ...] = ()
    artifacts: tuple[ArtifactRecord, ...] = ()
    relations: tuple[RelationRecord, ...] = ()
    records: tuple[ObservationRecord, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()
    completeness_notes: tuple[str, ...] = ()
    provenance: ProvenanceView | None = None
    params: Mapping[str, Any] = field(default_factory=_empty)  # ours: run.log_params(...)
    tags: Mapping[str, str] = field(default_factory=_empty)  # ours: the run's tags

    def _repr_html_(self) -> str:
        """Shown as a table in a notebook (see :mod:`contexta.notebook`)."""
        from ..notebook import render_html_fragment

        return render_html_fragment(self)


# The comparison results (the names of ``__all__`` this module does not define) live in
# :mod:`.comparison_results` and are imported on first access: a snapshot, a list or a
# select-best never builds them (9 frozen dataclasses, about 5 ms of a new process's first
# query). Their ``__module__`` is this module's, as before.


def __getattr__(name: str) -> Any:
    if name not in __all__:  # a name of __all__ defined here never reaches this hook
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import comparison_results

    value = getattr(comparison_results, name)
    globals()[name] = value
    return value
