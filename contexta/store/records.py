"""``ctx.record_store``: appends records as ledger events; scans them back in seq order.

Appends are idempotent (decision 8.5): re-appending an identical record (same ``record_ref``,
same content) writes nothing and adds no copy; a different record under an existing
``record_ref`` is rejected with ``record_ref_conflict``. Invalid input never raises: it comes
back in ``AppendResult.rejected``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.compute as pc

from ..common.errors import ReadOnlyStoreError
from ..contract import DegradedRecord, MetricRecord, StructuredEventRecord, TraceSpanRecord
from ..contract.codec import encode
from ..contract.timestamps import timestamp_micros
from ..events import record_event
from ..workspace import Workspace

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


class DurabilityStatus(str, enum.Enum):
    """How durable an accepted record is when the call returns."""

    ACCEPTED = "ACCEPTED"  # buffered in this process, not yet written
    FLUSHED = "FLUSHED"  # written to the operating system
    FSYNCED = "FSYNCED"  # on stable storage

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class AppendReceipt:
    sequence: int | None
    segment_id: str | None
    offset: int | None
    record_ref: str
    record_type: str
    run_ref: str
    durability_status: DurabilityStatus


@dataclass(frozen=True, slots=True)
class AppendRejection:
    index: int
    code: str
    message: str
    record_ref: str | None = None
    record_type: str | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    accepted: tuple[AppendReceipt, ...]
    rejected: tuple[AppendRejection, ...]
    durability_status: DurabilityStatus
    durable_count: int

    @property
    def accepted_count(self) -> int:
        return len(self.accepted)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    @property
    def success(self) -> bool:
        return not self.rejected


@dataclass(frozen=True, slots=True)
class ScanFilter:
    run_ref: str | None = None
    stage_execution_ref: str | None = None
    batch_execution_ref: str | None = None
    sample_observation_ref: str | None = None
    record_type: str | None = None
    start_time: str | None = None
    end_time: str | None = None


@dataclass(frozen=True, slots=True)
class StoredRecord:
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


class RecordStore:
    """Append and read records of one workspace."""

    def __init__(self, workspace: Workspace, *, read_only: bool = False) -> None:
        self._workspace = workspace
        self.read_only = read_only
        self._digests: dict[str, int | None] | None = None  # record_ref -> hash of body

    # ------------------------------------------------------------------ append

    def append(self, record: Any) -> AppendResult:
        return self.append_many((record,))

    def append_many(self, records: Iterable[Any]) -> AppendResult:
        if self.read_only:
            raise ReadOnlyStoreError(
                "The record store is read-only (records.read_only is set).",
                code="record_store_read_only",
            )
        ws = self._workspace
        digests = self._known_digests()
        accepted_events = []
        accepted_meta: list[tuple[str, str, str]] = []
        duplicates: list[tuple[str, str, str]] = []
        rejected: list[AppendRejection] = []
        pending: dict[str, int] = {}
        for index, record in enumerate(records):
            problem = _validate(record)
            if problem is not None:
                rejected.append(AppendRejection(index, problem[0], problem[1], *_ids(record)))
                continue
            body = encode(record)
            ref = str(record.envelope.record_ref)
            digest = hash(body)
            seen = pending.get(ref, digests.get(ref, _MISSING))
            if seen is not _MISSING:
                if seen is None:
                    seen = self._stored_digest(ref)
                    digests[ref] = seen
                if seen == digest:
                    duplicates.append((ref, record.envelope.record_type, str(record.envelope.run_ref)))
                    continue
                rejected.append(
                    AppendRejection(
                        index,
                        "record_ref_conflict",
                        f"record_ref {ref!r} is already stored with different content; "
                        "records are immutable: append the new one under a new record_ref.",
                        ref,
                        record.envelope.record_type,
                    )
                )
                continue
            pending[ref] = digest
            accepted_events.append(record_event(record, ws.actor, body))
            accepted_meta.append((ref, record.envelope.record_type, str(record.envelope.run_ref)))
        commit = ws.write(accepted_events) if accepted_events else None
        digests.update(pending)
        if commit is not None:
            status = DurabilityStatus(commit.durability)
        elif accepted_events:
            status = DurabilityStatus.ACCEPTED
        else:
            status = (
                DurabilityStatus.FSYNCED
                if ws.ledger.durability == "fsync"
                else DurabilityStatus.FLUSHED
            )
        receipts = []
        for i, (ref, rtype, run) in enumerate(accepted_meta):
            if commit is not None and commit.count >= len(accepted_meta):
                first = commit.first_seq + commit.count - len(accepted_meta)
                receipts.append(AppendReceipt(first + i, commit.segment, commit.offset, ref, rtype, run, status))
            else:
                receipts.append(AppendReceipt(None, None, None, ref, rtype, run, status))
        for ref, rtype, run in duplicates:
            receipts.append(AppendReceipt(None, None, None, ref, rtype, run, status))
        durable = len(receipts) if status is not DurabilityStatus.ACCEPTED else len(duplicates)
        return AppendResult(tuple(receipts), tuple(rejected), status, durable)

    def _known_digests(self) -> dict[str, int | None]:
        """record_ref -> body hash, for refs stored before this process appended (None: not
        yet compared; the body is read from the ledger if the same ref comes again)."""
        if self._digests is None:
            table = self._workspace.table("records")
            self._digests = dict.fromkeys(table.column("ref").to_pylist())
        return self._digests

    def _stored_digest(self, ref: str) -> int | None:
        table = self._workspace.table("records")
        rows = table.filter(pc.equal(table.column("ref"), ref))
        if rows.num_rows == 0:
            return None
        first = rows.slice(0, 1)
        model = self._workspace.fetch(first)[0]
        return hash(encode(model))

    def flush(self) -> AppendResult:
        """Commit everything buffered now."""
        commit = self._workspace.flush()
        status = DurabilityStatus(commit.durability) if commit else (
            DurabilityStatus.FSYNCED if self._workspace.ledger.durability == "fsync" else DurabilityStatus.FLUSHED
        )
        return AppendResult((), (), status, commit.count if commit else 0)

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
            cond = pc.equal(table.column("kind"), f"record.{f.record_type}")
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
                if f.batch_execution_ref is not None and str(env.batch_execution_ref) != str(f.batch_execution_ref):
                    continue
                if f.sample_observation_ref is not None and str(env.sample_observation_ref) != str(f.sample_observation_ref):
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
