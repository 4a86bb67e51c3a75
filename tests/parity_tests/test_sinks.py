"""Capture sinks as 1.0 had them: ``StdoutSink``, ``LocalJsonlSink``, the default local capture
copy under ``<workspace>/cache/capture``, ``MLflowSink`` and ``OTelSink`` (through recording
stand-ins of their libraries) and ``Contexta(sinks=[...])``; compared with 1.0's record."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from contexta import Contexta
from contexta.capture.sinks import LocalJsonlSink, StdoutSink
from contexta.common.errors import ContextaError
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

from ._fake_tools import fake_tools, records, sink_calls
from ._sinks_c10 import (
    C10_MISSING,
    C10_MLFLOW_CALLS,
    C10_MLFLOW_RUN_CALLS,
    C10_OTEL_CALLS,
    C10_SINKS,
)

RECORD = MetricRecord(
    envelope=RecordEnvelope(
        record_ref="record:p.r.m1",
        record_type="metric",
        recorded_at="2025-01-01T00:00:01Z",
        observed_at="2025-01-01T00:00:01Z",
        producer_ref="tests",
        run_ref="run:p.r",
        stage_execution_ref="stage:p.r.train",
        completeness_marker="complete",
        degradation_marker="none",
    ),
    payload=MetricPayload(
        metric_key="train.loss", value=0.25, value_type="float64", unit="nats", tags={"step": "3"}
    ),
)


def probe():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        receipt = StdoutSink().capture(family="RECORD", payload=RECORD)
    root = Path(tempfile.mkdtemp())
    LocalJsonlSink(root).capture(family="RECORD", payload=RECORD)
    local = json.loads((root / "record.jsonl").read_text())
    local.pop("captured_at")
    return {
        "stdout_line": out.getvalue(),
        "stdout_receipt": (receipt.status.value, receipt.detail),
        "local_entry": local,
        "local_files": sorted(p.name for p in root.iterdir()),
    }


def _mlflow(**kwargs: Any) -> Any:
    from contexta.adapters.mlflow import MLflowSink

    return MLflowSink(**kwargs)


def _otel(**kwargs: Any) -> Any:
    from contexta.adapters.otel import OTelSink

    return OTelSink(**kwargs)


def test_stdout_and_local_jsonl_sinks_write_1_0s_lines() -> None:
    assert probe() == C10_SINKS


def test_stdout_sink_to_stderr_and_bad_stream() -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        StdoutSink(stream="stderr", name="ci").capture(family="RECORD", payload=RECORD)
    assert json.loads(err.getvalue())["sink"] == "ci"
    with pytest.raises(ContextaError) as caught:
        StdoutSink(stream="file")
    assert caught.value.code == "sink_invalid_stream"


def test_mlflow_sink_makes_1_0s_calls() -> None:
    assert sink_calls(_mlflow) == C10_MLFLOW_CALLS
    assert sink_calls(lambda: _mlflow(run_id="abc"))[:3] == C10_MLFLOW_RUN_CALLS


def test_otel_sink_makes_1_0s_calls() -> None:
    assert sink_calls(lambda: _otel(service_name="svc")) == C10_OTEL_CALLS


@pytest.mark.parametrize("name", sorted(C10_MISSING))
def test_missing_library_is_a_typed_error(name: str) -> None:
    make = _mlflow if name == "MLflowSink" else _otel
    with fake_tools(present=False), pytest.raises(ContextaError) as caught:
        make()
    assert (type(caught.value).__name__, caught.value.code) == C10_MISSING[name]
    assert "pip install 'contexta[" in str(caught.value)


def _ctx(root: Path, **kwargs: Any) -> Contexta:
    return Contexta(
        config=UnifiedConfig(
            project_name="capture-demo",
            workspace=WorkspaceConfig(root_path=str(root / ".contexta")),
        ),
        **kwargs,
    )


def _preview(ctx: Contexta) -> Any:
    with ctx.run("preview") as run:
        run.event("preview.start", message="hello")
        with run.stage("train") as stage:
            stage.metric("train.loss", 0.5)
            stage.metric("train.acc", 0.9)
    return run


def test_default_contexta_keeps_1_0s_local_capture_file(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    run = _preview(ctx)
    capture = tmp_path / ".contexta" / "cache" / "capture" / "record.jsonl"
    assert capture.exists()  # 1.0's preview: "Capture file exists: True"
    lines = [json.loads(line) for line in capture.read_text().splitlines()]
    assert len(lines) == 3  # "Captured records: 3"
    expected_fields = sorted([*C10_SINKS["local_entry"], "captured_at"])
    assert all(sorted(line) == expected_fields for line in lines)
    stored = {r.record_id for r in ctx.get_run_snapshot(run.ref).records}
    assert {line["payload_ref"] for line in lines} == stored
    # the copy is not a delivery: results still report the ledger only
    with ctx.run("again") as again:
        assert [d.sink_name for d in again.metric("m", 1.0).deliveries] == ["ledger"]


def test_explicit_sinks_replace_the_local_copy_and_get_every_record(tmp_path: Path) -> None:
    with fake_tools() as calls:
        ctx = _ctx(tmp_path, sinks=[_mlflow()])
        _preview(ctx)
        logged = [c for c in calls if c[0] == "log_metric"]
    assert logged == [("log_metric", "train.loss", 0.5, {}), ("log_metric", "train.acc", 0.9, {})]
    assert not (tmp_path / ".contexta" / "cache" / "capture").exists()


def test_capture_dispatcher_as_1_0(tmp_path: Path) -> None:
    from contexta.capture import CaptureDispatcher
    from contexta.capture.results import CaptureResult, PayloadFamily

    ctx = _ctx(tmp_path, sinks=[])
    default = CaptureDispatcher.with_default_local_sink(config=ctx.config)
    assert [type(s).__name__ for s in default.sinks] == ["LocalJsonlSink"]
    assert (
        Path(default.sinks[0].root_path) == (tmp_path / ".contexta" / "cache" / "capture").resolve()
    )

    class Broken:
        name = "broken"

        def capture(self, *, family: object, payload: object) -> object:
            raise RuntimeError("disk full")

    record = records()[0]
    result = CaptureResult.success(PayloadFamily.RECORD, payload=record)
    ok = CaptureDispatcher(sinks=[LocalJsonlSink(tmp_path / "out")]).dispatch_capture(result)
    assert [d.sink_name for d in ok.deliveries] == ["local-jsonl"] and ok.succeeded
    bad = CaptureDispatcher(sinks=[Broken()]).dispatch_capture(result)
    assert bad.status.value == "DEGRADED" and "disk full" in bad.degradation_reasons[0]


def test_runtime_session_from_a_config_as_1_0(tmp_path: Path) -> None:
    from contexta.capture import RuntimeSession as CaptureSession
    from contexta.runtime.session import RuntimeSession

    config = UnifiedConfig(
        project_name="rt", workspace=WorkspaceConfig(root_path=str(tmp_path / ".contexta"))
    )
    session = RuntimeSession(config=config)
    assert RuntimeSession is CaptureSession and str(session.project_ref) == "project:rt"
    with session.start_run("demo") as run:  # 1.0: run:rt.demo
        run.metric("m", 1.0)
    assert run.ref == "run:rt.demo"
    assert [r.key for r in Contexta(config=config).get_run_snapshot(run.ref).records] == ["m"]
