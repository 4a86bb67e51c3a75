"""``ledger.arrays`` builds what pyarrow's converter builds, without the converter.

Each builder is run with the converter taken as not ready (its direct layout) and compared with
``pa.array``/``pa.scalar`` over the same values; and a commit built column by column equals the
converter's struct-row build.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger.writer as writer
from ledger import PendingEvent, arrays

SETTINGS = settings(max_examples=150, deadline=None)

texts = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["", "\x00", "a\x00b", "é", "run:p.r1", "\U0001f600"]),
)
TYPES = {
    "int32": (pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "uint64": (pa.uint64(), st.integers(0, 2**64 - 1)),
    "float64": (pa.float64(), st.floats(allow_nan=False)),
    "bool": (pa.bool_(), st.booleans()),
    "binary": (pa.binary(), st.one_of(st.binary(max_size=6), st.text(max_size=4))),
    "timestamp": (pa.timestamp("us", tz="UTC"), st.integers(-(2**62), 2**62)),
}


@pytest.fixture(autouse=True)
def _direct(monkeypatch: pytest.MonkeyPatch) -> None:
    """The direct layouts, whether or not pandas is imported in this process."""
    monkeypatch.setattr(arrays, "converter_ready", lambda: False)


@SETTINGS
@given(st.lists(texts, max_size=40))
def test_strings_equal_the_converter(values: list[str | None]) -> None:
    """Nulls, empty strings, NUL characters (which the text-splitting path must not cut at)
    and characters outside the BMP alike."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrays, "converter_ready", lambda: False)
        built = arrays.strings(values)
        generic = arrays.array(values, pa.string())
    expected = pa.array(values, pa.string())
    built.validate(full=True)
    assert built.equals(expected)
    assert generic.equals(expected)


@SETTINGS
@given(st.sampled_from(sorted(TYPES)), st.data())
def test_every_type_equals_the_converter(name: str, data: st.DataObject) -> None:
    type_, values = TYPES[name]
    items = data.draw(st.lists(st.one_of(st.none(), values), max_size=40))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrays, "converter_ready", lambda: False)
        built = arrays.array(items, type_)
        scalars = [arrays.scalar(v, type_) for v in items[:5]]
    built.validate(full=True)
    assert built.equals(pa.array(items, type_))
    assert scalars == [pa.scalar(v, type_) for v in items[:5]]


@SETTINGS
@given(
    st.lists(st.integers(-(2**62), 2**62), max_size=40),
    st.lists(st.binary(max_size=6), max_size=40),
)
def test_a_writers_columns_without_nulls_equal_the_converter(
    micros: list[int], bodies: list[bytes]
) -> None:
    """The layouts a writer's rows take as they are: every time an int (epoch microseconds),
    every body bytes; a bool among the ints is not taken as one."""
    type_ = pa.timestamp("us", tz="UTC")
    assert arrays.array(micros, type_).equals(pa.array(micros, type_))
    assert arrays.array(bodies, pa.binary()).equals(pa.array(bodies, pa.binary()))
    with pytest.raises(pa.ArrowException):
        arrays.array([*micros, True], type_)


def test_floats_keep_nan_and_infinities_bit_for_bit() -> None:
    values = [math.nan, -math.inf, math.inf, -0.0, None, 3]
    built = arrays.array(values, pa.float64())
    expected = pa.array(values, pa.float64())
    assert built.null_count == expected.null_count == 1
    bits = built.fill_null(0.0).view(pa.int64())
    assert bits.equals(expected.fill_null(0.0).view(pa.int64()))


def test_datetimes_convert_as_the_converter_converts_them() -> None:
    """Aware datetimes in any zone go to UTC; naive ones are taken as UTC."""
    type_ = pa.timestamp("us", tz="UTC")
    moment = datetime(2025, 4, 14, 9, 30, 1, 123456)
    values = [
        moment,
        moment.replace(tzinfo=UTC),
        moment.replace(tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
        datetime(1900, 1, 1, tzinfo=UTC),
        None,
    ]
    assert arrays.array(values, type_).equals(pa.array(values, type_))
    assert arrays.scalar(values[2], type_) == pa.scalar(values[2], type_)


@pytest.mark.parametrize(
    ("values", "type_"),
    [
        ([1], pa.string()),
        ([1], pa.binary()),
        (["x"], pa.int64()),
        ([2**63], pa.int64()),
        ([-1], pa.uint64()),
        ([1], pa.bool_()),
        (["2025-01-01"], pa.timestamp("us", tz="UTC")),
    ],
)
def test_values_that_do_not_fit_are_refused_as_the_converter_refuses_them(
    values: list[object], type_: pa.DataType
) -> None:
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)):
        pa.array(values, type_)
    with pytest.raises(pa.ArrowException):
        arrays.array(values, type_)


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.integers(-(2**50), 2**50)), max_size=30))
def test_utc_timestamps_read_back_as_the_converter_reads_them(values: list[int | None]) -> None:
    column = pa.array(values, pa.int64()).view(pa.timestamp("us", tz="UTC"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrays, "converter_ready", lambda: False)
        got = arrays.pylist(column)
    want = column.to_pylist()
    assert got == want
    assert [repr(v) for v in got] == [repr(v) for v in want]  # the same zone object too


def test_other_types_and_zones_go_to_the_converter() -> None:
    assert arrays.array([[1], None], pa.list_(pa.int64())).equals(
        pa.array([[1], None], pa.list_(pa.int64()))
    )
    column = pa.array([0], pa.timestamp("us", tz="Asia/Tokyo"))
    assert arrays.pylist(column) == column.to_pylist()


def test_the_converter_is_used_once_it_is_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrays, "converter_ready", lambda: True)
    calls: list[object] = []
    real = pa.array
    monkeypatch.setattr(pa, "array", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert arrays.strings(["a", "b"]).equals(real(["a", "b"], pa.string()))
    assert len(calls) == 1


# ---------------------------------------------------------------------- a commit's batch

event_rows = st.builds(
    PendingEvent,
    kind=st.sampled_from(["record.metric", "run", "event.tag", "é"]),
    ref=texts,
    project_ref=texts,
    run_ref=texts,
    stage_ref=texts,
    valid_time=st.one_of(st.none(), st.integers(-(2**62), 2**62)),
    key=texts,
    value=st.one_of(st.none(), st.floats(allow_nan=False)),
    step=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    actor=texts,
    body=st.one_of(st.none(), st.binary(max_size=8)),
)


@SETTINGS
@given(st.lists(event_rows, max_size=20), st.integers(1, 2**40), st.integers(0, 2**50))
def test_a_small_commit_built_by_columns_equals_the_converters_batch(
    events: list[PendingEvent], first_seq: int, tx: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "_WARM", [False])
        direct = writer._build_batch(events, first_seq, tx)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "_WARM", [True])
        converted = writer._build_batch(events, first_seq, tx)
    direct.validate(full=True)
    assert direct.equals(converted)
    assert direct.schema == converted.schema


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
        HealthCheck.too_slow,
    ],
)
@given(st.lists(event_rows, min_size=300, max_size=1_100), st.integers(1, 2**40))
def test_a_full_commit_built_by_columns_equals_the_converters_batch(
    events: list[PendingEvent], first_seq: int
) -> None:
    """Commits of a full buffer are built column by column too until the budget is spent
    (``writer.DIRECT_BUDGET``): the fast layouts (every time an int, every body bytes) and
    the general ones meet in the same batch."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "_WARM", [False])
        direct = writer._build_batch(events, first_seq, 7)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "_WARM", [True])
        converted = writer._build_batch(events, first_seq, 7)
    direct.validate(full=True)
    assert direct.equals(converted)


@pytest.mark.parametrize(
    "type_",
    [pa.list_(pa.int32()), pa.struct([("a", pa.int64())]), pa.string(), pa.float64()],
    ids=str,
)
def test_an_empty_array_of_any_type_is_made_without_the_converter(
    type_: pa.DataType, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pa.array
    monkeypatch.setattr(pa, "array", lambda *a, **k: pytest.fail("the converter was used"))
    built = arrays.array([], type_)
    monkeypatch.setattr(pa, "array", real)
    assert built.type == type_
    assert built.equals(pa.array([], type_))


@pytest.mark.parametrize("chunks", [0, 1, 3])
def test_contiguous_joins_chunks_without_the_converter(chunks: int) -> None:
    parts = [pa.array([f"v{i}", None], pa.string()) for i in range(chunks)]
    column = pa.chunked_array(parts, pa.string())
    joined = arrays.contiguous(column)
    assert isinstance(joined, pa.Array) and joined.type == pa.string()
    assert joined.to_pylist() == column.to_pylist()
    assert arrays.contiguous(joined) is joined
