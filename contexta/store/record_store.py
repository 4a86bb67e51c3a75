"""``ctx.record_store``: appends records as ledger events; scans them back in seq order.

Appends are idempotent (decision 8.5): re-appending an identical record (same ``record_ref``,
same content) writes nothing and adds no copy; a different record under an existing
``record_ref`` is rejected with ``record_ref_conflict``. Invalid input never raises: it comes
back in ``AppendResult.rejected``.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pyarrow.compute as pc

from ledger import PendingEvent, arrays
from ledger.errors import LedgerError
from ledger.schema import INT64_MAX, INT64_MIN
from projections.kinds import RECORD_PREFIX
from projections.query import take_rows

from ..common.dataclass_methods import DataclassMethods
from ..common.errors import ReadOnlyStoreError, ValidationError
from ..contract import DegradedRecord, MetricRecord, StructuredEventRecord, TraceSpanRecord
from ..contract.codec import ENCODER, encode
from ..contract.timestamps import timestamp_micros
from ..events import DEGRADED, EVENT, METRIC, SPAN, span_duration_ms, step_of
from ..ordering import string_scalar
from ..workspace import Workspace, translate
from .positions import PendingPositions, resolve_receipt_field
from .record_replay import ReplayMixin

__all__ = [
    "AppendReceipt",
    "AppendRejection",
    "AppendResult",
    "DurabilityStatus",
    "RecordStore",
    "ScanFilter",
    "StoredRecord",
]

RECORD_TYPES = (MetricRecord, StructuredEventRecord, TraceSpanRecord, DegradedRecord)
SCHEMA_VERSION = "1.0.0"


class DurabilityStatus(enum.StrEnum):
    """How durable an accepted record is when the call returns."""

    ACCEPTED = "ACCEPTED"  # buffered in this process, not yet written
    FLUSHED = "FLUSHED"  # written to the operating system
    FSYNCED = "FSYNCED"  # on stable storage

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, eq=False, repr=False)
class AppendReceipt(DataclassMethods):
    sequence: int | None
    segment_id: str | None
    offset: int | None
    record_ref: str
    record_type: str
    run_ref: str
    durability_status: DurabilityStatus

    def __getattr__(self, name: str) -> Any:
        """A position of a record appended while buffered: resolved on first read."""
        return resolve_receipt_field(self, name)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class AppendRejection(DataclassMethods):
    index: int
    code: str
    message: str
    record_ref: str | None = None
    record_type: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class AppendResult(DataclassMethods):
    accepted: tuple[AppendReceipt, ...]
    rejected: tuple[AppendRejection, ...]
    durability_status: DurabilityStatus
    durable_count: int

    def __getattr__(self, name: str) -> Any:
        """``accepted`` of a result made by the append hot path, whose receipts are built on
        first use (a training loop rarely reads them): afterwards it is a plain attribute."""
        plan = self._pending_plan() if name == "accepted" else None
        if plan is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        accepted = _receipts(*plan)
        self.__dict__["accepted"] = accepted
        return accepted

    def _pending_plan(self) -> tuple[Any, ...] | None:
        """The plan of the receipts not yet built. A buffered append's plan names the workspace
        in place of the :class:`PendingPositions` of its records (one object fewer per append
        in a training loop); it is made here, before receipts are built or the result is
        copied or pickled."""
        plan: tuple[Any, ...] | None = self.__dict__.get("_plan")
        if plan is not None and len(plan) == 7 and isinstance(plan[6], Workspace):
            plan = (*plan[:6], PendingPositions(plan[6], [ref for ref, _, _ in plan[3]]))
            self.__dict__["_plan"] = plan
        return plan

    def __getstate__(self) -> dict[str, Any]:
        self._pending_plan()
        return self.__dict__

    @property
    def accepted_count(self) -> int:
        plan = self.__dict__.get("_plan")
        if plan is not None and "accepted" not in self.__dict__:
            return len(plan[3]) + len(plan[4])
        return len(self.accepted)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    @property
    def success(self) -> bool:
        return not self.rejected


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ScanFilter(DataclassMethods):
    run_ref: str | None = None
    stage_execution_ref: str | None = None
    batch_execution_ref: str | None = None
    sample_observation_ref: str | None = None
    record_type: str | None = None
    start_time: str | None = None
    end_time: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class StoredRecord(DataclassMethods):
    sequence: int
    segment_id: str
    offset: int
    appended_at: str
    record: Any

    @property
    def record_ref(self) -> str:
        return str(self.record.envelope.record_ref)

    @property
    def record_type(self) -> str:
        return self.record.envelope.record_type

    @property
    def run_ref(self) -> str:
        return str(self.record.envelope.run_ref)

    @property
    def stage_execution_ref(self) -> str | None:
        ref = self.record.envelope.stage_execution_ref
        return None if ref is None else str(ref)

    @property
    def batch_execution_ref(self) -> str | None:
        ref = self.record.envelope.batch_execution_ref
        return None if ref is None else str(ref)

    @property
    def sample_observation_ref(self) -> str | None:
        ref = self.record.envelope.sample_observation_ref
        return None if ref is None else str(ref)


class RecordStore(ReplayMixin):
    """Append and read records of one workspace (replay, export and integrity checks come from
    :class:`~contexta.store.record_replay.ReplayMixin`).

    ``ref_cache_max`` bounds the record refs held in memory for the ref-conflict check (about
    200 bytes each); past it the refs of the runs appended to least recently are dropped and
    their runs noted in a Bloom filter of ``ref_filter_bytes``, so a run appended to again
    later is checked against the ledger (exact, one read of what was committed since the
    store's view). Set either on the instance before the first append."""

    ref_cache_max = 262_144
    ref_filter_bytes = 1 << 20

    def __init__(self, workspace: Workspace | Any, *, read_only: bool = False) -> None:
        if not isinstance(workspace, Workspace):  # 1.0's RecordStore(StoreConfig(root_path=...))
            from .standalone import open_standalone

            workspace, from_config = open_standalone(workspace)
            read_only = read_only or from_config
        self._workspace = workspace
        self.read_only = read_only
        self._digests: _KnownRefs | None = None  # record_ref -> hash of body
        self._fresh_committed = False  # append_fresh has committed once
        # Across processes (checked under the commit lock, see ``before_commit``):
        self._view_seq = 0  # ``_digests`` holds every record ref committed up to this seq
        self._clashes: dict[str, int] = {}  # ref this store appended that another committed
        self._late: dict[str, AppendRejection] = {}  # conflicts found at commit, to report
        self._dropped = False  # a commit left out records: receipts cannot number them
        self._learned = 0  # how many times a commit read other writers' records
        if not read_only:
            workspace.ledger.guard = self

    # ------------------------------------------------------------------ append

    @property
    def opened_workspace(self) -> Workspace | None:
        """The workspace this store is opened on (None before it opens one): what a repository
        over the stores reads."""
        return self._workspace

    def append(self, record: Any) -> AppendResult:
        """Append one record (buffered: a few microseconds unless it fills the buffer).

        Same as ``append_many((record,))``; a valid record with a new ``record_ref`` (the
        training-loop case) takes a straight path without the batch bookkeeping.
        """
        digests = self._digests
        if digests is not None and len(digests) > self.ref_cache_max:
            self._bound()
        if (
            self.read_only
            or digests is None
            or type(record) not in _FAST_TYPES
            or not _plain(record)
        ):
            return self.append_many((record,))
        envelope = record.envelope
        ref_obj = envelope.record_ref
        ref = f"{ref_obj.kind}:{ref_obj.value}"
        # ``ref in digests`` (_KnownRefs.__contains__), its common answer inline: a new ref
        # under a parent whose stored refs were gathered is neither appended nor stored
        stored = digests._parents.get(ref.rpartition(".")[0])
        if (stored is None or ref in stored or _dict_has(digests, ref)) and ref in digests:
            return self.append_many((record,))  # duplicate or conflict: the full rules
        ws = self._workspace
        try:
            body = _ENCODE(record)
        except (OverflowError, TypeError, ValueError):
            return self.append_many((record,))  # rejected there, with its code
        event = fast_record_event(record, ref, ws.actor, body)
        if event[8] is not None and not INT64_MIN <= event[8] <= INT64_MAX:
            return self.append_many((record,))  # the step tag does not fit: rejected there
        learned = self._learned
        try:  # built from the record just encoded: it fits the row
            commit = ws.ledger.append_fitted((event,))
        except LedgerError as exc:
            raise translate(exc) from exc
        if learned == self._learned:
            digests[ref] = hash(body)
        else:  # the commit read other writers' records: theirs stay if they came first
            digests.setdefault(ref, hash(body))
        if self._dropped:
            return self._late_result(commit, [(ref, envelope.record_type, event[3])], [], [])
        return _result(ws, commit, [(ref, envelope.record_type, event[3])], [], [])

    def append_fresh(
        self, record: Any, ref: str, observed_us: int | None = None
    ) -> DurabilityStatus | None:
        """Append a record of runtime capture: valid by construction, under a ``ref`` new by
        construction (the run scope's random token and counter: the same guarantee that keeps
        capture refs unique across processes, which no per-process check could give), observed
        at ``observed_us`` (epoch microseconds; None: read from ``observed_at``).

        That skips the stored-ref lookup, which ``append`` prepares once per process by reading
        every stored ref (a cost that grows with the workspace). Returns the durability, or None
        when the record must go through :meth:`append` (read-only store, a schema version or
        extensions the hot path does not vouch for, a value msgspec cannot encode: ``append``
        reports them the usual way)."""
        if self.read_only or not _plain(record):
            return None
        if self._digests is not None and len(self._digests) > self.ref_cache_max:
            self._bound()
        try:
            body = _ENCODE(record)
        except (OverflowError, TypeError, ValueError):
            return None
        ws = self._workspace
        event = fast_record_event(record, ref, ws.actor, body, observed_us)
        if event[8] is not None and not INT64_MIN <= event[8] <= INT64_MAX:
            return None  # a step tag that does not fit: ``append`` rejects it
        commit = ws.write_fitted((event,))  # built from the record just encoded: it fits the row
        if not self._fresh_committed:
            # the first one commits at once, as the first ``append`` does when it reads the
            # stored refs: after its first record the workspace is on disk
            commit = ws.flush() or commit
            self._fresh_committed = True
        digests = self._digests
        if digests is not None:
            digests[ref] = hash(body)
        return DurabilityStatus.ACCEPTED if commit is None else _STATUS[commit.durability]

    def fresh_metric_appender(
        self, run_ref: Any, stage_ref: Any
    ) -> Callable[[Any, str, int, str, float, int | None], DurabilityStatus | None]:
        """:meth:`append_fresh` for the plain metrics of one capture scope (of ``run_ref`` and
        ``stage_ref``, None for a run's own), with what their ledger events share worked out
        once: ``append(record, ref, observed_us, key, value, step)`` of a valid
        :class:`MetricRecord` of that scope under a ref new by construction, observed at
        ``observed_us``, whose key, float value and step (its only tag, or None) are given.
        Returns the durability, or None when the store is read-only (``append`` reports it)."""
        ws = self._workspace
        append_fitted = ws.ledger.append_fitted
        actor = ws.actor
        run_text, project_text = _run_text(run_ref)
        stage_text = _stage_text(stage_ref)

        def append(
            record: Any, ref: str, observed_us: int, key: str, value: float, step: int | None
        ) -> DurabilityStatus | None:
            if self.read_only:
                return None  # ``append`` reports it
            if not self._fresh_committed:  # the first fresh record commits at once
                return self.append_fresh(record, ref, observed_us)
            body = _ENCODE(record)
            event = _new_event(
                PendingEvent,
                (
                    METRIC,
                    ref,
                    project_text,
                    run_text,
                    stage_text,
                    observed_us,
                    key,
                    value,
                    step,
                    actor,
                    body,
                ),
            )
            try:  # built from the record just encoded: it fits the row
                commit = append_fitted((event,))
            except LedgerError as exc:
                raise translate(exc) from exc
            digests = self._digests
            if digests is not None:
                if len(digests) > self.ref_cache_max:
                    self._bound()
                digests[ref] = hash(body)
            return DurabilityStatus.ACCEPTED if commit is None else _STATUS[commit.durability]

        return append

    def append_many(self, records: Iterable[Any]) -> AppendResult:
        """Append records in order; invalid ones come back in ``rejected``, identical re-appends
        are accepted without a second copy, a different record under a stored ``record_ref`` is
        rejected with ``record_ref_conflict``.

        The loop does per record only what needs Python: validate, encode, and pick the hot
        columns out of the object (refs and timestamps through small caches); the columns of the
        batch are built once per commit by the ledger.
        """
        if self.read_only:
            raise ReadOnlyStoreError(
                "The record store is read-only (records.read_only is set).",
                code="record_store_read_only",
            )
        if records is None or not hasattr(records, "__iter__"):
            raise ValidationError(
                f"append_many(records) takes an iterable of records, got {records!r:.80}.",
                code="invalid_records_argument",
                details={"field": "records", "value": repr(records)[:200]},
            )
        ws = self._workspace
        if self._digests is not None and len(self._digests) > self.ref_cache_max:
            self._bound()
        digests = self._digests if self._digests is not None else self._known_digests()
        actor = ws.actor
        events: list[PendingEvent] = []
        meta: list[tuple[str, str, str | None]] = []
        duplicates: list[tuple[str, str, str | None]] = []
        rejected: list[AppendRejection] = []
        pending: dict[str, int] = {}
        for index, record in enumerate(records):
            if type(record) not in _FAST_TYPES or not _plain(record):
                problem = _validate(record)
                if problem is not None:
                    rejected.append(AppendRejection(index, problem[0], problem[1], *_ids(record)))
                    continue
            envelope = record.envelope
            try:
                body = _encode_record(record)
            except ValidationError as exc:  # a value the encoding cannot hold: this one alone
                rejected.append(AppendRejection(index, exc.code, exc.message, *_ids(record)))
                continue
            ref_obj = envelope.record_ref
            ref = f"{ref_obj.kind}:{ref_obj.value}"
            digest = hash(body)
            # ``ref in digests`` with its common answer inline (as in :meth:`append`)
            stored = digests._parents.get(ref.rpartition(".")[0])
            if ref in pending or (
                (stored is None or ref in stored or _dict_has(digests, ref)) and ref in digests
            ):
                seen = pending.get(ref, _MISSING)
                if seen is _MISSING:
                    seen = digests[ref]
                    if seen is None:
                        seen = digests[ref] = self._stored_digest(ref)
                if seen == digest:
                    duplicates.append((ref, envelope.record_type, _run_text(envelope.run_ref)[0]))
                else:
                    rejected.append(_conflict(index, ref, envelope.record_type))
                continue
            event = fast_record_event(record, ref, actor, body)
            if event[8] is not None and not INT64_MIN <= event[8] <= INT64_MAX:
                rejected.append(_bad_step(index, ref, envelope.record_type, event[8]))
                continue
            pending[ref] = digest
            events.append(event)
            meta.append((ref, envelope.record_type, event[3]))
        learned = self._learned
        # built from records just encoded: they fit the row
        commit = ws.write_fitted(events) if events else None
        if pending:
            if learned == self._learned:
                digests.update(pending)
            else:  # the commit read other writers' records: theirs stay if they came first
                for ref, digest in pending.items():
                    digests.setdefault(ref, digest)
        if self._dropped:
            return self._late_result(commit, meta, duplicates, rejected)
        return _result(ws, commit, meta, duplicates, rejected)

    def _late_result(
        self,
        commit: Any,
        meta: list[tuple[str, str, str | None]],
        duplicates: list[tuple[str, str, str | None]],
        rejected: list[AppendRejection],
    ) -> AppendResult:
        """An append's result that also reports the conflicts found by commits since the last
        result (records of this call among them are no longer counted as accepted; the
        positions of the others are not given, since the commit left some out)."""
        self._dropped = False
        late = self._drain_late()
        lost = {r.record_ref for r in late}
        meta = [m for m in meta if m[0] not in lost]
        return _result(
            self._workspace,
            None if commit is None else _unnumbered(commit),
            meta,
            duplicates,
            [*rejected, *late],
        )

    def written_in_bulk(self, parent: str) -> None:
        """Records under ``parent`` (a ref up to its last dot) were committed by the columnar
        path without passing through this store: a later append under it reads them from the
        ledger (they are not held in memory)."""
        digests = self._digests
        if isinstance(digests, _KnownRefs):
            digests.written_elsewhere(parent)

    def _bound(self) -> None:
        """Hold the refs kept in memory to ``ref_cache_max``: commit the buffer (every ref
        held is then in the ledger), then let :meth:`_KnownRefs.shrink` drop the refs of the
        runs appended to least recently."""
        digests = self._digests
        if isinstance(digests, _KnownRefs):
            self._workspace.flush()
            digests.shrink()

    def _known_digests(self) -> _KnownRefs:
        """record_ref -> body hash, for refs stored before this process appended (None: not
        yet compared; the body is read from the ledger if the same ref comes again).

        Stored refs are not read all at once: :class:`_KnownRefs` looks them up run by run
        through the records projection's run index (saved with the projection), so the first
        append pays for the run it appends to, not for the workspace."""
        if self._digests is None:
            head = self._workspace.head()
            table, index = self._workspace.index("records", "run_ref", head=head)
            self._digests = _KnownRefs(
                table,
                index,
                ledger=self._workspace.ledger,
                view_seq=head.seq,
                cap=self.ref_cache_max,
                filter_bytes=self.ref_filter_bytes,
            )
            self._view_seq = head.seq
        return self._digests

    # ------------------------------------------------------------------ across processes

    def before_commit(
        self, ledger: Any, events: list[PendingEvent], head: Any
    ) -> list[PendingEvent]:
        """The commit guard (run by the ledger under its lock): the events of ``events`` to
        write, without the records another writer committed first under the same ref.

        Only the batches committed since this store's last view are read (none at all when
        this process is the only writer), so the check costs nothing per commit unless
        another process wrote meanwhile, and then only what it wrote. A ref both wrote: an
        identical record is dropped (stored once), a different one is dropped and reported
        with ``record_ref_conflict`` by the next append or flush result of this store."""
        if self._digests is None:
            return events  # nothing appended here but fresh refs (new by construction)
        if head.seq > self._view_seq:
            foreign = self._learn(ledger, head)
            if foreign:  # the records of the call committing now are not in _digests yet
                for event in events:
                    if event[1] in foreign and event[0] in _RECORD_KINDS:
                        bodies, row = foreign[event[1]]
                        self._clashes.setdefault(event[1], hash(bodies[row].as_py()))
        if not self._clashes:
            return events
        clashes = self._clashes
        kept = []
        for event in events:
            ref = event[1]
            theirs = clashes.get(ref) if ref is not None and event[0] in _RECORD_KINDS else None
            if ref is None or theirs is None:
                kept.append(event)
                continue
            self._dropped = True
            if theirs != hash(event[10]):
                kind = event[0].removeprefix(RECORD_PREFIX)
                self._late[ref] = _conflict(-1, ref, kind, late=True)
        return kept

    def after_commit(self, head: Any, count: int) -> None:
        if self._view_seq == head.seq - count:
            self._view_seq = head.seq  # our own commit: nothing new to learn from it

    def _learn(self, ledger: Any, head: Any) -> dict[str, Any]:
        """Read the record refs committed after ``_view_seq`` up to ``head`` (other writers');
        returns those new to this store, each with the body column and row holding it.

        A new ref is remembered unhashed (``None``: its body is read if the same ref is
        appended here later); bodies are read and hashed only for refs this store appended
        too, so the check reads little more than the ref column of what others wrote."""
        digests = self._digests
        assert digests is not None
        self._learned += 1
        foreign: dict[str, Any] = {}
        for batch in ledger.batches(head, after_seq=self._view_seq, keep_segments=False):
            mask = pc.starts_with(batch.column(2), RECORD_PREFIX)
            if not pc.any(mask).as_py():
                continue
            rows = batch.filter(mask)
            bodies = rows.column(12)
            for row, ref in enumerate(rows.column(3).to_pylist()):
                if ref in digests:
                    # appended here too: if ours is not committed yet, theirs came first
                    self._clashes.setdefault(ref, hash(bodies[row].as_py()))
                else:
                    digests[ref] = None
                    foreign[ref] = (bodies, row)
        self._view_seq = head.seq
        return foreign

    def _drain_late(self) -> tuple[AppendRejection, ...]:
        late = self._late  # filled under the commit lock, maybe by the background thread
        drained = []
        while late:
            drained.append(late.popitem()[1])  # atomic: none added meanwhile is lost
        return tuple(reversed(drained))

    def _stored_digest(self, ref: str) -> int | None:
        digests = self._digests
        known = digests if isinstance(digests, _KnownRefs) else None
        row = known.first_row(ref) if known is not None else None
        if known is None or row is None:
            table = self._workspace.table("records")
            rows = table.filter(pc.equal(table.column("ref"), string_scalar(ref)))
            if rows.num_rows == 0:
                return None
            first = rows.slice(0, 1)
        else:
            first = take_rows(known.table, [row])
        model = self._workspace.fetch(first)[0]
        return hash(encode(model))

    def flush(self) -> AppendResult:
        """Commit everything buffered now."""
        commit = self._workspace.flush()
        status = (
            DurabilityStatus(commit.durability)
            if commit
            else (
                DurabilityStatus.FSYNCED
                if self._workspace.ledger.durability == "fsync"
                else DurabilityStatus.FLUSHED
            )
        )
        return AppendResult((), self._drain_late(), status, commit.count if commit else 0)

    # ------------------------------------------------------------------ scan

    def scan(self, scan_filter: ScanFilter | None = None) -> Iterator[StoredRecord]:
        """Stored records in global append (seq) order; duplicates of a record_ref skipped."""
        ws = self._workspace
        table = ws.table("records")
        f = scan_filter or ScanFilter()
        mask = None
        for column, value in (
            ("run_ref", f.run_ref),
            ("stage_ref", f.stage_execution_ref),
        ):
            if value is not None:
                cond = pc.equal(table.column(column), str(value))
                mask = cond if mask is None else pc.and_(mask, cond)
        if f.record_type is not None:
            cond = pc.equal(table.column("kind"), RECORD_PREFIX + f.record_type)
            mask = cond if mask is None else pc.and_(mask, cond)
        if mask is not None:
            table = table.filter(mask)
        seen: set[str] = set()
        start = timestamp_micros(f.start_time) if f.start_time else None
        end = timestamp_micros(f.end_time) if f.end_time else None
        for offset in range(0, table.num_rows, 4096):
            chunk = table.slice(offset, 4096)
            models = ws.fetch(chunk)
            seqs = chunk.column("seq").to_pylist()
            segs = chunk.column("segment").to_pylist()
            offs = chunk.column("batch_offset").to_pylist()
            txs = chunk.column("tx_time").to_pylist()
            for model, seq, seg, off, tx in zip(models, seqs, segs, offs, txs, strict=True):
                ref = str(model.envelope.record_ref)
                if ref in seen:
                    continue
                seen.add(ref)
                env = model.envelope
                if f.batch_execution_ref is not None and str(env.batch_execution_ref) != str(
                    f.batch_execution_ref
                ):
                    continue
                if f.sample_observation_ref is not None and str(env.sample_observation_ref) != str(
                    f.sample_observation_ref
                ):
                    continue
                if start is not None or end is not None:
                    at = timestamp_micros(env.recorded_at)
                    if (start is not None and at < start) or (end is not None and at > end):
                        continue
                yield StoredRecord(
                    seq,
                    f"segment-{seg:012d}",
                    off,
                    tx.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    model,
                )

    def close(self) -> None:
        self._workspace.close()


_MISSING: Any = object()


def _ids(record: Any) -> tuple[str | None, str | None]:
    envelope = getattr(record, "envelope", None)
    if envelope is None:
        return None, None
    return str(getattr(envelope, "record_ref", None)), getattr(envelope, "record_type", None)


def _validate(record: Any) -> tuple[str, str] | None:
    if not isinstance(record, RECORD_TYPES):
        return (
            "unsupported_record_type",
            f"Expected a MetricRecord, StructuredEventRecord, TraceSpanRecord or DegradedRecord, "
            f"got {type(record).__name__}.",
        )
    envelope = record.envelope
    if envelope.schema_version != SCHEMA_VERSION:
        return (
            "validation_failed",
            f"schema_version {envelope.schema_version!r} is not supported; expected {SCHEMA_VERSION!r}.",
        )
    if envelope.extensions or getattr(record.payload, "extensions", ()):
        return (
            "validation_failed",
            "Record extensions use namespaces that are not registered.",
        )
    return None


# ---------------------------------------------------------------------- the append hot path

_FAST_TYPES = frozenset(RECORD_TYPES)
_ENCODE = ENCODER.encode
_STATUS = {s.value: s for s in DurabilityStatus}
_new_object = object.__new__
_set_attr = object.__setattr__


def _receipt(
    sequence: int | None,
    segment_id: str | None,
    offset: int | None,
    record_ref: str,
    record_type: str,
    run_ref: str | None,
    status: DurabilityStatus,
) -> AppendReceipt:
    """``AppendReceipt(...)`` at half the cost of the frozen dataclass ``__init__`` (one
    ``__dict__`` store instead of seven frozen-guarded ``setattr``); equal to it in every way."""
    receipt = _new_object(AppendReceipt)
    _set_attr(
        receipt,
        "__dict__",
        {
            "sequence": sequence,
            "segment_id": segment_id,
            "offset": offset,
            "record_ref": record_ref,
            "record_type": record_type,
            "run_ref": run_ref,
            "durability_status": status,
        },
    )
    return receipt


def _receipts(
    first: int | None,
    segment: str | None,
    offset: int | None,
    meta: list[tuple[str, str, str | None]],
    duplicates: list[tuple[str, str, str | None]],
    status: DurabilityStatus,
    pending: PendingPositions | None = None,
) -> tuple[AppendReceipt, ...]:
    """The receipts of an append: the written records (numbered from ``first`` when their
    commit is known), then the identical re-appends (nothing written, no position)."""
    out = []
    if first is None:
        for ref, rtype, run in meta:
            receipt = _receipt(None, None, None, ref, rtype, run, status)
            if pending is not None:  # buffered: the commit decides the position
                for name in ("sequence", "segment_id", "offset"):
                    del receipt.__dict__[name]
                receipt.__dict__["_pending"] = pending
            out.append(receipt)
    else:
        for i, (ref, rtype, run) in enumerate(meta):
            out.append(_receipt(first + i, segment, offset, ref, rtype, run, status))
    for ref, rtype, run in duplicates:
        out.append(_receipt(None, None, None, ref, rtype, run, status))
    return tuple(out)


_KIND = {"metric": METRIC, "event": EVENT, "span": SPAN, "degraded": DEGRADED}
_RECORD_KINDS = frozenset(_KIND.values())
_new_event = tuple.__new__
_RUNS: dict[Any, tuple[str, str | None]] = {}
_STAGES: dict[Any, str] = {}
_SECONDS: dict[str, int] = {}
_CACHE_MAX = 65536


def _plain(record: Any) -> bool:
    """True when the cheap checks of the hot path vouch for ``record`` (of a record type):
    the supported schema version and no extensions (which need the registry)."""
    envelope = record.envelope
    return (
        envelope.schema_version == SCHEMA_VERSION
        and not envelope.extensions
        and not getattr(record.payload, "extensions", None)
    )


class _ParentFilter:
    """A fixed-size Bloom filter of ref parents (a record ref up to its last dot) whose refs
    were dropped from memory: "maybe" means look in the ledger too, "no" is exact."""

    __slots__ = ("_bits", "_size", "count")

    def __init__(self, size_bytes: int) -> None:
        self._size = max(64, size_bytes) * 8
        self._bits = bytearray(self._size // 8)
        self.count = 0

    def _probes(self, key: str) -> Iterator[int]:
        h = hash(key)
        step = ((h >> 29) | 1) & 0xFFFFFFFF
        for i in range(4):
            yield (h + i * step) % self._size

    def add(self, key: str) -> None:
        bits = self._bits
        for bit in self._probes(key):
            bits[bit >> 3] |= 1 << (bit & 7)
        self.count += 1

    def __contains__(self, key: object) -> bool:
        if not self.count or not isinstance(key, str):
            return False
        bits = self._bits
        return all(bits[bit >> 3] & (1 << (bit & 7)) for bit in self._probes(key))


_dict_has = dict.__contains__


class _KnownRefs(dict[str, "int | None"]):
    """The record refs a store knows: those it appended or learned (a dict: ref -> body hash,
    None when not yet compared) and those stored before it, looked up on demand.

    A record's ref lies within its run's ref (``record:<run>.<key>``, checked for every
    record), so a stored ref is among the records of a run whose ref is a dotted prefix of it.
    The refs under a ref's parent (its value up to the last dot) are gathered once, from the
    records of each such run, through the projection's run index: an append touches the runs
    it appends to. ``table``/``index`` are the records projection as of the store's view
    (``view_seq``).

    Memory is bounded by ``cap`` refs: past it, :meth:`shrink` (called by the store once its
    buffer is committed) keeps the refs of the most recently appended parents and drops the
    rest, noting their parents in a fixed-size :class:`_ParentFilter`. A parent the filter
    may hold is gathered from the ledger too (the batches committed after ``view_seq``),
    so the answers stay exact; only a run appended to again after it was dropped pays for
    that read."""

    def __init__(
        self,
        table: Any,
        index: Any,
        *,
        ledger: Any = None,
        view_seq: int = 0,
        cap: int = 0,
        filter_bytes: int = 1 << 20,
    ) -> None:
        super().__init__()
        self.table = table
        self._index = index
        self._parents: dict[str, dict[str, int]] = {}
        self._ledger = ledger
        self.view_seq = view_seq
        self.cap = cap
        self.dropped = _ParentFilter(filter_bytes)
        self.shrinks = 0
        self.ledger_reads = 0

    def __contains__(self, ref: object) -> bool:
        # the append hot path asks this once per record: first_row inlined
        if _dict_has(self, ref):
            return True
        if type(ref) is not str:
            return False
        parent = ref.rpartition(".")[0]
        rows = self._parents.get(parent)
        if rows is None:
            rows = self._parents[parent] = self._gather(parent)
            if _dict_has(self, ref):  # the gather read it back from the ledger
                return True
        if ref not in rows:
            return False
        dict.__setitem__(self, ref, None)
        return True

    def __missing__(self, ref: str) -> int | None:
        if self.first_row(ref) is None:
            if dict.__contains__(self, ref):
                return dict.__getitem__(self, ref)
            raise KeyError(ref)
        dict.__setitem__(self, ref, None)
        return None

    def first_row(self, ref: str) -> int | None:
        """The first projection row holding stored ``ref`` (None: not stored before)."""
        parent = ref.rpartition(".")[0]
        rows = self._parents.get(parent)
        if rows is None:
            rows = self._parents[parent] = self._gather(parent)
        return rows.get(ref)

    def _runs(self, parent: str) -> list[str]:
        """The refs of the runs whose records may hold refs under ``parent``
        (``record:p.r1.x`` -> runs ``run:p``, ``run:p.r1``, ``run:p.r1.x``)."""
        parts = parent.partition(":")[2].split(".")
        return ["run:" + ".".join(parts[:i]) for i in range(1, len(parts) + 1)]

    def _gather(self, parent: str) -> dict[str, int]:
        """ref -> first row, for the records of every run whose ref is a dotted prefix of
        ``parent``; refs under a dropped parent are read back from the ledger as well."""
        runs = self._runs(parent)
        rows: list[int] = []
        for run in runs:
            rows.extend(self._index.get(run, ()))
        if parent in self.dropped:
            self._read_ledger(runs)
        if not rows:
            return {}
        rows.sort()
        refs = take_rows(self.table.select(["ref"]), rows).column(0).to_pylist()
        out: dict[str, int] = {}
        for row, ref in zip(rows, refs, strict=True):
            out.setdefault(ref, row)
        return out

    def _read_ledger(self, runs: list[str]) -> None:
        """Put the refs (with their body hashes) of the records of ``runs`` committed after
        the view back in memory: one pass over those batches, two columns filtered by Arrow."""
        self.ledger_reads += 1
        wanted = arrays.strings(runs)
        # a one-off pass (over what this process appended since its view, all of an ingest):
        # the sealed segments' maps go as it leaves them, not kept with their pages resident
        for batch in self._ledger.batches(after_seq=self.view_seq, keep_segments=False):
            mask = pc.and_(
                pc.starts_with(batch.column(2), RECORD_PREFIX),
                pc.is_in(batch.column(5), value_set=wanted),
            )
            if not pc.any(mask).as_py():
                continue
            rows = batch.filter(mask)
            refs = rows.column(3).to_pylist()
            for ref, body in zip(refs, rows.column(12).to_pylist(), strict=True):
                if ref is not None and not dict.__contains__(self, ref):
                    dict.__setitem__(self, ref, hash(body))

    def written_elsewhere(self, parent: str) -> None:
        """Refs under ``parent`` were committed without being added here: look them up in
        the ledger when ``parent`` is next gathered."""
        self._parents.pop(parent, None)
        self.dropped.add(parent)

    def shrink(self) -> None:
        """Drop the refs held past ``cap`` (every one of them committed: the caller flushed),
        keeping those of the parents of the last refs added (up to half the cap, at most 4,096
        refs: the runs a loop or an import is appending to now)."""
        keep_recent = max(1, min(4096, self.cap // 2))
        recent = {ref.rpartition(".")[0] for ref in itertools.islice(reversed(self), keep_recent)}
        kept: dict[str, int | None] = {}
        dropped = self.dropped
        marked: set[str] = set()
        for ref, digest in self.items():
            parent = ref.rpartition(".")[0]
            if parent in recent:
                kept[ref] = digest
            elif parent not in marked:
                marked.add(parent)
                dropped.add(parent)
        self.clear()
        self.update(kept)
        self._parents = {p: rows for p, rows in self._parents.items() if p in recent}
        self.shrinks += 1


def _conflict(index: int, ref: str, record_type: str, *, late: bool = False) -> AppendRejection:
    where = (
        "was committed first by another writer with different content, so the record this "
        "process appended under it (accepted earlier, index -1: not of this call) was not "
        "written"
        if late
        else "is already stored with different content"
    )
    return AppendRejection(
        index,
        "record_ref_conflict",
        f"record_ref {ref!r} {where}; records are immutable: append the new one under a new "
        "record_ref.",
        ref,
        record_type,
    )


def _bad_step(index: int, ref: str, record_type: str, step: int) -> AppendRejection:
    return AppendRejection(
        index,
        "record_invalid_step",
        f"payload.tags['step'] must be an integer within 64 bits (-2**63 to 2**63-1) to be "
        f"kept as the record's step, got {str(step)[:40]!r}; record {ref!r} was not written.",
        ref,
        record_type,
    )


def _encode_record(record: Any) -> bytes:
    try:
        return _ENCODE(record)
    except (OverflowError, TypeError, ValueError):
        return encode(record)  # raises the contract's ValidationError with its message


def _run_text(run_ref: Any) -> tuple[str, str | None]:
    """(run ref text, project ref text) of a run ref, cached per ref."""
    found = _RUNS.get(run_ref)
    if found is None:
        text = str(run_ref)
        found = (text, "project:" + text[4:].split(".", 1)[0])
        if len(_RUNS) >= _CACHE_MAX:
            _RUNS.clear()
        _RUNS[run_ref] = found
    return found


def _stage_text(stage_ref: Any) -> str | None:
    if stage_ref is None:
        return None
    found = _STAGES.get(stage_ref)
    if found is None:
        found = str(stage_ref)
        if len(_STAGES) >= _CACHE_MAX:
            _STAGES.clear()
        _STAGES[stage_ref] = found
    return found


def _whole_seconds(head: str) -> int:
    """``timestamp_micros`` of ``head + "Z"`` (``head``: ``YYYY-MM-DDTHH:MM:SS``), cached."""
    seconds = _SECONDS.get(head)
    if seconds is None:
        seconds = timestamp_micros(head + "Z")
        if len(_SECONDS) >= _CACHE_MAX:
            _SECONDS.clear()
        _SECONDS[head] = seconds
    return seconds


def _canonical_micros(text: str) -> int:
    """``timestamp_micros`` of canonical text (a validated record's ``observed_at``: the
    contract normalises every timestamp), with the whole seconds cached."""
    head = text[:19]
    seconds = _SECONDS.get(head) or _whole_seconds(head)
    return seconds + int(text[20:26]) if len(text) == 27 else seconds


def fast_record_event(
    record: Any, ref: str, actor: str, body: bytes, observed_us: int | None = None
) -> PendingEvent:
    """The ledger event of a validated record: equal to ``events.record_event(record, actor,
    body)``, built without the generic conversions (tested against it). ``observed_us``: the
    record's ``observed_at`` in epoch microseconds when the caller knows it."""
    envelope = record.envelope
    if observed_us is None:
        observed_us = _canonical_micros(envelope.observed_at)
    payload = record.payload
    rtype = envelope.record_type
    run_ref = envelope.run_ref
    run = _RUNS.get(run_ref) or _run_text(run_ref)
    stage_ref = envelope.stage_execution_ref
    stage = None if stage_ref is None else (_STAGES.get(stage_ref) or _stage_text(stage_ref))
    if rtype == "metric":
        tags = payload.tags
        return _new_event(
            PendingEvent,
            (
                METRIC,
                ref,
                run[1],
                run[0],
                stage,
                observed_us,
                payload.metric_key,
                float(payload.value),
                step_of(tags) if tags else None,
                actor,
                body,
            ),
        )
    value: float | None = None
    if rtype == "event":
        key = payload.event_key
    elif rtype == "span":
        key = payload.span_name
        value = span_duration_ms(payload)
    else:
        key = payload.issue_key
    return _new_event(
        PendingEvent,
        (
            _KIND[rtype],
            ref,
            run[1],
            run[0],
            stage,
            observed_us,
            key,
            value,
            None,
            actor,
            body,
        ),
    )


def _unnumbered(commit: Any) -> Any:
    """``commit`` with a count that gives its events no positions in receipts."""
    return replace(commit, count=-1)


def _result(
    ws: Workspace,
    commit: Any,
    meta: list[tuple[str, str, str | None]],
    duplicates: list[tuple[str, str, str | None]],
    rejected: list[AppendRejection],
) -> AppendResult:
    """The result of an append; its receipts are built when first read (see
    :meth:`AppendResult.__getattr__`)."""
    if commit is not None:
        status = _STATUS[commit.durability]
    elif meta:
        status = DurabilityStatus.ACCEPTED
    else:
        status = (
            DurabilityStatus.FSYNCED
            if ws.ledger.durability == "fsync"
            else DurabilityStatus.FLUSHED
        )
    plan: tuple[Any, ...]
    if commit is not None and commit.count >= len(meta):
        plan = (
            commit.first_seq + commit.count - len(meta),
            commit.segment,
            commit.offset,
            meta,
            duplicates,
            status,
        )
    else:
        # the workspace stands in for the PendingPositions of ``meta`` until receipts are read
        plan = (None, None, None, meta, duplicates, status, ws if meta else None)
    count = len(meta) + len(duplicates)
    result = _new_object(AppendResult)
    _set_attr(
        result,
        "__dict__",
        {
            "rejected": tuple(rejected) if rejected else (),
            "durability_status": status,
            "durable_count": count if status is not DurabilityStatus.ACCEPTED else len(duplicates),
            "_plan": plan,
        },
    )
    return result
