"""Batch inputs of the ``emit_*`` helpers (1.0's emission models).

``ctx.emit_metrics([MetricEmission("train.loss", 0.4), {"key": "lr", "value": 1e-3}])``:
each item is an emission or a mapping of its fields. Validation codes are 1.0's
``capture_model_*``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.schema import INT64_MAX, INT64_MIN

from ..common.errors import ValidationError
from ..contract import StableRef
from ..contract.frozen import EMPTY_MAP, FrozenMap, thaw
from ..contract.timestamps import normalize_timestamp
from ..contract.validation import (
    DOTTED_KEBAB,
    LOGGED_KEY_MAX,
    LOGGED_KEY_RULE,
    SNAKE,
    freeze_json,
    logged_key,
    real_number,
)

__all__ = [
    "AGGREGATION_SCOPES",
    "EVENT_LEVELS",
    "SPAN_KINDS",
    "SPAN_STATUSES",
    "ArtifactRegistrationEmission",
    "EventEmission",
    "MetricEmission",
    "SpanEmission",
    "metric_key",
    "metric_value",
]

# The contract's closed vocabularies (section 2.9), as the emissions check them.
EVENT_LEVELS = ("debug", "info", "warning", "error", "critical")
AGGREGATION_SCOPES = ("run", "stage", "operation", "step", "slice")
SPAN_STATUSES = ("ok", "error", "cancelled", "timeout")
SPAN_KINDS = ("operation", "internal", "io", "network", "process")


def _fail(code: str, message: str, **details: Any) -> ValidationError:
    return ValidationError(message, code=code, details=details)


def _shown(value: Any) -> str:
    """``repr(value)``, shortened: a huge int is named, not printed in full."""
    text = (
        repr(value)
        if not isinstance(value, int) or value.bit_length() < 200
        else (f"an int of {value.bit_length()} bits")
    )
    return text if len(text) <= 80 else text[:77] + "..."


def _check_step_tag(raw: str) -> None:
    """A ``tags["step"]`` that reads as an integer becomes the record's step: it must fit."""
    try:
        step = int(raw)
    except ValueError:
        return  # not a number (or of more than 4,300 digits): kept as a plain tag
    if not INT64_MIN <= step <= INT64_MAX:
        raise _fail(
            "capture_model_invalid_step",
            f"tags['step'] must be an int within 64 bits (-2**63 to 2**63-1), got {_shown(raw)}.",
            field_name="tags.step",
            value=_shown(raw),
        )


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(
            "capture_model_invalid_string",
            f"{field} must be a string, got {type(value).__name__}.",
            field_name=field,
        )
    text = value.strip()
    if not text:
        raise _fail("capture_model_invalid_string", f"{field} must not be blank.", field_name=field)
    return text


def _optional_text(field: str, value: Any) -> str | None:
    return None if value is None else _text(field, value)


def _marker(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    text = _text(field, value)
    if text not in allowed:
        raise _fail(
            "capture_model_invalid_marker",
            f"{field} must be one of {', '.join(allowed)}, got {text!r}.",
            field_name=field,
            value=text,
        )
    return text


def _token(field: str, value: Any, pattern: Any, code: str) -> str:
    text = _text(field, value)
    if pattern.fullmatch(text) is None:
        raise _fail(code, f"Invalid {field} {text!r}.", field_name=field, value=text)
    return text


def metric_key(value: Any) -> str:
    """A logged metric key (1.0's dotted lower-kebab keys and the grammar ML code uses:
    ``train_loss``, ``loss/val``, ``valAcc``); the message of a refused one states the rule."""
    if type(value) is str and len(value) <= LOGGED_KEY_MAX and DOTTED_KEBAB.fullmatch(value):
        return value
    text = _text("key", value)
    try:
        return logged_key("key", text, "capture_model_invalid_metric_key")
    except ValidationError:
        raise _fail(
            "capture_model_invalid_metric_key",
            f"Invalid metric key {_shown(text)}. {LOGGED_KEY_RULE}",
            field_name="key",
            value=text,
            rule=LOGGED_KEY_RULE,
        ) from None


def metric_value(value: Any) -> int | float:
    """A logged metric value: any real number (Python or numpy scalars, 0-d arrays, objects with
    ``__index__`` or ``__float__``), as an int within 64 bits or a float; NaN and infinities
    are kept (diagnostics mark them, select-best skips them)."""
    real = real_number(value)
    if real is None or (type(real) is int and not INT64_MIN <= real <= INT64_MAX):
        raise _fail(
            "capture_model_invalid_metric_value",
            f"value must be a real number (an int within 64 bits, a float, NaN or an "
            f"infinity; not a bool, str or array), got {_shown(value)} of type "
            f"{type(value).__name__}.",
            value=_shown(value),
            value_type=type(value).__name__,
        )
    return real


def _json_map(field: str, mapping: Any) -> Mapping[str, Any]:
    if mapping is None:
        return EMPTY_MAP
    if not isinstance(mapping, Mapping):
        raise _fail(
            "capture_model_invalid_mapping", f"{field} must be a mapping.", field_name=field
        )
    out: dict[str, Any] = {}
    for key, item in mapping.items():
        if not isinstance(key, str) or not key.strip():
            raise _fail(
                "capture_model_invalid_mapping",
                f"{field} has an invalid key {key!r}.",
                field_name=field,
                key=repr(key),
            )
        try:
            out[key.strip()] = freeze_json(f"{field}.{key.strip()}", item)
        except ValidationError as exc:
            raise _fail("capture_model_invalid_json_value", exc.message, field_name=field) from exc
    return FrozenMap((key, out[key]) for key in sorted(out))


def _string_map(field: str, mapping: Any) -> Mapping[str, str]:
    if mapping is None:
        return EMPTY_MAP
    if not isinstance(mapping, Mapping):
        raise _fail(
            "capture_model_invalid_mapping", f"{field} must be a mapping.", field_name=field
        )
    out: dict[str, str] = {}
    for key, item in mapping.items():
        if not isinstance(key, str) or not key.strip():
            raise _fail(
                "capture_model_invalid_mapping",
                f"{field} has an invalid key {key!r}.",
                field_name=field,
                key=repr(key),
            )
        out[key.strip()] = _text(f"{field}.{key.strip()}", item)
    return FrozenMap((key, out[key]) for key in sorted(out))


@dataclass(frozen=True, slots=True)
class EventEmission:
    key: str
    message: str
    level: str = "info"
    attributes: Mapping[str, Any] | None = None
    tags: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "key", _token("key", self.key, DOTTED_KEBAB, "capture_model_invalid_event_key")
        )
        object.__setattr__(self, "message", _text("message", self.message))
        object.__setattr__(self, "level", _marker("level", self.level, EVENT_LEVELS))
        object.__setattr__(self, "attributes", _json_map("attributes", self.attributes))
        object.__setattr__(self, "tags", _string_map("tags", self.tags))

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "message": self.message,
            "level": self.level,
            "attributes": thaw(self.attributes),
            "tags": dict(self.tags or {}),
        }


@dataclass(frozen=True, slots=True)
class MetricEmission:
    key: str
    value: int | float
    unit: str | None = None
    aggregation_scope: str = "step"
    tags: Mapping[str, str] | None = None
    summary_basis: str = "raw_observation"
    step: int | None = None  # ours: the training step, kept in the record's tags

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", metric_key(self.key))
        object.__setattr__(self, "value", metric_value(self.value))
        object.__setattr__(self, "unit", _optional_text("unit", self.unit))
        object.__setattr__(
            self,
            "aggregation_scope",
            _marker("aggregation_scope", self.aggregation_scope, AGGREGATION_SCOPES),
        )
        object.__setattr__(self, "tags", _string_map("tags", self.tags))
        object.__setattr__(
            self,
            "summary_basis",
            _token(
                "summary_basis", self.summary_basis, SNAKE, "capture_model_invalid_summary_basis"
            ),
        )
        tagged = (self.tags or {}).get("step")
        if tagged is not None:
            _check_step_tag(tagged)
        step = self.step
        if step is not None and (
            not isinstance(step, int)
            or isinstance(step, bool)
            or not INT64_MIN <= step <= INT64_MAX
        ):
            raise _fail(
                "capture_model_invalid_step",
                f"step must be an int within 64 bits (-2**63 to 2**63-1), got {_shown(step)}.",
                field_name="step",
                value=_shown(step),
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "aggregation_scope": self.aggregation_scope,
            "tags": dict(self.tags or {}),
            "summary_basis": self.summary_basis,
            "step": self.step,
        }


def _linked(values: Any) -> tuple[str, ...]:
    out = []
    for index, item in enumerate(values or ()):
        if isinstance(item, StableRef):
            out.append(str(item))
        elif isinstance(item, str):
            out.append(str(StableRef.parse(item)))
        else:
            raise _fail(
                "capture_model_invalid_linked_ref",
                "linked_refs must hold StableRef or str values.",
                index=index,
            )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class SpanEmission:
    name: str
    started_at: str | None = None
    ended_at: str | None = None
    status: str = "ok"
    span_kind: str = "operation"
    attributes: Mapping[str, Any] | None = None
    linked_refs: tuple[StableRef | str, ...] | None = None
    parent_span_id: str | None = None

    def __post_init__(self) -> None:
        started = (
            None
            if self.started_at is None
            else normalize_timestamp(self.started_at, field="SpanEmission.started_at")
        )
        ended = (
            None
            if self.ended_at is None
            else normalize_timestamp(self.ended_at, field="SpanEmission.ended_at")
        )
        object.__setattr__(self, "name", _text("name", self.name))
        object.__setattr__(self, "started_at", started)
        object.__setattr__(self, "ended_at", ended)
        object.__setattr__(self, "status", _marker("status", self.status, SPAN_STATUSES))
        object.__setattr__(self, "span_kind", _marker("span_kind", self.span_kind, SPAN_KINDS))
        object.__setattr__(self, "attributes", _json_map("attributes", self.attributes))
        object.__setattr__(self, "linked_refs", _linked(self.linked_refs))
        object.__setattr__(
            self, "parent_span_id", _optional_text("parent_span_id", self.parent_span_id)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "status": self.status,
            "span_kind": self.span_kind,
            "attributes": thaw(self.attributes),
            "linked_refs": list(self.linked_refs or ()),
            "parent_span_id": self.parent_span_id,
        }


@dataclass(frozen=True, slots=True)
class ArtifactRegistrationEmission:
    artifact_kind: str
    path: str
    artifact_ref: StableRef | str | None = None
    attributes: Mapping[str, Any] | None = None
    compute_hash: bool = True
    allow_missing: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "artifact_kind",
            _token(
                "artifact_kind", self.artifact_kind, SNAKE, "capture_model_invalid_artifact_kind"
            ),
        )
        object.__setattr__(self, "path", _text("path", str(self.path)))
        ref = self.artifact_ref
        if isinstance(ref, str):
            object.__setattr__(self, "artifact_ref", StableRef.parse(ref))
        elif ref is not None and not isinstance(ref, StableRef):
            raise _fail(
                "capture_model_invalid_artifact_ref",
                "artifact_ref must be a StableRef, str or None.",
            )
        for name in ("compute_hash", "allow_missing"):
            if not isinstance(getattr(self, name), bool):
                raise _fail(
                    "capture_model_invalid_bool", f"{name} must be a bool.", field_name=name
                )
        object.__setattr__(self, "attributes", _json_map("attributes", self.attributes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifact_kind": self.artifact_kind,
            "path": self.path,
            "artifact_ref": None if self.artifact_ref is None else str(self.artifact_ref),
            "attributes": thaw(self.attributes),
            "compute_hash": self.compute_hash,
            "allow_missing": self.allow_missing,
        }
