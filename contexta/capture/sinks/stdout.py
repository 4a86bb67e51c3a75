"""Contexta 1.0's import path; see :mod:`contexta.capture.builtin_sinks`."""

from contexta.capture.builtin_sinks import (  # noqa: F401 (1.0 names beyond __all__)
    BaseSink,
    CompositeSink,
    InMemorySink,
    InMemorySinkEntry,
    LocalJsonlSink,
    PayloadFamily,
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
