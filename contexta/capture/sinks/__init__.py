"""Contexta 1.0's import path: the sinks of :mod:`contexta.capture.builtin_sinks`."""

from contexta.capture.builtin_sinks import (
    BaseSink,
    CompositeSink,
    InMemorySink,
    InMemorySinkEntry,
    LocalJsonlSink,
    Sink,
    SinkCaptureReceipt,
    SinkCaptureRequest,
    StdoutSink,
    sink_line,
)

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
