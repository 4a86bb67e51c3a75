"""Stand-ins for ``mlflow`` and ``opentelemetry`` that record every call a sink makes, and the
records the sink tests send (usable under Contexta 1.0 too, which is how ``_sinks_c10`` was
recorded)."""

from __future__ import annotations

import sys
import types
from contextlib import contextmanager
from typing import Any

CALLS: list[tuple[Any, ...]] = []


def _mlflow() -> types.ModuleType:
    module = types.ModuleType("mlflow")
    module.log_metric = lambda key, value, **kw: CALLS.append(("log_metric", key, value, kw))
    module.set_tag = lambda key, value, **kw: CALLS.append(("set_tag", key, value, kw))
    return module


class _Span:
    def __init__(self, name: str) -> None:
        self.name = name

    def add_event(self, name: str, attributes: Any = None) -> None:
        CALLS.append(("add_event", self.name, name, dict(attributes or {})))

    def set_status(self, status: Any) -> None:
        CALLS.append(("set_status", self.name, status))

    def end(self) -> None:
        CALLS.append(("end", self.name))


class _Tracer:
    def start_span(self, name: str, kind: Any = None, attributes: Any = None) -> _Span:
        CALLS.append(("start_span", name, kind, dict(attributes or {})))
        return _Span(name)


class _Histogram:
    def __init__(self, name: str) -> None:
        self.name = name

    def record(self, value: float, attributes: Any = None) -> None:
        CALLS.append(("record", self.name, value, dict(attributes or {})))


class _Meter:
    def create_histogram(self, name: str, unit: str, description: str) -> _Histogram:
        CALLS.append(("create_histogram", name, unit, description))
        return _Histogram(name)


def _otel() -> dict[str, types.ModuleType]:
    root = types.ModuleType("opentelemetry")
    trace = types.ModuleType("opentelemetry.trace")
    metrics = types.ModuleType("opentelemetry.metrics")
    trace.SpanKind = types.SimpleNamespace(
        INTERNAL="INTERNAL", CLIENT="CLIENT", PRODUCER="PRODUCER"
    )
    trace.StatusCode = types.SimpleNamespace(OK="OK", ERROR="ERROR")
    provider = types.SimpleNamespace(
        get_tracer=lambda name: (CALLS.append(("tracer", name)), _Tracer())[1]
    )
    trace.get_tracer_provider = lambda: provider
    trace.get_current_span = lambda: _Span("current")
    meters = types.SimpleNamespace(
        get_meter=lambda name: (CALLS.append(("meter", name)), _Meter())[1]
    )
    metrics.get_meter_provider = lambda: meters
    root.trace, root.metrics = trace, metrics
    return {"opentelemetry": root, "opentelemetry.trace": trace, "opentelemetry.metrics": metrics}


@contextmanager
def fake_tools(present: bool = True) -> Any:
    """``mlflow`` and ``opentelemetry`` as recording fakes (or absent when not ``present``)."""
    names = ("mlflow", "opentelemetry", "opentelemetry.trace", "opentelemetry.metrics")
    saved = {name: sys.modules.get(name) for name in names}
    fakes = {"mlflow": _mlflow(), **_otel()} if present else dict.fromkeys(names)
    sys.modules.update(fakes)  # a None entry makes ``import`` raise ImportError
    CALLS.clear()
    try:
        yield CALLS
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def records() -> list[Any]:
    """A metric (unit, tags, stage), an event, a span and a degraded record of one run."""
    from contexta.contract import (
        DegradedPayload,
        DegradedRecord,
        MetricPayload,
        MetricRecord,
        RecordEnvelope,
        StructuredEventPayload,
        StructuredEventRecord,
        TraceSpanPayload,
        TraceSpanRecord,
    )

    def envelope(key: str, kind: str) -> RecordEnvelope:
        marker = "capture_gap" if kind == "degraded" else "none"
        return RecordEnvelope(
            record_ref=f"record:p.r.{key}",
            record_type=kind,
            recorded_at="2025-01-01T00:00:02Z",
            observed_at="2025-01-01T00:00:01Z",
            producer_ref="tests",
            run_ref="run:p.r",
            stage_execution_ref="stage:p.r.train",
            completeness_marker="complete",
            degradation_marker=marker,
        )

    return [
        MetricRecord(
            envelope=envelope("m1", "metric"),
            payload=MetricPayload(
                metric_key="train.loss",
                value=0.25,
                value_type="float64",
                unit="nats",
                tags={"step": "3"},
            ),
        ),
        MetricRecord(
            envelope=envelope("m2", "metric"),
            payload=MetricPayload(
                metric_key="train.loss",
                value=0.2,
                value_type="float64",
                unit="nats",
                tags={"step": "4"},
            ),
        ),
        StructuredEventRecord(
            envelope=envelope("e1", "event"),
            payload=StructuredEventPayload(
                event_key="train.done", level="info", message="finished", attributes={"epochs": 4}
            ),
        ),
        TraceSpanRecord(
            envelope=envelope("s1", "span"),
            payload=TraceSpanPayload(
                span_id="s1",
                trace_id="t1",
                parent_span_id=None,
                span_name="load-data",
                started_at="2025-01-01T00:00:00Z",
                ended_at="2025-01-01T00:00:01Z",
                status="ok",
                span_kind="io",
                attributes={"rows": 20},
            ),
        ),
        DegradedRecord(
            envelope=envelope("d1", "degraded"),
            payload=DegradedPayload(
                issue_key="capture.gap",
                category="capture",
                severity="warning",
                summary="lost a batch",
                origin_marker="explicit_capture",
            ),
        ),
    ]


def sink_calls(make_sink: Any) -> list[tuple[Any, ...]]:
    """The calls one sink made for :func:`records`, with each receipt's status and detail."""
    with fake_tools() as calls:
        sink = make_sink()
        for record in records():
            receipt = sink.capture(family="RECORD", payload=record)
            calls.append(("receipt", receipt.status.value, receipt.detail))
        return list(calls)
