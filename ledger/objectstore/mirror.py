"""The local mirror of an object-store ledger: a plain ledger directory whose batches are the
store's committed batches, byte for byte, adopted in manifest order.

Because every adopted batch keeps the bytes sealed by the writer that committed it (global
seq, transaction time, CRC and chain hash included), the mirror is an ordinary ledger: the
reader, ``verify``, the projections and the published Parquet copies all work on it unchanged.
Only :meth:`Mirror.adopt` writes to it; it refuses a batch that does not continue the log.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import CorruptionError, LedgerIOError
from ..head import Head, write_head
from ..recovery import now_us
from ..segment import BatchFrame, segment_name
from ..writer import Ledger, _reason

__all__ = ["Mirror"]


class Mirror(Ledger):
    """A ledger written only by adopting sealed batches (see the module docstring)."""

    def adopt(self, message: bytes, frame: BatchFrame) -> bool:
        """Append ``message`` (one sealed batch, ``frame`` its decoded form) at the head.

        Returns False when the mirror already holds these seqs (another process adopted them
        first); raises :class:`CorruptionError` when the batch does not continue the mirror
        (wrong first seq or previous chain hash) and :class:`LedgerIOError` when the file
        system refuses the write (nothing adopted then)."""
        with self._commit_lock:
            lock_fd = self._open_for_commit()
            self.fs.lock(lock_fd)
            try:
                head = self._current_head()
                return self._adopt_locked(message, frame, head)
            finally:
                self.fs.unlock(lock_fd)

    def _adopt_locked(self, message: bytes, frame: BatchFrame, head: Head) -> bool:
        last = frame.first_seq + frame.count - 1
        if last <= head.seq:
            return False
        if frame.first_seq != head.seq + 1 or frame.prev_chain != head.chain:
            raise CorruptionError(
                f"Batch seq {frame.first_seq}..{last} does not continue the mirror at "
                f"`{self.root}` (head seq {head.seq}): the store and the mirror disagree. "
                "Move the mirror aside and pull again.",
                file=str(self.root / segment_name(head.segment)),
                offset=head.offset,
                seq=head.seq + 1,
                reason="mirror_mismatch",
            )
        fd = self._segment_fd(head.segment)
        try:
            self.fs.pwrite(fd, message, head.offset)
        except OSError as exc:
            self._undo_partial(head.segment, head.offset)
            raise LedgerIOError(
                f"Could not write the mirror at `{self.root}` ({_reason(exc)}); nothing was "
                "adopted, the next pull retries.",
                errno=exc.errno,
            ) from exc
        end = head.offset + len(message)
        new_head = Head(
            seq=last,
            segment=head.segment,
            offset=end,
            chain=frame.chain,
            tx_time=frame.tx_time,
            segment_started=head.segment_started or max(now_us(), frame.tx_time),
            synced=head.durable_offset,
            boot=self.fs.boot_id() or "",
        )
        write_head(self._head_file(), new_head, self.fs)
        self._head = new_head
        self.commits += 1
        if self._should_roll(new_head):
            self._roll(new_head)  # fsyncs the old segment before sealing it
        return True

    def settle(self) -> None:
        """fsync what this mirror adopted and publish it as synced (end of a pull: one fsync
        per pull, not per batch; a mirror can always be pulled again)."""
        with self._commit_lock:
            head = self._head
            if head is None or self._seg_fd is None or self._seg_index != head.segment:
                return
            lock_fd = self._open_for_commit()
            self.fs.lock(lock_fd)
            try:
                current = self._current_head()
                if current.segment != head.segment:
                    return
                self.fs.fsync(self._segment_fd(current.segment))
                synced = replace(current, synced=current.offset)
                write_head(self._head_file(), synced, self.fs)
                self._head = synced
            finally:
                self.fs.unlock(lock_fd)
