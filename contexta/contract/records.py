"""Record families: envelope, payloads and record wrappers (contract section 2.9)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec.structs import force_setattr as _set

from .base import ContractModel
from .extensions import ExtensionFieldSet, check_extensions
from .refs import StableRef, coerce_ref, ref_text, ref_texts, starts_within
from .validation import (
    DOTTED_KEBAB,
    DOTTED_SNAKE,
    SNAKE,
    enum_str,
    fail,
    json_map,
    not_before,
    optional_str,
    optional_token,
    required_str,
    string_map,
    timestamp,
    token,
)

__all__ = [
    "AGGREGATION_SCOPES",
    "COMPLETENESS_MARKERS",
    "DEGRADATION_MARKERS",
    "DEGRADED_CATEGORIES",
    "DEGRADED_SEVERITIES",
    "EVENT_LEVELS",
    "ORIGIN_MARKERS",
    "RECORD_TYPES",
    "SPAN_KINDS",
    "SPAN_STATUSES",
    "CorrelationRefs",
    "DegradedPayload",
    "DegradedRecord",
    "MetricPayload",
    "MetricRecord",
    "RecordEnvelope",
    "StructuredEventPayload",
    "StructuredEventRecord",
    "TraceSpanPayload",
    "TraceSpanRecord",
]

RECORD_TYPES = ("event", "metric", "span", "degraded")
COMPLETENESS_MARKERS = ("complete", "partial", "sampled", "absent", "unknown")
DEGRADATION_MARKERS = (
    "none", "partial_failure", "capture_gap", "import_loss", "compatibility_upgrade",
)
ORIGIN_MARKERS = (
    "explicit_capture", "assisted_capture", "wrapped_capture", "imported", "inferred", "replayed",
)
EVENT_LEVELS = ("debug", "info", "warning", "error", "critical")
AGGREGATION_SCOPES = ("run", "stage", "operation", "step", "slice")
SPAN_STATUSES = ("ok", "error", "cancelled", "timeout")
SPAN_KINDS = ("operation", "internal", "io", "network", "process")
DEGRADED_CATEGORIES = ("capture", "store", "import", "compatibility", "verification", "recovery")
DEGRADED_SEVERITIES = ("warning", "error")

_KEBAB_HINT = "Use dotted lower-kebab segments, each starting with a letter, e.g. 'train.loss'."
_SNAKE_DOTTED_HINT = "Use dotted lower_snake segments, each starting with a letter, e.g. 'capture.gap'."
_SNAKE_HINT = "Use one lower_snake token starting with a letter, e.g. 'float64'."


def check_scope(
    m: str,
    run: StableRef,
    stage: StableRef | None,
    batch: StableRef | None,
    sample: StableRef | None,
    op: StableRef | None,
    prefix_code: str,
    missing_code: str,
) -> None:
    """Prefix rules of the optional execution-context refs of records and artifacts."""
    if stage is not None and not starts_within(stage, run):
        raise fail(
            prefix_code, f"{m}.stage_execution_ref", str(stage),
            f"must belong to run_ref {str(run)!r} (value starting with '{run.value}.')",
            run_ref=str(run),
        )
    for field, ref in (
        ("batch_execution_ref", batch), ("sample_observation_ref", sample),
        ("operation_context_ref", op),
    ):
        if ref is not None and stage is None:
            raise fail(
                missing_code, f"{m}.{field}", str(ref), "requires stage_execution_ref to be set"
            )
    if batch is not None and not starts_within(batch, stage):  # type: ignore[arg-type]
        raise fail(
            prefix_code, f"{m}.batch_execution_ref", str(batch),
            f"must belong to stage_execution_ref {str(stage)!r}", stage_execution_ref=str(stage),
        )
    owner = batch if batch is not None else stage
    for field, ref in (("sample_observation_ref", sample), ("operation_context_ref", op)):
        if ref is not None and not starts_within(ref, owner):  # type: ignore[arg-type]
            raise fail(
                prefix_code, f"{m}.{field}", str(ref),
                f"must belong to {str(owner)!r} (the batch if given, else the stage)",
                owner_ref=str(owner),
            )


class CorrelationRefs(ContractModel, frozen=True):
    trace_id: str | None = None
    session_id: str | None = None

    model_name = "CorrelationRefs"

    def __post_init__(self) -> None:
        if self.trace_id is not None:
            _set(self, "trace_id", required_str("CorrelationRefs.trace_id", self.trace_id))
        if self.session_id is not None:
            _set(self, "session_id", required_str("CorrelationRefs.session_id", self.session_id))


_NO_CORRELATION = CorrelationRefs()


class RecordEnvelope(ContractModel, frozen=True):
    record_ref: StableRef | str
    record_type: str
    recorded_at: str
    observed_at: str
    producer_ref: str
    run_ref: StableRef | str
    deployment_execution_ref: StableRef | str | None = None
    stage_execution_ref: StableRef | str | None = None
    batch_execution_ref: StableRef | str | None = None
    sample_observation_ref: StableRef | str | None = None
    operation_context_ref: StableRef | str | None = None
    correlation_refs: CorrelationRefs = msgspec.field(default_factory=lambda: _NO_CORRELATION)
    completeness_marker: str = "complete"
    degradation_marker: str = "none"
    schema_version: str = "1.0.0"
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "RecordEnvelope"

    def __post_init__(self) -> None:
        m = "RecordEnvelope"
        record = coerce_ref(f"{m}.record_ref", self.record_ref, ("record",))
        run = coerce_ref(f"{m}.run_ref", self.run_ref, ("run",))
        if not starts_within(record, run):
            raise fail(
                "record_ref_prefix_mismatch", f"{m}.record_ref", str(record),
                f"must belong to run_ref {str(run)!r} ('record:{run.value}.<record-key>')",
                run_ref=str(run),
            )
        _set(self, "record_ref", record)
        _set(self, "run_ref", run)
        _set(self, "record_type", enum_str(f"{m}.record_type", self.record_type, RECORD_TYPES))
        recorded = timestamp(f"{m}.recorded_at", self.recorded_at)
        observed = timestamp(f"{m}.observed_at", self.observed_at)
        not_before(
            f"{m}.recorded_at", recorded, f"{m}.observed_at", observed, "record_invalid_time_order"
        )
        _set(self, "recorded_at", recorded)
        _set(self, "observed_at", observed)
        _set(
            self, "producer_ref",
            token(f"{m}.producer_ref", self.producer_ref, DOTTED_KEBAB,
                  "record_invalid_producer_ref", _KEBAB_HINT),
        )
        stage = batch = sample = op = None
        if self.deployment_execution_ref is not None:
            _set(self, "deployment_execution_ref", coerce_ref(
                f"{m}.deployment_execution_ref", self.deployment_execution_ref, ("deployment",)))
        if self.stage_execution_ref is not None:
            stage = coerce_ref(f"{m}.stage_execution_ref", self.stage_execution_ref, ("stage",))
            _set(self, "stage_execution_ref", stage)
        if self.batch_execution_ref is not None:
            batch = coerce_ref(f"{m}.batch_execution_ref", self.batch_execution_ref, ("batch",))
            _set(self, "batch_execution_ref", batch)
        if self.sample_observation_ref is not None:
            sample = coerce_ref(
                f"{m}.sample_observation_ref", self.sample_observation_ref, ("sample",)
            )
            _set(self, "sample_observation_ref", sample)
        if self.operation_context_ref is not None:
            op = coerce_ref(f"{m}.operation_context_ref", self.operation_context_ref, ("op",))
            _set(self, "operation_context_ref", op)
        if stage is not None or batch is not None or sample is not None or op is not None:
            check_scope(
                m, run, stage, batch, sample, op,
                "record_ref_prefix_mismatch", "record_missing_stage_context",
            )
        if not isinstance(self.correlation_refs, CorrelationRefs):
            raise fail(
                "record_invalid_correlation_refs", f"{m}.correlation_refs", self.correlation_refs,
                "must be a CorrelationRefs instance",
            )
        _set(self, "completeness_marker", enum_str(
            f"{m}.completeness_marker", self.completeness_marker, COMPLETENESS_MARKERS))
        _set(self, "degradation_marker", enum_str(
            f"{m}.degradation_marker", self.degradation_marker, DEGRADATION_MARKERS))
        _set(self, "schema_version", required_str(f"{m}.schema_version", self.schema_version))
        _set(self, "extensions", check_extensions(m, self.extensions))


def _metric_value(value: Any) -> int | float:
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return value
    elif kind is int:
        return value
    elif isinstance(value, float) and math.isfinite(value):
        return float(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    raise fail(
        "record_invalid_metric_value", "MetricPayload.value", value,
        "must be a finite int or float (not bool, str, NaN or infinity)",
    )


class MetricPayload(ContractModel, frozen=True):
    metric_key: str
    value: int | float
    value_type: str
    unit: str | None = None
    aggregation_scope: str = "step"
    subject_ref: str | None = None
    slice_ref: str | None = None
    tags: Mapping[str, str] | None = None
    summary_basis: str | None = None

    model_name = "MetricPayload"

    def __post_init__(self) -> None:
        m = "MetricPayload"
        _set(self, "metric_key", token(
            f"{m}.metric_key", self.metric_key, DOTTED_KEBAB, "record_invalid_metric_key",
            _KEBAB_HINT))
        _set(self, "value", _metric_value(self.value))
        _set(self, "value_type", token(
            f"{m}.value_type", self.value_type, SNAKE, "record_invalid_value_type", _SNAKE_HINT))
        if self.unit is not None:
            _set(self, "unit", required_str(f"{m}.unit", self.unit))
        _set(self, "aggregation_scope", enum_str(
            f"{m}.aggregation_scope", self.aggregation_scope, AGGREGATION_SCOPES))
        if self.subject_ref is not None:
            _set(self, "subject_ref", ref_text(f"{m}.subject_ref", self.subject_ref))
        _set(self, "slice_ref", optional_token(
            f"{m}.slice_ref", self.slice_ref, DOTTED_SNAKE, "record_invalid_slice_ref",
            _SNAKE_DOTTED_HINT))
        _set(self, "tags", string_map(f"{m}.tags", self.tags))
        _set(self, "summary_basis", optional_token(
            f"{m}.summary_basis", self.summary_basis, SNAKE, "record_invalid_summary_basis",
            _SNAKE_HINT))


class StructuredEventPayload(ContractModel, frozen=True):
    event_key: str
    level: str
    message: str
    subject_ref: str | None = None
    attributes: Mapping[str, Any] | None = None
    origin_marker: str = "explicit_capture"

    model_name = "StructuredEventPayload"

    def __post_init__(self) -> None:
        m = "StructuredEventPayload"
        _set(self, "event_key", token(
            f"{m}.event_key", self.event_key, DOTTED_KEBAB, "record_invalid_event_key",
            _KEBAB_HINT))
        _set(self, "level", enum_str(f"{m}.level", self.level, EVENT_LEVELS))
        _set(self, "message", required_str(f"{m}.message", self.message))
        if self.subject_ref is not None:
            _set(self, "subject_ref", ref_text(f"{m}.subject_ref", self.subject_ref))
        _set(self, "attributes", json_map(f"{m}.attributes", self.attributes))
        _set(self, "origin_marker", enum_str(f"{m}.origin_marker", self.origin_marker,
                                             ORIGIN_MARKERS))


class TraceSpanPayload(ContractModel, frozen=True):
    span_id: str
    trace_id: str
    parent_span_id: str | None
    span_name: str
    started_at: str
    ended_at: str
    status: str
    span_kind: str
    attributes: Mapping[str, Any] | None = None
    linked_refs: tuple[str, ...] = ()

    model_name = "TraceSpanPayload"

    def __post_init__(self) -> None:
        m = "TraceSpanPayload"
        _set(self, "span_id", required_str(f"{m}.span_id", self.span_id))
        _set(self, "trace_id", required_str(f"{m}.trace_id", self.trace_id))
        _set(self, "parent_span_id", optional_str(f"{m}.parent_span_id", self.parent_span_id))
        _set(self, "span_name", required_str(f"{m}.span_name", self.span_name))
        started = timestamp(f"{m}.started_at", self.started_at)
        ended = timestamp(f"{m}.ended_at", self.ended_at)
        not_before(f"{m}.ended_at", ended, f"{m}.started_at", started, "record_invalid_time_order")
        _set(self, "started_at", started)
        _set(self, "ended_at", ended)
        _set(self, "status", enum_str(f"{m}.status", self.status, SPAN_STATUSES))
        _set(self, "span_kind", enum_str(f"{m}.span_kind", self.span_kind, SPAN_KINDS))
        _set(self, "attributes", json_map(f"{m}.attributes", self.attributes))
        _set(self, "linked_refs", ref_texts(f"{m}.linked_refs", self.linked_refs))


class DegradedPayload(ContractModel, frozen=True):
    issue_key: str
    category: str
    severity: str
    summary: str
    subject_ref: str | None = None
    origin_marker: str = "explicit_capture"
    attributes: Mapping[str, Any] | None = None

    model_name = "DegradedPayload"

    def __post_init__(self) -> None:
        m = "DegradedPayload"
        _set(self, "issue_key", token(
            f"{m}.issue_key", self.issue_key, DOTTED_SNAKE, "record_invalid_issue_key",
            _SNAKE_DOTTED_HINT))
        _set(self, "category", enum_str(f"{m}.category", self.category, DEGRADED_CATEGORIES))
        _set(self, "severity", enum_str(f"{m}.severity", self.severity, DEGRADED_SEVERITIES))
        _set(self, "summary", required_str(f"{m}.summary", self.summary))
        if self.subject_ref is not None:
            _set(self, "subject_ref", ref_text(f"{m}.subject_ref", self.subject_ref))
        _set(self, "origin_marker", enum_str(f"{m}.origin_marker", self.origin_marker,
                                             ORIGIN_MARKERS))
        _set(self, "attributes", json_map(f"{m}.attributes", self.attributes))


def _check_record(record: Any, record_type: str, payload_type: type) -> None:
    m = type(record).__name__
    envelope = record.envelope
    if not isinstance(envelope, RecordEnvelope):
        raise fail(
            "record_invalid_envelope", f"{m}.envelope", envelope, "must be a RecordEnvelope"
        )
    if envelope.record_type != record_type:
        raise fail(
            "record_type_mismatch", f"{m}.envelope.record_type", envelope.record_type,
            f"must be {record_type!r} for a {m}", expected=record_type,
        )
    if record_type == "degraded":
        if envelope.degradation_marker == "none":
            raise fail(
                "record_degraded_requires_gap", f"{m}.envelope.degradation_marker", "none",
                "must name the degradation (not 'none') for a degraded record",
                allowed=DEGRADATION_MARKERS[1:],
            )
    elif envelope.completeness_marker == "absent":
        raise fail(
            "record_absent_not_allowed", f"{m}.envelope.completeness_marker", "absent",
            f"must not be 'absent' for a {record_type} record; use a DegradedRecord to report "
            "missing data",
        )
    if not isinstance(record.payload, payload_type):
        raise fail(
            "record_invalid_payload", f"{m}.payload", record.payload,
            f"must be a {payload_type.__name__}",
        )


class MetricRecord(ContractModel, frozen=True):
    envelope: RecordEnvelope
    payload: MetricPayload

    model_name = "MetricRecord"

    def __post_init__(self) -> None:
        _check_record(self, "metric", MetricPayload)


class StructuredEventRecord(ContractModel, frozen=True):
    envelope: RecordEnvelope
    payload: StructuredEventPayload

    model_name = "StructuredEventRecord"

    def __post_init__(self) -> None:
        _check_record(self, "event", StructuredEventPayload)


class TraceSpanRecord(ContractModel, frozen=True):
    envelope: RecordEnvelope
    payload: TraceSpanPayload

    model_name = "TraceSpanRecord"

    def __post_init__(self) -> None:
        _check_record(self, "span", TraceSpanPayload)


class DegradedRecord(ContractModel, frozen=True):
    envelope: RecordEnvelope
    payload: DegradedPayload

    model_name = "DegradedRecord"

    def __post_init__(self) -> None:
        _check_record(self, "degraded", DegradedPayload)
