"""``LedgerReader.read_batch``: the batch a projection row points at, read through the
reader's maps, CRC-checked unless the reader knows the bytes are verified.

- every batch reads back equal to what a full scan yields, verified or not;
- bytes this reader checked (a scan, ``check``) or a sealed segment in ``verified.json`` are not
  CRC-checked again; other bytes are;
- damaged bytes nobody verified raise the typed error naming the file and offset.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_rebuild_paths import KINDS, SETTINGS, damage, pending, write

from ledger import CorruptionError, Ledger, LedgerReader, list_segments
from ledger.publish import wait_published
from ledger.segment import SCHEMA_MESSAGE
from tests.conftest import crc_counter


@SETTINGS
@given(
    commits=st.lists(
        st.lists(st.sampled_from(KINDS), min_size=1, max_size=60), min_size=1, max_size=10
    ),
    roll_bytes=st.sampled_from([4_000, 10**9]),
    scanned=st.booleans(),
)
def test_every_batch_reads_back_equal_to_the_scan(
    tmp_path_factory: pytest.TempPathFactory,
    commits: list[list[str]],
    roll_bytes: int,
    scanned: bool,
) -> None:
    root = tmp_path_factory.mktemp("l")
    write(root, commits, roll_bytes=roll_bytes).close()
    expected = list(LedgerReader(root).frames())
    reader = LedgerReader(root)
    if scanned:
        list(reader.frames())
    head = reader.head()
    for segment, frame in reversed(expected):  # out of order: no reliance on a scan order
        got = reader.read_batch(segment, frame.offset, head)
        assert got.batch.equals(frame.batch)
        assert (got.offset, got.length, got.chain) == (frame.offset, frame.length, frame.chain)


@pytest.mark.parametrize("how", ["scan", "check", "verified.json"])
def test_verified_bytes_are_not_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    write(tmp_path / "l", [KINDS * 8] * 12, roll_bytes=8_000).close()
    assert wait_published(tmp_path / "l")  # the Parquet copies are made on their own thread
    frames = list(LedgerReader(tmp_path / "l").frames())
    reader = LedgerReader(tmp_path / "l")
    if how == "scan":
        list(reader.frames())
    elif how == "check":
        reader.check(frames[-1][1].first_seq + frames[-1][1].count - 1)
    else:
        LedgerReader(tmp_path / "l").check(10**9)  # writes verified.json; the active
        frames = [f for f in frames if f[0] < frames[-1][0]]  # segment is not in it
    seen = crc_counter(monkeypatch)
    for segment, frame in frames:
        assert reader.read_batch(segment, frame.offset).batch.equals(frame.batch)
    assert seen == []


def test_unverified_bytes_are_checked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "l", [KINDS * 8] * 6).close()
    frames = list(LedgerReader(tmp_path / "l").frames())
    reader = LedgerReader(tmp_path / "l")
    seen = crc_counter(monkeypatch)
    for _ in range(2):
        for segment, frame in frames:
            reader.read_batch(segment, frame.offset)
    assert seen == [f.offset for _, f in frames]  # the checked prefix grew batch by batch


@pytest.mark.parametrize("which", ["sealed", "active"])
def test_damaged_unverified_bytes_raise_naming_file_and_offset(tmp_path: Path, which: str) -> None:
    roll_bytes = 8_000 if which == "sealed" else 10**9
    write(tmp_path / "l", [KINDS * 8] * 12, roll_bytes=roll_bytes).close()
    segments = list_segments(tmp_path / "l")
    target = segments[1] if which == "sealed" else segments[-1]
    frames = [f for s, f in LedgerReader(tmp_path / "l").frames() if s == target.index]
    damage(target.path, frames[1].offset + 200)
    reader = LedgerReader(tmp_path / "l")
    assert reader.read_batch(target.index, frames[0].offset).batch.equals(frames[0].batch)
    with pytest.raises(CorruptionError) as info:
        reader.read_batch(target.index, frames[1].offset)
    assert info.value.details["file"] == str(target.path)
    assert info.value.details["offset"] == frames[1].offset


def test_a_verified_segment_whose_file_changed_is_checked_again(tmp_path: Path) -> None:
    write(tmp_path / "l", [KINDS * 8] * 12, roll_bytes=8_000).close()
    LedgerReader(tmp_path / "l").check(10**9)  # every sealed segment into verified.json
    segment = list_segments(tmp_path / "l")[0]
    damage(segment.path, len(SCHEMA_MESSAGE) + 300)
    with pytest.raises(CorruptionError) as info:
        LedgerReader(tmp_path / "l").read_batch(segment.index, len(SCHEMA_MESSAGE))
    assert info.value.details["offset"] == len(SCHEMA_MESSAGE)


def test_a_batch_past_the_head_or_at_the_end_raises(tmp_path: Path) -> None:
    ledger: Ledger = write(tmp_path / "l", [KINDS * 2])
    ledger.close()
    reader = LedgerReader(tmp_path / "l")
    head = reader.head()
    with pytest.raises(CorruptionError):
        reader.read_batch(head.segment + 1, len(SCHEMA_MESSAGE), head)
    with pytest.raises(CorruptionError):
        reader.read_batch(head.segment, head.offset, head)


def test_batches_committed_after_a_read_are_read_too(tmp_path: Path) -> None:
    ledger = write(tmp_path / "l", [KINDS * 2] * 3, roll_bytes=6_000)
    reader = LedgerReader(tmp_path / "l")
    for round_ in range(4):
        for segment, frame in LedgerReader(tmp_path / "l").frames():
            assert reader.read_batch(segment, frame.offset).batch.equals(frame.batch), round_
        ledger.append_many(pending(KINDS * 3, 1000 * (round_ + 1)))
        ledger.commit()  # the active segment grows (and rolls): its map is taken anew
    ledger.close()
