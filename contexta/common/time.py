"""Contexta 1.0's import path; see :mod:`contexta.contract.timestamps`."""

from contexta.contract.timestamps import (  # noqa: F401 (1.0 names beyond __all__)
    UTC,
    ensure_utc,
    iso_utc_now,
    normalize_timestamp,
    parse_timestamp,
    timestamp_micros,
    utc_now,
)

__all__ = [
    "ensure_utc",
    "iso_utc_now",
    "normalize_timestamp",
    "parse_timestamp",
    "timestamp_micros",
    "utc_now",
]
