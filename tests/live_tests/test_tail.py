"""LedgerTail reads only new batches, up to the head, across segment rolls; ChangeWaker wakes."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta.live import ChangeWaker, LedgerTail
from ledger import (
    CorruptionError,
    FileSystem,
    Ledger,
    LedgerIOError,
    PendingEvent,
    list_segments,
    read_head,
)


def _event(i: int) -> PendingEvent:
    return PendingEvent(
        "record.metric", f"r{i}", None, "run:p.r", None, None, "loss", float(i), body=b"x" * 40
    )


def _commit(ledger: Ledger, start: int, count: int) -> int:
    ledger.append_many(_event(i) for i in range(start, start + count))
    ledger.commit()
    return start + count


def _seqs(batches: list[pa.RecordBatch]) -> list[int]:
    return [s for b in batches for s in b.column("seq").to_pylist()]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    commits=st.lists(st.lists(st.integers(1, 30), min_size=1, max_size=4), min_size=1, max_size=8),
    roll_bytes=st.sampled_from([700, 3000, 1 << 20]),
)
def test_reads_between_commits_give_each_event_once_and_decode_each_batch_once(
    tmp_path_factory: pytest.TempPathFactory, commits: list[list[int]], roll_bytes: int
) -> None:
    root = tmp_path_factory.mktemp("tail") / "ledger"
    ledger = Ledger(root, roll_bytes=roll_bytes, buffer_max_events=10_000)
    tail = LedgerTail(root)
    seen: list[int] = []
    n = batches = 0
    for group in commits:  # several commits, then one read
        for count in group:
            n = _commit(ledger, n, count)
            batches += 1
        seen += _seqs(tail.read())
    assert seen == list(range(1, n + 1))
    assert tail.frames_read == batches  # each committed batch decoded exactly once
    assert tail.read() == []
    ledger.close()


def test_starts_inside_a_batch_and_after_a_future_seq(tmp_path: Path) -> None:
    root = tmp_path / "ledger"
    ledger = Ledger(root, roll_bytes=600)
    n = _commit(ledger, 0, 10)
    assert _seqs(LedgerTail(root, after_seq=4).read()) == [5, 6, 7, 8, 9, 10]
    future = LedgerTail(root, after_seq=15)
    assert future.read() == []
    for _ in range(3):
        n = _commit(ledger, n, 3)
    assert len(list_segments(root)) > 1
    assert _seqs(future.read()) == [16, 17, 18, 19]
    ledger.close()


class _HeadFails(FileSystem):
    """Writes of HEAD fail while ``failing`` is set (the batch itself is written)."""

    failing = False

    def pwrite(self, fd: int, data: bytes, offset: int) -> int:
        if self.failing and offset == 0 and data.rstrip().endswith(b"}"):
            raise OSError(5, "injected HEAD failure")
        return super().pwrite(fd, data, offset)


def test_never_reads_past_the_committed_head(tmp_path: Path) -> None:
    """A commit in flight (its batch written, its head not yet published, the lock held) and
    a torn tail are invisible; the batch is read once its commit is adopted, in order."""
    root = tmp_path / "ledger"
    fs = _HeadFails()
    ledger = Ledger(root, fs=fs)
    n = _commit(ledger, 0, 2)
    tail = LedgerTail(root)
    assert _seqs(tail.read()) == [1, 2]
    fs.failing = True
    ledger.append(_event(n))
    with pytest.raises(LedgerIOError):
        ledger.commit()  # seq 3 is whole in the segment, but no HEAD names it
    fs.failing = False
    segment = list_segments(root)[-1].path
    published = read_head(root)
    assert published is not None and os.path.getsize(segment) > published.offset
    lock = os.open(root / "LOCK", os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as if its writer were still committing
        assert tail.read() == []
    finally:
        os.close(lock)
    _commit(ledger, n + 1, 1)  # the next commit adopts seq 3 and publishes 4
    assert _seqs(tail.read()) == [3, 4]
    with segment.open("ab") as f:  # a torn tail: half a batch past the head
        f.write(b"\xff\xff\xff\xff\x10\x00\x00\x00partial")
    assert tail.read() == []
    ledger.close()


def test_a_damaged_new_batch_raises_corruption(tmp_path: Path) -> None:
    root = tmp_path / "ledger"
    ledger = Ledger(root)
    n = _commit(ledger, 0, 2)
    tail = LedgerTail(root)
    tail.read()
    offset = ledger.head().offset
    _commit(ledger, n, 2)
    path = list_segments(root)[-1].path
    data = bytearray(path.read_bytes())
    data[offset + 200] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptionError) as info:
        tail.read()
    assert info.value.details["file"] == str(path)
    ledger.close()


def test_waker_wakes_on_a_head_rewrite_long_before_its_poll(tmp_path: Path) -> None:
    root = tmp_path / "ledger"
    ledger = Ledger(root)
    n = _commit(ledger, 0, 1)
    waker = ChangeWaker(root, poll=30.0)
    timer = threading.Timer(0.3, _commit, (ledger, n, 1))
    started = time.monotonic()
    timer.start()
    waker.wait()  # starts watching at once; returns on the first change or after 30 s
    waited = time.monotonic() - started
    timer.join()
    waker.close()
    waker.close()
    ledger.close()
    assert waited < 15  # woken by the file event, not by the 30 s poll


def test_waker_polls_until_the_ledger_directory_exists(tmp_path: Path) -> None:
    waker = ChangeWaker(tmp_path / "nothing-yet", poll=0.05)
    started = time.monotonic()
    waker.wait()
    assert 0.04 <= time.monotonic() - started < 5
    waker.close()
