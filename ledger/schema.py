"""The event row: one Arrow schema for every segment of the ledger.

Hot fields are typed columns so projections fold with Arrow compute without decoding bodies;
``body`` carries the full, self-describing encoding of the stored object. Keys stay plain
strings (no dictionary encoding across batches).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import pyarrow as pa

from .errors import LedgerValidationError

__all__ = [
    "COLUMNS",
    "EVENT_SCHEMA",
    "INT64_MAX",
    "INT64_MIN",
    "SCHEMA_VERSION",
    "PendingEvent",
    "check_events",
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


# ---------------------------------------------------------------------- the row's ranges

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
_FLOAT_EXACT = 1 << 53  # ints beyond it have no exact float64
_STRINGS = ("kind", "ref", "project_ref", "run_ref", "stage_ref", "key", "actor")


def check_events(events: Iterable[Any]) -> Sequence[PendingEvent]:
    """``events`` as a list or tuple, once every one fits the event row; else raises
    :class:`~ledger.errors.LedgerValidationError` naming the first bad field, its value and the
    event's index (nothing is buffered then: the writer can never be handed a row it cannot
    encode).

    One pass of cheap type and range tests per event (about half a microsecond: the strings
    are tested as ASCII together); an event that fails them is looked at field by field (a
    non-ASCII string is accepted when it encodes as UTF-8)."""
    rows = events if type(events) is list or type(events) is tuple else list(events)
    try:
        for event in rows:
            kind, ref, project, run, stage, valid, key, value, step, actor, body = event
            if (
                type(body) is bytes
                and isinstance(event, tuple)  # Arrow reads a struct from a tuple, not a list
                and (step is None or (type(step) is int and INT64_MIN <= step <= INT64_MAX))
                and (valid is None or (type(valid) is int and INT64_MIN <= valid <= INT64_MAX))
                and (value is None or type(value) is float)
                and type(kind) is str
                and (type(ref) is str or ref is None)
                and (type(run) is str or run is None)
                and (type(project) is str or project is None)
                and (type(stage) is str or stage is None)
                and (type(key) is str or key is None)
                and (type(actor) is str or actor is None)
                and f"{kind}{ref}{project}{run}{stage}{key}{actor}".isascii()
            ):
                continue
            if not isinstance(event, tuple) or _problem(event) is not None:
                break
        else:
            return rows
    except (TypeError, ValueError):
        pass
    _raise_first(rows)
    return rows  # pragma: no cover - _raise_first raises


def _raise_first(rows: Sequence[Any]) -> None:
    """Raise the error of the first event of ``rows`` that does not fit the row."""
    for index, event in enumerate(rows):
        if not isinstance(event, tuple) or len(event) != len(PendingEvent._fields):
            raise LedgerValidationError(
                f"Event {index} is not a PendingEvent of 11 fields: {_short(event)}.",
                field="event",
                value=_short(event),
                index=index,
            )
        problem = _problem(event)
        if problem is not None:
            field, reason = problem
            shown = _short(event[PendingEvent._fields.index(field)])
            raise LedgerValidationError(
                f"Event {index} ({_short(event[0])}): {field} {reason}, got {shown}. "
                "Nothing of this call was buffered.",
                field=field,
                value=shown,
                index=index,
            )


def _problem(event: Any) -> tuple[str, str] | None:
    """(field, what is wrong) of the first field of ``event`` that does not fit, or None."""
    fields = dict(zip(PendingEvent._fields, event, strict=True))
    for name in _STRINGS:
        text = fields[name]
        if text is None and name != "kind":
            continue
        if not isinstance(text, str):
            return name, "must be a string" + ("" if name == "kind" else " or None")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return name, "must be valid UTF-8 text (no lone surrogates)"
    for name in ("step", "valid_time"):  # valid_time: epoch microseconds
        number = fields[name]
        if number is None:
            continue
        if (
            not isinstance(number, int)
            or isinstance(number, bool)
            or not (INT64_MIN <= number <= INT64_MAX)
        ):
            return name, "must be a 64-bit signed integer (-2**63 to 2**63-1) or None"
    value = fields["value"]
    if (
        value is not None
        and not isinstance(value, float)
        and not (
            isinstance(value, int)
            and not isinstance(value, bool)
            and -_FLOAT_EXACT <= value <= _FLOAT_EXACT
        )
    ):
        return "value", "must be a float (or an int exactly representable as one) or None"
    if not isinstance(fields["body"], bytes):
        return "body", "must be bytes"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
