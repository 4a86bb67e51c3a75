"""What the ledger offers the layers above it: the writers open on a root, a typed reason for
starting a new segment, and the tail reader, all without reaching into its modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import Ledger, LedgerTail, PendingEvent, list_segments, open_writers, read_head
from ledger.fs import FileSystem
from ledger.recovery import recover
from ledger.segment import EOS, segment_name


def event(i: int) -> PendingEvent:
    return PendingEvent(
        "record.metric",
        f"record:p.r.m{i}",
        "project:p",
        "run:p.r",
        None,
        1_000 + i,
        "loss",
        float(i),
        i,
        "tester",
        f"body-{i}".encode(),
    )


def _seal_active_by_hand(root: Path) -> None:
    """What a crash between writing the end-of-stream marker and starting the next segment
    leaves: the newest segment sealed, none after it."""
    active = list_segments(root)[-1]
    with open(active.path, "ab") as out:
        out.write(EOS)


# ---------------------------------------------------------------------- typed reason


def test_recovery_says_the_active_segment_is_sealed_as_a_flag(tmp_path: Path) -> None:
    root = tmp_path / "ledger"
    writer = Ledger(root)
    writer.append_many([event(i) for i in range(3)])
    writer.close()
    clean = recover(root, FileSystem(), published=read_head(root), dry_run=True)
    assert clean.active_sealed is False
    _seal_active_by_hand(root)
    report = recover(root, FileSystem(), published=read_head(root), dry_run=True)
    assert report.active_sealed is True


def test_a_writer_on_a_sealed_active_segment_starts_a_new_one(tmp_path: Path) -> None:
    root = tmp_path / "ledger"
    writer = Ledger(root)
    writer.append_many([event(i) for i in range(3)])
    writer.close()
    _seal_active_by_hand(root)
    again = Ledger(root)
    again.append(event(3))
    again.close()
    assert [s.path.name for s in list_segments(root)] == [segment_name(0), segment_name(1)]
    assert again.last_recovery is not None and again.last_recovery.active_sealed
    assert Ledger(root).read_table().column("seq").to_pylist() == [1, 2, 3, 4]


# ---------------------------------------------------------------------- open writers


def test_open_writers_names_the_open_writers_of_one_root_only(tmp_path: Path) -> None:
    first, other = tmp_path / "a" / "ledger", tmp_path / "b" / "ledger"
    w1, w2 = Ledger(first), Ledger(other)
    try:
        assert open_writers(first) == [w1]
        assert open_writers(tmp_path / "a" / ".." / "a" / "ledger") == [w1]  # resolved
        w1.close()
        assert w1.closed
        assert open_writers(first) == []
        w1.reopen()
        assert not w1.closed
        assert open_writers(first) == [w1]
    finally:
        w1.close()
        w2.close()
    assert open_writers(other) == []


def test_committing_the_open_writers_makes_their_buffers_readable(tmp_path: Path) -> None:
    root = tmp_path / "ledger"
    writer = Ledger(root, buffer_max_events=1_000, buffer_max_ms=600_000.0)
    try:
        writer.append_many([event(i) for i in range(4)])
        assert Ledger(root, read_only=True).head().seq == 0
        for live in open_writers(root):
            live.commit()
        assert Ledger(root, read_only=True).head().seq == 4
    finally:
        writer.close()


# ---------------------------------------------------------------------- tail


@pytest.mark.parametrize("after", [0, 2, 5])
def test_the_tail_reads_what_is_committed_after_a_seq_across_a_roll(
    tmp_path: Path, after: int
) -> None:
    root = tmp_path / "ledger"
    writer = Ledger(root, roll_bytes=1)  # every commit rolls
    try:
        for i in range(3):
            writer.append(event(i))
            writer.commit()
        tail = LedgerTail(root, after_seq=after)
        first = [s for b in tail.read() for s in b.column("seq").to_pylist()]
        for i in range(3, 6):
            writer.append(event(i))
            writer.commit()
        second = [s for b in tail.read() for s in b.column("seq").to_pylist()]
    finally:
        writer.close()
    assert first == list(range(after + 1, 4))
    assert second == [s for s in range(4, 7) if s > after]
    assert tail.last_seq == 6
    assert len(list_segments(root)) > 2
