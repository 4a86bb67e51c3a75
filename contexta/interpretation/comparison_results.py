"""The comparison result types (contract section 4): frozen dataclasses with ``to_dict``,
members of :mod:`.results` (their ``__module__``), which imports this module on first access
to one of them: a process whose queries compare nothing never builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .result_base import CompletenessNote, EvidenceLink, ProvenanceView, Result

__all__ = [
    "ArtifactChange",
    "ArtifactKindCountRow",
    "MetricDelta",
    "MultiRunComparison",
    "MultiRunMetricRow",
    "ParamChange",
    "ProvenanceComparison",
    "RunComparison",
    "StageComparison",
]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MetricDelta(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    metric_key: str
    left_value: float | None
    right_value: float | None
    delta: float | None
    change_ratio: float | None
    stage_name: str | None
    evidence_links: tuple[EvidenceLink, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class StageComparison(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    stage_name: str
    left_stage_id: str | None
    right_stage_id: str | None
    left_status: str | None
    right_status: str | None
    metric_deltas: tuple[MetricDelta, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ArtifactChange(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    artifact_kind: str
    left_ref: str | None
    right_ref: str | None
    change: str
    evidence_links: tuple[EvidenceLink, ...] = ()
    change_detail: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ProvenanceComparison(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    code_revision_changed: bool
    config_hash_changed: bool
    environment_changed: bool
    dataset_refs_changed: bool
    left_provenance: ProvenanceView | None = None
    right_provenance: ProvenanceView | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ParamChange(Result):
    """A parameter whose value differs between two runs (None: the run has no such param)."""

    __module__ = "contexta.interpretation.results"  # its public home
    name: str
    left_value: Any
    right_value: Any


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RunComparison(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    left_run_id: str
    right_run_id: str
    summary: str
    stage_comparisons: tuple[StageComparison, ...] = ()
    artifact_changes: tuple[ArtifactChange, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()
    provenance_comparison: ProvenanceComparison | None = None
    param_changes: tuple[ParamChange, ...] = ()  # ours: params that differ (name order)

    def to_dict(self) -> dict[str, Any]:
        """1.0's shape; ``param_changes`` only when some param differs (1.0 had no params)."""
        data = Result.to_dict(self)
        if not self.param_changes:
            del data["param_changes"]
        return data

    def _repr_html_(self) -> str:
        """Shown as a table in a notebook (see :mod:`contexta.notebook`)."""
        from ..notebook import render_html_fragment

        return render_html_fragment(self)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MultiRunMetricRow(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    metric_key: str
    stage_name: str | None
    values: tuple[float | None, ...]
    best_run_id: str | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ArtifactKindCountRow(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    artifact_kind: str
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MultiRunComparison(Result):
    __module__ = "contexta.interpretation.results"  # its public home
    run_ids: tuple[str, ...]
    run_names: tuple[str, ...]
    metric_table: tuple[MultiRunMetricRow, ...] = ()
    artifact_kind_counts: tuple[ArtifactKindCountRow, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()
    summary: str = field(default="")

    def _repr_html_(self) -> str:
        """Shown as a table in a notebook (see :mod:`contexta.notebook`)."""
        from ..notebook import render_html_fragment

        return render_html_fragment(self)
