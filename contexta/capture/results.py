"""Result types of runtime capture: ``CaptureResult``, ``BatchCaptureResult`` and their parts.

The shapes, field order, enums and ``to_dict()`` output are Contexta 1.0's. 1.0 built these as
slotted dataclasses calling zero-argument ``super()``, which raised ``TypeError`` on every
emission (contract 4.11); here they are frozen msgspec Structs, cheap enough to return from a
metric call in a training loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from types import MappingProxyType
from typing import Any

import msgspec
from msgspec.structs import force_setattr as _set

from ..common.errors import ContextaError, ValidationError

__all__ = [
    "BatchCaptureResult",
    "CaptureResult",
    "DegradationNote",
    "Delivery",
    "DeliveryStatus",
    "FailureInfo",
    "MessageLevel",
    "PayloadFamily",
    "ResultMessage",
    "ResultStatus",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class ResultStatus(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    """Outcome of an operation."""

    SUCCESS = "SUCCESS"
    DEGRADED = "DEGRADED"
    FAILURE = "FAILURE"


class MessageLevel(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class PayloadFamily(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    """What a capture carried."""

    CONTEXT = "CONTEXT"
    RECORD = "RECORD"
    ARTIFACT = "ARTIFACT"
    DEGRADATION = "DEGRADATION"


class DeliveryStatus(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    """Outcome of one delivery (to the ledger or to a sink)."""

    SUCCESS = "SUCCESS"
    DEGRADED = "DEGRADED"
    FAILURE = "FAILURE"
    SKIPPED = "SKIPPED"


def _enum(kind: type[Enum], value: Any, field: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value).strip().upper())
    except ValueError:
        raise ValidationError(
            f"{field} must be one of {', '.join(m.value for m in kind)}, got {value!r}.",
            code="capture_invalid_result",
            details={"field": field, "value": repr(value)},
        ) from None


def _frozen(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not values:
        return _EMPTY
    if isinstance(values, MappingProxyType):
        return values
    return MappingProxyType({key: values[key] for key in sorted(values)})


def _invalid(message: str, **details: Any) -> ValidationError:
    return ValidationError(message, code="capture_invalid_result", details=details)


def _value(member: Any) -> Any:
    return member.value if isinstance(member, Enum) else member


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return _plain(value.to_dict())
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


class ResultMessage(msgspec.Struct, frozen=True):
    level: MessageLevel
    code: str
    message: str
    details: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "code": self.code,
            "message": self.message,
            "details": None if self.details is None else dict(self.details),
        }


class DegradationNote(msgspec.Struct, frozen=True):
    """Why a result is degraded."""

    code: str
    message: str
    fidelity_loss: bool = True
    recoverable: bool = True
    affected_planes: tuple[str, ...] = ()
    details: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "fidelity_loss": self.fidelity_loss,
            "recoverable": self.recoverable,
            "affected_planes": list(self.affected_planes),
            "details": None if self.details is None else dict(self.details),
        }


class FailureInfo(msgspec.Struct, frozen=True):
    """A failure reported in a result instead of raised."""

    code: str
    message: str
    retryable: bool = False
    error_type: str | None = None
    details: Mapping[str, Any] | None = None

    @classmethod
    def from_exception(cls, error: BaseException) -> FailureInfo:
        if isinstance(error, ContextaError):
            return cls(
                error.code,
                error.message,
                error.retryable,
                type(error).__name__,
                None if error.details is None else dict(error.details),
            )
        return cls(
            "unexpected_error", str(error) or type(error).__name__, False, type(error).__name__
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "error_type": self.error_type,
            "details": None if self.details is None else dict(self.details),
        }


class Delivery(msgspec.Struct, frozen=True):
    """Where one capture went (``sink_name`` ``"ledger"`` for the workspace itself)."""

    sink_name: str
    family: PayloadFamily | str
    status: DeliveryStatus | str
    detail: str = ""
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        _set(self, "family", _enum(PayloadFamily, self.family, "family"))
        _set(self, "status", _enum(DeliveryStatus, self.status, "status"))
        _set(self, "metadata", _frozen(self.metadata))

    def to_dict(self) -> dict[str, Any]:
        return {
            "sink_name": self.sink_name,
            "family": _value(self.family),
            "status": _value(self.status),
            "detail": self.detail,
            "metadata": dict(self.metadata or {}),
        }


class _Outcome:
    """``succeeded``/``degraded``/``failed`` of a result with a ``status``."""

    __slots__ = ()
    status: ResultStatus | str  # a field of every result class

    @property
    def succeeded(self) -> bool:
        return self.status is ResultStatus.SUCCESS

    @property
    def degraded(self) -> bool:
        return self.status is ResultStatus.DEGRADED

    @property
    def failed(self) -> bool:
        return self.status is ResultStatus.FAILURE


class CaptureResult(msgspec.Struct, _Outcome, frozen=True, gc=False):
    """The outcome of one emission. ``payload`` (= ``value``) is the record or manifest written.

    Not tracked by the garbage collector (``gc=False``, as the contract models): frozen, it
    holds the record, read-only metadata and tuples, none of which can refer back to it."""

    status: ResultStatus | str
    value: Any = None
    messages: tuple[ResultMessage, ...] = ()
    degradation_notes: tuple[DegradationNote, ...] = ()
    failure: FailureInfo | None = None
    applied: bool = True
    planned_only: bool = False
    metadata: Mapping[str, Any] | None = None
    family: PayloadFamily | str = PayloadFamily.RECORD
    deliveries: tuple[Delivery, ...] = ()
    warnings: tuple[str, ...] = ()
    degradation_reasons: tuple[str, ...] = ()
    payload: Any = None
    degradation_emitted: bool = False
    degradation_payload: Any = None
    recovered_to_outbox: bool = False
    replay_refs: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None

    def __post_init__(self) -> None:
        status = _enum(ResultStatus, self.status, "status")
        _set(self, "status", status)
        _set(self, "family", _enum(PayloadFamily, self.family, "family"))
        _set(
            self,
            "deliveries",
            tuple(d if isinstance(d, Delivery) else Delivery(**d) for d in self.deliveries),
        )
        for name in ("warnings", "degradation_reasons", "replay_refs"):
            _set(self, name, tuple(str(item).strip() for item in getattr(self, name)))
        _set(self, "metadata", _frozen(self.metadata))
        if self.payload is None and self.value is not None:
            _set(self, "payload", self.value)
        elif self.payload is not None and self.value is None:
            _set(self, "value", self.payload)
        elif self.payload is not None and self.payload != self.value:
            raise _invalid("payload and value must match when both are given.")
        _set(
            self,
            "messages",
            tuple(self.messages)
            + tuple(
                ResultMessage(MessageLevel.WARNING, f"capture_warning_{i + 1}", text)
                for i, text in enumerate(self.warnings)
            ),
        )
        notes = tuple(self.degradation_notes)
        if status is ResultStatus.DEGRADED and not notes:
            notes = tuple(
                DegradationNote(
                    f"capture_degradation_{i + 1}", reason, affected_planes=("capture",)
                )
                for i, reason in enumerate(self.degradation_reasons)
            ) or (
                DegradationNote(
                    "capture_degraded",
                    "Capture completed with degradation.",
                    affected_planes=("capture",),
                ),
            )
        _set(self, "degradation_notes", notes)
        if status is ResultStatus.FAILURE and self.failure is None:
            _set(
                self,
                "failure",
                FailureInfo(
                    self.error_code or "capture_failed", self.error_message or "Capture failed."
                ),
            )
        if self.failure is not None:
            if status is ResultStatus.SUCCESS:
                raise _invalid("A SUCCESS result cannot carry failure info.")
            if self.error_code is None:
                _set(self, "error_code", self.failure.code)
            if self.error_message is None:
                _set(self, "error_message", self.failure.message)
        if self.degradation_payload is not None and not self.degradation_emitted:
            raise _invalid("degradation_payload requires degradation_emitted=True.")
        if self.planned_only and self.applied:
            raise _invalid("planned_only=True requires applied=False.")

    # ------------------------------------------------------------------ builders (1.0's)

    @classmethod
    def success(
        cls,
        family: PayloadFamily | str,
        *,
        payload: Any = None,
        deliveries: Sequence[Delivery] = (),
        warnings: Sequence[str] = (),
        messages: Sequence[ResultMessage] = (),
        metadata: Mapping[str, Any] | None = None,
        applied: bool = True,
    ) -> CaptureResult:
        return cls(
            status=ResultStatus.SUCCESS,
            family=family,
            payload=payload,
            deliveries=tuple(deliveries),
            warnings=tuple(warnings),
            messages=tuple(messages),
            metadata=metadata,
            applied=applied,
        )

    @classmethod
    def with_degradation(
        cls,
        family: PayloadFamily | str,
        *,
        payload: Any = None,
        deliveries: Sequence[Delivery] = (),
        warnings: Sequence[str] = (),
        degradation_reasons: Sequence[str] = (),
        degradation_notes: Sequence[DegradationNote] = (),
        degradation_emitted: bool = False,
        degradation_payload: Any = None,
        recovered_to_outbox: bool = False,
        replay_refs: Sequence[str] = (),
        messages: Sequence[ResultMessage] = (),
        metadata: Mapping[str, Any] | None = None,
        applied: bool = True,
        planned_only: bool = False,
    ) -> CaptureResult:
        return cls(
            status=ResultStatus.DEGRADED,
            family=family,
            payload=payload,
            deliveries=tuple(deliveries),
            warnings=tuple(warnings),
            degradation_reasons=tuple(degradation_reasons),
            degradation_notes=tuple(degradation_notes),
            degradation_emitted=degradation_emitted,
            degradation_payload=degradation_payload,
            recovered_to_outbox=recovered_to_outbox,
            replay_refs=tuple(replay_refs),
            messages=tuple(messages),
            metadata=metadata,
            applied=applied,
            planned_only=planned_only,
        )

    @classmethod
    def failure_result(
        cls,
        family: PayloadFamily | str,
        failure: FailureInfo | BaseException,
        *,
        deliveries: Sequence[Delivery] = (),
        warnings: Sequence[str] = (),
        replay_refs: Sequence[str] = (),
        messages: Sequence[ResultMessage] = (),
        metadata: Mapping[str, Any] | None = None,
        applied: bool = False,
        planned_only: bool = False,
    ) -> CaptureResult:
        info = failure if isinstance(failure, FailureInfo) else FailureInfo.from_exception(failure)
        return cls(
            status=ResultStatus.FAILURE,
            family=family,
            deliveries=tuple(deliveries),
            warnings=tuple(warnings),
            replay_refs=tuple(replay_refs),
            messages=tuple(messages),
            failure=info,
            metadata=metadata,
            applied=applied,
            planned_only=planned_only,
        )

    @classmethod
    def _written(
        cls,
        template: CaptureResult,
        payload: Any,
        metadata: Mapping[str, Any],
        deliveries: tuple[Delivery, ...],
    ) -> CaptureResult:
        """Hot path: a copy of a validated template with the emission's fields set."""
        result = template.__copy__()  # type: ignore[attr-defined]
        _set(result, "payload", payload)
        _set(result, "value", payload)
        _set(result, "metadata", MappingProxyType(metadata))
        _set(result, "deliveries", deliveries)
        return result

    def to_dict(self) -> dict[str, Any]:
        """1.0's transport shape (enums as their values, records as dicts)."""
        return {
            "family": _value(self.family),
            "status": _value(self.status),
            "deliveries": [d.to_dict() for d in self.deliveries],
            "warnings": list(self.warnings),
            "degradation_reasons": list(self.degradation_reasons),
            "payload": _plain(self.payload),
            "degradation_emitted": self.degradation_emitted,
            "degradation_payload": _plain(self.degradation_payload),
            "recovered_to_outbox": self.recovered_to_outbox,
            "replay_refs": list(self.replay_refs),
            "error_code": self.error_code,
            "error_message": self.error_message,
            "messages": [m.to_dict() for m in self.messages],
            "degradation_notes": [n.to_dict() for n in self.degradation_notes],
            "failure": None if self.failure is None else self.failure.to_dict(),
            "applied": self.applied,
            "planned_only": self.planned_only,
            "metadata": _plain(dict(self.metadata or {})),
        }


class BatchCaptureResult(msgspec.Struct, _Outcome, frozen=True):
    """The outcome of an ``emit_*`` batch: SUCCESS if every item succeeded, FAILURE if all
    failed, else DEGRADED."""

    status: ResultStatus | str
    value: Any = None
    messages: tuple[ResultMessage, ...] = ()
    degradation_notes: tuple[DegradationNote, ...] = ()
    failure: FailureInfo | None = None
    applied: bool = True
    planned_only: bool = False
    metadata: Mapping[str, Any] | None = None
    items: tuple[CaptureResult, ...] = ()
    family: PayloadFamily | str = PayloadFamily.RECORD

    def __post_init__(self) -> None:
        _set(self, "status", _enum(ResultStatus, self.status, "status"))
        _set(self, "family", _enum(PayloadFamily, self.family, "family"))
        _set(self, "items", tuple(self.items))
        _set(self, "metadata", _frozen(self.metadata))
        for index, item in enumerate(self.items):
            if not isinstance(item, CaptureResult):
                raise _invalid(f"items[{index}] must be a CaptureResult.", index=index)

    @property
    def results(self) -> tuple[CaptureResult, ...]:
        return self.items

    @property
    def total_count(self) -> int:
        return len(self.items)

    @property
    def success_count(self) -> int:
        return sum(item.succeeded for item in self.items)

    @property
    def degraded_count(self) -> int:
        return sum(item.degraded for item in self.items)

    @property
    def failure_count(self) -> int:
        return sum(item.failed for item in self.items)

    @classmethod
    def from_results(
        cls,
        family: PayloadFamily | str,
        results: Sequence[CaptureResult],
        *,
        messages: Sequence[ResultMessage] = (),
        metadata: Mapping[str, Any] | None = None,
        applied: bool | None = None,
        planned_only: bool | None = None,
    ) -> BatchCaptureResult:
        items = tuple(results)
        if not items or all(r.succeeded for r in items):
            status = ResultStatus.SUCCESS
        elif all(r.failed for r in items):
            status = ResultStatus.FAILURE
        else:
            status = ResultStatus.DEGRADED
        notes = tuple(n for r in items for n in r.degradation_notes)
        if status is ResultStatus.DEGRADED and not notes:
            notes = (
                DegradationNote(
                    "capture_batch_partial_failure",
                    "Batch capture completed with mixed item outcomes.",
                    affected_planes=("capture",),
                ),
            )
        failure = next((r.failure for r in items if r.failure is not None), None)
        return cls(
            status=status,
            items=items,
            messages=tuple(messages),
            degradation_notes=notes,
            failure=failure if status is ResultStatus.FAILURE else None,
            applied=any(r.applied for r in items)
            if applied is None and items
            else (True if applied is None else applied),
            planned_only=(bool(items) and all(r.planned_only for r in items))
            if planned_only is None
            else planned_only,
            metadata=metadata,
            family=family,
        )

    aggregate = from_results

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": _value(self.family),
            "status": _value(self.status),
            "results": [r.to_dict() for r in self.items],
            "messages": [m.to_dict() for m in self.messages],
            "degradation_notes": [n.to_dict() for n in self.degradation_notes],
            "failure": None if self.failure is None else self.failure.to_dict(),
            "applied": self.applied,
            "planned_only": self.planned_only,
            "metadata": _plain(dict(self.metadata or {})),
        }
