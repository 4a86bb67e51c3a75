"""Saved projection state (format 3): what a new process opens without decoding it.

- a workspace saved by an earlier format opens, answers as before, and is rewritten in the
  current format by its next save: format 1 (LZ4 chunks, no stamps, no row indexes; written by
  commit a8ec50c, in ``data/format1_workspace``) and format 2 (plain chunks and row indexes, no
  clustered copies; the same ledger saved by commit f671cec, in ``data/format2_workspace``);
- every saved row index (:data:`projections.index.INDEXED`) equals grouping the projection's
  rows in memory, over any number of saves (chunks) and rows folded after the last one, and
  every clustered copy (:data:`projections.index.CLUSTERED`) gives exactly the rows the index
  names, in the same order;
- the index builders (one batch, partial indexes merged) equal the plain loop;
- a chunk or index file changed on disk after it was saved is CRC-checked, not trusted.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_rebuild_paths import KINDS, commit_lists, pending, per_batch_fold, write

import projections.store as store
from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from ledger import Ledger
from projections import ALL_PROJECTIONS, Projector
from projections.index import (
    CLUSTERED,
    INDEXED,
    ChunkIndex,
    ClusteredCopy,
    RowIndex,
    build_index,
    cluster_batch,
    group_rows,
    merge_indexes,
    merge_ranges,
    partial_index,
)

FORMAT1 = Path(__file__).parent / "data" / "format1_workspace"
FORMAT2 = Path(__file__).parent / "data" / "format2_workspace"
RUNS = ["run:bench.r000000", "run:bench.r000001", "run:bench.r000002"]


def open_ctx(root: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="bench", workspace=WorkspaceConfig(root_path=root))
    )


def manifests(root: Path) -> dict[str, dict]:
    return {
        p.parent.name: json.loads(p.read_text())
        for p in (root / "projections").glob("*/MANIFEST.json")
    }


@pytest.mark.parametrize("saved", [FORMAT1, FORMAT2], ids=["format1", "format2"])
def test_a_workspace_saved_in_an_earlier_format_opens_answers_and_is_upgraded(
    tmp_path: Path, saved: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(saved, root)
    before = manifests(root)
    if saved == FORMAT1:
        assert before and all("format" not in m for m in before.values())  # the old format
    else:
        assert before and all(m["format"] == 2 for m in before.values())
        assert not any("clustered" in c for m in before.values() for c in m["chunks"])
    ctx = open_ctx(root)
    if saved == FORMAT2:  # its row indexes are used as they are until the rewrite
        ctx._workspace.projector.get("stage_metrics")
        index = ctx._workspace.projector.saved_index("stage_metrics", "key")
        assert index is not None and not index.clustered
    # the answers recorded when the workspace was written (by the previous version)
    assert [r.run_id for r in ctx.list_runs()] == RUNS
    assert ctx.select_best_run(RUNS, "accuracy", stage_name="evaluate") == RUNS[0]
    assert [len(ctx.get_run_snapshot(r).records) for r in RUNS] == [14, 14, 14]
    expected = per_batch_fold(Ledger(root / "ledger", read_only=True))
    projector = ctx._workspace.projector
    for cls in ALL_PROJECTIONS:
        assert projector.get(cls.name).table().equals(expected[cls.name]), cls.name
    ctx.close()
    after = manifests(root)
    assert set(before) <= set(after)
    for name, manifest in after.items():
        assert manifest["format"] == store.FORMAT, name
        for chunk in manifest["chunks"]:
            assert chunk["format"] == store.FORMAT
            assert set(chunk.get("indexes", {})) == set(INDEXED.get(name, ())), name
            assert set(chunk.get("clustered", {})) == set(CLUSTERED.get(name, ())), name
            assert set(chunk.get("ranges", {})) == set(CLUSTERED.get(name, ())), name
    again = open_ctx(root)
    assert {s.note for s in again._workspace.projector.status()} == {"loaded"}
    assert [len(again.get_run_snapshot(r).records) for r in RUNS] == [14, 14, 14]
    assert again.select_best_run(RUNS, "accuracy", stage_name="evaluate") == RUNS[0]
    for cls in ALL_PROJECTIONS:
        table = again._workspace.projector.get(cls.name).table()
        assert table.equals(expected[cls.name]), cls.name
    again.close()


def in_memory(table: pa.Table, column: str) -> dict:
    mapping: dict = {}
    for i, value in enumerate(table.column(column).to_pylist()):
        mapping.setdefault(value, []).append(i)
    return mapping


@settings(max_examples=15, deadline=None)
@given(commits=commit_lists, saves=st.sets(st.integers(0, 7)), extra=st.integers(0, 30))
def test_saved_row_indexes_equal_grouping_the_rows(
    tmp_path_factory: pytest.TempPathFactory, commits: list[list[str]], saves: set, extra: int
) -> None:
    """Saved after some commits (one chunk per save), reopened, then ``extra`` more events
    folded in memory: every index answers exactly what grouping every row answers."""
    root = tmp_path_factory.mktemp("idx")
    ledger = Ledger(root / "l")
    projector = Projector(ledger, root / "p")
    written = 0
    for i, kinds in enumerate(commits):
        ledger.append_many(pending(kinds, written))
        ledger.commit()
        written += len(kinds)
        if i in saves:
            projector.catch_up()
            projector.save()
    projector.catch_up()
    projector.save()
    reopened = Projector(Ledger(root / "l"), root / "p")
    if extra:
        ledger.append_many(pending((KINDS * 3)[:extra], written))
        ledger.commit()
    for name, columns in INDEXED.items():
        table = reopened.get(name).table()
        for column in columns:
            saved = reopened.saved_index(name, column)
            assert saved is not None and saved.rows <= table.num_rows
            index = RowIndex(saved, {})
            index.extend(table.column(column).slice(saved.rows), saved.rows)
            expected = in_memory(table, column)
            assert index == expected, (name, column)
            assert all(index[value] == rows for value, rows in expected.items())
            assert index.get("no such value") is None and "no such value" not in index
            if column in CLUSTERED.get(name, ()):
                assert saved.clustered
                assert saved.rows_of("no such value") == []
                for value, rows in expected.items():
                    saved_rows = [r for r in rows if r < saved.rows]
                    pieces = saved.rows_of(value)
                    taken = pa.concat_tables(pieces) if pieces else table.slice(0, 0)
                    assert taken.equals(table.take(pa.array(saved_rows, pa.int64()))), (
                        name,
                        column,
                        value,
                    )


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from([None, "", "a", "b", "ab", "é", "z", "\U0001f600"])),
    cuts=st.lists(st.integers(0, 60), max_size=4),
)
def test_index_builders_equal_the_plain_loop(values: list, cuts: list[int]) -> None:
    column = pa.array(values, pa.string())
    bounds = sorted({0, len(values), *(c for c in cuts if c <= len(values))})
    parts = [partial_index(column.slice(a, b - a), a) for a, b in itertools.pairwise(bounds)]
    expected = in_memory(pa.table({"c": column}), "c")
    grouped: dict = {}
    group_rows(column, 0, grouped)
    assert grouped == expected
    for batch in (build_index(column), merge_indexes(parts)):
        index = ChunkIndex(batch, 0)
        assert {v: index.get(v) for v in expected} == expected
        assert index.get("missing") is None and index.get(7) is None
        shifted = ChunkIndex(batch, 1000)
        assert {v: shifted.get(v) for v in expected} == {
            v: [r + 1000 for r in rows] for v, rows in expected.items()
        }


@pytest.mark.parametrize("which", ["chunk", "index", "clustered", "ranges"])
def test_a_saved_file_changed_on_disk_is_checked_not_trusted(tmp_path: Path, which: str) -> None:
    """The stamp lets a process skip the CRC of a file it did not see change; a byte changed
    in place (same size) changes the stamp, so the CRC runs, fails, and the state is rebuilt
    (a damaged index or clustered copy alone falls back to indexing in memory)."""
    ledger = write(tmp_path / "l", [["record.metric"] * 300, KINDS * 5])
    Projector(ledger, tmp_path / "p").rebuild()
    clustered = which in ("clustered", "ranges")
    name, column = ("stage_metrics", "key") if clustered else ("records", "run_ref")
    folder = tmp_path / "p" / name
    (chunk,) = json.loads((folder / "MANIFEST.json").read_text())["chunks"]
    side = {"chunk": chunk, "index": chunk["indexes"].get(column)}
    side["clustered"] = (chunk.get("clustered") or {}).get(column)
    side["ranges"] = (chunk.get("ranges") or {}).get(column)
    entry = side[which]
    assert entry is not None
    path = folder / entry["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(entry["stamp"][2], entry["stamp"][2]))  # even with the old mtime
    store._VERIFIED.clear()
    reopened = Projector(Ledger(tmp_path / "l"), tmp_path / "p")
    expected = per_batch_fold(ledger)[name]
    assert reopened.get(name).table().equals(expected)
    notes = {s.name: s.note for s in reopened.status()}
    if which == "chunk":
        assert notes[name].startswith("rebuilt") and "CRC" in notes[name]
    else:
        assert notes[name] == "loaded"
        assert reopened.saved_index(name, column) is None


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from([None, "", "a", "b", "ab", "é", "z", "\U0001f600"])),
    cuts=st.lists(st.integers(0, 60), max_size=5),
)
def test_a_clustered_copy_gives_each_values_rows_in_row_order(
    values: list, cuts: list[int]
) -> None:
    """Batches sorted one by one (``cluster_batch``), their ranges merged: for every value (and
    one no row has), the copy's slices are exactly the value's rows, in row order."""
    rows = pa.table({"c": pa.array(values, pa.string()), "n": pa.array(range(len(values)))})
    bounds = sorted({0, len(values), *(c for c in cuts if c <= len(values))})
    copies, parts = [], []
    for a, b in itertools.pairwise(bounds):
        batch = rows.slice(a, b - a).combine_chunks().to_batches()[0]  # b > a: bounds differ
        ordered, ranges = cluster_batch(batch, "c", a)
        copies.append(ordered)
        parts.append(ranges)
    copy = pa.Table.from_batches(copies, rows.schema) if copies else rows.slice(0, 0)
    clustered = ClusteredCopy(copy, merge_ranges(parts))
    for value in {*values, "missing"}:
        mask = pc.is_null(rows.column("c")) if value is None else pc.equal(rows.column("c"), value)
        expected = rows.filter(mask)
        pieces = clustered.rows_of(value)
        got = pa.concat_tables(pieces) if pieces else rows.slice(0, 0)
        assert got.equals(expected), value
    assert clustered.rows_of(7) == []
