"""Record envelope and record wrappers (contract section 2.9); payloads live in payloads.py."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec.structs import force_setattr as _set

from .base import ContractModel
from .extensions import ExtensionFieldSet, check_extensions
from .field_validators import (
    DOTTED_KEBAB,
    enum_str,
    fail,
    not_before,
    required_str,
    timestamp,
    token,
)
from .payloads import DegradedPayload, MetricPayload, StructuredEventPayload, TraceSpanPayload
from .refs import StableRef, coerce_ref, starts_within

__all__ = [
    "COMPLETENESS_MARKERS",
    "DEGRADATION_MARKERS",
    "RECORD_TYPES",
    "CorrelationRefs",
    "DegradedRecord",
    "MetricRecord",
    "RecordEnvelope",
    "StructuredEventRecord",
    "TraceSpanRecord",
]

RECORD_TYPES = ("event", "metric", "span", "degraded")
COMPLETENESS_MARKERS = ("complete", "partial", "sampled", "absent", "unknown")
DEGRADATION_MARKERS = (
    "none",
    "partial_failure",
    "capture_gap",
    "import_loss",
    "compatibility_upgrade",
)
#: what a ``producer_ref`` must match in full (1.0's name)
PRODUCER_REF_PATTERN = DOTTED_KEBAB
_KEBAB_HINT = "Use dotted lower-kebab segments, each starting with a letter, e.g. 'train.loss'."


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
            prefix_code,
            f"{m}.stage_execution_ref",
            str(stage),
            f"must belong to run_ref {str(run)!r} (value starting with '{run.value}.')",
            run_ref=str(run),
        )
    for field, ref in (
        ("batch_execution_ref", batch),
        ("sample_observation_ref", sample),
        ("operation_context_ref", op),
    ):
        if ref is not None and stage is None:
            raise fail(
                missing_code, f"{m}.{field}", str(ref), "requires stage_execution_ref to be set"
            )
    if batch is not None and not starts_within(batch, stage):  # type: ignore[arg-type]
        raise fail(
            prefix_code,
            f"{m}.batch_execution_ref",
            str(batch),
            f"must belong to stage_execution_ref {str(stage)!r}",
            stage_execution_ref=str(stage),
        )
    owner = batch if batch is not None else stage
    for field, ref in (("sample_observation_ref", sample), ("operation_context_ref", op)):
        if ref is not None and not starts_within(ref, owner):  # type: ignore[arg-type]
            raise fail(
                prefix_code,
                f"{m}.{field}",
                str(ref),
                f"must belong to {str(owner)!r} (the batch if given, else the stage)",
                owner_ref=str(owner),
            )


class CorrelationRefs(ContractModel, frozen=True):
    """Optional trace/session identifiers carried by a record envelope."""

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
    """The common header of every record: refs, times, producer, markers (2.9)."""

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
                "record_ref_prefix_mismatch",
                f"{m}.record_ref",
                str(record),
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
            self,
            "producer_ref",
            token(
                f"{m}.producer_ref",
                self.producer_ref,
                DOTTED_KEBAB,
                "record_invalid_producer_ref",
                _KEBAB_HINT,
            ),
        )
        stage = batch = sample = op = None
        if self.deployment_execution_ref is not None:
            _set(
                self,
                "deployment_execution_ref",
                coerce_ref(
                    f"{m}.deployment_execution_ref", self.deployment_execution_ref, ("deployment",)
                ),
            )
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
                m,
                run,
                stage,
                batch,
                sample,
                op,
                "record_ref_prefix_mismatch",
                "record_missing_stage_context",
            )
        if not isinstance(self.correlation_refs, CorrelationRefs):
            raise fail(
                "record_invalid_correlation_refs",
                f"{m}.correlation_refs",
                self.correlation_refs,
                "must be a CorrelationRefs instance",
            )
        _set(
            self,
            "completeness_marker",
            enum_str(f"{m}.completeness_marker", self.completeness_marker, COMPLETENESS_MARKERS),
        )
        _set(
            self,
            "degradation_marker",
            enum_str(f"{m}.degradation_marker", self.degradation_marker, DEGRADATION_MARKERS),
        )
        _set(self, "schema_version", required_str(f"{m}.schema_version", self.schema_version))
        _set(self, "extensions", check_extensions(m, self.extensions))


def _check_record(record: Any, record_type: str, payload_type: type) -> None:
    m = type(record).__name__
    envelope = record.envelope
    if not isinstance(envelope, RecordEnvelope):
        raise fail("record_invalid_envelope", f"{m}.envelope", envelope, "must be a RecordEnvelope")
    if envelope.record_type != record_type:
        raise fail(
            "record_type_mismatch",
            f"{m}.envelope.record_type",
            envelope.record_type,
            f"must be {record_type!r} for a {m}",
            expected=record_type,
        )
    if record_type == "degraded":
        if envelope.degradation_marker == "none":
            raise fail(
                "record_degraded_requires_gap",
                f"{m}.envelope.degradation_marker",
                "none",
                "must name the degradation (not 'none') for a degraded record",
                allowed=DEGRADATION_MARKERS[1:],
            )
    elif envelope.completeness_marker == "absent":
        raise fail(
            "record_absent_not_allowed",
            f"{m}.envelope.completeness_marker",
            "absent",
            f"must not be 'absent' for a {record_type} record; use a DegradedRecord to report "
            "missing data",
        )
    if not isinstance(record.payload, payload_type):
        raise fail(
            "record_invalid_payload",
            f"{m}.payload",
            record.payload,
            f"must be a {payload_type.__name__}",
        )


class MetricRecord(ContractModel, frozen=True):
    """A metric observation: envelope with record_type "metric" + MetricPayload."""

    envelope: RecordEnvelope
    payload: MetricPayload

    model_name = "MetricRecord"

    def __post_init__(self) -> None:
        _check_record(self, "metric", MetricPayload)


class StructuredEventRecord(ContractModel, frozen=True):
    """A structured event: envelope with record_type "event" + payload."""

    envelope: RecordEnvelope
    payload: StructuredEventPayload

    model_name = "StructuredEventRecord"

    def __post_init__(self) -> None:
        _check_record(self, "event", StructuredEventPayload)


class TraceSpanRecord(ContractModel, frozen=True):
    """A trace span: envelope with record_type "span" + TraceSpanPayload."""

    envelope: RecordEnvelope
    payload: TraceSpanPayload

    model_name = "TraceSpanRecord"

    def __post_init__(self) -> None:
        _check_record(self, "span", TraceSpanPayload)


class DegradedRecord(ContractModel, frozen=True):
    """A report of missing/degraded data: record_type "degraded" + payload."""

    envelope: RecordEnvelope
    payload: DegradedPayload

    model_name = "DegradedRecord"

    def __post_init__(self) -> None:
        _check_record(self, "degraded", DegradedPayload)


#: any of the four record models (1.0's name for the union)
CanonicalRecord = StructuredEventRecord | MetricRecord | TraceSpanRecord | DegradedRecord
