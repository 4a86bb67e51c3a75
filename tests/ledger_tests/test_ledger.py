"""The ledger: commit order, gap-free seq, integrity, torn tails, rolls, plain-pyarrow reads."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import CorruptionError, Ledger, PendingEvent, list_segments, read_head, verify
from ledger.segment import EOS, SCHEMA_MESSAGE


def event(i: int, kind: str = "record.metric") -> PendingEvent:
    return PendingEvent(
        kind,
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


def read_all(root: Path) -> pa.Table:
    return Ledger(root).read_table()


def test_empty_ledger_reads_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger")
    assert ledger.head().seq == 0
    assert read_all(tmp_path / "ledger").num_rows == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8), st.data())
def test_appends_commit_in_order_with_gap_free_seq(tmp_path_factory, sizes, data) -> None:
    root = tmp_path_factory.mktemp("ledger") / "ledger"
    ledger = Ledger(root, buffer_max_events=data.draw(st.integers(1, 64)))
    expected = []
    n = 0
    for size in sizes:
        ledger.append_many([event(n + i) for i in range(size)])
        expected += [f"body-{n + i}".encode() for i in range(size)]
        n += size
        if data.draw(st.booleans()):
            ledger.commit()
    ledger.close()
    table = read_all(root)
    assert table.column("seq").to_pylist() == list(range(1, n + 1))
    assert table.column("body").to_pylist() == expected
    tx = table.column("tx_time").cast(pa.int64()).to_pylist()
    assert tx == sorted(tx)
    assert verify(root).ok


def test_each_commit_has_a_later_tx_time(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l", buffer_max_events=1)
    for i in range(50):
        ledger.append(event(i))
    tx = read_all(tmp_path / "l").column("tx_time").cast(pa.int64()).to_pylist()
    assert all(b > a for a, b in itertools.pairwise(tx))


def test_segments_open_with_plain_pyarrow(tmp_path: Path) -> None:
    root = tmp_path / "l"
    ledger = Ledger(root, roll_bytes=4_000)
    for i in range(200):
        ledger.append(event(i))
        if i % 20 == 0:
            ledger.commit()
    ledger.close()
    segments = list_segments(root)
    assert len(segments) > 2
    rows = 0
    for info in segments:
        table = pa.ipc.open_stream(pa.memory_map(str(info.path))).read_all()
        assert {"seq", "tx_time", "kind", "body"} <= set(table.column_names)
        rows += table.num_rows
    assert rows == 200
    for info in segments[:-1]:
        assert info.path.read_bytes().endswith(EOS), f"{info.path.name} is not sealed"
    assert verify(root).ok


def test_flipped_byte_is_detected_with_file_and_offset(tmp_path: Path) -> None:
    root = tmp_path / "l"
    ledger = Ledger(root)
    ledger.append_many([event(i) for i in range(10)])
    ledger.close()
    seg = list_segments(root)[0].path
    data = bytearray(seg.read_bytes())
    position = len(SCHEMA_MESSAGE) + 100
    data[position] ^= 0x20
    seg.chmod(0o644)
    seg.write_bytes(bytes(data))
    report = verify(root)
    assert not report.ok
    finding = report.findings[0]
    assert finding.file == str(seg) and finding.offset == len(SCHEMA_MESSAGE)
    with pytest.raises(CorruptionError) as info:
        read_all(root)
    assert info.value.details["file"] == str(seg)
    assert info.value.details["offset"] == len(SCHEMA_MESSAGE)


@pytest.mark.parametrize("cut", [1, 7, 8, 50, 200, -1])
def test_torn_tail_is_moved_aside_and_the_prefix_survives(tmp_path: Path, cut: int) -> None:
    root = tmp_path / "l"
    ledger = Ledger(root)
    ledger.append_many([event(i) for i in range(5)])
    ledger.commit()
    before = read_head(root)
    ledger.append_many([event(i) for i in range(5, 9)])
    ledger.close()
    seg = list_segments(root)[0].path
    size = seg.stat().st_size
    keep = before.offset + (cut if cut > 0 else (size - before.offset - 1))
    with open(seg, "r+b") as handle:
        handle.truncate(keep)
    # simulate the head never having been published for the torn commit
    from ledger.fs import FileSystem
    from ledger.head import open_head, write_head

    fd = open_head(root, FileSystem())
    write_head(fd, before, FileSystem())
    os.close(fd)
    writer = Ledger(root)
    writer.append(event(100))
    writer.close()
    table = read_all(root)
    assert table.column("body").to_pylist() == [f"body-{i}".encode() for i in range(5)] + [
        b"body-100"
    ]
    assert table.column("seq").to_pylist() == list(range(1, 7))
    torn = list((root / "torn").iterdir())
    assert len(torn) == 1 and torn[0].stat().st_size == keep - before.offset
    assert (
        writer.last_recovery is not None and writer.last_recovery.torn_bytes == keep - before.offset
    )
    assert verify(root).ok


WRITER = """
import sys
from ledger import Ledger, PendingEvent
root, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ledger = Ledger(root, buffer_max_events=int(sys.argv[4]))
for i in range(n):
    ledger.append(PendingEvent("record.metric", f"record:p.r.{tag}-{i}", "project:p", "run:p.r",
                               None, None, "loss", float(i), None, tag, f"{tag}:{i}".encode()))
ledger.close()
"""


def test_two_processes_appending_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "l"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), tag, "5000", size])
        for tag, size in (("a", "37"), ("b", "101"))
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    table = read_all(root)
    assert table.num_rows == 10_000
    assert table.column("seq").to_pylist() == list(range(1, 10_001))
    bodies = table.column("body").to_pylist()
    assert sorted(bodies) == sorted(
        [f"a:{i}".encode() for i in range(5000)] + [f"b:{i}".encode() for i in range(5000)]
    )
    for tag in ("a", "b"):  # each writer's events keep their order
        mine = [b for b in bodies if b.startswith(f"{tag}:".encode())]
        assert mine == [f"{tag}:{i}".encode() for i in range(5000)]
    for _, frame in Ledger(root).frames():  # no batch interleaves two writers
        assert len(set(frame.batch.column("actor").to_pylist())) == 1
    report = verify(root)
    assert report.ok and report.events == 10_000


def test_a_checked_sealed_segment_is_not_reread_until_its_file_changes(tmp_path: Path) -> None:
    root = tmp_path / "l"
    ledger = Ledger(root, roll_bytes=3_000)
    for i in range(120):
        ledger.append(event(i))
        ledger.commit()
    ledger.close()
    segments = list_segments(root)
    assert len(segments) > 3
    # the writer vouched for what it wrote (test_writer_vouches_for_its_own_bytes); forget
    # that, as for a ledger whose stamps were lost, so this process checks it all
    (root / "verified.json").unlink()
    head = Ledger(root).head()
    first = Ledger(root)
    assert first.check(head.seq) > 0
    assert (root / "verified.json").exists()
    again = Ledger(root)  # a later process: only the active segment is read again
    active = segments[-1].path.stat().st_size
    assert again.check(head.seq) <= active
    sealed = segments[1].path
    data = bytearray(sealed.read_bytes())
    data[len(SCHEMA_MESSAGE) + 60] ^= 0x04
    sealed.chmod(0o644)
    sealed.write_bytes(bytes(data))  # a write changes the mtime: checked again, damage found
    with pytest.raises(CorruptionError) as info:
        Ledger(root).check(head.seq)
    assert info.value.details["file"] == str(sealed)
