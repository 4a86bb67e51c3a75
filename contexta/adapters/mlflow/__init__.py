"""MLflow bridge: ``Contexta(sinks=[MLflowSink()])`` logs captured metrics to MLflow Tracking
and events / degraded records as tags (extra ``mlflow``)."""

from __future__ import annotations

from typing import Any

from ...capture.results import PayloadFamily
from ...capture.sinks import BaseSink, SinkCaptureReceipt
from .. import require

__all__ = ["MLflowSink"]

#: MLflow refuses tag values longer than this
TAG_LIMIT = 5000


def _mlflow() -> Any:
    return require("mlflow", feature="MLflowSink", extra="mlflow", code="mlflow_not_ready")


class MLflowSink(BaseSink):
    """Metrics become ``mlflow.log_metric`` calls; run/stage refs, units and metric tags are
    written once as ``contexta.*`` tags; events and degraded records become tags."""

    def __init__(self, *, run_id: str | None = None, name: str = "mlflow") -> None:
        super().__init__(name=name, supported_families=(PayloadFamily.RECORD,))
        _mlflow()  # fail at construction, not at the first capture
        self.run_id = run_id
        self._tags_written: set[str] = set()

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        if not self.supports(family):
            return SinkCaptureReceipt.success(detail="family not handled by MLflowSink")
        kind = getattr(getattr(payload, "envelope", None), "record_type", None)
        body: Any = getattr(payload, "payload", None)
        if kind == "metric":
            self._metric(payload, body)
            return SinkCaptureReceipt.success(
                detail=f"logged metric {body.metric_key}", metadata={"metric_key": body.metric_key}
            )
        if kind == "event":
            self._tag_once("contexta.run_ref", str(payload.envelope.run_ref))  # type: ignore[attr-defined]
            self._tag(f"contexta.event.{body.event_key}", str(body.message)[:TAG_LIMIT])
            self._tag_once(f"contexta.event_level.{body.event_key}", body.level)
            return SinkCaptureReceipt.success(
                detail=f"tagged event {body.event_key}", metadata={"event_key": body.event_key}
            )
        if kind == "degraded":
            self._tag(f"contexta.degraded.{body.issue_key}", f"{body.category}:{body.severity}")
            self._tag_once("contexta.degraded_run_ref", str(payload.envelope.run_ref))  # type: ignore[attr-defined]
            return SinkCaptureReceipt.success(
                detail=f"tagged degraded {body.issue_key}", metadata={"issue_key": body.issue_key}
            )
        return SinkCaptureReceipt.success(detail="unrecognised record type; skipped")

    def _metric(self, record: Any, body: Any) -> None:
        envelope = record.envelope
        self._tag_once("contexta.run_ref", str(envelope.run_ref))
        if envelope.stage_execution_ref is not None:
            self._tag_once("contexta.stage_ref", str(envelope.stage_execution_ref))
        if body.unit:
            self._tag_once(f"contexta.metric_unit.{body.metric_key}", body.unit)
        for key, value in (body.tags or {}).items():
            self._tag_once(f"contexta.tag.{key}", str(value))
        mlflow = _mlflow()
        if self.run_id is None:
            mlflow.log_metric(body.metric_key, float(body.value))
        else:
            mlflow.log_metric(body.metric_key, float(body.value), run_id=self.run_id)

    def _tag(self, key: str, value: str) -> None:
        mlflow = _mlflow()
        if self.run_id is None:
            mlflow.set_tag(key, value)
        else:
            mlflow.set_tag(key, value, run_id=self.run_id)

    def _tag_once(self, key: str, value: str) -> None:
        if key not in self._tags_written:
            self._tags_written.add(key)
            self._tag(key, value)
