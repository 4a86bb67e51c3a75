"""Saved state in chunks of a configured size: what a save holds is bounded by ``chunk_rows``.

- a rebuild that rolls to a new chunk every ``chunk_rows`` rows (a tiny cap forces a roll
  every row or few rows, across group boundaries) saves exactly the reference fold, every
  projection table by table, and its saved row indexes give exactly the rows holding each value;
- incremental saves under the cap, with compaction forced by a small ``MAX_CHUNKS``, keep the
  full chunks as they are and equal the reference fold;
- an exception in the middle of a rebuild (while folding, while rolling to the next chunk, while
  publishing) leaves the state saved before usable, and no file of the failed rebuild behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_rebuild_paths import KINDS, commit_lists, pending, per_batch_fold, write

import projections.engine as engine
import projections.store as store
from ledger import Ledger
from projections import ALL_PROJECTIONS, Projector
from projections.index import CLUSTERED, INDEXED

SETTINGS = settings(max_examples=20, deadline=None)
CAPS = [1, 2, 3, 7, 50, store.CHUNK_ROWS]


def manifest(folder: Path) -> dict[str, object]:
    return json.loads((folder / "MANIFEST.json").read_text())  # type: ignore[no-any-return]


def assert_saved_state_is(root: Path, ledger: Ledger, cap: int, *, rebuilt: bool = True) -> None:
    """Every projection saved under ``root`` loads to the reference fold of ``ledger``, in
    chunks of at most ``cap`` rows (a rebuild's all full but the last), and each saved row
    index gives exactly the rows of each value."""
    expected = per_batch_fold(ledger)
    reopened = Projector(Ledger(ledger.root), root)
    for cls in ALL_PROJECTIONS:
        table = reopened.get(cls.name).table()
        assert table.equals(expected[cls.name]), cls.name
        saved = manifest(root / cls.name)
        chunks = saved["chunks"]
        assert isinstance(chunks, list)
        assert sum(c["rows"] for c in chunks) == saved["rows"] == table.num_rows, cls.name
        assert all(c["rows"] <= cap for c in chunks), cls.name
        if rebuilt:
            assert all(c["rows"] == cap for c in chunks[:-1]), cls.name
            assert chunks[-1]["rows"] > 0 or len(chunks) == 1, cls.name
        for column in INDEXED.get(cls.name, ()):
            index = reopened.saved_index(cls.name, column)
            assert index is not None and index.rows == table.num_rows, (cls.name, column)
            values = table.column(column)
            for value in set(values.to_pylist()):
                found = pc.equal(values, value) if value is not None else pc.is_null(values)
                rows = pc.indices_nonzero(found.combine_chunks()).to_pylist()
                assert index.get(value) == rows, (cls.name, column, value)
                if column in CLUSTERED.get(cls.name, ()):
                    # the clustered copies give the same rows, read as slices
                    assert index.clustered, (cls.name, column)
                    pieces = index.rows_of(value)
                    assert all(p.num_rows for p in pieces)
                    taken = pa.concat_tables(pieces) if pieces else table.slice(0, 0)
                    assert taken.equals(table.take(rows)), (cls.name, column, value)
    assert {s.note for s in reopened.status()} == {"loaded"}


def leftovers(root: Path) -> list[str]:
    """Files under ``root`` that no manifest names (temp files, unpublished chunks)."""
    out = []
    for folder in root.iterdir():
        named = {"MANIFEST.json", "LOCK"}
        if (folder / "MANIFEST.json").exists():
            for chunk in manifest(folder)["chunks"]:  # type: ignore[attr-defined]
                named.add(chunk["file"])
                for side in ("indexes", "clustered", "ranges"):
                    named.update(i["file"] for i in (chunk.get(side) or {}).values())
        out += [f"{folder.name}/{p.name}" for p in folder.iterdir() if p.name not in named]
    return out


@SETTINGS
@given(
    commits=commit_lists,
    cap=st.sampled_from(CAPS),
    group_rows=st.sampled_from([1, 7, 65_536]),
    batch_rows=st.sampled_from([1, 3, store.COMPACT_ROWS]),
)
def test_a_rebuild_in_chunks_of_any_size_saves_the_reference_fold(
    tmp_path_factory: pytest.TempPathFactory,
    commits: list[list[str]],
    cap: int,
    group_rows: int,
    batch_rows: int,
) -> None:
    """Also with chunks of many batches (each sorted on its own in the clustered copies)."""
    root = tmp_path_factory.mktemp("rebuild")
    ledger = write(root / "l", commits)
    original = engine.GROUP_ROWS, store.COMPACT_ROWS
    engine.GROUP_ROWS, store.COMPACT_ROWS = group_rows, batch_rows
    try:
        Projector(ledger, root / "p", chunk_rows=cap).rebuild()
    finally:
        engine.GROUP_ROWS, store.COMPACT_ROWS = original
    assert_saved_state_is(root / "p", ledger, cap)
    assert leftovers(root / "p") == []


def test_a_rebuild_rolls_to_a_new_chunk_every_chunk_rows(tmp_path: Path) -> None:
    """The saved rows of a projection are split into ceil(rows / chunk_rows) chunks, each with
    its own index files."""
    ledger = write(tmp_path / "l", [["record.metric"] * 300, KINDS * 20, ["record.metric"] * 90])
    Projector(ledger, tmp_path / "p", chunk_rows=100).rebuild()
    saved = manifest(tmp_path / "p" / "stage_metrics")
    rows = saved["rows"]
    assert isinstance(rows, int) and rows == 300 + 20 + 90
    assert [c["rows"] for c in saved["chunks"]] == [100, 100, 100, 100, 10]  # type: ignore[attr-defined]
    for chunk in saved["chunks"]:  # type: ignore[attr-defined]
        assert set(chunk["indexes"]) == {"run_ref", "key"}
        assert set(chunk["clustered"]) == set(chunk["ranges"]) == {"key"}
    assert_saved_state_is(tmp_path / "p", ledger, 100)


@SETTINGS
@given(commits=commit_lists, cap=st.sampled_from([1, 3, 7, 50]), max_chunks=st.sampled_from([2, 3]))
def test_incremental_saves_in_chunks_equal_the_reference_fold(
    tmp_path_factory: pytest.TempPathFactory, commits: list[list[str]], cap: int, max_chunks: int
) -> None:
    """A save after each commit writes the new rows in chunks of at most ``cap`` rows; when
    there would be more than ``MAX_CHUNKS`` chunks, the full ones are kept as they are (same
    files) and only the rest is written again."""
    root = tmp_path_factory.mktemp("saves")
    ledger = Ledger(root / "l")
    original = store.MAX_CHUNKS
    store.MAX_CHUNKS = max_chunks
    try:
        projector = Projector(ledger, root / "p", chunk_rows=cap)
        written = 0
        for kinds in commits:
            before = {
                n: manifest(root / "p" / n)["chunks"]
                for n in projector.names
                if (root / "p" / n / "MANIFEST.json").exists()
            }
            ledger.append_many(pending(kinds, written))
            ledger.commit()
            written += len(kinds)
            projector.catch_up()
            projector.save()
            for name, chunks in before.items():
                assert isinstance(chunks, list)
                full = 0
                while full < len(chunks) and chunks[full]["rows"] >= cap:
                    full += 1
                now = manifest(root / "p" / name)["chunks"]
                assert isinstance(now, list)
                assert sum(c["rows"] < cap for c in now) <= max_chunks, name  # small ones merged
                assert now[:full] == chunks[:full], name  # full chunks are never written again
    finally:
        store.MAX_CHUNKS = original
    assert_saved_state_is(root / "p", ledger, cap, rebuilt=False)
    assert leftovers(root / "p") == []


class Boom(Exception):
    pass


@pytest.mark.parametrize("where", ["fold", "roll", "publish"])
def test_an_interrupted_rebuild_leaves_the_saved_state_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """State saved, more events committed, then a rebuild fails mid-way: the saved state (of
    the projections the rebuild had not published yet) is untouched and still loads, no temp
    or unpublished chunk file is left, and the same projector and a new one both answer the
    reference fold afterwards."""
    ledger = write(tmp_path / "l", [KINDS * 30, ["record.metric"] * 200])
    first = Projector(ledger, tmp_path / "p", chunk_rows=40)
    first.catch_up()
    first.save()
    saved_before = {n: manifest(tmp_path / "p" / n) for n in first.names}
    ledger.append_many(pending(KINDS * 10 + ["record.metric"] * 150, 10_000))
    ledger.commit()

    calls = {"n": 0}
    if where == "fold":
        original_apply = engine.Projection.apply

        def apply(self: engine.Projection, events: pa.Table) -> int:
            calls["n"] += 1
            if calls["n"] == 20:
                raise Boom
            return original_apply(self, events)

        monkeypatch.setattr(engine.Projection, "apply", apply)
        monkeypatch.setattr(engine, "GROUP_ROWS", 64)
    elif where == "roll":
        original_seal = store.ChunkEncoder.seal

        def seal(self: store.ChunkEncoder) -> store._SealedChunk:
            calls["n"] += 1
            if calls["n"] == 3:  # a later chunk of the first projection that rolls
                raise Boom
            return original_seal(self)

        monkeypatch.setattr(store.ChunkEncoder, "seal", seal)
    else:
        original_publish = store._publish

        def publish(folder: Path, *args: object, **kwargs: object) -> object:
            if folder.name == "stage_metrics":
                raise Boom
            return original_publish(folder, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(store, "_publish", publish)

    projector = Projector(Ledger(tmp_path / "l"), tmp_path / "p", chunk_rows=40)
    with pytest.raises(Boom):
        projector.rebuild()
    monkeypatch.undo()
    assert calls["n"] or where == "publish"

    assert leftovers(tmp_path / "p") == []
    unchanged = [n for n in first.names if manifest(tmp_path / "p" / n) == saved_before[n]]
    if where == "publish":  # the ones before stage_metrics were published, the rest not
        assert "stage_metrics" in unchanged and "records" not in unchanged
    else:
        assert unchanged == list(first.names)
    reopened = Projector(Ledger(tmp_path / "l"), tmp_path / "p", chunk_rows=40)
    assert {s.note for s in reopened.status()} == {"loaded"}
    expected = per_batch_fold(Ledger(tmp_path / "l"))
    for name, table in expected.items():
        assert reopened.get(name).table().equals(table), name
        assert projector.get(name).table().equals(table), name
    projector.save()
    assert_saved_state_is(tmp_path / "p", Ledger(tmp_path / "l"), 40, rebuilt=False)


@pytest.mark.parametrize("bad", [0, -1])
def test_a_chunk_size_below_one_is_refused(tmp_path: Path, bad: int) -> None:
    ledger = write(tmp_path / "l", [KINDS])
    with pytest.raises(ValueError, match="chunk_rows"):
        Projector(ledger, tmp_path / "p", chunk_rows=bad)


@pytest.mark.parametrize("batch_rows", [1, 3, 7])
def test_chunks_of_many_batches_have_clustered_copies_sorted_batch_by_batch(
    tmp_path: Path, batch_rows: int
) -> None:
    """Chunks of 100 rows folded 10 events at a time and written in batches of at least
    ``batch_rows``: a key's rows lie in several ranges of the copy (one per batch holding it),
    and read back whole and in order."""
    ledger = write(tmp_path / "l", [["record.metric"] * 300, KINDS * 20, ["record.metric"] * 90])
    original = engine.GROUP_ROWS, store.COMPACT_ROWS, store.BATCH_ROWS
    engine.GROUP_ROWS, store.COMPACT_ROWS, store.BATCH_ROWS = 10, batch_rows, batch_rows
    try:
        Projector(ledger, tmp_path / "p", chunk_rows=100).rebuild()
    finally:
        engine.GROUP_ROWS, store.COMPACT_ROWS, store.BATCH_ROWS = original
    assert_saved_state_is(tmp_path / "p", ledger, 100)
    reopened = Projector(Ledger(tmp_path / "l"), tmp_path / "p")
    table = reopened.get("stage_metrics").table()
    index = reopened.saved_index("stage_metrics", "key")
    assert index is not None and index.clustered
    split = 0  # keys that some chunk holds in more than one of its batches
    for value in set(table.column("key").to_pylist()):
        pieces = index.rows_of(value)
        split += len(pieces) > sum(1 for chunk in index.chunks if chunk.rows_of(value))
        expected = table.filter(pc.equal(table.column("key"), value))
        assert pa.concat_tables(pieces).equals(expected), value
    assert split


@pytest.mark.parametrize(("trim_groups", "group_rows"), [(1, 4), (2, 4), (3, 7), (1000, 4)])
def test_a_saving_rebuild_hands_freed_memory_back_every_few_groups_and_saves_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trim_groups: int, group_rows: int
) -> None:
    """Every ``TRIM_GROUPS`` groups folded, a saving rebuild calls ``malloc_trim``; the saved
    state is the reference fold however often it does."""
    ledger = write(tmp_path / "ledger", [KINDS[i % len(KINDS) :][:3] for i in range(20)])
    trims: list[int] = []
    monkeypatch.setattr(engine, "GROUP_ROWS", group_rows)
    monkeypatch.setattr(engine, "TRIM_GROUPS", trim_groups)
    monkeypatch.setattr(engine, "_malloc_trim", lambda: lambda: trims.append(1))
    spills: list[int] = []
    fold = engine.Projector._fold

    def counting(self: object, slots: object, frames: object, **options: object) -> object:
        after = options.pop("after_group", None)

        def counted() -> None:
            spills.append(1)
            if after is not None:
                after()  # type: ignore[operator]

        return fold(self, slots, frames, after_group=counted, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.Projector, "_fold", counting)
    Projector(ledger, tmp_path / "projections").rebuild()
    groups = len(spills) + 1  # the final spill after the fold is counted too
    assert len(spills) > 2
    assert len(trims) == groups // trim_groups
    monkeypatch.undo()
    assert_saved_state_is(tmp_path / "projections", ledger, store.CHUNK_ROWS)


def test_malloc_trim_is_a_no_op_where_the_c_library_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ctypes

    assert engine._malloc_trim()() in (None, 0, 1)  # glibc returns 1 when it released memory

    def missing(name: str) -> object:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert engine._malloc_trim()() is None


@pytest.mark.parametrize(("batch_rows", "chunk_rows"), [(50, 1000), (50, 120), (1, 1000)])
def test_a_rebuild_writes_batches_of_at_least_batch_rows_whatever_its_group_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int, chunk_rows: int
) -> None:
    """Groups of 7 events fold a few rows each; the chunks hold batches of at least
    ``BATCH_ROWS`` rows (but a chunk's last), so opening a chunk reads few batch headers, and
    the saved state is the reference fold."""
    ledger = write(tmp_path / "l", [["record.metric"] * 300, KINDS * 20, ["record.metric"] * 90])
    monkeypatch.setattr(engine, "GROUP_ROWS", 7)
    monkeypatch.setattr(store, "BATCH_ROWS", batch_rows)
    monkeypatch.setattr(store, "COMPACT_ROWS", 1)  # no gathering by the encoder itself
    Projector(ledger, tmp_path / "p", chunk_rows=chunk_rows).rebuild()
    monkeypatch.undo()
    assert_saved_state_is(tmp_path / "p", ledger, chunk_rows)
    folder = tmp_path / "p" / "stage_metrics"
    chunks = manifest(folder)["chunks"]
    assert isinstance(chunks, list)
    for chunk in chunks:
        with pa.memory_map(str(folder / chunk["file"])) as source:
            reader = pa.ipc.open_file(source)
            sizes = [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
        assert sum(sizes) == chunk["rows"]
        assert all(size >= min(batch_rows, chunk_rows) for size in sizes[:-1]), sizes


@pytest.mark.parametrize("small", [1, 4, 50])
def test_short_processes_appending_keep_one_small_chunk_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: int
) -> None:
    """Each process that appends a few events and closes saves them. The chunks under
    ``COMPACT_ROWS`` rows at the end are written again with them, as one chunk: the state does
    not gain a chunk (two files every later process opens) per process, larger chunks keep
    their files, and the saved state still equals the reference fold."""
    monkeypatch.setattr(store, "COMPACT_ROWS", small)
    ledger = write(tmp_path / "l", [["record.metric"] * 120])
    Projector(ledger, tmp_path / "p").rebuild()
    first = manifest(tmp_path / "p" / "records")["chunks"]
    assert isinstance(first, list) and len(first) == 1
    written = 120
    for _ in range(8):  # eight processes, each appending three events and saving at close
        ledger.append_many(pending(["record.metric"] * 3, written))
        ledger.commit()
        written += 3
        projector = Projector(Ledger(tmp_path / "l"), tmp_path / "p")
        projector.catch_up()
        projector.save()
        chunks = manifest(tmp_path / "p" / "records")["chunks"]
        assert isinstance(chunks, list)
        assert chunks[0] == first[0]  # the large chunk is never written again
        assert sum(int(c["rows"]) < small for c in chunks) <= 1
        if small == 50:  # every tail stays under 50 rows here: one chunk besides the first
            assert len(chunks) == 2
    assert_saved_state_is(tmp_path / "p", ledger, store.CHUNK_ROWS, rebuilt=False)
    assert leftovers(tmp_path / "p") == []


def test_a_load_that_races_a_save_reads_the_manifest_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process reads the manifest, then another one saves and drops a chunk file the first
    manifest named (a save writes small chunks at the end again): the load reads the manifest
    again instead of folding the whole ledger."""
    ledger = write(tmp_path / "l", [["record.metric"] * 120])
    Projector(ledger, tmp_path / "p").rebuild()
    folder = tmp_path / "p" / "records"
    stale = store._read_manifest(folder)  # what the first process read
    ledger.append_many(pending(["record.metric"] * 3, 120))
    ledger.commit()
    other = Projector(Ledger(tmp_path / "l"), tmp_path / "p")
    other.catch_up()
    other.save()  # the small chunk is written again with the new rows: its old file is gone
    assert not (folder / stale["chunks"][0]["file"]).exists()
    reads = {"n": 0}
    real = store._read_manifest

    def first_stale(path: Path) -> dict[str, object]:
        reads["n"] += 1
        return stale if reads["n"] == 1 and path == folder else real(path)

    monkeypatch.setattr(store, "_read_manifest", first_stale)
    projector = Projector(Ledger(tmp_path / "l"), tmp_path / "p")
    table = projector.get("records").table()
    notes = {s.name: s.note for s in projector.status()}
    assert notes["records"] == "loaded" and reads["n"] >= 2
    assert table.equals(per_batch_fold(Ledger(tmp_path / "l"))["records"])
