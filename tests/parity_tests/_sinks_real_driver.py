"""The sink demo and the sink test records sent through ``MLflowSink`` and ``OTelSink`` with the
real libraries: an MLflow file store under WORKDIR and an OpenTelemetry SDK with in-memory
span exporter and metric reader. Uses 1.0's public API only, so the same program ran under
Contexta 1.0.0 (``_sinks_real_c10``). Prints one JSON object:

    python tests/parity_tests/_sinks_real_driver.py WORKDIR
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[1] / "examples" / "parity" / "sinks_demo.py"


def _otel() -> tuple[Any, Any]:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return spans, reader


def _records() -> list[Any]:
    sys.path.insert(0, str(HERE))
    from _fake_tools import records  # type: ignore[import-not-found]

    return records()


def _mlflow_store() -> list[dict[str, Any]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    out = []
    for experiment in client.search_experiments():
        for run in client.search_runs([experiment.experiment_id]):
            out.append(
                {
                    "metrics": {
                        key: [
                            (m.value, m.step)
                            for m in client.get_metric_history(run.info.run_id, key)
                        ]
                        for key in sorted(run.data.metrics)
                    },
                    "tags": {
                        k: v for k, v in sorted(run.data.tags.items()) if k.startswith("contexta.")
                    },
                    "params": dict(sorted(run.data.params.items())),
                }
            )
    return out


def _otel_seen(spans: Any, reader: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"spans": [], "metrics": []}
    for span in spans.get_finished_spans():
        out["spans"].append(
            {
                "name": span.name,
                "kind": span.kind.name,
                "status": span.status.status_code.name,
                "attributes": dict(sorted((span.attributes or {}).items())),
                "events": [
                    (e.name, dict(sorted((e.attributes or {}).items()))) for e in span.events
                ],
                "scope": span.instrumentation_scope.name,
                "duration_ns": span.end_time - span.start_time,
            }
        )
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points = [
                    {
                        "attributes": dict(sorted(p.attributes.items())),
                        **{
                            k: getattr(p, k)
                            for k in ("sum", "count", "value", "min", "max")
                            if hasattr(p, k)
                        },
                    }
                    for p in metric.data.data_points
                ]
                out["metrics"].append(
                    {
                        "scope": scope.scope.name,
                        "name": metric.name,
                        "unit": metric.unit,
                        "type": type(metric.data).__name__,
                        "points": points,
                    }
                )
    return out


def main(work: Path) -> dict[str, Any]:
    os.environ["MLFLOW_TRACKING_URI"] = (work / "mlruns").as_uri()
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # a file store in WORKDIR, no server
    spans, reader = _otel()
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        runpy.run_path(str(DEMO), run_name="__main__")
    import mlflow

    from contexta.adapters.mlflow import MLflowSink
    from contexta.adapters.otel import OTelSink

    receipts = []
    for sink in (MLflowSink(), OTelSink(service_name="sinks-test")):
        for record in _records():
            receipt = sink.capture(family="RECORD", payload=record)
            receipts.append((sink.name, receipt.status.value, receipt.detail))
    mlflow.end_run()
    return {
        "demo": stdout.getvalue().splitlines(),
        "receipts": receipts,
        "mlflow": _mlflow_store(),
        "otel": _otel_seen(spans, reader),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1])), sort_keys=True, default=str))
