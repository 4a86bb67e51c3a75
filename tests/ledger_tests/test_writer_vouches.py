"""A writer vouches for the bytes it wrote, and its recovery trusts what this process checked.

Every new process used to CRC-check the active segment's whole prefix twice when it appended:
once to trust saved projections (a stamp is left only 2.5 s after the file's last write, so
the previous process's own appends were never stamped), and once in the writer's first
commit, whose recovery walked the segment from its start. Now:

- the checked prefix grows over this writer's own commits, and at ``close`` (under the ledger
  lock, when the published head is still its last commit) the writer leaves the active
  segment's stamp in ``verified.json``; a segment it seals is remembered when every batch of
  it was checked or written here;
- a writer whose process checked the active segment up to the published head (seq and chain
  hash of that very batch) walks only the bytes past the head before its first commit.

What must not change: bytes nobody in this process checked or wrote are never vouched for; a
commit by another writer in between makes the next process check again; a flipped byte is
still found; a torn tail past the head is still moved aside.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ledger import CorruptionError, Ledger, LedgerReader, PendingEvent, list_segments, verify
from ledger.segment import SCHEMA_MESSAGE
from tests.conftest import crc_counter


def _events(tag: str, n: int) -> list[PendingEvent]:
    return [
        PendingEvent("record.metric", f"record:{tag}.{i}", None, "run:p.r", None, 1000 + i, "k")
        for i in range(n)
    ]


def _write(root: Path, commits: int, per: int = 20, **options: object) -> None:
    ledger = Ledger(root, **options)  # type: ignore[arg-type]
    for c in range(commits):
        ledger.append_many(_events(f"w{c}", per))
        ledger.commit()
    ledger.close()


def _verified(root: Path) -> dict[str, object]:
    path = root / "verified.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_a_writer_leaves_stamps_for_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _write(root, 60, roll_bytes=20_000)
    segments = list_segments(root)
    assert len(segments) > 3
    stamps = _verified(root)
    assert {str(s.index) for s in segments[:-1]} <= set(stamps)  # every sealed one
    head = LedgerReader(root).head()
    assert stamps["active"] == [
        head.segment,
        *_stat(segments[-1].path),
        head.offset,
        head.seq,
        head.chain,
    ]
    seen = crc_counter(monkeypatch)
    assert LedgerReader(root).check(head.seq) == 0  # the next process checks nothing
    assert seen == []
    assert verify(root).ok  # and the bytes are good, read in full


def _stat(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def test_a_writer_that_did_not_see_the_prefix_vouches_for_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _write(root, 5)
    (root / "verified.json").unlink(missing_ok=True)  # nobody has checked the bytes now
    _write(root, 3)  # a writer that appends without reading
    assert "active" not in _verified(root)
    seen = crc_counter(monkeypatch)
    head = LedgerReader(root).head()
    assert LedgerReader(root).check(head.seq) > 0
    assert seen


def test_another_writers_commit_is_checked_by_the_next_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _write(root, 5)  # stamped by its writer
    mine = Ledger(root)
    mine.check(mine.head().seq)  # this process checked the prefix
    mine.append_many(_events("mine", 10))
    mine.commit()
    other = Ledger(root)  # another process appends after it, and has checked nothing
    (root / "verified.json").unlink(missing_ok=True)
    other.append_many(_events("other", 10))
    other.close()
    mine.close()  # the head is not its own any more: it leaves no stamp
    assert "active" not in _verified(root)
    seen = crc_counter(monkeypatch)
    head = LedgerReader(root).head()
    assert LedgerReader(root).check(head.seq) > 0
    assert seen


def test_a_flipped_byte_after_the_writers_stamp_is_found(tmp_path: Path) -> None:
    root = tmp_path / "l"
    _write(root, 8)
    assert "active" in _verified(root)
    path = list_segments(root)[-1].path
    time.sleep(0.05)  # past the file system's timestamp granularity
    data = bytearray(path.read_bytes())
    data[len(SCHEMA_MESSAGE) + 200] ^= 0x08
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptionError) as info:
        LedgerReader(root).check(LedgerReader(root).head().seq)
    assert info.value.details["file"] == str(path)


def test_a_first_commit_after_a_checked_prefix_walks_only_past_the_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _write(root, 40)
    writer = Ledger(root)
    head = writer.head()
    writer.check(head.seq)  # as loading saved projections does
    seen = crc_counter(monkeypatch)
    writer.append_many(_events("next", 5))
    writer.commit()
    # recovery walked no batch of the 40 before the head, only read the segment's first one
    # (its link to the segment before it)
    assert set(seen) <= {len(SCHEMA_MESSAGE)}
    monkeypatch.undo()
    writer.close()
    assert LedgerReader(root).head().seq == head.seq + 5
    assert verify(root).ok


def test_without_a_checked_prefix_the_first_commit_walks_the_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _write(root, 40)
    (root / "verified.json").unlink(missing_ok=True)
    writer = Ledger(root)
    seen = crc_counter(monkeypatch)
    writer.append_many(_events("next", 5))
    writer.commit()
    assert len(seen) >= 40  # every batch before the head was walked
    writer.close()


def test_a_torn_tail_past_a_trusted_head_is_still_moved_aside(tmp_path: Path) -> None:
    root = tmp_path / "l"
    _write(root, 10)
    writer = Ledger(root)
    head = writer.head()
    writer.check(head.seq)
    path = list_segments(root)[-1].path
    with path.open("ab") as f:  # a crashed writer's half batch past the head
        f.write(b"\x07" * 300)
    writer.append_many(_events("after", 3))
    writer.commit()
    writer.close()
    assert writer.last_recovery is not None and writer.last_recovery.torn_bytes == 300
    report = verify(root)
    assert report.ok and report.last_seq == head.seq + 3


def test_a_head_from_another_writer_since_the_check_means_a_full_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _write(root, 10)
    mine = Ledger(root)
    mine.check(mine.head().seq)
    _write(root, 2)  # another writer commits after this process's check
    seen = crc_counter(monkeypatch)
    mine.append_many(_events("mine", 3))
    mine.commit()
    assert len(seen) >= 12  # the published head is not the checked tip: walked from the start
    monkeypatch.undo()
    mine.close()
    report = verify(root)
    assert report.ok and report.events == 10 * 20 + 2 * 20 + 3
