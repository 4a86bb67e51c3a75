"""Capture sinks: a metric record sent to a ``StdoutSink`` (one JSON line), then the MLflow
and OpenTelemetry sinks, which need their libraries (extras ``mlflow`` and ``otel``): without
them, building one is a typed ``DependencyError`` naming the extra. Runs unchanged on Contexta
1.0.0 (its output is recorded in tests/parity_tests/_examples_c10.py):

    uv run python examples/parity/sinks_demo.py
"""

from __future__ import annotations

from contexta.capture.sinks import StdoutSink
from contexta.common.errors import ContextaError
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

AT = "2025-05-01T09:30:00Z"


def build(kind: str) -> object:
    if kind == "mlflow":
        from contexta.adapters.mlflow import MLflowSink

        return MLflowSink()
    from contexta.adapters.otel import OTelSink

    return OTelSink(service_name="sinks-demo")


def main() -> None:
    record = MetricRecord(
        envelope=RecordEnvelope(
            record_ref="record:sinks-demo.r1.loss",
            record_type="metric",
            recorded_at=AT,
            observed_at=AT,
            producer_ref="sinks-demo",
            run_ref="run:sinks-demo.r1",
            completeness_marker="complete",
            degradation_marker="none",
        ),
        payload=MetricPayload(metric_key="train.loss", value=0.125, value_type="float64"),
    )
    receipt = StdoutSink().capture(family="RECORD", payload=record)
    print(f"stdout sink: {receipt.status.value} ({receipt.detail})")
    for kind in ("mlflow", "otel"):
        try:
            sink = build(kind)
        except ContextaError as exc:
            print(f"{kind} sink: {type(exc).__name__} {exc.code}")
            continue
        outcome = sink.capture(family="RECORD", payload=record)  # type: ignore[attr-defined]
        print(f"{kind} sink: {outcome.status.value} ({outcome.detail})")


if __name__ == "__main__":
    main()
