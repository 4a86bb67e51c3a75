"""Timestamp parsing and normalisation (contract section 2.0, decision 8.6).

Accepted inputs:

* text in any ISO-8601 form Python's ``datetime.fromisoformat`` understands, **with** a zone:
  a trailing ``Z``/``z`` or a UTC offset (``+02:00``, ``-0530``, ``+02``). A date alone may carry
  a zone too (``2025-01-01Z``, ``2025-01-01+02:00`` mean midnight in that zone). Surrounding
  whitespace is ignored. Text without a zone is rejected: it does not name an instant.
* ``datetime`` objects: aware ones are converted to UTC, naive ones are taken to be UTC (as 1.0).

Everything is normalised to UTC text ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (microseconds only when
non-zero, always six digits), the exact output format of Contexta 1.0. Ordering checks compare
instants, never raw strings.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from contexta.common.errors import ValidationError

__all__ = ["normalize_timestamp", "parse_timestamp", "timestamp_micros"]

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1)
_CODE = "context_invalid_timestamp"
_HINT = "Use ISO-8601 with a zone, e.g. '2025-01-31T09:30:00Z' or '2025-01-31T11:30:00+02:00'."

# The canonical output form; text already in it is returned unchanged after a range check.
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?Z")
# A date immediately followed by an offset ("2025-01-01+02:00"); fromisoformat would read the
# offset as a time of day on Python 3.11, so it is rewritten to midnight at that offset first.
_DATE_WITH_OFFSET = re.compile(r"(\d{4}-\d\d-\d\d|\d{8})([+-]\d\d(?::?\d\d)?)")


class _Rejected(Exception):
    """Internal: why a text is not a timestamp (turned into a ValidationError by callers)."""


def _format(naive_utc: datetime) -> str:
    return naive_utc.isoformat() + "Z"


def _parse_text(raw: str) -> datetime:
    """Parse zone-carrying ISO-8601 text into a naive datetime holding the UTC wall time."""
    text = raw.strip()
    if not text:
        raise _Rejected("is blank")
    if text[-1] in "Zz":
        try:
            parsed = datetime.fromisoformat(text[:-1])
        except ValueError:
            raise _Rejected("is not an ISO-8601 timestamp") from None
        if parsed.tzinfo is not None:
            raise _Rejected("carries both an offset and 'Z'")
        return parsed
    match = _DATE_WITH_OFFSET.fullmatch(text)
    if match is not None:
        text = f"{match.group(1)}T00:00:00{match.group(2)}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Rejected("is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Rejected("has no zone; add 'Z' for UTC or an offset such as '+02:00'")
    try:
        return parsed.astimezone(_UTC).replace(tzinfo=None)
    except OverflowError:
        raise _Rejected("is out of range once converted to UTC") from None


@lru_cache(maxsize=8192)
def _normalize_text(text: str) -> str:
    if _CANONICAL.fullmatch(text) is not None:
        try:
            parsed = datetime.fromisoformat(text[:-1])
        except ValueError:
            raise _Rejected("is not a valid date and time") from None
        return text if parsed.microsecond or len(text) == 20 else _format(parsed)
    return _format(_parse_text(text))


def _naive_utc_from_datetime(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=None)
    try:
        return value.astimezone(_UTC).replace(tzinfo=None)
    except OverflowError:
        raise _Rejected("is out of range once converted to UTC") from None


def _reject(where: str, value: Any, reason: str) -> ValidationError:
    return ValidationError(
        f"{where} {reason}: got {value!r}. {_HINT}",
        code=_CODE,
        details={"field": where.rpartition(".")[2], "value": value},
    )


def normalize_timestamp(value: Any, *, field: str = "timestamp") -> str:
    """Return the canonical UTC text of a timestamp, or raise ``context_invalid_timestamp``.

    ``field`` names the offending field in the error (``"Run.started_at"`` style is fine).
    """
    if type(value) is str:
        try:
            return _normalize_text(value)
        except _Rejected as exc:
            raise _reject(field, value, str(exc)) from None
    if isinstance(value, datetime):
        try:
            return _format(_naive_utc_from_datetime(value))
        except _Rejected as exc:
            raise _reject(field, value, str(exc)) from None
    if isinstance(value, str):  # a str subclass: normalise its plain text
        return normalize_timestamp(str(value), field=field)
    raise ValidationError(
        f"{field} must be a timestamp string or datetime, got {type(value).__name__} {value!r}. "
        f"{_HINT}",
        code=_CODE,
        details={"field": field.rpartition(".")[2], "value": value, "type": type(value).__name__},
    )


def parse_timestamp(value: Any, *, field: str = "timestamp") -> datetime:
    """Parse a timestamp (text with a zone, or a datetime) into an aware UTC ``datetime``."""
    text = normalize_timestamp(value, field=field)
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=_UTC)


@lru_cache(maxsize=32768)
def _canonical_micros(text: str) -> int:
    delta: timedelta = datetime.fromisoformat(text[:-1]) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def timestamp_micros(value: Any) -> int:
    """Microseconds since the Unix epoch (UTC) of a timestamp.

    Built for sorting many rows: canonical text (what every model stores) takes a cached fast
    path; any other accepted input is normalised first.
    """
    if type(value) is str and _CANONICAL.fullmatch(value) is not None:
        try:
            return _canonical_micros(value)
        except ValueError:
            pass  # e.g. February 30th: let normalisation report it properly
    return _canonical_micros(normalize_timestamp(value))


def instant_key(canonical: str) -> str:
    """A string that sorts like the instant of a canonical timestamp text.

    Canonical texts of equal length compare correctly as strings; padding whole seconds with
    ``.000000`` makes every text the same length. Cheaper than :func:`timestamp_micros`.
    """
    return canonical if len(canonical) == 27 else canonical[:-1] + ".000000Z"
