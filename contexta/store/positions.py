"""Where the records of a buffered append landed in the ledger, found when first asked.

In the buffered default mode ``append`` returns before its records are committed, so their
sequence numbers do not exist yet. A receipt keeps a :class:`PendingPositions` shared by the
records of its append; the first read of ``sequence`` (or ``segment_id``, ``offset``) commits
the buffer and looks every record of that append up once in the records projection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["POSITION_FIELDS", "PendingPositions"]

#: the receipt fields a commit decides
POSITION_FIELDS = ("sequence", "segment_id", "offset")

Position = tuple[int | None, str | None, int | None]


class PendingPositions:
    """The ledger positions of ``refs`` (the records one append wrote), resolved once."""

    __slots__ = ("_found", "_refs", "_workspace")

    def __init__(self, workspace: Any, refs: Sequence[str]) -> None:
        self._workspace = workspace
        self._refs = list(refs)
        self._found: dict[str, Position] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled resolved: a workspace (with its locks) does not travel."""
        if self._found is None:
            self._found = self._resolve()
        return {"refs": self._refs, "found": self._found}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._workspace = None
        self._refs = state["refs"]
        self._found = state["found"]

    def position(self, ref: str) -> Position:
        if self._found is None:
            self._found = self._resolve()
        return self._found.get(ref, (None, None, None))

    def _resolve(self) -> dict[str, Position]:
        ws = self._workspace
        ws.flush()
        table = ws.table("records")
        rows = table.filter(pc.is_in(table.column("ref"), value_set=pa.array(self._refs)))
        found: dict[str, Position] = {}
        columns = (
            rows.column(name).to_pylist() for name in ("ref", "seq", "segment", "batch_offset")
        )
        for ref, seq, segment, offset in zip(*columns, strict=True):
            if ref not in found or seq < (found[ref][0] or 0):
                found[ref] = (seq, f"segment-{segment:012d}", offset)
        return found


def resolve_receipt_field(receipt: Any, name: str) -> Any:
    """``receipt.<name>`` for a position field of a receipt made before its commit."""
    state = receipt.__dict__
    pending = state.get("_pending") if name in POSITION_FIELDS else None
    if pending is None:
        raise AttributeError(f"{type(receipt).__name__!r} object has no attribute {name!r}")
    state.update(zip(POSITION_FIELDS, pending.position(state["record_ref"]), strict=True))
    del state["_pending"]
    return state[name]
