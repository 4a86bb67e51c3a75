"""One metric key's rows read from the clustered copies equal the rows the index names.

A workspace saved in several steps (a chunk per save), reopened as a new process would, with
more rows folded after the last save: for every key (and a key no row has),
``Workspace.rows_of`` equals ``take_rows`` of the index's rows and a plain filter of the table,
whole or for some columns, and select-best through it answers as the reference service.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
)
from contexta.interpretation.workspace_queries import QueryService
from projections.query import take_rows
from tests.perf_tests.reference_queries import ReferenceQueryService

BASE = datetime(2025, 1, 1, tzinfo=UTC)
KEYS = ["accuracy", "loss.val", "val-acc", "a"]
RUNS = 4
STAGES = ("train", "evaluate")


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _open(root: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=root))
    )


def _setup(ctx: Contexta) -> None:
    store = ctx.metadata_store
    store.projects.put_project(Project(project_ref="project:p", name="p", created_at=_iso(BASE)))
    for i in range(RUNS):
        run = f"run:p.r{i}"
        start = BASE + timedelta(minutes=i)
        store.runs.put_run(
            Run(
                run_ref=run,
                project_ref="project:p",
                name=f"r{i}",
                status="open",
                started_at=_iso(start),
            )
        )
        for order, name in enumerate(STAGES):
            store.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:p.r{i}.{name}",
                    run_ref=run,
                    stage_name=name,
                    status="open",
                    started_at=_iso(start),
                    order_index=order,
                )
            )


#: one metric: (key, run, stage or None for run level, value)
metric = st.tuples(
    st.sampled_from(KEYS),
    st.integers(0, RUNS - 1),
    st.sampled_from([None, *STAGES]),
    st.floats(-10, 10, allow_nan=False),
)


def _append(ctx: Contexta, metrics: list[tuple[str, int, str | None, float]], start: int) -> int:
    for n, (key, run, stage, value) in enumerate(metrics, start):
        at = _iso(BASE + timedelta(seconds=n))
        ctx.record_store.append(
            MetricRecord(
                envelope=RecordEnvelope(
                    record_ref=f"record:p.r{run}.m{n}",
                    record_type="metric",
                    recorded_at=at,
                    observed_at=at,
                    producer_ref="test",
                    run_ref=f"run:p.r{run}",
                    stage_execution_ref=None if stage is None else f"stage:p.r{run}.{stage}",
                ),
                payload=MetricPayload(metric_key=key, value=value, value_type="float64"),
            )
        )
    return start + len(metrics)


@settings(max_examples=25, deadline=None)
@given(
    saved=st.lists(st.lists(metric, max_size=25), min_size=1, max_size=4),
    after=st.lists(metric, max_size=15),
)
def test_rows_of_a_key_equal_the_rows_the_index_names(
    tmp_path_factory: pytest.TempPathFactory,
    saved: list[list[tuple[str, int, str | None, float]]],
    after: list[tuple[str, int, str | None, float]],
) -> None:
    root = tmp_path_factory.mktemp("clustered") / "ws"
    ctx = _open(root)
    _setup(ctx)
    written = 0
    for part in saved:  # a save after each part: one chunk each
        written = _append(ctx, part, written)
        ctx._workspace.table("stage_metrics")  # folded, so the close saves it
        ctx.close()
        ctx = _open(root)
    _append(ctx, after, written)  # folded in memory, after the saved chunks
    ws = ctx._workspace
    table, index = ws.index("stage_metrics", "key")
    if any(saved):  # something was saved: the saved rows come from the clustered copies
        assert index.saved is not None and index.saved.clustered
    for key in [*KEYS, "no such key"]:
        rows = index.get(key) or []
        expected = take_rows(table, rows) if rows else table.slice(0, 0)
        assert expected.equals(table.filter(pc.equal(table.column("key"), key)))
        assert ws.rows_of("stage_metrics", "key", key).equals(expected), key
        some = ("run_ref", "value", "tx_time")
        assert ws.rows_of("stage_metrics", "key", key, columns=some).equals(
            expected.select(list(some))
        ), key
    fast = QueryService(ws, ctx.config)
    reference = ReferenceQueryService(ws, ctx.config)
    ids = [f"run:p.r{i}" for i in range(RUNS)]
    for key in KEYS:
        for stage in (None, *STAGES):
            for higher in (True, False):
                kwargs = {"stage_name": stage, "higher_is_better": higher}
                assert fast.select_best_run(ids, key, **kwargs) == reference.select_best_run(
                    ids, key, **kwargs
                ), (key, kwargs)
    ctx.close()


def test_a_format_2_state_answers_without_clustered_copies(tmp_path: Path) -> None:
    """Chunks saved without clustered copies (format 2): rows_of takes the index's rows from
    the table, with the same answer."""
    import json

    root = tmp_path / "ws"
    ctx = _open(root)
    _setup(ctx)
    _append(ctx, [(KEYS[i % 4], i % RUNS, STAGES[i % 2], float(i)) for i in range(40)], 0)
    ctx._workspace.table("stage_metrics")
    ctx.close()
    folder = root / "projections" / "stage_metrics"
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    for chunk in manifest["chunks"]:  # as format 2 saved it
        chunk.pop("clustered", None)
        chunk["format"] = 2
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    ctx = _open(root)
    ws = ctx._workspace
    table, index = ws.index("stage_metrics", "key")
    assert index.saved is not None and not index.saved.clustered
    for key in KEYS:
        got = ws.rows_of("stage_metrics", "key", key)
        assert got.equals(table.filter(pc.equal(table.column("key"), key)))
        assert got.num_rows == 10
    assert ws.rows_of("stage_metrics", "key", "none").num_rows == 0
    assert isinstance(ws.rows_of("stage_metrics", "key", "none"), pa.Table)
    ctx.close()


def test_a_key_read_is_copied_out_and_the_map_let_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saved rows of a key come back in the process's own memory (no buffer of the answer
    lies in a clustered copy's map), each copy's pages are let go once its rows are copied,
    and a read after that (the pages mapped again) answers the same."""
    from projections import store

    monkeypatch.setattr(store, "COMPACT_ROWS", 1)  # each save keeps its own chunk
    root = tmp_path / "ws"
    ctx = _open(root)
    _setup(ctx)
    points = [(KEYS[i % 4], i % RUNS, STAGES[i % 2], float(i)) for i in range(400)]
    for start in (0, 200):  # two saves: two chunks, two copies
        _append(ctx, points[start : start + 200], start)
        ctx._workspace.table("stage_metrics")
        ctx.close()
        ctx = _open(root)
    ws = ctx._workspace
    table, index = ws.index("stage_metrics", "key")
    assert index.saved is not None and index.saved.clustered and len(index.saved.chunks) == 2
    released: list[int] = []
    for chunk in index.saved.chunks:
        copy = chunk.clustered
        assert copy is not None
        real = copy._release
        assert real is not None

        def spy(_real: object = real, _id: int = id(copy)) -> None:
            released.append(_id)
            _real()  # type: ignore[operator]

        copy._release = spy
    maps = []
    for chunk in index.saved.chunks:
        assert chunk.clustered is not None
        bufs = [b for col in chunk.clustered.copy.columns for a in col.chunks for b in a.buffers()]
        bufs = [b for b in bufs if b is not None and b.size]
        maps.append((min(b.address for b in bufs), max(b.address + b.size for b in bufs)))
    expected = table.filter(pc.equal(table.column("key"), "accuracy"))
    for _ in range(2):
        got = ws.rows_of("stage_metrics", "key", "accuracy")
        assert got.equals(expected)
        for column in got.columns:
            for array in column.chunks:
                for buf in array.buffers():
                    if buf is None or not buf.size:
                        continue
                    for low, high in maps:
                        assert not (low <= buf.address < high), "a buffer still in the map"
    assert sorted(released) == sorted([id(c.clustered) for c in index.saved.chunks] * 2)
    ctx.close()
