"""Printing for the command line: aligned text tables or JSON.

Everything printed as text goes through :func:`escape` (values) or :func:`emit` (whole
texts): control characters (C0, DEL, C1), Unicode bidirectional overrides and line or
paragraph separators are shown as escapes such as ``\\x1b`` or ``\\u202e``, so a run name or a
message can neither forge a table row nor send a terminal an escape sequence. JSON output
escapes them by itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

__all__ = ["emit", "emit_error", "emit_json", "emit_json_line", "escape", "safe_text", "table"]

#: Unicode bidirectional controls and line/paragraph separators (shown escaped)
_INVISIBLE = (
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
)
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape_of(code: int) -> str:
    if code in _NAMED:
        return _NAMED[code]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_CONTROLS = (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_INVISIBLE)
#: one value: every control escaped, newlines included
_VALUE = {code: _escape_of(code) for code in _CONTROLS}
#: a whole text whose line breaks are the printer's own: all but ``\\n`` escaped
_TEXT = {code: text for code, text in _VALUE.items() if code != 0x0A}


def escape(value: Any) -> str:
    """``value`` as one line of text safe for a terminal (``None`` as an empty string)."""
    return "" if value is None else str(value).translate(_VALUE)


def safe_text(text: str) -> str:
    """``text`` with every control but its line breaks escaped (the last line of defence of
    :func:`emit`; values inside it should already have gone through :func:`escape`)."""
    return text.translate(_TEXT)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=2, sort_keys=False) + "\n")


def emit_json_line(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, separators=(",", ":")) + "\n")


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[escape(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def emit(text: str) -> None:
    """Print ``text`` (a newline added if missing), its control characters escaped."""
    sys.stdout.write(safe_text(text) + ("\n" if not text.endswith("\n") else ""))


def emit_error(message: str) -> None:
    """One line on stderr, control characters (newlines too) escaped."""
    sys.stderr.write(escape(message) + "\n")
