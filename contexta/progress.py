"""A progress bar for long commands: drawn on a terminal, silent when the stream is piped.

Standard library only: one line on stderr, redrawn at most ten times a second, erased when
done, so a piped or redirected run prints nothing extra and a terminal shows the rate.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 28
_EVERY_S = 0.1


class Progress:
    """``with Progress("export", total) as bar: bar.advance(n)``."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "events",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.done = 0
        self._started = time.perf_counter()
        self._drawn = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._drawn >= _EVERY_S:
            self._drawn = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The text of the bar: label, bar (when the total is known), count, rate."""
        elapsed = max((now or time.perf_counter()) - self._started, 1e-9)
        rate = self.done / elapsed
        count = f"{self.done:,}" + (f"/{self.total:,}" if self.total else "")
        if self.total:
            filled = min(_WIDTH, int(_WIDTH * self.done / self.total))
            bar = "[" + "#" * filled + "." * (_WIDTH - filled) + "] "
        else:
            bar = ""
        return f"{self.label} {bar}{count} {self.unit} ({rate:,.0f}/s)"

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now) + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
