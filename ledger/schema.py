"""The event row: one Arrow schema for every segment of the ledger.

Hot fields are typed columns so projections fold with Arrow compute without decoding bodies;
``body`` carries the full, self-describing encoding of the stored object. Keys stay plain
strings (no dictionary encoding across batches).
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

__all__ = [
    "COLUMNS",
    "EVENT_SCHEMA",
    "SCHEMA_VERSION",
    "PendingEvent",
]

SCHEMA_VERSION = "1"

_TS = pa.timestamp("us", tz="UTC")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("tx_time", _TS, nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("ref", pa.string()),
        pa.field("project_ref", pa.string()),
        pa.field("run_ref", pa.string()),
        pa.field("stage_ref", pa.string()),
        pa.field("valid_time", _TS),
        pa.field("key", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("step", pa.int64()),
        pa.field("actor", pa.string()),
        pa.field("body", pa.binary()),
    ],
    metadata={b"ledger.schema_version": SCHEMA_VERSION.encode()},
)

COLUMNS = tuple(EVENT_SCHEMA.names)


class PendingEvent(NamedTuple):
    """An event as a writer buffers it, before the commit assigns ``seq`` and ``tx_time``.

    ``valid_time`` is microseconds since the epoch (UTC) or None.
    """

    kind: str
    ref: str | None = None
    project_ref: str | None = None
    run_ref: str | None = None
    stage_ref: str | None = None
    valid_time: int | None = None
    key: str | None = None
    value: float | None = None
    step: int | None = None
    actor: str | None = None
    body: bytes = b""
