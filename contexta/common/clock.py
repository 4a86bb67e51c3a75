"""Now, as canonical contract timestamp text: one clock for capture, stores and recovery."""

from __future__ import annotations

import time

__all__ = ["utc_now", "utc_now_text"]

_clock: list[int | str] = [-1, ""]  # [whole second, its formatted text]
_time_ns = time.time_ns


def utc_now() -> tuple[str, int]:
    """Now as canonical contract text (``...:SS.ffffffZ``, fraction omitted when zero) and as
    microseconds since the epoch (what ``timestamp_micros`` of that text gives), one clock read."""
    micros = _time_ns() // 1000
    seconds, fraction = divmod(micros, 1_000_000)
    if seconds != _clock[0]:
        _clock[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _clock[0] = seconds
    prefix = str(_clock[1])
    return (f"{prefix}.{fraction:06d}Z" if fraction else prefix + "Z"), micros


def utc_now_text() -> str:
    """Now as canonical contract text (see :func:`utc_now`)."""
    return utc_now()[0]
