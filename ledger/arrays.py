"""Arrow arrays and scalars from Python values, without importing pandas.

pyarrow's converter (``pa.array``, ``pa.scalar``, and every compute function given a Python
value) first asks whether its input is a pandas object, and to ask, it imports pandas when pandas
is installed: 0.25 to 1.4 s and about 50 MiB, paid by the first conversion of a process. A
process that only reads (a CLI query, a notebook cell, a web request) or writes fewer events
than :data:`ledger.writer.DIRECT_BUDGET` (a training job, an ingest, a rebuild) needs no
pandas, so the values such paths turn into Arrow (a set of refs, a stage name, a bound, a
commit, the lines of the local capture copy) are laid out here directly in Arrow buffers,
which pyarrow takes as they are. Once the converter costs nothing more (pandas imported by
anyone, or not installed), the builders hand their values to it: it is 2-3 times faster per
value.

Every builder returns what ``pa.array(values, type)`` (or ``pa.scalar``) returns for the same
values, ``None`` being null; the property tests hold them to it.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from array import array as _pyarray
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["array", "contiguous", "converter_ready", "direct", "pylist", "scalar", "strings"]

_CODES = {pa.int32(): "i", pa.int64(): "q", pa.uint64(): "Q", pa.float64(): "d"}
_EPOCH = datetime(1970, 1, 1)
_PANDAS_ABSENT: list[bool] = []
_INTS = {int}
_BYTES = {bytes}


def converter_ready() -> bool:
    """Whether pyarrow's converter imports nothing more here: pandas is imported already (not
    still being imported), or is not installed."""
    module = sys.modules.get("pandas")
    if module is not None:
        # while another thread is importing it, the module is in sys.modules already: a
        # conversion now would wait for that import (importlib marks the spec meanwhile)
        return not getattr(getattr(module, "__spec__", None), "_initializing", False)
    if not _PANDAS_ABSENT:
        _PANDAS_ABSENT.append(importlib.util.find_spec("pandas") is None)
    return _PANDAS_ABSENT[0]


def array(values: Iterable[Any], type_: pa.DataType) -> pa.Array:
    """``pa.array(values, type_)`` for a string, binary, boolean, int32, int64, uint64,
    float64 or microsecond-timestamp type (other types go to the converter)."""
    values = values if isinstance(values, list) else list(values)
    if not values:  # of any type, without the converter
        return pa.nulls(0, type_)
    if converter_ready() or not _direct(type_):
        return pa.array(values, type_)
    return direct(values, type_)


def direct(values: list[Any], type_: pa.DataType) -> pa.Array:
    """:func:`array` laid out here whether or not the converter is ready (for a caller that
    must not wait on pyarrow's lock while another thread readies it), for the types of
    :func:`array` only."""
    if type_ == pa.string():
        return _strings(values)
    if type_ == pa.binary():
        if set(map(type, values)) == _BYTES:  # the common case: no conversion to make
            return _variable(values, type_)
        return _variable([_bytes(v) for v in values], type_)
    if type_ == pa.bool_():
        return _booleans(values)
    if type_ in _CODES:
        return _fixed(values, type_)
    if set(map(type, values)) == _INTS:  # epoch microseconds already (a writer's rows)
        return _fixed(values, pa.int64()).view(type_)
    return _fixed([_micros(v) for v in values], pa.int64()).view(type_)


def scalar(value: Any, type_: pa.DataType) -> pa.Scalar:
    """``pa.scalar(value, type_)`` for the types of :func:`array`."""
    return array([value], type_)[0]


def strings(values: Iterable[str | None]) -> pa.Array:
    """``pa.array(values, pa.string())``."""
    values = values if isinstance(values, list) else list(values)
    if converter_ready():
        return pa.array(values, pa.string())
    return _strings(values)


def _strings(values: list[Any]) -> pa.Array:
    try:
        joined = "\x00".join(values)
    except TypeError:  # a null, or not a string
        return _variable([None if v is None else _text(v).encode() for v in values], pa.string())
    if len(values) < 2 or joined.count("\x00") != len(values) - 1:
        return _variable([v.encode() for v in values], pa.string())
    # one text cut by Arrow's kernel: about 6 times faster than a Python loop over the values
    blob = joined.encode()
    one = pa.Array.from_buffers(
        pa.large_string(),
        1,
        [None, pa.py_buffer(_pyarray("q", [0, len(blob)])), pa.py_buffer(blob)],
    )
    return pc.split_pattern(one, "\x00").flatten().cast(pa.string())


def contiguous(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``column`` as one array: its only chunk as it is, several joined, and none (an empty
    table's column) as an empty array made without the converter (``combine_chunks`` of no
    chunks converts an empty Python list, and so imports pandas)."""
    if isinstance(column, pa.Array):
        return column
    if column.num_chunks == 1:
        return column.chunk(0)
    if column.num_chunks == 0:
        return pa.nulls(0, column.type)
    return column.combine_chunks()


def pylist(values: pa.Array | pa.ChunkedArray) -> list[Any]:
    """``values.to_pylist()``. UTC timestamps become datetimes in ``ZoneInfo("UTC")``, as
    pyarrow makes them, without pyarrow's time-zone lookup (which imports pandas)."""
    type_ = values.type
    if not (pa.types.is_timestamp(type_) and type_.tz == "UTC") or converter_ready():
        return list(values.to_pylist())
    utc = _utc()
    naive = values.view(pa.timestamp(type_.unit)).to_pylist()
    return [None if v is None else v.replace(tzinfo=utc) for v in naive]


def _utc() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("UTC")


def _direct(type_: pa.DataType) -> bool:
    return (
        type_ in _CODES
        or type_ in (pa.string(), pa.binary(), pa.bool_())
        or (pa.types.is_timestamp(type_) and type_.unit == "us")
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise pa.ArrowTypeError(f"Expected a string or None, got {type(value).__name__}: {value!r}")


def _bytes(value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    raise pa.ArrowTypeError(f"Expected bytes or None, got {type(value).__name__}: {value!r}")


def _micros(value: Any) -> int | None:
    """Microseconds since the epoch: an int as is, an aware datetime in UTC, a naive one taken
    as UTC (as the converter takes it)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is not None:
            value = value.replace(tzinfo=None) - offset
        delta: timedelta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise pa.ArrowTypeError(f"Expected a datetime, microseconds or None, got {value!r}")


def _validity(values: Sequence[Any]) -> tuple[pa.Buffer | None, int]:
    """The validity bitmap of ``values`` (``None`` is null) and the null count; no bitmap when
    nothing is null."""
    count = values.count(None)  # C speed; no value of these types equals None but None
    if not count:
        return None, 0
    bits = bytearray((len(values) + 7) // 8)
    for i, v in enumerate(values):
        if v is not None:
            bits[i >> 3] |= 1 << (i & 7)
    return pa.py_buffer(bits), count


def _fixed(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    validity, nulls = _validity(values)
    code = _CODES[type_]
    zero = 0.0 if code == "d" else 0
    filled = [zero if v is None else v for v in values] if nulls else values
    if code == "d":
        filled = [float(v) for v in filled]
    try:
        data = _pyarray(code, filled)
    except (TypeError, OverflowError) as exc:
        raise pa.ArrowInvalid(f"Could not convert {values[:5]!r} to {type_}: {exc}") from exc
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(data)], nulls)


def _booleans(values: Sequence[Any]) -> pa.Array:
    validity, nulls = _validity(values)
    bits = bytearray((len(values) + 7) // 8)
    for i, v in enumerate(values):
        if v is not None and not isinstance(v, bool):
            raise pa.ArrowInvalid(f"Could not convert {v!r} to bool")
        if v:
            bits[i >> 3] |= 1 << (i & 7)
    return pa.Array.from_buffers(pa.bool_(), len(values), [validity, pa.py_buffer(bits)], nulls)


def _variable(encoded: list[bytes | None], type_: pa.DataType) -> pa.Array:
    validity, nulls = _validity(encoded)
    parts = [b"" if e is None else e for e in encoded] if nulls else encoded
    try:
        offsets = _pyarray("i", itertools.accumulate(map(len, parts), initial=0))  # type: ignore[arg-type]
    except OverflowError as exc:
        raise pa.ArrowInvalid(f"{type_} values of 2 GiB or more in all") from exc
    data = b"".join(parts)  # type: ignore[arg-type]
    return pa.Array.from_buffers(
        type_, len(parts), [validity, pa.py_buffer(offsets), pa.py_buffer(data)], nulls
    )
