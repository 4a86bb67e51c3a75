"""``MLflowSink`` and ``OTelSink`` against the real libraries (dev dependencies ``mlflow``,
``opentelemetry-api``/``-sdk``): the sink demo and the sink test records, through an MLflow file
store in a temporary directory and an OpenTelemetry SDK with in-memory exporter and reader,
give what Contexta 1.0.0 gave for the same program (``_sinks_real_c10``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_script

from ._sinks_real_c10 import C10_SINKS_REAL

DRIVER = Path(__file__).with_name("_sinks_real_driver.py")


def test_sinks_with_mlflow_and_opentelemetry_as_1_0(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    pytest.importorskip("opentelemetry.sdk")
    got = json.loads(run_script(DRIVER, tmp_path, str(tmp_path)).stdout)
    for span in got["otel"]["spans"]:
        assert span.pop("duration_ns") >= 0
    assert got == C10_SINKS_REAL
    assert got["demo"][-2:] == [
        "mlflow sink: SUCCESS (logged metric train.loss)",
        "otel sink: SUCCESS (recorded metric train.loss)",
    ]
    assert [len(got["mlflow"]), len(got["otel"]["spans"]), len(got["otel"]["metrics"])] == [1, 1, 2]
