"""Timestamps: section 2.0 rules as changed by decision 8.6 (zones accepted, instants compared)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contexta.contract import (
    normalize_timestamp,
    parse_timestamp,
    timestamp_micros,
)

from .helpers import T0, envelope, raises_code, run, span_payload

PLUS2 = timezone(timedelta(hours=2))

NORMALISED = [
    # (input, canonical output)
    ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    (" 2025-01-01T00:00:00.5Z ", "2025-01-01T00:00:00.500000Z"),  # stripped; 6 digits
    ("2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00Z"),  # zero micros dropped
    ("2025-01-01T00:00:00.000000Z", "2025-01-01T00:00:00Z"),
    ("2025-01-01T00:00:00.000001Z", "2025-01-01T00:00:00.000001Z"),
    ("2025-01-01T00:00:00.1234567Z", "2025-01-01T00:00:00.123456Z"),  # truncated
    ("2025-01-01Z", "2025-01-01T00:00:00Z"),  # a date alone is midnight
    ("2025-01-01T00:00Z", "2025-01-01T00:00:00Z"),
    ("2025-01-01T05Z", "2025-01-01T05:00:00Z"),
    ("20250101T000000Z", "2025-01-01T00:00:00Z"),
    ("2025-01-01 00:00:00Z", "2025-01-01T00:00:00Z"),
    # decision 8.6: lowercase z and offsets are accepted and converted to UTC
    ("2025-01-01T00:00:00z", "2025-01-01T00:00:00Z"),
    ("2025-01-01T02:00:00+02:00", "2025-01-01T00:00:00Z"),
    ("2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00Z"),
    ("2025-01-01T00:00:00-00:00", "2025-01-01T00:00:00Z"),
    ("2024-12-31T19:00:00.25-05:00", "2025-01-01T00:00:00.250000Z"),
    ("2025-01-01T05:30:00+0530", "2025-01-01T00:00:00Z"),
    ("2025-01-01T02:00:00+02", "2025-01-01T00:00:00Z"),
    ("2025-01-01+02:00", "2024-12-31T22:00:00Z"),  # date with offset = midnight there
    ("2025-01-01-01:00", "2025-01-01T01:00:00Z"),
    ("0999-03-04T05:06:07Z", "0999-03-04T05:06:07Z"),  # four-digit years kept
]


@pytest.mark.parametrize(("raw", "expected"), NORMALISED)
def test_text_is_normalised_to_utc(raw: str, expected: str) -> None:
    assert normalize_timestamp(raw) == expected
    assert run(started_at=raw).started_at == expected


INVALID = [
    "",
    "   ",
    "garbageZ",
    "2025-01-01T00:00:00",  # naive text: still an error (no zone, no instant)
    "2025-01-01",
    "2025-01-01T00:00:00+02:00Z",  # both an offset and Z
    "2025-02-30T00:00:00Z",  # not a date
    "2025-01-01T24:00:00Z",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
]


@pytest.mark.parametrize("raw", INVALID)
def test_invalid_text_is_rejected(raw: str) -> None:
    with raises_code("context_invalid_timestamp"):
        run(started_at=raw)
    with raises_code("context_invalid_timestamp"):
        normalize_timestamp(raw)


@pytest.mark.parametrize("value", [5, 1.5, None, date(2025, 1, 1), b"2025-01-01T00:00:00Z"])
def test_non_text_non_datetime_is_rejected(value: object) -> None:
    with raises_code("context_invalid_timestamp") as info:
        run(started_at=value)
    assert info.value.details["field"] == "started_at"


def test_naive_text_error_names_field_and_value() -> None:
    with raises_code("context_invalid_timestamp") as info:
        run(started_at="2025-01-01T00:00:00")
    message = str(info.value)
    assert "Run.started_at" in message and "2025-01-01T00:00:00" in message
    assert info.value.details == {"field": "started_at", "value": "2025-01-01T00:00:00"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 1, 1, 1, 2, 3), "2025-01-01T01:02:03Z"),  # naive datetime = UTC (1.0)
        (datetime(2025, 1, 1, 1, 2, 3, 5, tzinfo=PLUS2), "2024-12-31T23:02:03.000005Z"),
        (datetime(2025, 1, 1, tzinfo=UTC), "2025-01-01T00:00:00Z"),
    ],
)
def test_datetimes_are_normalised(value: datetime, expected: str) -> None:
    assert run(started_at=value).started_at == expected


def test_every_timestamp_field_is_normalised() -> None:
    env = envelope(recorded_at="2025-01-01T03:00:00+02:00", observed_at="2025-01-01T00:00:00z")
    assert (env.recorded_at, env.observed_at) == ("2025-01-01T01:00:00Z", T0)
    span = span_payload(started_at="2025-01-01T02:00:00+02:00", ended_at="2025-01-01T00:00:01z")
    assert (span.started_at, span.ended_at) == (T0, "2025-01-01T00:00:01Z")


# ---------------------------------------------------------------- ordering compares instants
def test_fractional_end_after_whole_start_is_accepted() -> None:
    # 1.0 compared strings and rejected this ('.' < 'Z'); decision 8.6 compares instants.
    r = run(status="completed", started_at=T0, ended_at="2025-01-01T00:00:00.5Z")
    assert r.ended_at == "2025-01-01T00:00:00.500000Z"
    env = envelope(recorded_at="2025-01-01T00:00:00.5Z", observed_at=T0)
    assert env.recorded_at == "2025-01-01T00:00:00.500000Z"


def test_offsets_are_compared_as_instants() -> None:
    # 01:00+02:00 is 23:00 UTC the day before: earlier than the start despite the text.
    with raises_code("context_invalid_time_order"):
        run(status="completed", started_at=T0, ended_at="2025-01-01T01:00:00+02:00")
    r = run(status="completed", started_at="2025-01-01T01:00:00+02:00", ended_at=T0)
    assert r.started_at == "2024-12-31T23:00:00Z"


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (
            lambda: run(status="completed", started_at="2025-01-01T00:00:00.5Z", ended_at=T0),
            "context_invalid_time_order",
        ),
        (
            lambda: envelope(recorded_at=T0, observed_at="2025-01-01T00:00:00.000001Z"),
            "record_invalid_time_order",
        ),
        (
            lambda: span_payload(
                started_at="2025-01-01T00:00:01Z", ended_at="2025-01-01T00:00:00.9Z"
            ),
            "record_invalid_time_order",
        ),
    ],
)
def test_earlier_instants_are_rejected(build: object, code: str) -> None:
    with raises_code(code):
        build()  # type: ignore[operator]


def test_equal_instants_are_accepted() -> None:
    r = run(status="completed", started_at="2025-01-01T02:00:00+02:00", ended_at=T0)
    assert r.started_at == r.ended_at


# ---------------------------------------------------------------- public helpers
def test_parse_timestamp_returns_aware_utc() -> None:
    parsed = parse_timestamp("2025-01-01T02:00:00.25+02:00")
    assert parsed == datetime(2025, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)
    assert parse_timestamp(datetime(2025, 1, 1)) == datetime(2025, 1, 1, tzinfo=UTC)
    with raises_code("context_invalid_timestamp"):
        parse_timestamp("2025-01-01T00:00:00")


def test_timestamp_micros() -> None:
    assert timestamp_micros("1970-01-01T00:00:00Z") == 0
    assert timestamp_micros("1970-01-01T00:00:01.000001Z") == 1_000_001
    assert timestamp_micros("1969-12-31T23:59:59Z") == -1_000_000
    assert timestamp_micros("2025-01-01T02:00:00+02:00") == timestamp_micros(T0)
    assert timestamp_micros(datetime(2025, 1, 1)) == timestamp_micros(T0)
    with raises_code("context_invalid_timestamp"):
        timestamp_micros("2025-02-30T00:00:00Z")
    with raises_code("context_invalid_timestamp"):
        timestamp_micros("2025-01-01T00:00:00")


aware = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, PLUS2, timezone(timedelta(hours=-5, minutes=-30))]),
)


@given(aware)
def test_normalisation_properties(moment: datetime) -> None:
    text = normalize_timestamp(moment)
    # canonical shape, idempotent, same instant, micros agree with datetime arithmetic
    assert text.endswith("Z") and len(text) in (20, 27)
    assert normalize_timestamp(text) == text
    assert normalize_timestamp(moment.isoformat()) == text
    assert parse_timestamp(text) == moment
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert timestamp_micros(text) == (moment - epoch) // timedelta(microseconds=1)


@given(aware, aware)
def test_micros_order_matches_instant_order(a: datetime, b: datetime) -> None:
    ta, tb = normalize_timestamp(a), normalize_timestamp(b)
    assert (timestamp_micros(ta) < timestamp_micros(tb)) == (a < b)
    if a <= b:
        assert run(status="completed", started_at=ta, ended_at=tb).ended_at == tb
    else:
        with raises_code("context_invalid_time_order"):
            run(status="completed", started_at=ta, ended_at=tb)
