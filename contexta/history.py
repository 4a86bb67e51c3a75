"""History: the ledger replayed in order, each event with its decoded contract object."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger import CorruptionError, Head, arrays
from ledger.segment import BatchFrame
from projections.run_batches import RunLocator

from .events import decode_body
from .workspace import Workspace, translate

__all__ = ["LedgerEvent", "batch_events", "final_as_of", "iter_history"]


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One event of the ledger, as replayed."""

    seq: int
    tx_time: datetime  # aware, UTC: when the fact entered the ledger
    kind: str
    ref: str | None
    run_ref: str | None
    actor: str | None
    model: Any  # the decoded contract object (or quarantine note)
    key: str | None = None
    value: float | None = None
    valid_time: datetime | None = None  # when the fact was true in the world

    def to_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "seq": self.seq,
            "tx_time": iso_utc(self.tx_time),
            "kind": self.kind,
            "ref": self.ref,
            "run_ref": self.run_ref,
            "actor": self.actor,
            "key": self.key,
            "value": self.value,
            "valid_time": iso_utc(self.valid_time) if self.valid_time else None,
            "model": model.to_dict() if hasattr(model, "to_dict") else _note(model),
        }


def final_as_of(workspace: Workspace, when_us: int) -> int:
    """The transaction-time bound for ``as_of(when)``: one whose answer can never change.

    The rule. A commit's ``tx_time`` is assigned under the ledger lock, never earlier than the
    wall clock and always later than the published head's. A commit becomes visible when its
    head is published, after encode, write and fsync, so a read without the lock could miss a
    commit in flight whose ``tx_time`` is already in the past of ``when``, and a later
    ``as_of(when)`` would see it. Hence:

    - ``when`` at or before the published head's ``tx_time``: every later commit is later than
      ``when``; the bound is ``when``, and no lock is taken.
    - otherwise the head is read under the ledger lock (waiting for the commit in flight, if
      any) at time ``now``: every later commit is later than ``now``. The bound is ``when`` if
      it is before ``now``; a ``when`` in the future answers as of ``now`` (the view's ``when``
      says so), since what will be committed until then is not known yet.

    Either way, asking ``as_of`` the returned bound again, from any process, at any later time,
    gives the same answer (assuming the wall clock does not step back)."""
    head = workspace.head()  # commits this process's buffer first
    if when_us <= head.tx_time:
        return when_us
    _, now = workspace.ledger.settled_head()
    return min(when_us, now)


def iso_utc(when: datetime) -> str:
    """A transaction time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _note(model: Any) -> Any:
    fields = getattr(model, "__struct_fields__", None)
    if fields is None:
        return model
    return {name: getattr(model, name) for name in fields}


def iter_history(
    workspace: Workspace,
    *,
    run_ref: str | None = None,
    kinds: Sequence[str] | None = None,
    upto_us: int | None = None,
    head: Head | None = None,
) -> Iterator[LedgerEvent]:
    """The events of the ledger up to ``head`` (default: the committed head when iteration
    starts) matching the filters, in seq order.

    One run's events (``run_ref``) are read from the batches the run locator names
    (:mod:`projections.run_batches`), each CRC-checked and checked to be the batch located, and
    filtered exactly as the scan of every batch filters them: the same events, without reading
    the batches of other runs."""
    if run_ref is not None:
        head = head or workspace.read_head()
        for batch in located_batches(workspace, run_ref, head, upto_us):
            yield from batch_events(batch, run_ref=run_ref, kinds=kinds, upto_us=upto_us)
        return
    for batch in workspace.events(head=head):
        yield from batch_events(batch, run_ref=run_ref, kinds=kinds, upto_us=upto_us)


_LOCATORS: weakref.WeakKeyDictionary[Workspace, RunLocator] = weakref.WeakKeyDictionary()
_LOCATORS_LOCK = threading.Lock()


def run_locator(workspace: Workspace) -> RunLocator:
    """The run locator of ``workspace`` (one per workspace object, kept while it lives)."""
    with _LOCATORS_LOCK:
        locator = _LOCATORS.get(workspace)
        if locator is None:
            locator = RunLocator(workspace.ledger, workspace.projector.root)
            _LOCATORS[workspace] = locator
        return locator


def located_batches(
    workspace: Workspace, run_ref: str, head: Head, upto_us: int | None = None
) -> Iterator[pa.RecordBatch]:
    """The committed ledger batches (up to ``head``; with ``upto_us``, committed at or before
    it) that hold an event of run ``run_ref``, in log order: every batch the scan would find
    one of its events in, and no other."""
    try:
        located, complete_to = run_locator(workspace).locate(run_ref, head, upto_us)
        previous: tuple[int, BatchFrame] | None = None
        for segment, offset, seq in located:
            frame = workspace.ledger.read_located(segment, offset, seq, head, previous)
            previous = (segment, frame)
            batch = frame.batch
            extra = frame.first_seq + frame.count - 1 - head.seq
            if extra > 0:  # never for a head at a batch end, as heads are
                batch = batch.slice(0, batch.num_rows - extra)
            yield batch
        if complete_to < head.seq:  # committed after the locator's checkpoint: read them all
            yield from workspace.ledger.batches(head, after_seq=complete_to)
    except CorruptionError as exc:
        raise translate(exc) from exc


_COLUMNS = (
    "seq",
    "tx_time",
    "kind",
    "ref",
    "run_ref",
    "actor",
    "key",
    "value",
    "valid_time",
    "body",
)


def batch_events(
    batch: pa.RecordBatch,
    *,
    run_ref: str | None = None,
    kinds: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    upto_us: int | None = None,
) -> Iterator[LedgerEvent]:
    """The events of one ledger batch that match the filters (committed at or before
    ``upto_us`` when given), decoded, in seq order."""
    mask = None
    for column, values in (
        ("run_ref", (run_ref,) if run_ref is not None else None),
        ("kind", kinds),
        ("key", keys),
    ):
        if values:
            cond = pc.is_in(batch.column(column), value_set=arrays.strings(list(values)))
            mask = cond if mask is None else pc.and_(mask, cond)
    if upto_us is not None:
        bound = arrays.scalar(upto_us, batch.schema.field("tx_time").type)
        cond = pc.less_equal(batch.column("tx_time"), bound)
        mask = cond if mask is None else pc.and_(mask, cond)
    if mask is not None:
        batch = batch.filter(mask)  # a null condition drops the row
    if batch.num_rows == 0:
        return
    columns = {name: arrays.pylist(batch.column(name)) for name in _COLUMNS}
    for i in range(batch.num_rows):
        kind = columns["kind"][i]
        yield LedgerEvent(
            seq=columns["seq"][i],
            tx_time=columns["tx_time"][i],
            kind=kind,
            ref=columns["ref"][i],
            run_ref=columns["run_ref"][i],
            actor=columns["actor"][i],
            model=decode_body(kind, columns["body"][i]),
            key=columns["key"][i],
            value=columns["value"][i],
            valid_time=columns["valid_time"][i],
        )
