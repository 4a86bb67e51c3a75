"""The ledger on object storage: many writers, one global order, committed by conditional create.

Layout in the store, under ``<prefix>/``::

    manifest/00000000000000000001       the global order: one small JSON object per number,
    manifest/00000000000000000002       created put-if-absent (see :mod:`.manifest`)
    writers/<writer id>/<number>-<local first>-<local last>-<nonce>.arrows
                                        one sealed batch, uploaded with a plain PUT before
                                        its manifest; every attempt has its own key, so no
                                        object is ever overwritten

Layout of one host's cache (``cache``)::

    outbox/      a local ledger (the ordinary one): every event this host writes lands here first
    ledger/      the mirror: the store's committed batches, byte for byte (see :mod:`.mirror`)
    remote/identity.json   the outbox id, the writer id and the epoch this cache holds
    remote/manifests.jsonl the manifests pulled so far (append-only; the log's metadata)
    remote/SYNC            the lock that serialises syncs and pulls of this cache

**Commit.** ``sync`` reads the manifests it has not seen, then for each group of unsent outbox
events: takes number ``n`` = last seen + 1, seals the events as one batch with the global seqs
that follow the last manifest's, a transaction time later than it, and the chain hash over the
previous one; PUTs the batch; creates ``manifest/n``. If another writer won ``n`` (HTTP 412),
it reads the new manifests and tries ``n + 1`` with fresh seqs. Manifest numbers are therefore
dense, and each manifest continues the one before it: the global seq is gap-free and the chain
runs through every batch of every writer.

**Exactly once.** Each commit manifest names the outbox and the local seq range its events came
from; what an outbox has sent is read back from the manifests, never from local bookkeeping, so
a writer killed between its create and anything after it, or a sync run twice, never sends an
event twice and never skips one.

**Fencing.** A writer id may move between hosts (a restarted job). A cache claims an epoch for
its writer id with a fence manifest (epoch = highest seen + 1). An instance whose epoch is
lower than the latest fence of its id is stale: its sync raises :class:`WriterFencedError`
before it uploads anything. (A stale instance that races the fence for the same number either
wins it, and its commit is ordered before the fence, or loses it and is then refused; an
upload it made for the lost number is an orphan object that no manifest names.)

**Reading.** ``pull`` adopts the committed batches, in manifest order, into the mirror, after
checking each one's CRC, seqs, transaction time and chain against its manifest. Readers fold
the mirror with the ordinary projections; they only ever see a committed prefix.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import CorruptionError, LedgerError
from ..fs import lock_fd, unlock_fd
from ..recovery import now_us
from ..schema import EVENT_SCHEMA
from ..segment import GENESIS_CHAIN as _GENESIS
from ..segment import BatchFrame, encode_batch, read_frame, verify_chain
from ..writer import Ledger
from .errors import ObjectExistsError, WriterFencedError
from .manifest import COMMIT, FENCE, Manifest, manifest_key, manifest_number
from .mirror import Mirror
from .store import ObjectStore

__all__ = ["ObjectLedger", "RemoteState", "SyncReport"]

_US = pa.timestamp("us", tz="UTC")
_WRITER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@dataclass(slots=True)
class RemoteState:
    """The fold of the manifests read so far: the global head, each writer id's epoch and what
    each outbox has sent."""

    number: int = 0
    seq: int = 0
    chain: str = _GENESIS
    tx_time: int = 0
    epochs: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    manifests: list[Manifest] = field(default_factory=list)

    def apply(self, manifest: Manifest, where: str) -> None:
        """Fold ``manifest`` (the next number), checking that it continues the log."""
        problem = None
        if manifest.number != self.number + 1:
            problem = f"number {manifest.number} follows {self.number}"
        elif manifest.first_seq != self.seq + 1 or manifest.prev != self.chain:
            problem = f"seq {manifest.first_seq} or its chain does not follow seq {self.seq}"
        elif manifest.type == FENCE and manifest.epoch <= self.epochs.get(manifest.writer, 0):
            problem = f"fence epoch {manifest.epoch} is not above the current one"
        elif manifest.type == COMMIT and manifest.epoch != self.epochs.get(manifest.writer):
            problem = f"commit by {manifest.writer} epoch {manifest.epoch}, not the current one"
        elif manifest.type == COMMIT and (manifest.count < 1 or manifest.tx_time <= self.tx_time):
            problem = "an empty commit or a transaction time not after the previous one"
        elif (
            manifest.type == COMMIT
            and manifest.local_first != self.sent.get(manifest.outbox, 0) + 1
        ):
            problem = f"outbox {manifest.outbox} range does not follow what it sent"
        if problem is not None:
            raise CorruptionError(
                f"Manifest `{where}` does not continue the log: {problem}.",
                file=where,
                offset=0,
                seq=self.seq + 1,
                reason="manifest_unlinked",
            )
        self.number = manifest.number
        self.manifests.append(manifest)
        if manifest.type == FENCE:
            self.epochs[manifest.writer] = manifest.epoch
            return
        self.seq = manifest.last_seq
        self.chain = manifest.chain
        self.tx_time = manifest.tx_time
        self.sent[manifest.outbox] = manifest.local_last


@dataclass(slots=True)
class SyncReport:
    """What one ``sync`` did."""

    commits: int = 0  # manifests this sync created for batches
    events: int = 0  # events those commits carried
    lost_races: int = 0  # numbers another writer won first
    pulled: int = 0  # manifests read from the store
    adopted: int = 0  # batches adopted into the mirror
    requests: int = 0  # store requests made

    def to_dict(self) -> dict[str, int]:
        return {
            "commits": self.commits,
            "events": self.events,
            "lost_races": self.lost_races,
            "pulled": self.pulled,
            "adopted": self.adopted,
            "requests": self.requests,
        }


class ObjectLedger:
    """One host's view of an object-store ledger: its outbox, its mirror, sync and pull."""

    def __init__(
        self,
        store: ObjectStore,
        prefix: str,
        cache: Path | str,
        *,
        writer_id: str | None = None,
        max_batch_events: int = 65_536,
        outbox_options: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.cache = Path(cache)
        self.max_batch_events = max_batch_events
        self._meta = self.cache / "remote"
        self._meta.mkdir(parents=True, exist_ok=True)
        self._thread_lock = threading.RLock()
        self.identity = self._load_identity(writer_id)
        self.state = RemoteState()
        self._log_offset = 0
        self._outbox: Ledger | None = None
        self._outbox_options = outbox_options or {}
        self._mirror: Mirror | None = None

    # ------------------------------------------------------------------ parts

    @property
    def writer_id(self) -> str:
        return str(self.identity["writer"])

    @property
    def outbox_id(self) -> str:
        return str(self.identity["outbox"])

    @property
    def epoch(self) -> int | None:
        value = self.identity.get("epoch")
        return None if value is None else int(value)

    @property
    def outbox(self) -> Ledger:
        """The local ledger this host's events are appended to before they are synced."""
        if self._outbox is None:
            self._outbox = Ledger(self.cache / "outbox", **self._outbox_options)
        return self._outbox

    @property
    def mirror(self) -> Mirror:
        """The local copy of the committed log (read it like any ledger)."""
        if self._mirror is None:
            self._mirror = Mirror(self.cache / "ledger")
        return self._mirror

    def close(self) -> None:
        for part in (self._outbox, self._mirror):
            if part is not None:
                part.close()

    # ------------------------------------------------------------------ identity

    def _load_identity(self, writer_id: str | None) -> dict[str, Any]:
        path = self._meta / "identity.json"
        with self._locked():
            try:
                identity: dict[str, Any] = json.loads(path.read_text())
            except FileNotFoundError:
                outbox = secrets.token_hex(8)
                identity = {
                    "outbox": outbox,
                    "writer": writer_id or _default_writer(outbox),
                    "epoch": None,
                }
                _write_json(path, identity)
            except ValueError as exc:
                raise CorruptionError(
                    f"`{path}` is damaged ({exc}); move the cache aside to start it again "
                    "(its outbox events stay in outbox/).",
                    file=str(path),
                    offset=0,
                    reason="identity",
                ) from exc
        wanted = writer_id or identity["writer"]
        _check_writer_id(wanted)
        if wanted != identity["writer"]:  # the writer id of a cache changes: claim anew
            identity = {**identity, "writer": wanted, "epoch": None}
            with self._locked():
                _write_json(path, identity)
        return identity

    # ------------------------------------------------------------------ locks

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise syncs and pulls of this cache (threads and processes)."""
        with self._thread_lock:
            fd = os.open(self._meta / "SYNC", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                lock_fd(fd)
                try:
                    yield
                finally:
                    unlock_fd(fd)
            finally:
                os.close(fd)

    # ------------------------------------------------------------------ manifests

    def _read_log(self) -> None:
        """Fold the manifests other processes of this cache appended since the last read."""
        path = self._meta / "manifests.jsonl"
        try:
            with open(path, "rb") as handle:
                handle.seek(self._log_offset)
                data = handle.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1  # a line cut by a crash is dropped (and re-fetched)
        for line in data[:end].splitlines():
            manifest = Manifest.from_bytes(line, str(path))
            if manifest.number <= self.state.number:
                continue
            self.state.apply(manifest, str(path))
        if end < len(data):
            with open(path, "r+b") as handle:  # under the lock: nobody is appending
                handle.truncate(self._log_offset + end)
        self._log_offset += end

    def _append_log(self, manifests: list[Manifest]) -> None:
        if not manifests:
            return
        path = self._meta / "manifests.jsonl"
        data = b"".join(m.to_bytes() + b"\n" for m in manifests)
        with open(path, "ab") as handle:
            handle.write(data)
        self._log_offset += len(data)

    def _fetch_manifests(self, report: SyncReport) -> list[Manifest]:
        """Read the manifests after the last one known, fold and record them."""
        self._read_log()
        start = manifest_key(self.prefix, self.state.number) if self.state.number else ""
        new: list[Manifest] = []
        for key in self.store.list(f"{self.prefix}manifest/", start_after=start):
            number = manifest_number(self.prefix, key)
            if number is None or number <= self.state.number:
                continue
            manifest = Manifest.from_bytes(self.store.get(key), key)
            if manifest.number != number:
                raise CorruptionError(
                    f"Manifest `{key}` says it is number {manifest.number}.",
                    file=key,
                    offset=0,
                    reason="manifest",
                )
            self.state.apply(manifest, key)
            new.append(manifest)
        self._append_log(new)
        report.pulled += len(new)
        return new

    # ------------------------------------------------------------------ sync

    def sync(self, *, pull: bool = True) -> SyncReport:
        """Commit every outbox event not yet in the store, exactly once, then (``pull``) adopt
        every committed batch into the mirror.

        Raises :class:`WriterFencedError` (nothing uploaded) when a newer instance of this
        writer id claimed a higher epoch, and :class:`ObjectStoreError` when the store cannot
        be reached (the events stay in the outbox; a later sync sends them)."""
        report = SyncReport()
        before = _requests(self.store)
        with self._locked():
            self._fetch_manifests(report)
            self.outbox.commit()
            if self._outbox_has_unsent():
                self._check_epoch(report)
                self._push(report)
            if pull:
                self._pull_locked(report)
        report.requests = _requests(self.store) - before
        return report

    def pull(self) -> SyncReport:
        """Adopt every batch committed in the store into the mirror (no upload)."""
        report = SyncReport()
        before = _requests(self.store)
        with self._locked():
            self._fetch_manifests(report)
            self._pull_locked(report)
        report.requests = _requests(self.store) - before
        return report

    def claim(self) -> int:
        """Claim a new epoch for this writer id (fencing every other instance); returns it."""
        report = SyncReport()
        with self._locked():
            self._fetch_manifests(report)
            return self._claim(report)

    def _check_epoch(self, report: SyncReport) -> None:
        current = self.state.epochs.get(self.writer_id)
        if self.epoch is None:
            self._claim(report)
        elif current != self.epoch:
            raise WriterFencedError(
                f"Writer {self.writer_id!r} holds epoch {self.epoch}, but epoch {current} was "
                "claimed since: this instance is stale and may not commit. Nothing was "
                "written; its events stay in its outbox.",
                writer=self.writer_id,
                epoch=self.epoch,
                current=current,
            )

    def _claim(self, report: SyncReport) -> int:
        while True:
            epoch = self.state.epochs.get(self.writer_id, 0) + 1
            fence = Manifest(
                number=self.state.number + 1,
                type=FENCE,
                writer=self.writer_id,
                epoch=epoch,
                outbox=self.outbox_id,
                first_seq=self.state.seq + 1,
                count=0,
                tx_time=self.state.tx_time,
                prev=self.state.chain,
                chain=self.state.chain,
                nonce=secrets.token_hex(8),
            )
            if self._create(fence, report):
                self.identity = {**self.identity, "epoch": epoch}
                _write_json(self._meta / "identity.json", self.identity)
                return epoch

    def _create(self, manifest: Manifest, report: SyncReport) -> bool:
        """Create ``manifest``; True when it is ours (also when a retried request of ours had
        already created it), False when another writer won the number (then the new
        manifests are folded)."""
        key = manifest_key(self.prefix, manifest.number)
        try:
            self.store.create(key, manifest.to_bytes())
        except ObjectExistsError:
            new = self._fetch_manifests(report)
            if any(m.number == manifest.number and m.nonce == manifest.nonce for m in new):
                return True  # our create went through; a retry of it saw it
            report.lost_races += 1
            return False
        self.state.apply(manifest, key)
        self._append_log([manifest])
        return True

    def _outbox_has_unsent(self) -> bool:
        return self.outbox.head().seq > self.state.sent.get(self.outbox_id, 0)

    def _push(self, report: SyncReport) -> None:
        outbox = self.outbox
        head = outbox.head()
        while True:
            sent = self.state.sent.get(self.outbox_id, 0)
            if sent >= head.seq:
                return
            batch = self._unsent(outbox, sent, head)
            lost = 0
            while not self._commit(batch, sent + 1, report):
                self._check_epoch(report)  # a fence may have taken the number
                if self.state.sent.get(self.outbox_id, 0) != sent:
                    break  # (cannot happen: only this cache sends its outbox) re-read
                lost += 1
                _back_off(lost)

    def _unsent(self, outbox: Ledger, sent: int, head: Any) -> pa.RecordBatch:
        """Up to ``max_batch_events`` outbox events after local seq ``sent``, as one batch."""
        batches: list[pa.RecordBatch] = []
        rows = 0
        for batch in outbox.batches(head, after_seq=sent):
            room = self.max_batch_events - rows
            batches.append(batch if batch.num_rows <= room else batch.slice(0, room))
            rows += batches[-1].num_rows
            if rows >= self.max_batch_events:
                break
        table = pa.Table.from_batches(batches, EVENT_SCHEMA).combine_chunks()
        return table.to_batches()[0] if table.num_rows else pa.RecordBatch.from_pylist([])

    def _commit(self, local: pa.RecordBatch, local_first: int, report: SyncReport) -> bool:
        """Seal ``local`` as the next global batch, upload it, create its manifest."""
        state = self.state
        number = state.number + 1
        first = state.seq + 1
        count = local.num_rows
        tx = max(now_us(), state.tx_time + 1)
        columns = [
            pa.array(range(first, first + count), pa.int64()),
            pa.array([tx] * count, _US),
            *local.columns[2:],
        ]
        batch = pa.RecordBatch.from_arrays(columns, schema=EVENT_SCHEMA)
        message, chain = encode_batch(batch, first_seq=first, tx_time=tx, prev_chain=state.chain)
        data = bytes(message)
        local_last = local_first + count - 1
        nonce = secrets.token_hex(8)
        key = (
            f"{self.prefix}writers/{self.writer_id}/"
            f"{number:020d}-{local_first}-{local_last}-{nonce}.arrows"
        )
        self.store.put(key, data)
        manifest = Manifest(
            number=number,
            type=COMMIT,
            writer=self.writer_id,
            epoch=self.epoch or 0,
            outbox=self.outbox_id,
            first_seq=first,
            count=count,
            tx_time=tx,
            prev=state.chain,
            chain=chain,
            key=key,
            size=len(data),
            crc=_frame_crc(data),
            local_first=local_first,
            local_last=local_last,
            nonce=nonce,
        )
        if not self._create(manifest, report):
            return False
        report.commits += 1
        report.events += count
        return True

    # ------------------------------------------------------------------ pull

    def _pull_locked(self, report: SyncReport) -> None:
        mirror = self.mirror
        position = mirror.head().seq
        adopted = 0
        try:
            for manifest in self.state.manifests:
                if manifest.type != COMMIT or manifest.last_seq <= position:
                    continue
                data = self.store.get(manifest.key)
                frame = check_batch(data, manifest)
                if mirror.adopt(data, frame):
                    adopted += 1
                position = manifest.last_seq
        finally:
            if adopted:
                mirror.settle()
        report.adopted += adopted

    # ------------------------------------------------------------------ verify

    def verify(self) -> dict[str, Any]:
        """Read every manifest and batch from the store and check the whole log: manifest
        numbers dense, seqs gap-free, every batch's CRC, chain hash, seqs and transaction time
        against its manifest. Returns counts (manifests, commits, fences, events, head seq,
        orphan batch objects); raises :class:`CorruptionError` at the first damage."""
        state = RemoteState()
        named: set[str] = set()
        events = 0
        for key in self.store.list(f"{self.prefix}manifest/"):
            manifest = Manifest.from_bytes(self.store.get(key), key)
            if manifest_number(self.prefix, key) != manifest.number:
                raise CorruptionError(
                    f"Manifest `{key}` is misnamed.", file=key, offset=0, reason="manifest"
                )
            state.apply(manifest, key)
            if manifest.type == COMMIT:
                check_batch(self.store.get(manifest.key), manifest)
                named.add(manifest.key)
                events += manifest.count
        orphans = [k for k in self.store.list(f"{self.prefix}writers/") if k not in named]
        return {
            "manifests": state.number,
            "commits": sum(1 for m in state.manifests if m.type == COMMIT),
            "fences": sum(1 for m in state.manifests if m.type == FENCE),
            "events": events,
            "head_seq": state.seq,
            "chain": state.chain,
            "orphans": orphans,
        }


def check_batch(data: bytes, manifest: Manifest) -> BatchFrame:
    """Decode a batch object and check it against its manifest (size, CRC, seqs, time, chain);
    :class:`CorruptionError` naming the key when anything differs."""
    where = manifest.key
    buf = pa.py_buffer(data)
    frame = read_frame(buf, 0, len(data), where) if len(data) == manifest.size else None
    if (
        frame is None
        or frame.length != len(data)
        or frame.first_seq != manifest.first_seq
        or frame.count != manifest.count
        or frame.tx_time != manifest.tx_time
        or frame.prev_chain != manifest.prev
        or frame.chain != manifest.chain
        or not verify_chain(frame, buf)
    ):
        raise CorruptionError(
            f"Batch `{where}` does not match its manifest {manifest.number} (size, seqs, "
            "time or chain hash).",
            file=where,
            offset=0,
            seq=manifest.first_seq,
            reason="batch_mismatch",
        )
    return frame


def _frame_crc(data: bytes) -> str:
    frame = read_frame(pa.py_buffer(data), 0, len(data), "batch")
    if frame is None:  # pragma: no cover - encode_batch always writes a batch
        raise LedgerError("encoded batch is empty")
    return bytes(data[8 + frame.seal_at : 8 + frame.seal_at + 8]).decode()


#: After the n-th lost race in a row a writer waits a random time up to
#: ``BACKOFF_S * 2**min(n - 1, 6)``: writers that all retry at once for the next number would
#: mostly lose again, each loss costing a batch upload.
BACKOFF_S = 0.01


def _back_off(lost: int) -> None:
    time.sleep(random.uniform(0, BACKOFF_S * 2 ** min(lost - 1, 6)))


def _requests(store: ObjectStore) -> int:
    return int(getattr(store, "requests", 0))


def _default_writer(outbox: str) -> str:
    host = "".join(c if c in _WRITER_CHARS else "-" for c in socket.gethostname())[:40]
    return f"{host or 'host'}-{outbox[:8]}"


def _check_writer_id(value: str) -> None:
    if not value or len(value) > 64 or not set(value) <= _WRITER_CHARS or value[0] == ".":
        raise LedgerError(
            f"writer id {value!r} must be 1 to 64 letters, digits, '.', '_' or '-' "
            "(not starting with '.').",
            code="ledger_invalid_writer_id",
            field="writer_id",
            value=value,
        )


def _write_json(path: Path, value: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(value, sort_keys=True))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
