"""OpenTelemetry bridge: ``Contexta(sinks=[OTelSink()])`` turns captured spans into OTel spans,
metrics into histogram recordings and events / degraded records into events on the current
span (extra ``otel``: ``opentelemetry-api``; configure an SDK and exporter as usual)."""

from __future__ import annotations

from typing import Any

from ...capture.results import PayloadFamily
from ...capture.sinks import BaseSink, SinkCaptureReceipt
from .. import require

__all__ = ["OTelSink"]

#: our span kinds -> OTel ``SpanKind`` member names
SPAN_KINDS = {
    "operation": "INTERNAL",
    "internal": "INTERNAL",
    "io": "CLIENT",
    "network": "CLIENT",
    "process": "PRODUCER",
}


def _trace() -> Any:
    return require(
        "opentelemetry.trace", feature="OTelSink", extra="otel", code="otel_api_not_ready"
    )


def _metrics() -> Any:
    return require(
        "opentelemetry.metrics", feature="OTelSink", extra="otel", code="otel_api_not_ready"
    )


def _scoped(
    base: dict[str, Any], envelope: Any, prefix: str, extra: Any, text: bool = True
) -> dict[str, Any]:
    """``base`` plus the stage ref and ``extra`` under ``prefix`` (values as text if asked)."""
    attrs = dict(base)
    if envelope.stage_execution_ref is not None:
        attrs["contexta.stage_ref"] = str(envelope.stage_execution_ref)
    for key, value in (extra or {}).items():
        attrs[f"{prefix}{key}"] = str(value) if text else value
    return attrs


class OTelSink(BaseSink):
    """Exports captured records through the OpenTelemetry API."""

    def __init__(
        self,
        *,
        service_name: str = "contexta",
        tracer_provider: Any = None,
        meter_provider: Any = None,
        name: str = "otel",
    ) -> None:
        super().__init__(name=name, supported_families=(PayloadFamily.RECORD,))
        _trace()
        _metrics()
        self.service_name = service_name
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self._tracer: Any = None
        self._meter: Any = None
        self._histograms: dict[tuple[str, str], Any] = {}

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        if not self.supports(family):
            return SinkCaptureReceipt.success(detail="family not handled by OTelSink")
        envelope: Any = getattr(payload, "envelope", None)
        body: Any = getattr(payload, "payload", None)
        kind = getattr(envelope, "record_type", None)
        if kind == "span":
            self._span(envelope, body)
            return SinkCaptureReceipt.success(
                detail=f"exported span {body.span_name}", metadata={"span_name": body.span_name}
            )
        if kind == "metric":
            self._metric(envelope, body)
            return SinkCaptureReceipt.success(
                detail=f"recorded metric {body.metric_key}",
                metadata={"metric_key": body.metric_key},
            )
        if kind == "event":
            attrs = _scoped(
                {
                    "contexta.run_ref": str(envelope.run_ref),
                    "contexta.event_level": body.level,
                    "contexta.event_message": body.message,
                },
                envelope,
                "contexta.event.",
                body.attributes,
            )
            _trace().get_current_span().add_event(body.event_key, attributes=attrs)
            return SinkCaptureReceipt.success(
                detail=f"added event {body.event_key}", metadata={"event_key": body.event_key}
            )
        if kind == "degraded":
            attrs = _scoped(
                {
                    "contexta.run_ref": str(envelope.run_ref),
                    "contexta.issue_key": body.issue_key,
                    "contexta.degradation_category": body.category,
                    "contexta.severity": body.severity,
                },
                envelope,
                "",
                None,
            )
            _trace().get_current_span().add_event("contexta.degraded", attributes=attrs)
            return SinkCaptureReceipt.success(
                detail=f"added degraded event {body.issue_key}",
                metadata={"issue_key": body.issue_key},
            )
        return SinkCaptureReceipt.success(detail="unrecognised record type; skipped")

    def _span(self, envelope: Any, body: Any) -> None:
        trace = _trace()
        base = {
            "contexta.run_ref": str(envelope.run_ref),
            "contexta.record_ref": str(envelope.record_ref),
            "contexta.span_kind": body.span_kind,
            "contexta.span_id": body.span_id,
            "contexta.trace_id": body.trace_id,
        }
        attrs = _scoped(base, envelope, "contexta.span.", None)
        if body.parent_span_id is not None:
            attrs["contexta.parent_span_id"] = body.parent_span_id
        for key, value in (body.attributes or {}).items():
            attrs[f"contexta.span.{key}"] = str(value)
        if self._tracer is None:
            provider = self.tracer_provider or trace.get_tracer_provider()
            self._tracer = provider.get_tracer(self.service_name)
        kind = getattr(trace.SpanKind, SPAN_KINDS.get(body.span_kind, "INTERNAL"))
        span = self._tracer.start_span(body.span_name, kind=kind, attributes=attrs)
        try:
            span.set_status(trace.StatusCode.OK if body.status == "ok" else trace.StatusCode.ERROR)
        finally:
            span.end()

    def _metric(self, envelope: Any, body: Any) -> None:
        name, unit = f"contexta.{body.metric_key}", body.unit or "1"
        histogram = self._histograms.get((name, unit))
        if histogram is None:
            if self._meter is None:
                provider = self.meter_provider or _metrics().get_meter_provider()
                self._meter = provider.get_meter(self.service_name)
            histogram = self._meter.create_histogram(
                name=name, unit=unit, description=f"Contexta metric: {name}"
            )
            self._histograms[(name, unit)] = histogram
        attrs = _scoped(
            {
                "contexta.run_ref": str(envelope.run_ref),
                "contexta.aggregation_scope": body.aggregation_scope,
                "contexta.value_type": body.value_type,
            },
            envelope,
            "contexta.tag.",
            body.tags,
            text=False,
        )
        histogram.record(float(body.value), attributes=attrs)
