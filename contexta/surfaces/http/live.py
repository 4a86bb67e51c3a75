"""Server-sent events for open pages: what other processes commit, as they commit it.

Fed by the machinery behind ``ctx.watch`` (:class:`contexta.live.LedgerTail` and
:class:`contexta.live.ChangeWaker`): the tail reads only the batches committed since its last
read, so a page is told about each commit once, in ledger order, within the wake delay
(milliseconds; at worst the 250 ms poll). Each message summarises one wake: the new head, the
runs touched and up to ``MAX_EVENTS`` events (metric values with their step), so a page can
append points or re-ask for one table page instead of fetching everything again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from ...live import ChangeWaker

__all__ = ["MAX_EVENTS", "stream"]

MAX_EVENTS = 2000
HEARTBEAT_SECONDS = 10.0
_COLUMNS = ("seq", "kind", "run_ref", "key", "value", "step", "valid_time")


def _summaries(batches: list[pa.RecordBatch]) -> tuple[int, list[str], list[dict[str, Any]], int]:
    events: list[dict[str, Any]] = []
    runs: dict[str, None] = {}
    head, dropped = 0, 0
    for batch in batches:
        columns = {name: batch.column(name).to_pylist() for name in _COLUMNS}
        for i in range(batch.num_rows):
            head = max(head, columns["seq"][i])
            run = columns["run_ref"][i]
            if run:
                runs[run] = None
            if len(events) >= MAX_EVENTS:
                dropped += 1
                continue
            when = columns["valid_time"][i]
            events.append(
                {
                    "seq": columns["seq"][i],
                    "kind": columns["kind"][i],
                    "run_ref": run,
                    "key": columns["key"][i],
                    "value": columns["value"][i],
                    "step": columns["step"][i],
                    "time": None if when is None else when.timestamp(),
                }
            )
    return head, list(runs), events, dropped


def stream(ctx: Any, after_seq: int | None, alive: Callable[[], bool]) -> Iterator[bytes]:
    """SSE frames: one ``data:`` message per wake with new commits, a comment as heartbeat."""
    tail = ctx.maintenance.tail(after_seq)
    waker = ChangeWaker(tail.root)
    yield f"event: hello\ndata: {json.dumps({'head': tail.last_seq})}\n\n".encode()
    quiet_since = time.monotonic()
    try:
        while alive():
            batches = tail.read()
            if batches:
                head, runs, events, dropped = _summaries(batches)
                message = {"head": head, "runs": runs, "events": events, "dropped": dropped}
                yield f"data: {json.dumps(message)}\n\n".encode()
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            waker.wait()
    finally:
        waker.close()
