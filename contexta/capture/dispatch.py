"""Where captured payloads go besides the ledger.

* :class:`LocalCaptureFile`: 1.0's default local sink. A ``Contexta()`` opened without
  ``sinks=`` keeps a copy of every captured record and artifact registration as JSON lines under
  ``<workspace>/cache/capture/<family>.jsonl`` (1.0's file and fields). The copy is queued and
  written in batches (when 1,024 are queued, when a run closes, on ``flush``/``close`` and at
  exit), so a training loop pays for a list append, not a JSON encoding, per record. It is a
  copy: the ledger is the system of record, and it is not listed among a result's deliveries.
* :class:`CaptureDispatcher`: 1.0's dispatcher object, delivering a ``CaptureResult``'s payload
  to a tuple of sinks and recording each delivery on the result.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from .results import BatchCaptureResult, CaptureResult, Delivery, DeliveryStatus, PayloadFamily
from .sinks import LocalJsonlSink, _ref_of, _serialize

__all__ = [
    "CaptureDispatcher",
    "LocalCaptureFile",
    "dispatch_batch_capture_result",
    "dispatch_capture_result",
]

_ENCODE = msgspec.json.Encoder(enc_hook=str, order="sorted").encode
_LIVE: weakref.WeakSet[LocalCaptureFile] = weakref.WeakSet()


class LocalCaptureFile:
    """Queued JSON-line copies of captured payloads, one file per family under ``root``."""

    name = "local-jsonl"
    limit = 1024

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self._queue: list[tuple[float, PayloadFamily, Any]] = []
        self._lock = threading.Lock()
        _LIVE.add(self)

    def add(self, family: PayloadFamily, payload: Any) -> None:
        queue = self._queue
        queue.append((time.time(), family, payload))
        if len(queue) >= self.limit:
            self.flush()

    def file_path_for(self, family: PayloadFamily | str) -> Path:
        value = family.value if isinstance(family, PayloadFamily) else str(family)
        return self.root / f"{value.lower()}.jsonl"

    def flush(self) -> int:
        """Write what is queued; returns the number of lines written."""
        with self._lock:
            queue, self._queue = self._queue, []
        if not queue:
            return 0
        lines: dict[PayloadFamily, list[bytes]] = {}
        for at, family, payload in queue:
            entry = {
                "captured_at": _iso(at), "sink_name": self.name, "family": family.value,
                "payload_type": type(payload).__name__, "payload_ref": _ref_of(payload),
                "payload": _serialize(payload),
            }
            lines.setdefault(family, []).append(_ENCODE(entry))
        self.root.mkdir(parents=True, exist_ok=True)
        for family, rows in lines.items():
            with self.file_path_for(family).open("ab") as handle:
                handle.write(b"\n".join(rows) + b"\n")
        return len(queue)


def _iso(at: float) -> str:
    text = datetime.fromtimestamp(at, UTC).isoformat()
    return text.replace("+00:00", "Z")


@atexit.register
def _flush_all() -> None:
    for capture_file in list(_LIVE):
        with contextlib.suppress(OSError):  # a copy: the ledger already holds every record
            capture_file.flush()


class CaptureDispatcher:
    """Delivers captured payloads to ``sinks``; each delivery is recorded on the result."""

    def __init__(self, *, config: Any = None, sinks: Sequence[Any] = ()) -> None:
        self.config = config
        self.sinks = tuple(sinks)

    @classmethod
    def with_default_local_sink(cls, *, config: Any, sinks: Sequence[Any] | None = None
                                ) -> CaptureDispatcher:
        """``sinks``, or 1.0's default: one JSON-lines sink under ``<cache>/capture``."""
        if sinks is None:
            sinks = (LocalJsonlSink(Path(config.workspace.cache_path) / "capture"),)
        return cls(config=config, sinks=sinks)

    def deliver(self, family: PayloadFamily, payload: Any) -> tuple[Delivery, ...]:
        out = []
        for sink in self.sinks:
            name = str(getattr(sink, "name", type(sink).__name__))
            try:
                if hasattr(sink, "supports") and not sink.supports(family):
                    out.append(Delivery(name, family, DeliveryStatus.SKIPPED,
                                        "family not supported"))
                    continue
                receipt = sink.capture(family=family, payload=payload)
                out.append(Delivery(name, family, receipt.status, receipt.detail))
            except Exception as exc:  # reported on the result, never raised
                out.append(Delivery(name, family, DeliveryStatus.FAILURE, str(exc)))
        return tuple(out)

    def dispatch_capture(self, result: CaptureResult) -> CaptureResult:
        """``result`` with this dispatcher's deliveries added (DEGRADED when one failed)."""
        if result.failed:
            return result
        family = PayloadFamily(result.family)
        deliveries = (*result.deliveries, *self.deliver(family, result.payload))
        failed = [d for d in deliveries if d.status is DeliveryStatus.FAILURE]
        if not failed:
            return msgspec.structs.replace(result, deliveries=deliveries)
        return CaptureResult.with_degradation(
            family, payload=result.payload, deliveries=deliveries, metadata=result.metadata,
            degradation_reasons=tuple(f"{d.sink_name}: {d.detail}" for d in failed))

    def dispatch_batch(self, batch: BatchCaptureResult) -> BatchCaptureResult:
        results = tuple(self.dispatch_capture(item) for item in batch.results)
        return BatchCaptureResult.from_results(batch.family, results, metadata=batch.metadata)


def dispatch_capture_result(dispatcher: CaptureDispatcher, result: CaptureResult
                            ) -> CaptureResult:
    return dispatcher.dispatch_capture(result)


def dispatch_batch_capture_result(dispatcher: CaptureDispatcher, batch: BatchCaptureResult
                                  ) -> BatchCaptureResult:
    return dispatcher.dispatch_batch(batch)
