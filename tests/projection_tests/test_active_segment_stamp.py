"""The active segment's checked prefix, trusted across processes by a stamp.

Loading saved projections CRC-checks the ledger prefix they were folded from. A sealed segment
that passed is remembered in ``verified.json`` by its stamp; the active segment's checked prefix
is remembered the same way (``active``: segment, size, mtime, ctime, inode, bytes, last seq and
its chain hash), so
a new process opening an unchanged workspace does not CRC every batch again, while:

- a changed file (an append, a flipped byte) is checked again, and damage still raises;
- a file written too recently to have a trustworthy timestamp is not stamped at all;
- a stamp that is malformed, for another segment or for too short a prefix is ignored.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_read_batch import crc_counter
from test_rebuild_paths import KINDS, damage, pending, write

import ledger.reader as reader_module
from ledger import CorruptionError, Ledger, LedgerReader, list_segments
from ledger.segment import SCHEMA_MESSAGE
from projections import Projector


def _settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat any file as settled (the default waits 2.5 s after its last write)."""
    monkeypatch.setattr(reader_module, "SETTLED_NS", -(10**12))


def _last_seq(root: Path) -> int:
    return LedgerReader(root).head().seq


def _active_entry(root: Path) -> object:
    return json.loads((root / "verified.json").read_text()).get("active")


def _one_segment(root: Path) -> Path:
    write(root, [KINDS * 8] * 12).close()
    # the writer vouched for its own bytes (tests/ledger_tests/test_writer_vouches.py); these
    # tests are about what a reader records, so start from a ledger without stamps
    (root / "verified.json").unlink()
    segments = list_segments(root)
    assert len(segments) == 1  # everything in the active segment
    return segments[0].path


def test_a_checked_unchanged_active_segment_is_not_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _one_segment(root)
    seq = _last_seq(root)
    _settled(monkeypatch)
    assert LedgerReader(root).check(seq) > 0
    assert isinstance(_active_entry(root), list)
    seen = crc_counter(monkeypatch)
    reader = LedgerReader(root)  # as a new process would
    assert reader.check(seq) == 0
    assert seen == []
    frames = list(LedgerReader(root).frames(check_crc=False))
    for segment, frame in frames:  # and the batches read back unchecked, equal
        assert reader.read_batch(segment, frame.offset).batch.equals(frame.batch)
    assert seen == []


def test_a_flipped_byte_in_a_stamped_active_segment_still_raises_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    path = _one_segment(root)
    Projector(Ledger(root), tmp_path / "p").rebuild()  # saves the projections
    _settled(monkeypatch)
    Projector(Ledger(root), tmp_path / "p").get("runs")  # loads: checks and stamps the prefix
    assert isinstance(_active_entry(root), list)
    time.sleep(0.05)  # past the file system's timestamp granularity
    damage(path, len(SCHEMA_MESSAGE) + 300)
    with pytest.raises(CorruptionError) as info:
        Projector(Ledger(root), tmp_path / "p").get("runs")
    assert info.value.details["file"] == str(path)
    assert info.value.details["offset"] == len(SCHEMA_MESSAGE)


def test_an_append_makes_the_prefix_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _one_segment(root)
    seq = _last_seq(root)
    _settled(monkeypatch)
    LedgerReader(root).check(seq)
    time.sleep(0.05)
    ledger = Ledger(root)
    ledger.append_many(pending(KINDS, 500))
    ledger.close()
    seen = crc_counter(monkeypatch)
    assert LedgerReader(root).check(seq) > 0  # the file changed: its prefix is checked
    assert seen


def test_a_recently_written_active_segment_is_not_stamped(tmp_path: Path) -> None:
    root = tmp_path / "l"
    _one_segment(root)
    LedgerReader(root).check(_last_seq(root))  # just written: its timestamp may repeat
    verified = root / "verified.json"
    assert not verified.exists() or "active" not in json.loads(verified.read_text())


@pytest.mark.parametrize(
    "entry",
    [
        "garbage",
        [1, 2, 3],
        ["0", 1, 2, 3, 4, 5, 6, "0" * 32],
        "seven fields",
        "not a chain",
        "other segment",
        "short prefix",
        "other stamp",
    ],
)
def test_a_stamp_that_does_not_fit_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: object
) -> None:
    root = tmp_path / "l"
    _one_segment(root)
    seq = _last_seq(root)
    _settled(monkeypatch)
    LedgerReader(root).check(seq)
    good = _active_entry(root)
    assert isinstance(good, list)
    if entry == "other segment":
        entry = [good[0] + 1, *good[1:]]
    elif entry == "short prefix":
        entry = [*good[:-2], seq - 1, good[-1]]
    elif entry == "seven fields":  # the entry as an older version wrote it, without the chain
        entry = good[:-1]
    elif entry == "not a chain":
        entry = [*good[:-1], "zz" * 16]
    elif entry == "other stamp":
        entry = [good[0], good[1], good[2] + 1, *good[3:]]
    (root / "verified.json").write_text(json.dumps({"active": entry}))
    seen = crc_counter(monkeypatch)
    assert LedgerReader(root).check(seq) > 0
    assert seen
