"""Where captured payloads go besides the ledger.

* :class:`LocalCaptureFile`: 1.0's default local copy (:mod:`contexta.capture.local_copy`).
* :class:`CaptureDispatcher`: 1.0's dispatcher object, delivering a ``CaptureResult``'s payload
  to a tuple of sinks and recording each delivery on the result.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from .builtin_sinks import LocalJsonlSink, _ref_of, _serialize
from .local_copy import LocalCaptureFile
from .results import (
    BatchCaptureResult,
    CaptureResult,
    Delivery,
    DeliveryStatus,
    FailureInfo,
    PayloadFamily,
)

__all__ = [
    "OUTBOX_FILE",
    "CaptureDispatcher",
    "LocalCaptureFile",
    "dispatch_batch_capture_result",
    "dispatch_capture_result",
    "outbox_line",
    "write_outbox_entries",
]


class CaptureDispatcher:
    """Delivers captured payloads to ``sinks``; each delivery is recorded on the result.

    A sink that raises is retried ``capture.retry_attempts`` times (backing off
    ``retry_backoff_seconds``, doubled each time). When it still fails and
    ``capture.dispatch_failure_mode`` is ``"outbox"``, the payload is kept as one line of
    ``<recovery.outbox_root>/failed_deliveries.jsonl`` (1.0's file and fields) for
    :func:`contexta.recovery.replay_outbox` to deliver later.
    """

    def __init__(self, *, config: Any = None, sinks: Sequence[Any] = ()) -> None:
        self.config = config
        self.sinks = tuple(sinks)

    @classmethod
    def with_default_local_sink(
        cls, *, config: Any, sinks: Sequence[Any] | None = None
    ) -> CaptureDispatcher:
        """``sinks``, or 1.0's default: one JSON-lines sink under ``<cache>/capture``."""
        if sinks is None:
            sinks = (LocalJsonlSink(Path(config.workspace.cache_path) / "capture"),)
        return cls(config=config, sinks=sinks)

    def _setting(self, name: str, default: Any) -> Any:
        capture = getattr(self.config, "capture", None)
        return getattr(capture, name, default)

    def _capture(self, sink: Any, family: PayloadFamily, payload: Any) -> Any:
        attempts = int(self._setting("retry_attempts", 0)) + 1
        backoff = float(self._setting("retry_backoff_seconds", 0.0))
        for attempt in range(1, attempts + 1):
            try:
                return sink.capture(family=family, payload=payload)
            except Exception:
                if attempt >= attempts:
                    raise
                if backoff > 0:
                    time.sleep(backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def deliver(self, family: PayloadFamily, payload: Any) -> tuple[Delivery, ...]:
        """Deliveries of ``payload`` to every sink (no outbox: see :meth:`dispatch_capture`)."""
        return self._deliver(family, payload)[0]

    def _deliver(
        self, family: PayloadFamily, payload: Any
    ) -> tuple[tuple[Delivery, ...], list[tuple[Any, BaseException]]]:
        out: list[Delivery] = []
        failures: list[tuple[Any, BaseException]] = []
        attempts = int(self._setting("retry_attempts", 0)) + 1
        for sink in self.sinks:
            name = str(getattr(sink, "name", type(sink).__name__))
            if hasattr(sink, "supports") and not sink.supports(family):
                out.append(Delivery(name, family, DeliveryStatus.SKIPPED, "family not supported"))
                continue
            try:
                receipt = self._capture(sink, family, payload)
            except Exception as exc:  # reported on the result, never raised
                info = FailureInfo.from_exception(exc)
                out.append(
                    Delivery(
                        name,
                        family,
                        DeliveryStatus.FAILURE,
                        info.message,
                        {
                            "error_code": info.code,
                            "error_type": info.error_type,
                            "retryable": info.retryable,
                            "attempts": attempts,
                        },
                    )
                )
                failures.append((sink, exc))
                continue
            out.append(Delivery(name, family, receipt.status, receipt.detail))
        return tuple(out), failures

    def dispatch_capture(self, result: CaptureResult) -> CaptureResult:
        """``result`` with this dispatcher's deliveries added (DEGRADED when one failed; the
        failed ones queued to the outbox in ``"outbox"`` mode)."""
        if result.failed:
            return result
        family = PayloadFamily(result.family)
        added, failures = self._deliver(family, result.payload)
        deliveries = (*result.deliveries, *added)
        failed = [
            d
            for d in added
            if d.status is not DeliveryStatus.SUCCESS and d.status is not DeliveryStatus.SKIPPED
        ]
        if not failed:
            return msgspec.structs.replace(result, deliveries=deliveries)
        reasons = [*result.degradation_reasons, *(f"{d.sink_name}: {d.detail}" for d in failed)]
        warnings = list(result.warnings)
        replay_refs: tuple[str, ...] = ()
        if failures and self._setting("dispatch_failure_mode", "raise") == "outbox":
            replay_refs = write_outbox_entries(self.config, family, result.payload, failures)
            if replay_refs:
                warnings.append("failed deliveries were queued to the recovery outbox")
                reasons.append("recovered_to_outbox")
        return CaptureResult.with_degradation(
            family,
            payload=result.payload,
            deliveries=deliveries,
            metadata=result.metadata,
            warnings=tuple(dict.fromkeys(warnings)),
            degradation_reasons=tuple(dict.fromkeys(reasons)),
            recovered_to_outbox=bool(replay_refs) or result.recovered_to_outbox,
            replay_refs=(*result.replay_refs, *replay_refs),
            applied=result.applied,
        )

    def dispatch_batch(self, batch: BatchCaptureResult) -> BatchCaptureResult:
        results = tuple(self.dispatch_capture(item) for item in batch.results)
        return BatchCaptureResult.from_results(batch.family, results, metadata=batch.metadata)


OUTBOX_FILE = "failed_deliveries.jsonl"
#: held while the outbox file is appended to or rewritten (captures and replay in one process)
OUTBOX_LOCK = threading.Lock()
_REPLAY_CLOCK = [0, 0]  # last millisecond used in a replay ref, and its counter


def _replay_ref(family: PayloadFamily) -> str:
    """1.0's ``replay:<family>.<epoch ms>.<n>``, unique in this process (1.0 reused refs
    within a millisecond)."""
    millis = int(time.time() * 1000)
    if millis <= _REPLAY_CLOCK[0]:
        millis, count = _REPLAY_CLOCK[0], _REPLAY_CLOCK[1] + 1
    else:
        count = 1
    _REPLAY_CLOCK[:] = [millis, count]
    return f"replay:{family.value.lower()}.{millis}.{count}"


def write_outbox_entries(
    config: Any, family: PayloadFamily, payload: Any, failures: Sequence[tuple[Any, BaseException]]
) -> tuple[str, ...]:
    """Append one outbox line per failed sink delivery; returns their replay refs (none when
    the configuration names no outbox)."""
    root = getattr(getattr(config, "recovery", None), "outbox_root", None)
    if root is None:
        return ()
    from ..contract.timestamps import iso_utc_now

    attempts = int(getattr(config.capture, "retry_attempts", 0)) + 1
    serialized = _serialize(payload)
    lines, refs = [], []
    with OUTBOX_LOCK:
        for sink, error in failures:
            info = FailureInfo.from_exception(error)
            ref = _replay_ref(family)
            refs.append(ref)
            lines.append(
                outbox_line(
                    {
                        "replay_ref": ref,
                        "failed_at": iso_utc_now(),
                        "sink_name": str(getattr(sink, "name", type(sink).__name__)),
                        "family": family.value,
                        "payload_type": type(payload).__name__,
                        "payload_ref": _ref_of(payload),
                        "error": info.message,
                        "error_code": info.code,
                        "attempts": attempts,
                        "payload": serialized,
                    }
                )
            )
        Path(root).mkdir(parents=True, exist_ok=True)
        with (Path(root) / OUTBOX_FILE).open("a", encoding="utf-8", newline="\n") as handle:
            handle.write("".join(lines))
    return tuple(refs)


def outbox_line(entry: Mapping[str, Any]) -> str:
    """One outbox entry as 1.0 writes it: sorted keys, compact, non-ASCII kept, newline."""
    return (
        json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        + "\n"
    )


def dispatch_capture_result(dispatcher: CaptureDispatcher, result: CaptureResult) -> CaptureResult:
    return dispatcher.dispatch_capture(result)


def dispatch_batch_capture_result(
    dispatcher: CaptureDispatcher, batch: BatchCaptureResult
) -> BatchCaptureResult:
    return dispatcher.dispatch_batch(batch)
