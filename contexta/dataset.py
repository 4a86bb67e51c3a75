"""``contexta.dataset(workspace)``: the committed events as one ``pyarrow.dataset.Dataset``.

Sealed segments are read from their published Parquet copies (``ledger/published/``, see
:mod:`ledger.publish`; missing copies are written first when the workspace is writable), and
the rest of the log, the active segment up to the committed head and any sealed segment
without a copy, is added as an in-memory table. So a filter or aggregate pushed into the
dataset sees exactly the events ``Contexta.history()`` replays, in the ledger's schema.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from ledger import EVENT_SCHEMA, CorruptionError, LedgerError, LedgerReader, list_segments
from ledger.publish import publish, published_path

from .common.errors import IntegrityError, ValidationError

__all__ = ["dataset"]


def dataset(workspace: str | Path) -> Any:
    """The committed events of the workspace at ``workspace`` (a ``pyarrow.dataset.Dataset``
    with the ledger's event schema)."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    root = Path(workspace).expanduser().resolve() / "ledger"
    if not root.is_dir():
        raise ValidationError(
            f"No ledger under workspace {str(workspace)!r} (expected the folder {str(root)!r}).",
            code="dataset_no_ledger",
            details={"workspace": str(workspace)},
        )
    reader = LedgerReader(root)
    try:
        head = reader.head()
        # read only, or a segment in trouble: those segments are read from the log below
        with contextlib.suppress(OSError, LedgerError):
            publish(root)
        files, covered = [], 0
        for info in list_segments(root):
            copy = published_path(root, info.path)
            if info.index >= head.segment or not copy.exists():
                break
            last = int((pq.read_schema(copy).metadata or {}).get(b"ledger.last_seq", b"0"))
            if last > head.seq:
                break
            files.append(str(copy))
            covered = last
        rest = pa.Table.from_batches(list(reader.batches(head, after_seq=covered)), EVENT_SCHEMA)
    except CorruptionError as exc:
        raise IntegrityError(exc.message, code=exc.code, details=exc.details, cause=exc) from exc
    parts = [ds.dataset(files, schema=EVENT_SCHEMA, format="parquet")] if files else []
    parts.append(ds.dataset(rest))
    return parts[0] if len(parts) == 1 else ds.dataset(parts)
