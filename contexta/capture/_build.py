"""Building contract records on the capture hot path.

A scope knows its run, stage, batch, sample and operation refs, its producer and its schema
version before the first emission. :class:`RecordFactory` validates one template record per
family with the real contract constructors when the scope opens; an emission then copies the
templates and sets only what varies (record ref, timestamps, key, value), after checking those
parts against caches of values the constructors already accepted. Anything not provably valid
that way (a new key, a NaN, tags, caller-supplied timestamps) goes through the constructors, so
the fast path can never produce a record the constructors would refuse (a property test checks
that both paths build equal records).
"""

from __future__ import annotations

import copy
import itertools
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from msgspec.structs import force_setattr as _set

from ledger.schema import INT64_MAX, INT64_MIN

from ..common.clock import utc_now, utc_now_text  # their home; still importable from here
from ..contract import (
    DegradedPayload,
    DegradedRecord,
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    StableRef,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
)
from ..contract.frozen import FrozenMap
from ..contract.timestamps import instant_key
from ..contract.validation import logged_grammar, real_number
from .errors import CaptureError
from .models import AGGREGATION_SCOPES, EVENT_LEVELS, EventEmission, MetricEmission

__all__ = ["RecordFactory", "new_token", "utc_now", "utc_now_text"]

_LIMIT = 4096
# Values the contract constructors accepted verbatim (normalised output == input).
_METRIC_KEYS: set[str] = set()
_EVENT_KEYS: set[str] = set()
_UNITS: set[str | None] = {None}
_BASES: set[str | None] = {"raw_observation"}
_SCOPES = frozenset(AGGREGATION_SCOPES)
_LEVELS = frozenset(EVENT_LEVELS)


def new_token() -> str:
    """A short random token that keeps auto record refs unique across processes."""
    return secrets.token_hex(4)


def _remember(cache: set[Any], value: Any) -> None:
    if len(cache) >= _LIMIT:
        keep = {None} & cache
        cache.clear()
        cache.update(keep)
    cache.add(value)


def _deepest(*refs: StableRef | None) -> str:
    for ref in refs:
        if ref is not None:
            return str(ref)
    raise CaptureError(
        "Capture requires an active run context.", code="capture_run_context_required"
    )


class RecordFactory:
    """Records for one bound context (run, and optionally stage/batch/sample/op/deployment)."""

    __slots__ = (
        "_counter",
        "_event",
        "_event_env",
        "_metric",
        "_metric_env",
        "_metric_payload",
        "_metric_prefix",
        "_prefixes",
        "_ref",
        "_span",
        "_span_env",
        "lane",
        "run_ref",
        "stage_ref",
        "subject_ref",
    )

    def __init__(
        self,
        *,
        run_ref: StableRef,
        producer_ref: str,
        schema_version: str,
        counter: itertools.count[int],
        token: str,
        stage_ref: StableRef | None = None,
        batch_ref: StableRef | None = None,
        sample_ref: StableRef | None = None,
        op_ref: StableRef | None = None,
        deployment_ref: StableRef | None = None,
    ) -> None:
        self.lane: Any = None  # the plain metric lane of its scope, once made (metric_lane)
        self.run_ref = run_ref
        self.stage_ref = stage_ref
        self.subject_ref = _deepest(
            op_ref, sample_ref, batch_ref, deployment_ref, stage_ref, run_ref
        )
        self._counter = counter
        # record ref values are <run value>.<family>-<token>-<n>
        self._prefixes = {
            family: f"{run_ref.value}.{family}-{token}-"
            for family in ("metric", "event", "span", "degraded")
        }
        self._metric_prefix = self._prefixes["metric"]
        self._ref = StableRef("record", f"{run_ref.value}.template")
        now = utc_now_text()

        def envelope(record_type: str) -> RecordEnvelope:
            return RecordEnvelope(
                record_ref=self._ref,
                record_type=record_type,
                recorded_at=now,
                observed_at=now,
                producer_ref=producer_ref,
                run_ref=run_ref,
                deployment_execution_ref=deployment_ref,
                stage_execution_ref=stage_ref,
                batch_execution_ref=batch_ref,
                sample_observation_ref=sample_ref,
                operation_context_ref=op_ref,
                schema_version=schema_version,
            )

        self._metric_env = envelope("metric")
        self._event_env = envelope("event")
        self._span_env = envelope("span")
        self._metric = MetricRecord(
            self._metric_env,
            MetricPayload(
                metric_key="template",
                value=0.0,
                value_type="float",
                subject_ref=self.subject_ref,
                summary_basis="raw_observation",
            ),
        )
        self._metric_payload = self._metric.payload
        self._event = StructuredEventRecord(
            self._event_env,
            StructuredEventPayload(
                event_key="template", level="info", message="template", subject_ref=self.subject_ref
            ),
        )
        self._span = TraceSpanRecord(
            self._span_env,
            TraceSpanPayload(
                span_id="template",
                trace_id="template",
                parent_span_id=None,
                span_name="template",
                started_at=now,
                ended_at=now,
                status="ok",
                span_kind="operation",
            ),
        )

    # ------------------------------------------------------------------ shared

    def record_ref(self, family: str) -> StableRef:
        ref = self._ref.__copy__()  # type: ignore[attr-defined]
        _set(ref, "value", f"{self._prefixes[family]}{next(self._counter)}")
        return ref

    def _envelope(
        self, template: RecordEnvelope, family: str, now: str, observed: str | None = None
    ) -> RecordEnvelope:
        env = template.__copy__()  # type: ignore[attr-defined]
        _set(env, "record_ref", self.record_ref(family))
        _set(env, "recorded_at", now)
        _set(env, "observed_at", now if observed is None else observed)
        return env

    # ------------------------------------------------------------------ metric

    def metric(
        self,
        key: str,
        value: Any,
        unit: str | None = None,
        aggregation_scope: str = "step",
        tags: Mapping[str, str] | None = None,
        summary_basis: str | None = "raw_observation",
        step: int | None = None,
    ) -> MetricRecord:
        """A metric record, observed now."""
        return self.fresh_metric(key, value, unit, aggregation_scope, tags, summary_basis, step)[0]

    def fresh_metric(
        self,
        key: str,
        value: Any,
        unit: str | None = None,
        aggregation_scope: str = "step",
        tags: Mapping[str, str] | None = None,
        summary_basis: str | None = "raw_observation",
        step: int | None = None,
    ) -> tuple[MetricRecord, str, int, bool]:
        """A metric record observed now, its ``record_ref`` text, that instant in epoch
        microseconds, and whether it is plain: this factory's metric template with only the key,
        a float value and the step tag filled in (what the local capture copy writes from a
        template of its own, :meth:`~.local_copy.LocalCaptureFile.add_plain_metric`)."""
        kind = type(value)
        if kind is not float and kind is not int:
            real = real_number(value)  # numpy scalars, 0-d arrays, __float__ objects
            if real is not None:
                value = real
                kind = type(value)
        if (
            key in _METRIC_KEYS
            and (
                (kind is float and value - value == 0.0)
                or (kind is int and INT64_MIN <= value <= INT64_MAX)
            )
            and unit in _UNITS
            and aggregation_scope in _SCOPES
            and summary_basis in _BASES
            and not tags
            and (step is None or (type(step) is int and INT64_MIN <= step <= INT64_MAX))
        ):
            # the template holds value_type "float", unit None, scope "step",
            # summary_basis "raw_observation" and no tags: set only what differs
            plain = (
                kind is float
                and unit is None
                and aggregation_scope == "step"
                and summary_basis == "raw_observation"
            )
            payload = self._metric_payload.__copy__()  # type: ignore[attr-defined]
            _set(payload, "metric_key", key)
            _set(payload, "value", value)
            if kind is int:
                _set(payload, "value_type", "int")
            if unit is not None:
                _set(payload, "unit", unit)
            if aggregation_scope != "step":
                _set(payload, "aggregation_scope", aggregation_scope)
            if summary_basis != "raw_observation":
                _set(payload, "summary_basis", summary_basis)
            if step is not None:
                _set(payload, "tags", FrozenMap(step=str(step)))
        else:
            plain = False
            payload = self._slow_metric(
                key, value, unit, aggregation_scope, tags, summary_basis, step
            )
        now, micros = utc_now()
        record, ref = self.stamped_metric(payload, now)
        return record, ref, micros, plain

    def stamped_metric(self, payload: MetricPayload, now: str) -> tuple[MetricRecord, str]:
        """The metric record of ``payload`` observed and recorded at ``now``, under this
        factory's next record ref, and that ref's text (:meth:`_envelope` inline: this runs
        once per metric of a training loop)."""
        value_text = f"{self._metric_prefix}{next(self._counter)}"
        ref = self._ref.__copy__()  # type: ignore[attr-defined]
        _set(ref, "value", value_text)
        envelope = self._metric_env.__copy__()  # type: ignore[attr-defined]
        _set(envelope, "record_ref", ref)
        _set(envelope, "recorded_at", now)
        _set(envelope, "observed_at", now)
        record = self._metric.__copy__()  # type: ignore[attr-defined]
        _set(record, "envelope", envelope)
        _set(record, "payload", payload)
        return record, "record:" + value_text

    def _slow_metric(
        self,
        key: Any,
        value: Any,
        unit: Any,
        aggregation_scope: Any,
        tags: Any,
        summary_basis: Any,
        step: Any,
    ) -> MetricPayload:
        emission = MetricEmission(
            key=key,
            value=value,
            unit=unit,
            aggregation_scope=aggregation_scope,
            tags=tags,
            summary_basis=summary_basis or "raw_observation",
            step=step,
        )
        merged = dict(emission.tags or {})
        if emission.step is not None:
            merged["step"] = str(emission.step)
        with logged_grammar():  # the key grammar ML code uses; NaN and infinities kept
            payload = MetricPayload(
                metric_key=emission.key,
                value=emission.value,
                value_type="int" if isinstance(emission.value, int) else "float",
                unit=emission.unit,
                aggregation_scope=emission.aggregation_scope,
                subject_ref=self.subject_ref,
                tags=merged or None,
                summary_basis=emission.summary_basis,
            )
        if payload.metric_key == key:
            _remember(_METRIC_KEYS, key)
        if payload.unit == unit:
            _remember(_UNITS, unit)
        if payload.summary_basis == summary_basis:
            _remember(_BASES, summary_basis)
        return payload

    # ------------------------------------------------------------------ degraded

    def degraded(
        self, issue_key: str, summary: str, attributes: Mapping[str, Any] | None = None
    ) -> DegradedRecord:
        """A degraded record (a ``capture_gap``) of this context: what could not be recorded
        and why, in place of the emission that failed."""
        now = utc_now_text()
        envelope = msgspec.structs.replace(
            self._event_env,
            record_ref=self.record_ref("degraded"),
            record_type="degraded",
            recorded_at=now,
            observed_at=now,
            degradation_marker="capture_gap",
        )
        return DegradedRecord(
            envelope,
            DegradedPayload(
                issue_key=issue_key,
                category="capture",
                severity="warning",
                summary=summary,
                subject_ref=self.subject_ref,
                attributes=attributes,
            ),
        )

    # ------------------------------------------------------------------ event

    def event(
        self,
        key: str,
        message: str,
        level: str = "info",
        attributes: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> StructuredEventRecord:
        """A structured event record, observed now."""
        if (
            key in _EVENT_KEYS
            and level in _LEVELS
            and type(message) is str
            and message
            and not message[0].isspace()
            and not message[-1].isspace()
            and not attributes
            and not tags
        ):
            payload = copy.copy(self._event.payload)
            _set(payload, "event_key", key)
            _set(payload, "level", level)
            _set(payload, "message", message)
        else:
            emission = EventEmission(
                key=key, message=message, level=level, attributes=attributes, tags=tags
            )
            merged: dict[str, Any] = dict(emission.attributes or {})
            if emission.tags:
                if "tags" in merged:
                    raise CaptureError(
                        "event attributes must not contain a 'tags' key when tags= is given.",
                        code="capture_event_tags_conflict",
                    )
                merged["tags"] = dict(emission.tags)
            payload = StructuredEventPayload(
                event_key=emission.key,
                level=emission.level,
                message=emission.message,
                subject_ref=self.subject_ref,
                attributes=merged or None,
            )
            if payload.event_key == key:
                _remember(_EVENT_KEYS, key)
        record = copy.copy(self._event)
        _set(record, "envelope", self._envelope(self._event_env, "event", utc_now_text()))
        _set(record, "payload", payload)
        return record

    # ------------------------------------------------------------------ span

    def span(
        self,
        name: str,
        *,
        started_at: str,
        ended_at: str,
        status: str = "ok",
        span_kind: str = "operation",
        attributes: Mapping[str, Any] | None = None,
        linked_refs: Sequence[Any] = (),
        parent_span_id: str | None = None,
        span_id: str | None = None,
        trace_id: str | None = None,
        trusted_times: bool = False,
    ) -> TraceSpanRecord:
        """A span record (observed at its start). ``trusted_times``: both times come from
        :func:`utc_now_text`, so the envelope needs no ordering check."""
        payload = TraceSpanPayload(
            span_id=span_id or f"span-{secrets.token_hex(6)}",
            trace_id=trace_id or f"trace-{secrets.token_hex(8)}",
            parent_span_id=parent_span_id,
            span_name=name,
            started_at=started_at,
            ended_at=ended_at,
            status=status,
            span_kind=span_kind,
            attributes=attributes,
            linked_refs=tuple(linked_refs),
        )
        now = utc_now_text()
        if trusted_times:
            recorded = max(now, payload.started_at, key=instant_key)
            envelope = self._envelope(self._span_env, "span", recorded, payload.started_at)
        else:  # validated: a start in the future is refused like any other record
            envelope = msgspec.structs.replace(
                self._span_env,
                record_ref=self.record_ref("span"),
                recorded_at=now,
                observed_at=payload.started_at,
            )
        record = copy.copy(self._span)
        _set(record, "envelope", envelope)
        _set(record, "payload", payload)
        return record
