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
from datetime import UTC, datetime
from typing import Any

from contexta.common.errors import ValidationError

__all__ = [
    "ensure_utc",
    "iso_utc_now",
    "normalize_timestamp",
    "parse_timestamp",
    "timestamp_micros",
    "utc_now",
]

_UTC = UTC
_EPOCH = datetime(1970, 1, 1)
_CODE = "context_invalid_timestamp"
_HINT = "Use ISO-8601 with a zone, e.g. '2025-01-31T09:30:00Z' or '2025-01-31T11:30:00+02:00'."

# A date immediately followed by an offset ("2025-01-01+02:00"); fromisoformat would read the
# offset as a time of day on Python 3.11, so it is rewritten to midnight at that offset first.
_DATE_WITH_OFFSET = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})([+-][0-9]{2}(?::?[0-9]{2})?)"
)
_fromisoformat = datetime.fromisoformat

# Results of earlier calls, text -> canonical text / microseconds. Plain dicts (cleared when
# full) are cheaper than functools.lru_cache on this hot path; only valid inputs are stored.
_CACHE_LIMIT = 65536
_NORMALIZED: dict[str, str] = {}
_MICROS: dict[str, int] = {}


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


def _canonical(text: str) -> datetime | None:
    """The parsed value when ``text`` is already canonical (``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``).

    Fixed separators plus a naive ``fromisoformat`` result pin every other character to an
    ASCII digit, so this is exact without a regex (which would cost twice as much).
    """
    n = len(text)
    if not (
        (n == 20 or (n == 27 and text[19] == "."))
        and text[-1] == "Z"
        and text[10] == "T"
        and text[4] == "-"
        and text[7] == "-"
        and text[13] == ":"
        and text[16] == ":"
    ):
        return None
    try:
        parsed = _fromisoformat(text[:-1])
    except ValueError:
        return None
    if parsed.tzinfo is not None or (n == 27 and not parsed.microsecond):
        return None
    return parsed


def _normalize_text(text: str) -> str:
    hit = _NORMALIZED.get(text)
    if hit is not None:
        return hit
    result = text if _canonical(text) is not None else _format(_parse_text(text))
    if len(_NORMALIZED) >= _CACHE_LIMIT:
        _NORMALIZED.clear()
    _NORMALIZED[text] = result
    return result


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


def timestamp_micros(value: Any) -> int:
    """Microseconds since the Unix epoch (UTC) of a timestamp.

    Built for sorting many rows: canonical text (what every model stores) is converted without
    normalisation and remembered; any other accepted input is normalised first.
    """
    if type(value) is str:
        hit = _MICROS.get(value)
        if hit is not None:
            return hit
        parsed = _canonical(value)
        if parsed is None:
            parsed = _fromisoformat(normalize_timestamp(value)[:-1])
    else:
        parsed = _fromisoformat(normalize_timestamp(value)[:-1])
    delta = parsed - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if type(value) is str:
        if len(_MICROS) >= _CACHE_LIMIT:
            _MICROS.clear()
        _MICROS[value] = micros
    return micros


def instant_key(canonical: str) -> str:
    """A string that sorts like the instant of a canonical timestamp text.

    Canonical texts of equal length compare correctly as strings; padding whole seconds with
    ``.000000`` makes every text the same length. Cheaper than :func:`timestamp_micros`.
    """
    return canonical if len(canonical) == 27 else canonical[:-1] + ".000000Z"


def ensure_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(tz=UTC)


def iso_utc_now() -> str:
    """The current instant as canonical timestamp text (``...Z``)."""
    return normalize_timestamp(utc_now())
