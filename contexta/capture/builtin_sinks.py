"""Optional extra destinations for captured payloads: ``Contexta(sinks=[InMemorySink()])``.

The ledger is always the system of record; sinks receive a copy of each record or manifest
after it was written (1.0 wrote *only* to sinks). A sink is any object with ``name``,
``supports(family)`` and ``capture(*, family, payload) -> SinkCaptureReceipt``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import msgspec

from ..contract.serialization import to_payload
from .errors import DispatchError
from .results import DeliveryStatus, PayloadFamily, _enum

__all__ = [
    "BaseSink",
    "CompositeSink",
    "InMemorySink",
    "InMemorySinkEntry",
    "LocalJsonlSink",
    "Sink",
    "SinkCaptureReceipt",
    "SinkCaptureRequest",
    "StdoutSink",
    "sink_line",
]


def _ref_of(payload: Any) -> str | None:
    envelope = getattr(payload, "envelope", None)
    if envelope is not None:
        return str(envelope.record_ref)
    for name in ("artifact_ref", "run_ref", "stage_execution_ref"):
        ref = getattr(payload, name, None)
        if ref is not None:
            return str(ref)
    if isinstance(payload, Mapping) and "manifest" in payload:
        return _ref_of(payload["manifest"])
    return None


def _serialize(payload: Any) -> Any:
    """A payload as sinks write it (1.0's form): every field of a model in declaration order,
    None included, refs as ``kind:value`` text, tuples as lists."""
    if hasattr(payload, "__struct_fields__"):
        try:
            return _builtins(msgspec.to_builtins(payload))
        except (TypeError, ValueError):
            return to_payload(payload)
    if isinstance(payload, Mapping):
        return {key: _serialize(item) for key, item in payload.items()}
    if isinstance(payload, (list, tuple)):
        return [_serialize(item) for item in payload]
    return payload


def _builtins(value: Any) -> Any:
    """``msgspec.to_builtins`` output with refs turned into text (one call per container)."""
    if type(value) is not dict:
        return [_builtins(v) if type(v) in (dict, list, tuple) else v for v in value]
    if len(value) == 2 and "kind" in value and "value" in value:  # a StableRef
        return f"{value['kind']}:{value['value']}"
    out = {}
    for key, item in value.items():
        kind = type(item)
        out[key] = _builtins(item) if kind is dict or kind is tuple or kind is list else item
    return out


@dataclass(frozen=True, slots=True)
class SinkCaptureRequest:
    family: PayloadFamily
    payload: Any
    payload_type: str = ""
    payload_ref: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family.value,
            "payload_type": self.payload_type,
            "payload_ref": self.payload_ref,
            "payload": _serialize(self.payload),
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True, slots=True)
class SinkCaptureReceipt:
    status: DeliveryStatus = DeliveryStatus.SUCCESS
    detail: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def success(
        cls, *, detail: str = "", metadata: Mapping[str, Any] | None = None
    ) -> SinkCaptureReceipt:
        return cls(DeliveryStatus.SUCCESS, detail, dict(metadata or {}))

    @classmethod
    def degraded(
        cls, *, detail: str, metadata: Mapping[str, Any] | None = None
    ) -> SinkCaptureReceipt:
        return cls(DeliveryStatus.DEGRADED, detail, dict(metadata or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "detail": self.detail, "metadata": dict(self.metadata)}


@runtime_checkable
class Sink(Protocol):
    name: str

    def supports(self, family: PayloadFamily | str) -> bool: ...

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt: ...


class BaseSink:
    """Name and family filter shared by the built-in sinks."""

    def __init__(
        self, *, name: str, supported_families: tuple[PayloadFamily | str, ...] | None = None
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise DispatchError("A sink needs a non-blank name.", code="sink_invalid_name")
        self.name = name.strip()
        self.supported_families = tuple(
            _enum(PayloadFamily, f, "family") for f in (supported_families or tuple(PayloadFamily))
        )

    def supports(self, family: PayloadFamily | str) -> bool:
        return _enum(PayloadFamily, family, "family") in self.supported_families

    def make_request(
        self,
        *,
        family: PayloadFamily | str,
        payload: object,
        metadata: Mapping[str, Any] | None = None,
    ) -> SinkCaptureRequest:
        kind: PayloadFamily = _enum(PayloadFamily, family, "family")
        if kind not in self.supported_families:
            raise DispatchError(
                f"Sink '{self.name}' does not support family '{kind.value}'.",
                code="sink_family_not_supported",
                details={"sink_name": self.name, "family": kind.value},
            )
        return SinkCaptureRequest(
            kind, payload, type(payload).__name__, _ref_of(payload), dict(metadata or {})
        )


@dataclass(frozen=True, slots=True)
class InMemorySinkEntry:
    request: SinkCaptureRequest

    @property
    def family(self) -> PayloadFamily:
        return self.request.family

    @property
    def payload(self) -> Any:
        return self.request.payload

    @property
    def payload_type(self) -> str:
        return self.request.payload_type

    @property
    def payload_ref(self) -> str | None:
        return self.request.payload_ref

    def to_dict(self) -> dict[str, Any]:
        return self.request.to_dict()


class InMemorySink(BaseSink):
    """Keeps every payload in memory (tests, notebooks)."""

    def __init__(
        self,
        *,
        name: str = "memory",
        supported_families: tuple[PayloadFamily | str, ...] | None = None,
    ) -> None:
        super().__init__(name=name, supported_families=supported_families)
        self._entries: list[InMemorySinkEntry] = []

    @property
    def entries(self) -> tuple[InMemorySinkEntry, ...]:
        return tuple(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        self._entries.append(InMemorySinkEntry(self.make_request(family=family, payload=payload)))
        return SinkCaptureReceipt.success(
            detail=f"captured by in-memory sink as entry {len(self._entries)}",
            metadata={"entry_index": len(self._entries) - 1},
        )


class LocalJsonlSink(BaseSink):
    """Appends each payload as one JSON line to ``<root>/<family>.jsonl``."""

    def __init__(
        self,
        root_path: str | Path,
        *,
        name: str = "local-jsonl",
        supported_families: tuple[PayloadFamily | str, ...] | None = None,
    ) -> None:
        super().__init__(name=name, supported_families=supported_families)
        self.root_path = Path(root_path).expanduser().resolve()
        self.root_path.mkdir(parents=True, exist_ok=True)

    def file_path_for(self, family: PayloadFamily | str) -> Path:
        return self.root_path / f"{_enum(PayloadFamily, family, 'family').value.lower()}.jsonl"

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        from contexta.contract.timestamps import iso_utc_now

        request = self.make_request(family=family, payload=payload)
        target = self.file_path_for(request.family)
        line = _local_line(iso_utc_now(), self.name, request.family, request.payload)
        with target.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(line + "\n")
        return SinkCaptureReceipt.success(
            detail=f"appended payload to {target.name}", metadata={"path": str(target)}
        )


def _local_line(captured_at: str, sink_name: str, family: PayloadFamily, payload: Any) -> str:
    """One line of a local JSON-lines file, as 1.0 writes it (no newline): the capture time,
    sink, family, payload type and ref, and the payload; keys sorted, compact, non-ASCII kept."""
    entry = {
        "captured_at": captured_at,
        "sink_name": sink_name,
        "family": family.value,
        "payload_type": type(payload).__name__,
        "payload_ref": _ref_of(payload),
        "payload": _serialize(payload),
    }
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def sink_line(sink_name: str, request: SinkCaptureRequest, **extra: Any) -> dict[str, Any]:
    """The JSON object a line-writing sink emits for ``request`` (1.0's fields)."""
    return {
        "sink": sink_name,
        "family": request.family.value,
        "payload_type": request.payload_type,
        "payload_ref": request.payload_ref,
        "payload": _serialize(request.payload),
        **extra,
    }


class StdoutSink(BaseSink):
    """Prints each payload as one JSON line on stdout (or stderr): for development and CI."""

    def __init__(
        self,
        *,
        name: str = "stdout",
        stream: str = "stdout",
        supported_families: tuple[PayloadFamily | str, ...] | None = None,
        indent: int | None = None,
    ) -> None:
        super().__init__(name=name, supported_families=supported_families)
        if stream not in ("stdout", "stderr"):
            raise DispatchError(
                f"StdoutSink stream must be 'stdout' or 'stderr', got {stream!r}.",
                code="sink_invalid_stream",
                details={"stream": stream},
            )
        self.stream = stream
        self.indent = indent

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        import sys

        request = self.make_request(family=family, payload=payload)
        line = json.dumps(
            sink_line(self.name, request),
            ensure_ascii=False,
            separators=(",", ":"),
            indent=self.indent,
            default=str,
        )
        print(line, file=sys.stderr if self.stream == "stderr" else sys.stdout, flush=True)
        return SinkCaptureReceipt.success(
            detail=f"printed to {self.stream}",
            metadata={"stream": self.stream, "payload_ref": request.payload_ref},
        )


class CompositeSink(BaseSink):
    """Fans a payload out to several sinks; DEGRADED when any of them fails."""

    def __init__(self, sinks: tuple[Any, ...] | list[Any], *, name: str = "composite") -> None:
        self.sinks = tuple(sinks)
        families = tuple(f for f in PayloadFamily if any(s.supports(f) for s in self.sinks))
        super().__init__(name=name, supported_families=families or None)

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        request = self.make_request(family=family, payload=payload)
        failures = []
        for sink in self.sinks:
            if not sink.supports(request.family):
                continue
            try:
                receipt = sink.capture(family=request.family, payload=payload)
                if receipt.status is not DeliveryStatus.SUCCESS:
                    failures.append(f"{sink.name}: {receipt.detail}")
            except Exception as exc:  # reported, never raised: the ledger already has it
                failures.append(f"{sink.name}: {exc}")
        if failures:
            return SinkCaptureReceipt.degraded(detail="; ".join(failures))
        return SinkCaptureReceipt.success(detail=f"delivered to {len(self.sinks)} sink(s)")
