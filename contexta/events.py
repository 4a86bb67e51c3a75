"""Stored event kinds and the mapping between contract objects and ledger events.

Kinds are stable strings written down once, in :mod:`projections.kinds`, never derived from
class names, so renaming a class can never orphan history. Each put or append becomes exactly one event whose hot columns
(refs, valid time, key, value) are filled for the projections and whose ``body`` is the msgspec
encoding of the full contract object.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ledger import PendingEvent
from projections.kinds import (  # the catalog of kinds; the names stay importable from here
    ALL_KINDS,
    ARTIFACT_PUT,
    BATCH_PUT,
    DEGRADED,
    DEPLOYMENT_PUT,
    ENVIRONMENT_PUT,
    EVENT,
    METRIC,
    PROJECT_PUT,
    PROVENANCE_PUT,
    QUARANTINE,
    RELATION_PUT,
    RELEASE,
    RUN_PUT,
    SAMPLE_PUT,
    SPAN,
    STAGE_PUT,
)

from .contract import (
    ArtifactManifest,
    BatchExecution,
    DegradedRecord,
    DeploymentExecution,
    EnvironmentSnapshot,
    LineageEdge,
    MetricRecord,
    Project,
    ProvenanceRecord,
    Run,
    SampleObservation,
    StageExecution,
    StructuredEventRecord,
    TraceSpanRecord,
)
from .contract.codec import decode, encode
from .contract.timestamps import timestamp_micros

__all__ = [
    "KINDS",
    "KIND_OF",
    "MODEL_OF",
    "QUARANTINE",
    "RELEASE",
    "QuarantineNote",
    "decode_body",
    "entity_event",
    "record_event",
]


MODEL_OF: dict[str, type[Any]] = {
    PROJECT_PUT: Project,
    RUN_PUT: Run,
    STAGE_PUT: StageExecution,
    DEPLOYMENT_PUT: DeploymentExecution,
    BATCH_PUT: BatchExecution,
    SAMPLE_PUT: SampleObservation,
    ENVIRONMENT_PUT: EnvironmentSnapshot,
    RELATION_PUT: LineageEdge,
    PROVENANCE_PUT: ProvenanceRecord,
    ARTIFACT_PUT: ArtifactManifest,
    METRIC: MetricRecord,
    EVENT: StructuredEventRecord,
    SPAN: TraceSpanRecord,
    DEGRADED: DegradedRecord,
}
KIND_OF: dict[type[Any], str] = {model: kind for kind, model in MODEL_OF.items()}
RECORD_KINDS = {"metric": METRIC, "event": EVENT, "span": SPAN, "degraded": DEGRADED}
#: every kind the ledger stores (the catalog's order: entities, records, quality)
KINDS: tuple[str, ...] = ALL_KINDS


class QuarantineNote(msgspec.Struct, frozen=True):
    """Body of a quarantine or release event."""

    run_ref: str
    reason: str


def _text(ref: Any) -> str | None:
    return None if ref is None else str(ref)


def project_of(run_ref: Any) -> str | None:
    if run_ref is None:
        return None
    text = str(run_ref)
    return "project:" + text[4:].split(".", 1)[0]


def entity_event(model: Any, actor: str) -> PendingEvent:
    """The ledger event of a metadata put."""
    kind = KIND_OF[type(model)]
    body = encode(model)
    if kind == PROJECT_PUT:
        ref = str(model.project_ref)
        return PendingEvent(
            kind,
            ref,
            ref,
            None,
            None,
            timestamp_micros(model.created_at),
            model.name,
            None,
            None,
            actor,
            body,
        )
    if kind == RUN_PUT:
        ref = str(model.run_ref)
        return PendingEvent(
            kind,
            ref,
            str(model.project_ref),
            ref,
            None,
            timestamp_micros(model.started_at),
            model.name,
            None,
            None,
            actor,
            body,
        )
    if kind == STAGE_PUT:
        ref = str(model.stage_execution_ref)
        run = str(model.run_ref)
        return PendingEvent(
            kind,
            ref,
            project_of(run),
            run,
            ref,
            timestamp_micros(model.started_at),
            model.stage_name,
            None,
            None,
            actor,
            body,
        )
    if kind == DEPLOYMENT_PUT:
        return PendingEvent(
            kind,
            str(model.deployment_execution_ref),
            str(model.project_ref),
            _text(model.run_ref),
            None,
            timestamp_micros(model.started_at),
            model.deployment_name,
            None,
            None,
            actor,
            body,
        )
    if kind == BATCH_PUT:
        run = str(model.run_ref)
        return PendingEvent(
            kind,
            str(model.batch_execution_ref),
            project_of(run),
            run,
            str(model.stage_execution_ref),
            timestamp_micros(model.started_at),
            model.batch_name,
            None,
            None,
            actor,
            body,
        )
    if kind == SAMPLE_PUT:
        run = str(model.run_ref)
        return PendingEvent(
            kind,
            str(model.sample_observation_ref),
            project_of(run),
            run,
            str(model.stage_execution_ref),
            timestamp_micros(model.observed_at),
            model.sample_name,
            None,
            None,
            actor,
            body,
        )
    if kind == ENVIRONMENT_PUT:
        run = str(model.run_ref)
        return PendingEvent(
            kind,
            str(model.environment_snapshot_ref),
            project_of(run),
            run,
            None,
            timestamp_micros(model.captured_at),
            None,
            None,
            None,
            actor,
            body,
        )
    if kind == RELATION_PUT:
        return PendingEvent(
            kind,
            str(model.relation_ref),
            None,
            None,
            None,
            timestamp_micros(model.recorded_at),
            model.relation_type,
            None,
            None,
            actor,
            body,
        )
    if kind == PROVENANCE_PUT:
        return PendingEvent(
            kind,
            str(model.provenance_ref),
            None,
            None,
            None,
            timestamp_micros(model.asserted_at),
            str(model.relation_ref),
            None,
            None,
            actor,
            body,
        )
    if kind == ARTIFACT_PUT:
        run = str(model.run_ref)
        return PendingEvent(
            kind,
            str(model.artifact_ref),
            project_of(run),
            run,
            _text(model.stage_execution_ref),
            timestamp_micros(model.created_at),
            model.artifact_kind,
            None,
            None,
            actor,
            body,
        )
    raise TypeError(f"not a metadata entity: {type(model).__name__}")  # pragma: no cover


def record_event(record: Any, actor: str, body: bytes | None = None) -> PendingEvent:
    """The ledger event of an appended record (``body`` when already encoded)."""
    envelope = record.envelope
    payload = record.payload
    kind = RECORD_KINDS[envelope.record_type]
    run = str(envelope.run_ref)
    value: float | None = None
    step: int | None = None
    if kind == METRIC:
        key = payload.metric_key
        value = float(payload.value)
        step = step_of(payload.tags)
    elif kind == EVENT:
        key = payload.event_key
    elif kind == SPAN:
        key = payload.span_name
        value = span_duration_ms(payload)
    else:
        key = payload.issue_key
    stage = envelope.stage_execution_ref
    return PendingEvent(
        kind,
        str(envelope.record_ref),
        project_of(run),
        run,
        None if stage is None else str(stage),
        timestamp_micros(envelope.observed_at),
        key,
        value,
        step,
        actor,
        body if body is not None else encode(record),
    )


def step_of(tags: Any) -> int | None:
    """The training step a metric carries in ``tags["step"]`` (runtime capture puts it there)."""
    if not tags:
        return None
    raw = tags.get("step")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def span_duration_ms(payload: Any) -> float:
    return (timestamp_micros(payload.ended_at) - timestamp_micros(payload.started_at)) / 1000.0


def decode_body(kind: str, body: bytes) -> Any:
    """The contract object (or quarantine note) stored in an event."""
    if kind in (QUARANTINE, RELEASE):
        return msgspec.msgpack.decode(body, type=QuarantineNote)
    return decode(MODEL_OF[kind], body)


_NOTE_ENCODER = msgspec.msgpack.Encoder()


def quarantine_event(kind: str, run_ref: str, reason: str, actor: str) -> PendingEvent:
    body = _NOTE_ENCODER.encode(QuarantineNote(run_ref, reason))
    return PendingEvent(
        kind, run_ref, project_of(run_ref), run_ref, None, None, reason, None, None, actor, body
    )
