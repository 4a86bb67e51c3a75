"""Record payloads: metric, structured event, trace span, degraded (contract section 2.9)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from msgspec.structs import force_setattr as _set

from contexta.common.errors import ValidationError

from .base import ContractModel
from .field_validators import (
    _ACCEPTED,
    DOTTED_KEBAB,
    DOTTED_SNAKE,
    SNAKE,
    enum_str,
    fail,
    json_map,
    logged_key,
    logging_grammar_active,
    not_before,
    optional_str,
    optional_token,
    required_str,
    string_map,
    timestamp,
    token,
)
from .refs import ref_text, ref_texts

__all__ = [
    "AGGREGATION_SCOPES",
    "DEGRADED_CATEGORIES",
    "DEGRADED_SEVERITIES",
    "EVENT_LEVELS",
    "ORIGIN_MARKERS",
    "SPAN_KINDS",
    "SPAN_STATUSES",
    "DegradedPayload",
    "MetricPayload",
    "StructuredEventPayload",
    "TraceSpanPayload",
]

ORIGIN_MARKERS = (
    "explicit_capture",
    "assisted_capture",
    "wrapped_capture",
    "imported",
    "inferred",
    "replayed",
)
EVENT_LEVELS = ("debug", "info", "warning", "error", "critical")
AGGREGATION_SCOPES = ("run", "stage", "operation", "step", "slice")
SPAN_STATUSES = ("ok", "error", "cancelled", "timeout")
SPAN_KINDS = ("operation", "internal", "io", "network", "process")
#: 1.0's names for the three tuples above
METRIC_AGGREGATION_SCOPES = AGGREGATION_SCOPES
TRACE_SPAN_STATUSES = SPAN_STATUSES
TRACE_SPAN_KINDS = SPAN_KINDS
DEGRADED_CATEGORIES = ("capture", "store", "import", "compatibility", "verification", "recovery")
DEGRADED_SEVERITIES = ("warning", "error")

_KEBAB_HINT = "Use dotted lower-kebab segments, each starting with a letter, e.g. 'train.loss'."
_METRIC_HINT = (
    "Use dotted lower-kebab segments, each starting with a letter, e.g. 'train.loss' (a capture "
    "scope's run.metric(...) also takes keys such as 'train_loss', 'loss/val', 'valAcc')."
)
_SNAKE_DOTTED_HINT = (
    "Use dotted lower_snake segments, each starting with a letter, e.g. 'capture.gap'."
)
_SNAKE_HINT = "Use one lower_snake token starting with a letter, e.g. 'float64'."


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
    if isinstance(value, float) and logging_grammar_active():
        return float(value)  # NaN or an infinity, logged by capture (marked by diagnostics)
    raise fail(
        "record_invalid_metric_value",
        "MetricPayload.value",
        value,
        "must be a finite int or float (not bool, str, NaN or infinity)",
    )


def _metric_key(where: str, value: Any) -> str:
    """1.0's dotted lower-kebab rule; under :func:`~.field_validators.logged_grammar` (capture, and
    stored bodies) also the logged grammar (``train_loss``, ``loss/val``, ``valAcc``)."""
    seen = _ACCEPTED.get(DOTTED_KEBAB)
    if type(value) is str and seen is not None and value in seen:
        return value
    if logging_grammar_active():
        try:
            return token(where, value, DOTTED_KEBAB, "record_invalid_metric_key", _METRIC_HINT)
        except ValidationError as exc:
            if exc.code != "record_invalid_metric_key":
                raise
        return logged_key(where, value, "record_invalid_metric_key")
    return token(where, value, DOTTED_KEBAB, "record_invalid_metric_key", _METRIC_HINT)


class MetricPayload(ContractModel, frozen=True):
    """A metric value (ints stay ints; NaN, infinities and bools are rejected)."""

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
        _set(self, "metric_key", _metric_key(f"{m}.metric_key", self.metric_key))
        _set(self, "value", _metric_value(self.value))
        _set(
            self,
            "value_type",
            token(
                f"{m}.value_type", self.value_type, SNAKE, "record_invalid_value_type", _SNAKE_HINT
            ),
        )
        if self.unit is not None:
            _set(self, "unit", required_str(f"{m}.unit", self.unit))
        _set(
            self,
            "aggregation_scope",
            enum_str(f"{m}.aggregation_scope", self.aggregation_scope, AGGREGATION_SCOPES),
        )
        if self.subject_ref is not None:
            _set(self, "subject_ref", ref_text(f"{m}.subject_ref", self.subject_ref))
        _set(
            self,
            "slice_ref",
            optional_token(
                f"{m}.slice_ref",
                self.slice_ref,
                DOTTED_SNAKE,
                "record_invalid_slice_ref",
                _SNAKE_DOTTED_HINT,
            ),
        )
        _set(self, "tags", string_map(f"{m}.tags", self.tags))
        _set(
            self,
            "summary_basis",
            optional_token(
                f"{m}.summary_basis",
                self.summary_basis,
                SNAKE,
                "record_invalid_summary_basis",
                _SNAKE_HINT,
            ),
        )


class StructuredEventPayload(ContractModel, frozen=True):
    """An event key, level and message with JSON attributes."""

    event_key: str
    level: str
    message: str
    subject_ref: str | None = None
    attributes: Mapping[str, Any] | None = None
    origin_marker: str = "explicit_capture"

    model_name = "StructuredEventPayload"

    def __post_init__(self) -> None:
        m = "StructuredEventPayload"
        _set(
            self,
            "event_key",
            token(
                f"{m}.event_key",
                self.event_key,
                DOTTED_KEBAB,
                "record_invalid_event_key",
                _KEBAB_HINT,
            ),
        )
        _set(self, "level", enum_str(f"{m}.level", self.level, EVENT_LEVELS))
        _set(self, "message", required_str(f"{m}.message", self.message))
        if self.subject_ref is not None:
            _set(self, "subject_ref", ref_text(f"{m}.subject_ref", self.subject_ref))
        _set(self, "attributes", json_map(f"{m}.attributes", self.attributes))
        _set(
            self,
            "origin_marker",
            enum_str(f"{m}.origin_marker", self.origin_marker, ORIGIN_MARKERS),
        )


class TraceSpanPayload(ContractModel, frozen=True):
    """A timed span; parent_span_id has no default (pass None for a root span)."""

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
    """What was lost or degraded: issue key, category, severity, summary."""

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
        _set(
            self,
            "issue_key",
            token(
                f"{m}.issue_key",
                self.issue_key,
                DOTTED_SNAKE,
                "record_invalid_issue_key",
                _SNAKE_DOTTED_HINT,
            ),
        )
        _set(self, "category", enum_str(f"{m}.category", self.category, DEGRADED_CATEGORIES))
        _set(self, "severity", enum_str(f"{m}.severity", self.severity, DEGRADED_SEVERITIES))
        _set(self, "summary", required_str(f"{m}.summary", self.summary))
        if self.subject_ref is not None:
            _set(self, "subject_ref", ref_text(f"{m}.subject_ref", self.subject_ref))
        _set(
            self,
            "origin_marker",
            enum_str(f"{m}.origin_marker", self.origin_marker, ORIGIN_MARKERS),
        )
        _set(self, "attributes", json_map(f"{m}.attributes", self.attributes))
