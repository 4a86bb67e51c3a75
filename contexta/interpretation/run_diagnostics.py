"""``diagnose_run``: issues found in a run's snapshot (contract 4.6).

Issues come in 1.0's order: degraded records (append order), then per stage incomplete /
metric-less, failed or unfinished batches, failed deployments, missing expected terminal
stages; a metric series holding NaN or infinities is a ``non_finite_metric`` warning (those
values are stored as logged; select-best skips them). One deliberate difference (decision 8.7): a degraded record's issue carries the
severity of its ``DegradedPayload`` (``warning`` or ``error``); 1.0 always said ``warning``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..common.errors import ValidationError
from .errors import DiagnosticsError
from .results import CompletenessNote, EvidenceLink, ObservationRecord, Result

if TYPE_CHECKING:
    from .workspace_queries import QueryService

__all__ = [
    "DiagnosticsError",
    "DiagnosticsIssue",
    "DiagnosticsPolicy",
    "DiagnosticsResult",
    "DiagnosticsService",
]


def _frozen(details: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(sorted(details.items())))


@dataclass(frozen=True, slots=True)
class DiagnosticsIssue(Result):
    severity: str
    code: str
    summary: str
    details: Mapping[str, Any]
    subject_ref: str
    evidence_links: tuple[EvidenceLink, ...] = ()


@dataclass(frozen=True, slots=True)
class DiagnosticsResult(Result):
    run_id: str
    issues: tuple[DiagnosticsIssue, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()


@dataclass(frozen=True, slots=True)
class DiagnosticsPolicy:
    """Which issues are reported (``ctx.config.interpretation.diagnostics`` has the same
    fields)."""

    require_metrics_for_completed_stages: bool = True
    detect_degraded_records: bool = True
    expected_terminal_stage_names: tuple[str, ...] = field(default=("evaluate", "package"))

    def __post_init__(self) -> None:
        names = tuple(self.expected_terminal_stage_names)
        object.__setattr__(self, "expected_terminal_stage_names", names)
        for name in names:
            if not isinstance(name, str) or not name.strip():
                raise ValidationError(
                    f"expected_terminal_stage_names must hold non-blank strings, got {name!r}.",
                    code="diagnostics_invalid_expected_stage_name",
                    details={"stage_name": name},
                )


def _degraded_severity(record: ObservationRecord) -> str:
    if record.record_type == "degraded":
        severity = record.payload.get("severity")
        if severity in ("warning", "error"):
            return str(severity)
    return "warning"


def _step(record: ObservationRecord) -> str:
    tags = record.tags or record.payload.get("tags") or {}
    return str(tags.get("step", "-"))


def _non_finite(records: Any) -> dict[tuple[str | None, str], tuple[int, ObservationRecord]]:
    """(stage id, metric key) -> (how many NaN or infinite values, the first such record)."""
    found: dict[tuple[str | None, str], tuple[int, ObservationRecord]] = {}
    for r in records:
        value = r.value
        if r.record_type == "metric" and type(value) is float and not math.isfinite(value):
            count, first = found.get((r.stage_id, r.key), (0, r))
            found[(r.stage_id, r.key)] = (count + 1, first)
    return found


class DiagnosticsService:
    """Diagnoses runs read through a :class:`QueryService` (as-of views included)."""

    def __init__(self, query_service: QueryService, *, config: Any = None) -> None:
        self.query_service = query_service
        self.config = config if config is not None else DiagnosticsPolicy()

    def diagnose_run(self, run_id: Any) -> DiagnosticsResult:
        """The run's issues, its snapshot notes as warnings, and the snapshot's evidence links
        followed by the issues' (deduplicated)."""
        snap = self.query_service.snapshot(run_id)
        run_id = snap.run.run_id
        policy = self.config
        issues: list[DiagnosticsIssue] = []

        def issue(
            severity: str, code: str, summary: str, subject: str, link: EvidenceLink, **details: Any
        ) -> None:
            issues.append(
                DiagnosticsIssue(severity, code, summary, _frozen(details), subject, (link,))
            )

        if policy.detect_degraded_records:
            for r in snap.records:
                if r.degradation_marker != "none":
                    issue(
                        _degraded_severity(r),
                        "degraded_record",
                        f"degraded record detected for {r.key}",
                        r.record_id,
                        EvidenceLink("record", r.record_id, r.key),
                        record_type=r.record_type,
                        degradation_marker=r.degradation_marker,
                        stage_id=r.stage_id,
                    )
        for (stage_id, key), (count, first) in _non_finite(snap.records).items():
            issue(
                "warning",
                "non_finite_metric",
                f"metric {key} has {count} non-finite value(s) (first: {first.value} at "
                f"step {_step(first)})",
                first.record_id,
                EvidenceLink("record", first.record_id, key),
                metric_key=key,
                stage_id=stage_id,
                count=count,
                run_id=run_id,
            )
        with_metrics = {r.stage_id for r in snap.records if r.record_type == "metric"}
        for s in snap.stages:
            link = EvidenceLink("stage", s.stage_id, s.name)
            if s.status != "completed":
                issue(
                    "warning",
                    "incomplete_stage",
                    f"stage {s.name} is not completed",
                    s.stage_id,
                    link,
                    status=s.status,
                    run_id=run_id,
                )
            elif policy.require_metrics_for_completed_stages and s.stage_id not in with_metrics:
                issue(
                    "info",
                    "missing_stage_metrics",
                    f"completed stage {s.name} has no metric records",
                    s.stage_id,
                    link,
                    stage_name=s.name,
                    run_id=run_id,
                )
        for b in snap.batches:
            link = EvidenceLink("batch", b.batch_id, b.name)
            if b.status == "failed":
                issue(
                    "error",
                    "failed_batch",
                    f"batch {b.name} failed",
                    b.batch_id,
                    link,
                    batch_id=b.batch_id,
                    stage_id=b.stage_id,
                    run_id=run_id,
                )
            elif b.status not in ("completed", "open"):
                issue(
                    "warning",
                    "incomplete_batch",
                    f"batch {b.name} ended with status {b.status}",
                    b.batch_id,
                    link,
                    batch_id=b.batch_id,
                    status=b.status,
                    run_id=run_id,
                )
        for d in snap.deployments:
            if d.status == "failed":
                issue(
                    "error",
                    "failed_deployment",
                    f"deployment {d.name} failed",
                    d.deployment_id,
                    EvidenceLink("deployment", d.deployment_id, d.name),
                    deployment_id=d.deployment_id,
                    run_id=run_id,
                )
        present = {s.name for s in snap.stages}
        for name in policy.expected_terminal_stage_names:
            if name not in present:
                issue(
                    "info",
                    "missing_expected_stage",
                    f"expected terminal stage {name} is missing",
                    run_id,
                    EvidenceLink("run", run_id, snap.run.name),
                    expected_stage_name=name,
                    run_id=run_id,
                )
        notes = tuple(
            CompletenessNote("warning", n, _frozen({"run_id": run_id}))
            for n in snap.completeness_notes
        )
        links = [*snap.evidence_links, *(link for i in issues for link in i.evidence_links)]
        return DiagnosticsResult(run_id, tuple(issues), notes, tuple(dict.fromkeys(links)))
