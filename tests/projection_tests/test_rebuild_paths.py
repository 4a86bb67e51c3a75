"""The fast rebuild paths give exactly what the simple ones give.

- grouped folding (many ledger batches per ``apply``) equals folding one batch at a time;
- ``scan_frames`` (one stream reader per segment) yields what ``iter_frames`` yields, on plain
  and compressed ledgers;
- compressed and plain ledgers fold to the same projections;
- a rebuild that saves as it goes saves what an in-memory fold holds; compressed chunks and
  chunks written plain (by earlier versions) both load;
- a rebuild over damaged bytes raises the typed error naming the file and offset.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger.segment as segment_module
import projections.engine as engine
import projections.store as store
from ledger import EVENT_SCHEMA, CorruptionError, Ledger, PendingEvent, list_segments
from ledger.segment import SCHEMA_MESSAGE, iter_frames, scan_frames
from projections import ALL_PROJECTIONS, Projector
from projections.engine import _read_ahead, _with_locator

KINDS = [
    "project.put",
    "run.put",
    "stage.put",
    "record.metric",
    "record.event",
    "record.span",
    "run.quarantine",
    "run.release",
    "deployment.put",
    "artifact.put",
    "relation.put",
]
SETTINGS = settings(max_examples=15, deadline=None)


def pending(kinds: list[str], start: int) -> list[PendingEvent]:
    return [
        PendingEvent(
            kind,
            f"ref:{(start + i) % 13}",
            "project:p",
            f"run:p.r{(start + i) % 5}",
            None if i % 4 == 0 else f"stage:p.r{(start + i) % 5}.s{i % 2}",
            1000 + i,
            f"k{i % 4}",
            float(start + i),
            start + i,
            "tester",
            (f"body-{start + i}-" + "x" * (i % 50)).encode(),
        )
        for i, kind in enumerate(kinds)
    ]


def write(root: Path, commits: list[list[str]], **options: object) -> Ledger:
    ledger = Ledger(root, **options)  # type: ignore[arg-type]
    written = 0
    for kinds in commits:
        ledger.append_many(pending(kinds, written))
        ledger.commit()
        written += len(kinds)
    return ledger


def per_batch_fold(ledger: Ledger) -> dict[str, pa.Table]:
    """The simple fold: each committed batch applied on its own."""
    out = {}
    frames = list(ledger.frames())
    for cls in ALL_PROJECTIONS:
        projection = cls(EVENT_SCHEMA)
        for segment, frame in frames:
            projection.apply(_with_locator(frame.batch, segment, frame.offset))
        out[cls.name] = projection.table()
    return out


def rebuilt(ledger: Ledger, folder: Path, *, save: bool) -> dict[str, pa.Table]:
    projector = Projector(ledger, folder, persist=save)
    projector.rebuild(save=save)
    return {cls.name: projector.get(cls.name).table() for cls in ALL_PROJECTIONS}


commit_lists = st.lists(
    st.lists(st.sampled_from(KINDS), min_size=1, max_size=40), min_size=1, max_size=8
)


@SETTINGS
@given(commits=commit_lists, group_rows=st.sampled_from([1, 7, 50, 65_536]))
def test_grouped_fold_equals_the_per_batch_fold(
    tmp_path_factory: pytest.TempPathFactory, commits: list[list[str]], group_rows: int
) -> None:
    root = tmp_path_factory.mktemp("w")
    ledger = write(root / "l", commits, roll_bytes=6_000)
    expected = per_batch_fold(ledger)
    original = engine.GROUP_ROWS
    engine.GROUP_ROWS = group_rows
    try:
        in_memory = rebuilt(ledger, root / "mem", save=False)
        saved = rebuilt(ledger, root / "disk", save=True)
    finally:
        engine.GROUP_ROWS = original
    for name, table in expected.items():
        assert in_memory[name].equals(table), name
        assert saved[name].equals(table), name


@SETTINGS
@given(commits=commit_lists, split=st.integers(0, 8))
def test_catching_up_in_groups_equals_the_per_batch_fold(
    tmp_path_factory: pytest.TempPathFactory, commits: list[list[str]], split: int
) -> None:
    root = tmp_path_factory.mktemp("w")
    ledger = write(root / "l", commits[:split], roll_bytes=6_000)
    projector = Projector(ledger, root / "p")
    projector.catch_up()
    projector.save()
    written = sum(len(kinds) for kinds in commits[:split])
    for kinds in commits[split:]:
        ledger.append_many(pending(kinds, written))
        ledger.commit()
        written += len(kinds)
    resumed = Projector(ledger, root / "p")  # loads the saved state, folds the rest
    expected = per_batch_fold(ledger)
    for name, table in expected.items():
        assert resumed.get(name).table().equals(table), name


@pytest.mark.parametrize("compress_min_rows", [1, 10**9])
def test_scan_frames_yields_what_iter_frames_yields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compress_min_rows: int
) -> None:
    monkeypatch.setattr(segment_module, "COMPRESS_MIN_ROWS", compress_min_rows)
    ledger = write(tmp_path / "l", [KINDS * 3, ["record.metric"] * 300, KINDS], roll_bytes=10**9)
    ledger.close()
    path = list_segments(tmp_path / "l")[0].path
    buf = pa.memory_map(str(path), "r").read_buffer()
    end = Ledger(tmp_path / "l").head().offset
    simple = list(iter_frames(buf, len(SCHEMA_MESSAGE), end, str(path)))
    fast = list(scan_frames(buf, end, str(path)))
    assert len(fast) == len(simple) == 3
    for a, b in zip(fast, simple, strict=True):
        assert (
            a.offset,
            a.length,
            a.first_seq,
            a.count,
            a.tx_time,
            a.prev_chain,
            a.chain,
            a.seal_at,
        ) == (b.offset, b.length, b.first_seq, b.count, b.tx_time, b.prev_chain, b.chain, b.seal_at)
        assert a.batch.equals(b.batch)


def test_compressed_and_plain_ledgers_fold_to_the_same_projections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = [KINDS * 20, ["record.metric"] * 500, KINDS * 5, ["run.put"] * 3]
    folded = {}
    for label, min_rows in (("compressed", 1), ("plain", 10**9)):
        monkeypatch.setattr(segment_module, "COMPRESS_MIN_ROWS", min_rows)
        ledger = write(tmp_path / label / "l", commits, roll_bytes=20_000)
        ledger.close()
        folded[label] = rebuilt(Ledger(tmp_path / label / "l"), tmp_path / label / "p", save=True)
    sizes = {label: sum(s.size for s in list_segments(tmp_path / label / "l")) for label in folded}
    assert sizes["compressed"] < sizes["plain"]  # the ledgers really differ
    for cls in ALL_PROJECTIONS:
        # commit times and where batches lie (segment, byte offset) differ; nothing else
        keep = [c for c in cls.columns if c not in ("tx_time", "segment", "batch_offset")]
        compressed = folded["compressed"][cls.name].select(keep)
        assert compressed.equals(folded["plain"][cls.name].select(keep)), cls.name


def test_a_saving_rebuild_writes_chunks_that_load_back_mapped(tmp_path: Path) -> None:
    """A rebuild's chunk is written plain and loads as the mapped file itself: loading it
    allocates nothing near its size (format 1 was LZ4 and decoded whole by every process)."""
    ledger = write(tmp_path / "l", [["record.metric"] * 2000, KINDS * 4])
    expected = per_batch_fold(ledger)
    Projector(ledger, tmp_path / "p").rebuild()
    folder = tmp_path / "p" / "records"
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    (chunk,) = manifest["chunks"]
    assert chunk["rows"] == manifest["rows"] == expected["records"].num_rows
    assert manifest["format"] == chunk["format"] == store.FORMAT
    assert set(chunk["indexes"]) == {"run_ref"}
    reopened = Projector(Ledger(tmp_path / "l"), tmp_path / "p")
    before = pa.total_allocated_bytes()
    records = reopened.get("records").table()
    assert pa.total_allocated_bytes() - before < chunk["bytes"] / 10
    assert records.equals(expected["records"])
    for name, table in expected.items():
        assert reopened.get(name).table().equals(table), name
    assert {s.note for s in reopened.status()} == {"loaded"}


def test_chunks_written_plain_still_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = write(tmp_path / "l", [KINDS * 10, KINDS * 3])
    monkeypatch.setattr(store, "CHUNK_OPTIONS", pa.ipc.IpcWriteOptions())
    old = Projector(ledger, tmp_path / "p")
    old.catch_up()
    old.save()
    monkeypatch.undo()
    reopened = Projector(Ledger(tmp_path / "l"), tmp_path / "p")
    for name, table in per_batch_fold(ledger).items():
        assert reopened.get(name).table().equals(table), name
    assert {s.note for s in reopened.status()} == {"loaded"}


def damage(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x10
    path.chmod(0o644)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("which", ["sealed", "active"])
def test_a_rebuild_over_damaged_bytes_raises_naming_file_and_offset(
    tmp_path: Path, which: str
) -> None:
    roll_bytes = 8_000 if which == "sealed" else 10**9
    ledger = write(tmp_path / "l", [KINDS * 8] * 12, roll_bytes=roll_bytes)
    ledger.close()
    segments = list_segments(tmp_path / "l")
    path = segments[1].path if which == "sealed" else segments[-1].path
    assert (len(segments) > 2) == (which == "sealed")
    expected = per_batch_fold(Ledger(tmp_path / "l"))
    intact = path.read_bytes()
    damage(path, len(SCHEMA_MESSAGE) + 300)
    projector = Projector(Ledger(tmp_path / "l"), tmp_path / "p")
    with pytest.raises(CorruptionError) as info:
        projector.rebuild()
    assert info.value.details["file"] == str(path)
    assert info.value.details["offset"] == len(SCHEMA_MESSAGE)
    path.write_bytes(intact)  # repaired: the same projector now folds everything, exactly
    for name, table in expected.items():
        assert projector.get(name).table().equals(table), name


def test_a_verified_segment_is_checked_again_once_its_file_changes(tmp_path: Path) -> None:
    ledger = write(tmp_path / "l", [KINDS * 8] * 12, roll_bytes=8_000)
    ledger.close()
    segments = list_segments(tmp_path / "l")
    Projector(Ledger(tmp_path / "l"), tmp_path / "p").rebuild()
    verified = json.loads((tmp_path / "l" / "verified.json").read_text())
    assert set(verified) == {str(s.index) for s in segments[:-1]}  # every sealed segment
    damage(segments[0].path, len(SCHEMA_MESSAGE) + 300)
    with pytest.raises(CorruptionError) as info:
        Projector(Ledger(tmp_path / "l"), tmp_path / "p2").rebuild()
    assert info.value.details["file"] == str(segments[0].path)


def test_read_ahead_keeps_order_raises_in_order_and_closes_its_source() -> None:
    closed = []

    def source(fail_at: int | None):
        try:
            for i in range(20):
                if i == fail_at:
                    raise CorruptionError("damaged", file="f", offset=i)
                yield i
        finally:
            closed.append(fail_at)

    assert list(_read_ahead(source(None), 2)) == list(range(20))
    seen = []
    with pytest.raises(CorruptionError):
        for item in _read_ahead(source(7), 2):
            seen.append(item)
    assert seen == list(range(7))
    early = _read_ahead(source(None), 2)
    assert [next(early), next(early)] == [0, 1]
    early.close()  # the consumer stops: the producer stops and closes its source
    assert closed == [None, 7, None]
