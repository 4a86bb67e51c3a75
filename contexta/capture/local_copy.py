"""1.0's default local capture copy: ``<workspace>/cache/capture/<family>.jsonl``.

A ``Contexta()`` opened without ``sinks=`` keeps a copy of every captured record and artifact
registration as JSON lines, in 1.0's file and lines (what :func:`~.sinks._local_line` writes: keys
sorted, compact, refs as ``kind:value`` text, Python's number forms). The copy is queued and
written in batches (when 1,024 are queued, when a run closes, on ``flush``/``close`` and at
exit). It is a copy: the ledger is the system of record, and it is not listed among a result's
deliveries.

A training loop pays about a microsecond per record for it. The part of a record's line that
is the same for every record of a scope (the envelope's refs, producer, markers) is made once
per scope into a template; a record fills in its capture time, ref and timestamps, and its
payload is encoded by msgspec directly (payload fields hold refs as text already). A scope's
plain metrics (a float value and at most a step: the training loop's) are queued as the few
values their lines need and made into lines at flush, a run of them at a time, by one Arrow
join of the template's parts and those values' columns; their ``captured_at`` is the record's
``recorded_at``, the instant the scope captured the value. What the template cannot vouch for
(extensions on the envelope, payload attributes, a mapping with a ``"kind"`` key, an artifact
registration) is written by :func:`~.sinks._local_line`, the reference every fast line equals
(``tests/parity_tests/test_local_copy.py``, ``tests/perf_tests/test_metric_lane.py``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from ledger import arrays

from ..contract import (
    DegradedRecord,
    MetricRecord,
    StableRef,
    StructuredEventRecord,
    TraceSpanRecord,
)
from ..ordering import string_scalar
from .builtin_sinks import _local_line, _serialize
from .results import PayloadFamily

__all__ = ["LocalCaptureFile", "PlainEntry", "iso_micros"]

SINK_NAME = "local-jsonl"
_ENCODE = msgspec.json.Encoder(order="sorted").encode  # no hook: refuses what it cannot write
_astuple = msgspec.structs.astuple
_time_ns = time.time_ns
_float_repr = float.__repr__
_int_repr = int.__repr__
_RECORD = PayloadFamily.RECORD
_RECORD_TYPES = frozenset((MetricRecord, StructuredEventRecord, TraceSpanRecord, DegradedRecord))
_TEMPLATE_LIMIT = 4096
_ENCODE_NUMBER = msgspec.json.Encoder().encode
# Python's repr writes a float without an exponent from 1e-4 up to (not including) 1e16
_SMALLEST_FIXED, _LARGEST_FIXED = 1e-4, 1e16
# Lines joined and encoded per write: a whole queue at once (about a megabyte of text, then as
# much again encoded) costs the allocator fresh pages at every flush, 3-4 times the time of
# writing it in chunks of a few dozen kilobytes.
_CHUNK = 64
_LIVE: weakref.WeakSet[LocalCaptureFile] = weakref.WeakSet()
#: the texts every line's join takes as they are (as Arrow scalars: a Python value given to a
#: compute function goes through pyarrow's converter, which imports pandas)
_NO_TAGS = string_scalar("{}")
_NOTHING = string_scalar("")
_clock: list[Any] = [-1, ""]  # [whole second, its formatted text]


def iso_micros(micros: int) -> str:
    """Epoch microseconds as 1.0's ``captured_at`` text: ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, the
    fraction omitted when it is zero (``datetime.isoformat``'s form), the second cached."""
    seconds, fraction = divmod(micros, 1_000_000)
    if seconds != _clock[0]:
        _clock[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _clock[0] = seconds
    prefix: str = _clock[1]
    return f"{prefix}.{fraction:06d}Z" if fraction else prefix + "Z"


# Sentinels standing for what each record fills in, in the order they appear in a line; a
# control character is written as ``\u00XX``, which no ref, timestamp or marker holds.
_CAPTURED, _OBSERVED, _REF, _RECORDED, _KEY, _TAGS, _VALUE, _PAYLOAD, _PAYLOAD_REF = (
    chr(c) for c in range(1, 10)
)
_METRIC_PARTS = (_CAPTURED, _OBSERVED, _REF, _RECORDED, _KEY, _TAGS, _VALUE, _PAYLOAD_REF)
_RECORD_PARTS = (_CAPTURED, _OBSERVED, _REF, _RECORDED, _PAYLOAD, _PAYLOAD_REF)


def _template(record: Any) -> tuple[str, ...] | None:
    """The constant text of ``record``'s line around what each record of its scope fills in:
    the reference line with sentinels in those places, split on them (None when it does not
    split). A metric's template keeps its payload too, but for the key, tags and value."""
    metric = type(record) is MetricRecord
    envelope = _serialize(record.envelope)
    envelope.update(observed_at=_OBSERVED, record_ref=_REF, recorded_at=_RECORDED)
    if metric:
        payload = _serialize(record.payload)
        payload.update(metric_key=_KEY, tags=_TAGS, value=_VALUE)
    entry = {
        "captured_at": _CAPTURED,
        "sink_name": SINK_NAME,
        "family": _RECORD.value,
        "payload_type": type(record).__name__,
        "payload_ref": _PAYLOAD_REF,
        "payload": {"envelope": envelope, "payload": payload if metric else _PAYLOAD},
    }
    text = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    parts: list[str] = []
    for sentinel in _METRIC_PARTS if metric else _RECORD_PARTS:
        marker = json.dumps(sentinel)
        if text.count(marker) != 1:
            return None
        before, text = text.split(marker)
        parts.append(before)
    parts.append(text)
    return tuple(parts)


def _float_text(value: float) -> str:
    """``json.dumps(value)`` for a float, without its call overhead. Where Python writes a
    finite float without an exponent (1e-4 <= |value| < 1e16, and zero) msgspec writes the same
    text (the shortest digits that read back as the value) several times faster than ``repr``
    (``tests/parity_tests/test_local_copy.py`` checks it on random floats of every magnitude)."""
    if (
        _SMALLEST_FIXED <= value < _LARGEST_FIXED
        or -_LARGEST_FIXED < value <= -_SMALLEST_FIXED
        or value == 0.0
    ):
        return _ENCODE_NUMBER(value).decode()
    if value - value == 0.0:
        return _float_repr(value)
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _payload_text(payload: Any) -> str | None:
    """An event, span or degraded payload as the reference line writes it, or None when
    msgspec's form could differ: attributes (user values: numbers in Python's forms, maps 1.0
    reads as refs), a value msgspec refuses. The other fields are text, None or text tuples."""
    if payload.attributes:
        return None
    try:
        return _ENCODE(payload).decode()
    except (TypeError, ValueError, OverflowError):
        return None


class LocalCaptureFile:
    """Queued JSON-line copies of captured payloads, one file per family under ``root``.

    A payload is encoded when it is added: the queue holds text, not the payload objects (which
    would otherwise outlive the emission and load the garbage collector). Adding takes no lock:
    a list append is atomic, and :meth:`flush` removes only the lines it writes."""

    name = SINK_NAME
    limit = 1024

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        # text lines, and plain metric entries made into lines at flush
        self._queues: dict[PayloadFamily, list[str | PlainEntry]] = {f: [] for f in PayloadFamily}
        self._records = self._queues[_RECORD]
        self._lock = threading.Lock()  # one flush at a time
        self._templates: dict[tuple[Any, ...], tuple[str, ...] | None] = {}
        self._keys: dict[str, str] = {}  # metric keys as JSON text
        self._plain: dict[Any, tuple[str, ...]] = {}  # scope -> its plain metric template
        # the template used last, for the next record of the same scope (metrics apart)
        self._last: tuple[tuple[Any, ...], tuple[str, ...] | None] = ((), None)
        self._last_metric: tuple[Any, Any, Any, tuple[str, ...] | None] = ((), (), None, None)
        _LIVE.add(self)

    def add(self, family: PayloadFamily, payload: Any) -> None:
        micros = _time_ns() // 1000
        line = None
        if type(payload) is MetricRecord and family is _RECORD:
            line = self._metric_line(micros, payload)
        elif family is _RECORD and type(payload) in _RECORD_TYPES:
            line = self._record_line(micros, payload)
        if line is None:
            line = _local_line(iso_micros(micros), SINK_NAME, family, payload)
        queue = self._queues[family]
        queue.append(line)
        if len(queue) >= self.limit:
            self.flush()

    def add_record(self, record: Any) -> None:
        """:meth:`add` of a captured record (a capture scope's path: a metric's line first)."""
        micros = _time_ns() // 1000
        kind = type(record)
        line = None
        if kind is MetricRecord:
            line = self._metric_line(micros, record)
        elif kind in _RECORD_TYPES:
            line = self._record_line(micros, record)
        if line is None:
            line = _local_line(iso_micros(micros), SINK_NAME, _RECORD, record)
        queue = self._records
        queue.append(line)
        if len(queue) >= self.limit:
            self.flush()

    def add_plain_metric(self, scope: Any, record: Any, ref: str, step: int | None) -> None:
        """Queue the line of a metric a capture scope made from its own template: a float value,
        no unit or tags, step-wise raw observation, ``step`` in its tags when given (what
        :meth:`RecordFactory.fresh_metric` reports as plain). ``scope`` is the object that made
        it (its template is made once, from its first record); ``ref`` its ``record_ref`` text.

        The queue holds the few values the line needs (its ``captured_at`` is the record's
        ``recorded_at``: the instant the scope captured the value); the lines are made at flush,
        a run of such entries at a time, by Arrow (:func:`_joined_lines`)."""
        template = self.plain_template(scope, record)
        if template is _NO_TEMPLATE:
            self.add_record(record)
            return
        payload = record.payload
        key_text = self._key_text(payload.metric_key)
        queue = self._records
        queue.append(
            PlainEntry(template, record.envelope.recorded_at, ref, key_text, step, payload.value)
        )
        if len(queue) >= self.limit:
            self.flush()

    @property
    def key_texts(self) -> dict[str, str]:
        """Metric keys as JSON text, for those this copy has written (a queued plain metric
        entry holds its key so)."""
        return self._keys

    @property
    def record_queue(self) -> list[str | PlainEntry]:
        """The queue of the record family: lines, and :class:`PlainEntry` items made into lines
        at flush (append to it, then :meth:`flush` once it holds :attr:`limit`)."""
        return self._records

    def _key_text(self, key: str) -> str:
        """``key`` as JSON text, kept for the next record (:attr:`key_texts`)."""
        key_text = self._keys.get(key)
        if key_text is None:
            if len(self._keys) >= _TEMPLATE_LIMIT:
                self._keys.clear()
            key_text = self._keys[key] = json.dumps(key, ensure_ascii=False)
        return key_text

    def plain_template(self, scope: Any, record: Any) -> tuple[str, ...]:
        """The template of ``scope``'s plain metrics (see :meth:`add_plain_metric`), made from
        ``record``, one of them, the first time; empty when its line cannot be made from one."""
        templates = self._plain
        template = templates.get(scope)
        if template is None:
            if len(templates) >= _TEMPLATE_LIMIT:
                templates.clear()
            template = templates[scope] = _quoted(_template(record))
        return template

    def file_path_for(self, family: PayloadFamily | str) -> Path:
        value = family.value if isinstance(family, PayloadFamily) else str(family)
        return self.root / f"{value.lower()}.jsonl"

    def flush(self) -> int:
        """Write what is queued; returns the number of lines written."""
        written = 0
        with self._lock:
            for family, queue in self._queues.items():
                count = len(queue)
                if not count:
                    continue
                rows = queue[:count]
                del queue[:count]  # lines added meanwhile stay queued
                self.root.mkdir(parents=True, exist_ok=True)
                with self.file_path_for(family).open("ab") as handle:
                    _write_rows(handle, rows)
                written += count
        return written

    def _template_of(self, record: Any, constant: tuple[Any, ...]) -> tuple[str, ...] | None:
        """The template of a record whose constant fields are ``constant``."""
        templates = self._templates
        if constant in templates:
            found = templates[constant]
        else:
            if len(templates) >= _TEMPLATE_LIMIT:
                templates.clear()
            found = templates[constant] = _template(record)
        return found

    def _captured(self, micros: int) -> str:
        """``iso_micros(micros)``, the common case (this second, a fraction) inline."""
        seconds, fraction = divmod(micros, 1_000_000)
        if seconds != _clock[0] or not fraction:
            return iso_micros(micros)
        return f"{_clock[1]}.{fraction:06d}Z"

    def _record_line(self, micros: int, record: Any) -> str | None:
        """The line of an event, span or degraded record from its scope's template (None: use
        the reference)."""
        fields = _astuple(record.envelope)
        ref = fields[0]
        if fields[-1] or type(ref) is not StableRef:  # extensions hold user values
            return None
        # every envelope field but the ref and the two timestamps (the record's type decides
        # record_type)
        constant = (type(record), *fields[4:])
        last, template = self._last
        if constant != last:  # the same scope: the same objects, compared by identity
            template = self._template_of(record, constant)
            self._last = (constant, template)
        if template is None:
            return None
        body = _payload_text(record.payload)
        if body is None:
            return None
        ref_text = f"{ref.kind}:{ref.value}"
        p0, p1, p2, p3, p4, p5, p6 = template
        return (
            f'{p0}"{self._captured(micros)}"{p1}"{fields[3]}"{p2}"{ref_text}"{p3}"{fields[2]}"'
            f'{p4}{body}{p5}"{ref_text}"{p6}'
        )

    def _metric_line(self, micros: int, record: Any) -> str | None:
        """A metric record's line: its ref, timestamps, key, tags and value written into its
        scope's template, which holds the rest of the envelope and payload (None: use the
        reference)."""
        fields = _astuple(record.envelope)
        ref = fields[0]
        if fields[-1] or type(ref) is not StableRef:  # extensions hold user values
            return None
        values = _astuple(record.payload)
        envelope, payload, basis = fields[4:], values[2:7], values[8]
        last_envelope, last_payload, last_basis, template = self._last_metric
        # the same scope: the same objects, compared by identity
        if envelope != last_envelope or payload != last_payload or basis is not last_basis:
            template = self._template_of(record, (MetricRecord, *envelope, *payload, basis))
            self._last_metric = (envelope, payload, basis, template)
        if template is None:
            return None
        key, value, tags = values[0], values[1], values[7]
        key_text = self._keys.get(key) or self._key_text(key)
        if type(value) is float:
            value_text = _float_text(value)
        elif type(value) is int:
            value_text = _int_repr(value)
        else:
            return None
        if tags is None:
            tags_text = "null"
        elif not tags:
            tags_text = "{}"
        elif len(tags) == 1 and "step" in tags and tags["step"].isdigit():
            tags_text = f'{{"step":"{tags["step"]}"}}'
        else:
            return None  # other tags (or a map 1.0 would read as a ref): the reference
        seconds, fraction = divmod(micros, 1_000_000)
        if seconds != _clock[0] or not fraction:
            captured = iso_micros(micros)
        else:
            captured = f"{_clock[1]}.{fraction:06d}Z"
        ref_text = f"{ref.kind}:{ref.value}"
        p0, p1, p2, p3, p4, p5, p6, p7, p8 = template
        return (
            f'{p0}"{captured}"{p1}"{fields[3]}"{p2}"{ref_text}"{p3}"{fields[2]}"{p4}{key_text}'
            f'{p5}{tags_text}{p6}{value_text}{p7}"{ref_text}"{p8}'
        )


_NO_TEMPLATE: tuple[str, ...] = ()


class PlainEntry(msgspec.Struct, gc=False):
    """A queued plain metric: what its line needs besides its scope's template. Not tracked by
    the garbage collector (it holds text and numbers), so a queue of them does not make the
    training loop's collections more frequent."""

    template: tuple[str, ...]
    now: str  # captured_at = recorded_at = observed_at
    ref: str  # "record:..."
    key: str  # as JSON text
    step: int | None
    value: float


def _quoted(template: tuple[str, ...] | None) -> tuple[str, ...]:
    """A plain metric template's constant parts with the quotes around the values they hold:
    captured, observed, ref, recorded are quoted text, key, tags and value are JSON already,
    the payload ref is quoted; the last part ends the line (``_NO_TEMPLATE``: none)."""
    if template is None:
        return _NO_TEMPLATE
    p0, p1, p2, p3, p4, p5, p6, p7, p8 = template
    return (
        p0 + '"',
        f'"{p1}"',
        f'"{p2}"',
        f'"{p3}"',
        f'"{p4}',
        p5,
        p6,
        p7 + '"',
        f'"{p8}\n',
    )


def _write_rows(handle: Any, rows: list[Any]) -> None:
    """Write queued rows in order: text lines as they are, in chunks of :data:`_CHUNK`, and runs
    of plain metric entries made into lines by :func:`_joined_lines`."""
    text: list[str] = []
    count = len(rows)
    index = 0
    while index < count:
        if type(rows[index]) is str:
            text.append(rows[index])
            index += 1
            if len(text) >= _CHUNK:
                _write_text(handle, text)
            continue
        _write_text(handle, text)  # the lines queued before this run
        start = index
        while index < count and type(rows[index]) is not str:
            index += 1
        handle.write(_joined_lines(rows[start:index]))
    _write_text(handle, text)


def _write_text(handle: Any, text: list[str]) -> None:
    """Write the text lines gathered in ``text`` (if any), each ended by a newline, and empty
    it."""
    if text:
        text.append("")
        handle.write("\n".join(text).encode())
        text.clear()


def _float_column(values: list[Any]) -> Any:
    """:func:`_float_texts` as an Arrow string array. msgspec writes the whole list at once; when
    its text holds no ``e`` (an exponent), ``n`` (``null``: NaN or an infinity) or ``0.0000``
    (a fixed-point number below 1e-4), every number in it is in the range where msgspec's text
    is Python's (a number outside that range always shows one of them), and Arrow splits it."""
    encoded = _ENCODE_NUMBER(values)
    if b"e" in encoded or b"n" in encoded or b"0.0000" in encoded:
        return arrays.strings([text.decode() for text in _float_texts(values, encoded)])
    return pc.split_pattern(arrays.strings([encoded[1:-1].decode()]), ",").flatten()


def _float_texts(values: list[Any], encoded: bytes) -> list[bytes]:
    """``json.dumps`` of each float of ``values``, from ``encoded``, msgspec's text of the list
    (the same text as ``repr`` from 1e-4 up to 1e16, and zero); the others are written one by
    one."""
    texts = encoded[1:-1].split(b",")
    for index, value in enumerate(values):
        if not (
            _SMALLEST_FIXED <= value < _LARGEST_FIXED
            or -_LARGEST_FIXED < value <= -_SMALLEST_FIXED
            or value == 0.0
        ):
            texts[index] = _float_text(value).encode()
    return texts


def _joined_lines(entries: list[PlainEntry]) -> Any:
    """The lines of queued plain metric entries, as one buffer: each column made once, the
    parts joined row by row by Arrow."""
    count = len(entries)
    templates = [e.template for e in entries]
    nows = [e.now for e in entries]
    refs = [e.ref for e in entries]
    keys = [e.key for e in entries]
    steps = [e.step for e in entries]
    values = [e.value for e in entries]
    first = templates[0]
    parts: list[Any]
    if templates.count(first) == count:
        parts = [string_scalar(part) for part in first]
    else:  # several scopes: each part taken row by row from the templates in use
        known: dict[int, int] = {}
        order: list[tuple[str, ...]] = []
        picks = []
        for template in templates:
            at = known.get(id(template))
            if at is None:
                at = known[id(template)] = len(order)
                order.append(template)
            picks.append(at)
        chosen = arrays.array(picks, pa.int32())
        parts = [arrays.strings(column).take(chosen) for column in zip(*order, strict=True)]
    now = arrays.strings(nows)
    ref = arrays.strings(refs)
    tags: Any = _NO_TAGS  # no step anywhere: one text for every line
    if steps.count(None) != count:
        tags = arrays.strings(["{}" if step is None else f'{{"step":"{step}"}}' for step in steps])
    value = _float_column(values)
    p0, p1, p2, p3, p4, p5, p6, p7, p8 = parts
    lines = pc.binary_join_element_wise(
        p0,
        now,
        p1,
        now,
        p2,
        ref,
        p3,
        now,
        p4,
        arrays.strings(keys),
        p5,
        tags,
        p6,
        value,
        p7,
        ref,
        p8,
        _NOTHING,
    )
    offsets = lines.buffers()[1]
    first_byte, last_byte = _span(offsets, lines.offset, count)
    return memoryview(lines.buffers()[2])[first_byte:last_byte]


def _span(offsets: Any, offset: int, count: int) -> tuple[int, int]:
    """The byte range of ``count`` strings from ``offset`` in a string array's offsets."""
    view = memoryview(offsets).cast("i")
    return view[offset], view[offset + count]


@atexit.register
def _flush_all() -> None:
    for capture_file in list(_LIVE):
        with contextlib.suppress(OSError):  # a copy: the ledger already holds every record
            capture_file.flush()
