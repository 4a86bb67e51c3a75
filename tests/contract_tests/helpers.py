"""Builders of valid contract objects (override one field to break one rule) and assertions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from contexta.common.errors import ContextaError, ValidationError
from contexta.contract import (
    ArtifactManifest,
    BatchExecution,
    CorrelationRefs,
    DegradedPayload,
    DegradedRecord,
    DeploymentExecution,
    EnvironmentSnapshot,
    ExtensionFieldSet,
    LineageEdge,
    MetricPayload,
    MetricRecord,
    OperationContext,
    Project,
    ProvenanceRecord,
    RecordEnvelope,
    Run,
    SampleObservation,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
)

T0 = "2025-01-01T00:00:00Z"
T1 = "2025-01-01T00:00:01Z"
STAGE = "stage:p.r.s"


@contextlib.contextmanager
def raises_code(code: str, error: type[ContextaError] = ValidationError) -> Iterator[Any]:
    """Expect ``error`` with ``.code == code``; the message must be non-empty."""
    with pytest.raises(error) as info:
        yield info
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value}"
    assert str(info.value)


def _with(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    merged.update(overrides)
    return merged


def project(**kw: Any) -> Project:
    return Project(**_with({"project_ref": "project:p", "name": "P", "created_at": T0}, kw))


def run(**kw: Any) -> Run:
    return Run(
        **_with(
            {
                "run_ref": "run:p.r",
                "project_ref": "project:p",
                "name": "r",
                "status": "open",
                "started_at": T0,
            },
            kw,
        )
    )


def stage(**kw: Any) -> StageExecution:
    return StageExecution(
        **_with(
            {
                "stage_execution_ref": STAGE,
                "run_ref": "run:p.r",
                "stage_name": "s",
                "status": "open",
                "started_at": T0,
            },
            kw,
        )
    )


def deployment(**kw: Any) -> DeploymentExecution:
    return DeploymentExecution(
        **_with(
            {
                "deployment_execution_ref": "deployment:p.d",
                "project_ref": "project:p",
                "deployment_name": "d",
                "status": "open",
                "started_at": T0,
            },
            kw,
        )
    )


def batch(**kw: Any) -> BatchExecution:
    return BatchExecution(
        **_with(
            {
                "batch_execution_ref": "batch:p.r.s.b",
                "run_ref": "run:p.r",
                "stage_execution_ref": STAGE,
                "batch_name": "b",
                "status": "open",
                "started_at": T0,
            },
            kw,
        )
    )


def sample(**kw: Any) -> SampleObservation:
    return SampleObservation(
        **_with(
            {
                "sample_observation_ref": "sample:p.r.s.x",
                "run_ref": "run:p.r",
                "stage_execution_ref": STAGE,
                "sample_name": "x",
                "observed_at": T0,
            },
            kw,
        )
    )


def operation(**kw: Any) -> OperationContext:
    return OperationContext(
        **_with(
            {
                "operation_context_ref": "op:p.r.s.o",
                "run_ref": "run:p.r",
                "stage_execution_ref": STAGE,
                "operation_name": "o",
                "observed_at": T0,
            },
            kw,
        )
    )


def environment(**kw: Any) -> EnvironmentSnapshot:
    return EnvironmentSnapshot(
        **_with(
            {
                "environment_snapshot_ref": "environment:p.r.e",
                "run_ref": "run:p.r",
                "captured_at": T0,
                "python_version": "3.11",
                "platform": "linux",
            },
            kw,
        )
    )


def envelope(**kw: Any) -> RecordEnvelope:
    return RecordEnvelope(
        **_with(
            {
                "record_ref": "record:p.r.x",
                "record_type": "metric",
                "recorded_at": T0,
                "observed_at": T0,
                "producer_ref": "prod",
                "run_ref": "run:p.r",
            },
            kw,
        )
    )


def metric_payload(**kw: Any) -> MetricPayload:
    return MetricPayload(**_with({"metric_key": "loss", "value": 1.5, "value_type": "float64"}, kw))


def event_payload(**kw: Any) -> StructuredEventPayload:
    return StructuredEventPayload(**_with({"event_key": "a", "level": "info", "message": "m"}, kw))


def span_payload(**kw: Any) -> TraceSpanPayload:
    return TraceSpanPayload(
        **_with(
            {
                "span_id": "s1",
                "trace_id": "t1",
                "parent_span_id": None,
                "span_name": "load",
                "started_at": T0,
                "ended_at": T1,
                "status": "ok",
                "span_kind": "operation",
            },
            kw,
        )
    )


def degraded_payload(**kw: Any) -> DegradedPayload:
    return DegradedPayload(
        **_with(
            {
                "issue_key": "capture.gap",
                "category": "capture",
                "severity": "warning",
                "summary": "s",
            },
            kw,
        )
    )


def metric_record(**envelope_kw: Any) -> MetricRecord:
    return MetricRecord(envelope(**envelope_kw), metric_payload())


def event_record(**envelope_kw: Any) -> StructuredEventRecord:
    return StructuredEventRecord(envelope(record_type="event", **envelope_kw), event_payload())


def span_record(**envelope_kw: Any) -> TraceSpanRecord:
    return TraceSpanRecord(envelope(record_type="span", **envelope_kw), span_payload())


def degraded_record(**envelope_kw: Any) -> DegradedRecord:
    kw = _with({"record_type": "degraded", "degradation_marker": "capture_gap"}, envelope_kw)
    return DegradedRecord(envelope(**kw), degraded_payload())


def artifact(**kw: Any) -> ArtifactManifest:
    return ArtifactManifest(
        **_with(
            {
                "artifact_ref": "artifact:p.r.a",
                "artifact_kind": "checkpoint",
                "created_at": T0,
                "producer_ref": "prod",
                "run_ref": "run:p.r",
                "location_ref": "vault://x",
            },
            kw,
        )
    )


def lineage(**kw: Any) -> LineageEdge:
    return LineageEdge(
        **_with(
            {
                "relation_ref": "relation:p.r.x",
                "relation_type": "generated_from",
                "source_ref": "artifact:p.r.a",
                "target_ref": "run:p.r",
                "recorded_at": T0,
                "origin_marker": "explicit",
                "confidence_marker": "high",
            },
            kw,
        )
    )


def provenance(**kw: Any) -> ProvenanceRecord:
    return ProvenanceRecord(
        **_with(
            {
                "provenance_ref": "provenance:p.r.x",
                "relation_ref": "relation:p.r.x",
                "assertion_mode": "explicit",
                "asserted_at": T0,
            },
            kw,
        )
    )


def extension(namespace: str = "org.team", **fields: Any) -> ExtensionFieldSet:
    return ExtensionFieldSet(namespace, fields or {"a": 1})


def correlation(**kw: Any) -> CorrelationRefs:
    return CorrelationRefs(**kw)


#: One valid instance of every model, for tests that must cover them all.
EXAMPLES: dict[str, Callable[[], Any]] = {
    "Project": project,
    "Run": run,
    "StageExecution": stage,
    "DeploymentExecution": deployment,
    "BatchExecution": batch,
    "SampleObservation": sample,
    "OperationContext": operation,
    "EnvironmentSnapshot": environment,
    "CorrelationRefs": correlation,
    "RecordEnvelope": envelope,
    "MetricPayload": metric_payload,
    "MetricRecord": metric_record,
    "StructuredEventPayload": event_payload,
    "StructuredEventRecord": event_record,
    "TraceSpanPayload": span_payload,
    "TraceSpanRecord": span_record,
    "DegradedPayload": degraded_payload,
    "DegradedRecord": degraded_record,
    "ArtifactManifest": artifact,
    "LineageEdge": lineage,
    "ProvenanceRecord": provenance,
    "ExtensionFieldSet": extension,
}
