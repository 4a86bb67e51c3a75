"""What a new process's first query takes, and that the short cuts give the same answers.

- ``resolve_many`` answers as ``resolve_run`` per id, and finds ``<project>.<run>`` ids without
  it (one dict lookup each instead of a query per id);
- a projection loaded from its saved state catches up from its checkpoint's batch: the scan
  does not walk the segment from its start to find it (``LedgerReader.resume_after``), and the
  folded projection equals a full rebuild's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger.reader as reader_module
from contexta import Contexta
from contexta.common.errors import ContextaError
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import Project, Run, StableRef
from contexta.interpretation.workspace_queries import QueryService, _dedupe_ids
from ledger import Ledger, LedgerReader, PendingEvent
from projections import Projector

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _runs_workspace(root: Path, names: list[tuple[str, str, str]]) -> Contexta:
    """Projects and runs ``(project, run id, run name)``."""
    ctx = Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=root))
    )
    store = ctx.metadata_store
    for project in sorted({p for p, _, _ in names}):
        store.projects.put_project(
            Project(project_ref=f"project:{project}", name=project, created_at=_iso(BASE))
        )
    for i, (project, run, name) in enumerate(names):
        store.runs.put_run(
            Run(
                run_ref=f"run:{project}.{run}",
                project_ref=f"project:{project}",
                name=name,
                status="open",
                started_at=_iso(BASE + timedelta(minutes=i)),
            )
        )
    return ctx


def _outcome(call: object) -> object:
    try:
        return ("ok", call())  # type: ignore[operator]
    except ContextaError as exc:
        return ("error", type(exc).__name__, exc.code)


ID_FORMS = st.sampled_from(
    [
        "run:p.a",
        "p.a",
        "a",
        " p.a ",
        "q.a",
        "run:q.a",
        "b",
        "q.b",
        "p.b",
        "zz",
        "p.zz",
        "run:p.zz",
        "run:",
        "x:y.z",
        "p.",
        ".a",
        "",
    ]
)


@settings(max_examples=60, deadline=None)
@given(ids=st.lists(ID_FORMS, min_size=1, max_size=8))
def test_resolve_many_answers_as_resolve_run_per_id(
    tmp_path_factory: pytest.TempPathFactory, ids: list[str]
) -> None:
    root = tmp_path_factory.mktemp("ws") / "ws"
    ctx = _runs_workspace(root, [("p", "a", "a"), ("q", "a", "a"), ("q", "b", "b")])
    service = QueryService(ctx._workspace, ctx.config)
    one_by_one = [_outcome(lambda i=i: service.resolve_run(i)) for i in ids]
    errors = [o for o in one_by_one if o[0] == "error"]
    together = _outcome(lambda: service.resolve_many(ids))
    if errors:
        assert together == errors[0]
    else:
        assert together == ("ok", [o[1] for o in one_by_one])
    ctx.close()


def test_resolve_many_finds_dotted_ids_without_a_query_per_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [("p", f"r{i}", f"r{i}") for i in range(30)]
    ctx = _runs_workspace(tmp_path / "ws", names)
    service = QueryService(ctx._workspace, ctx.config)
    calls: list[object] = []
    original = QueryService.resolve_run

    def counting(self: QueryService, run_id: object) -> str:
        calls.append(run_id)
        return original(self, run_id)

    monkeypatch.setattr(QueryService, "resolve_run", counting)
    ids = [f"p.{run}" for _, run, _ in names] + [f"run:p.{run}" for _, run, _ in names]
    assert service.resolve_many(ids) == [f"run:p.{run}" for _, run, _ in names] * 2
    assert calls == []
    assert service.resolve_many(["r3"]) == ["run:p.r3"]  # a bare name takes resolve_run
    assert calls == ["r3"]
    ctx.close()


# ---------------------------------------------------------------------- catch-up after a load


def _events(n: int, start: int) -> list[PendingEvent]:
    return [
        PendingEvent(
            "run.put",
            f"run:p.r{(start + i) % 17}",
            "project:p",
            f"run:p.r{(start + i) % 17}",
            None,
            1000 + start + i,
            key=f"r{(start + i) % 17}",
            body=b"{}",
        )
        for i in range(n)
    ]


def _write(root: Path, commits: int, start: int = 0) -> None:
    ledger = Ledger(root)
    for c in range(commits):
        ledger.append_many(_events(5, start + 5 * c))
        ledger.commit()
    ledger.close()


def test_a_loaded_projection_catches_up_from_its_checkpoint_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    _write(root, 40)
    Projector(Ledger(root), tmp_path / "p").rebuild()  # saved at the 40th batch
    _write(root, 3, start=1000)  # then three more batches
    walked: list[int] = []
    original = reader_module.scan_frames

    def counting(buf, end, path, **kwargs):  # type: ignore[no-untyped-def]
        walked.append(end)
        return original(buf, end, path, **kwargs)

    monkeypatch.setattr(reader_module, "scan_frames", counting)
    caught = Projector(Ledger(root), tmp_path / "p").get("runs")
    assert walked == []  # resumed just past the checkpoint's batch, no walk from the start
    monkeypatch.undo()
    fresh = Projector(Ledger(root), tmp_path / "q")
    fresh.rebuild()
    assert caught.table().equals(fresh.get("runs").table())


def test_resume_after_refuses_a_batch_that_does_not_end_at_the_seq(tmp_path: Path) -> None:
    root = tmp_path / "l"
    _write(root, 4)
    reader = LedgerReader(root)
    frames = list(reader.frames())
    segment, frame = frames[1]
    last = frame.first_seq + frame.count - 1
    assert not LedgerReader(root).resume_after(last + 1, segment, frame.offset)
    assert not LedgerReader(root).resume_after(last, segment, frame.offset + 1)
    assert not LedgerReader(root).resume_after(last, segment + 1, frame.offset)
    assert not LedgerReader(root).resume_after(10**6, segment, frame.offset)
    resumed = LedgerReader(root)
    assert resumed.resume_after(last, segment, frame.offset)
    after = [f.first_seq for _, f in resumed.frames(after_seq=last)]
    assert after == [f.first_seq for _, f in frames[2:]]


# ---------------------------------------------------------------------- the CLI's best


def _metrics_workspace(root: Path, layout: list[tuple[int, str, str | None]]) -> Contexta:
    """Runs r0..r3 in projects p (even) and q (odd), stages ``train``/``evaluate`` each; one
    metric per ``(run, key, stage name or None)`` entry."""
    from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope, StageExecution

    ctx = _runs_workspace(root, [("p" if i % 2 == 0 else "q", f"r{i}", f"r{i}") for i in range(4)])
    store = ctx.metadata_store
    for i in range(4):
        project = "p" if i % 2 == 0 else "q"
        for order, name in enumerate(("train", "evaluate")):
            store.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:{project}.r{i}.{name}",
                    run_ref=f"run:{project}.r{i}",
                    stage_name=name,
                    status="open",
                    started_at=_iso(BASE),
                    order_index=order,
                )
            )
    for n, (i, key, stage) in enumerate(layout):
        project = "p" if i % 2 == 0 else "q"
        stage_ref = None if stage is None else f"stage:{project}.r{i}.{stage}"
        ctx.record_store.append(
            MetricRecord(
                envelope=RecordEnvelope(
                    record_ref=f"record:{project}.r{i}.m{n}",
                    record_type="metric",
                    recorded_at=_iso(BASE + timedelta(seconds=n)),
                    observed_at=_iso(BASE + timedelta(seconds=n)),
                    producer_ref="bench",
                    run_ref=f"run:{project}.r{i}",
                    stage_execution_ref=stage_ref,
                ),
                payload=MetricPayload(metric_key=key, value=float(n), value_type="float64"),
            )
        )
    return ctx


LAYOUT = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(["accuracy", "loss"]),
        st.sampled_from([None, "train", "evaluate"]),
    ),
    max_size=10,
)


@settings(max_examples=40, deadline=None)
@given(layout=LAYOUT, cut=st.integers(0, 12), first=st.sampled_from([1, 2, 3, 4096]))
def test_metric_recorded_agrees_with_known_metric_keys(
    tmp_path_factory: pytest.TempPathFactory,
    layout: list[tuple[int, str, str | None]],
    cut: int,
    first: int,
) -> None:
    """Also when the first rows looked at are a few (the early answer, then all rows)."""
    from contexta.cli.commands import common
    from contexta.cli.commands.common import known_metric_keys, metric_recorded

    original = common._FIRST_ROWS
    common._FIRST_ROWS = first
    try:
        _check_metric_recorded(tmp_path_factory, layout, cut, known_metric_keys, metric_recorded)
    finally:
        common._FIRST_ROWS = original


def _check_metric_recorded(
    tmp_path_factory: pytest.TempPathFactory,
    layout: list[tuple[int, str, str | None]],
    cut: int,
    known_metric_keys: Any,
    metric_recorded: Any,
) -> None:
    root = tmp_path_factory.mktemp("ws") / "ws"
    ctx = _metrics_workspace(root, layout[:cut])
    at = datetime.now(UTC)
    more = _metrics_workspace(root, layout[cut:])  # later writes, hidden as of ``at``
    more.close()
    for view in (ctx, ctx.as_of(at)):
        service = view.query_service
        for run_refs in (None, ["run:p.r0", "run:q.r1"], []):
            known = known_metric_keys(service, run_refs=run_refs)
            for key in ("accuracy", "loss", "nothing"):
                for stage in (None, "train", "evaluate", "other", "stage:p.r0.train"):
                    got = metric_recorded(service, key, stage, run_refs=run_refs)
                    assert got == (key in known.get(stage, [])), (key, stage, run_refs)
                anywhere = metric_recorded(service, key, None, run_refs=run_refs, any_stage=True)
                assert anywhere == any(key in keys for keys in known.values())
    ctx.close()


@settings(max_examples=15, deadline=None)
@given(layout=LAYOUT)
def test_listed_run_ids_are_the_ids_of_list_runs_in_order(
    tmp_path_factory: pytest.TempPathFactory, layout: list[tuple[int, str, str | None]]
) -> None:
    root = tmp_path_factory.mktemp("ws") / "ws"
    ctx = _metrics_workspace(root, layout)
    service = ctx.query_service
    for project in (None, "p", "q", "project:q", "nothing"):
        expected = [r.run_id for r in ctx.list_runs(project)]
        assert service.listed_run_ids(project) == expected, project
    ctx.close()


def test_cli_best_does_not_group_every_metric_row_or_decode_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import contexta.cli.commands.common as common
    from contexta.cli.main import main
    from contexta.interpretation import workspace_queries

    layout = [(i, "accuracy", "evaluate") for i in range(4)]
    _metrics_workspace(tmp_path / "ws", layout).close()
    slow: list[str] = []
    monkeypatch.setattr(common, "known_metric_keys", lambda *a, **k: slow.append("keys") or {})
    monkeypatch.setattr(
        workspace_queries.QueryService,
        "_run_records",
        lambda *a, **k: slow.append("decode") or [],
    )
    code = main(["--workspace", str(tmp_path / "ws"), "best", "accuracy", "--stage", "evaluate"])
    assert code == 0
    assert "run:q.r3" in capsys.readouterr().out  # the greatest value, as before
    assert slow == []


# ---------------------------------------------------------------------- pandas stays out


def test_importing_contexta_and_reading_a_saved_row_index_do_not_import_pandas(
    tmp_path: Path,
) -> None:
    """pyarrow (25 and 26 alike) imports pandas, when installed, on its first conversion of
    Python objects: 0.4 s and more of a new process. Importing contexta (and so the projections) and
    looking rows up in a saved row index of a later chunk convert nothing."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import pyarrow as pa\n"
        "import contexta\n"
        "imported = 'pandas' in sys.modules\n"
        "from projections.index import ChunkIndex\n"
        f"with pa.memory_map({str(tmp_path / 'index.arrow')!r}) as source:\n"
        "    batch = pa.ipc.open_file(source).get_batch(0)\n"
        "rows = ChunkIndex(batch, 1000).get('b')\n"
        "print(imported, 'pandas' in sys.modules, rows)\n"
    )
    import pyarrow as pa

    from projections.index import build_index

    batch = build_index(pa.array(["a", "b", "a", "b"], pa.string()))
    with (
        pa.OSFile(str(tmp_path / "index.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, batch.schema) as writer,
    ):
        writer.write_batch(batch)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["False", "False", "[1001,", "1003]"]


# ---------------------------------------------------------------------- latest entity versions


def _current_by_loop(table: object, rows: list[int], as_of_us: int | None) -> list[int]:
    """The plain rule: a row is kept when it is the last row of its ref's versions that were
    committed by ``as_of_us``."""
    refs = table.column("ref").to_pylist()  # type: ignore[attr-defined]
    txs = table.column("tx_time").to_pylist()  # type: ignore[attr-defined]
    keep = []
    for row in rows:
        versions = [
            r
            for r, ref in enumerate(refs)
            if ref == refs[row] and (as_of_us is None or txs[r] <= as_of_us)
        ]
        if versions and versions[-1] == row:
            keep.append(row)
    return keep


@settings(max_examples=120, deadline=None)
@given(
    versions=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", None]), st.integers(0, 9)), max_size=14
    ),
    picks=st.lists(st.integers(0, 40), max_size=8),
    as_of_us=st.one_of(st.none(), st.integers(-1, 10)),
    chunks=st.integers(1, 3),
)
def test_current_versions_equal_the_plain_rule(
    versions: list[tuple[str | None, int]],
    picks: list[int],
    as_of_us: int | None,
    chunks: int,
) -> None:
    import pyarrow as pa

    from contexta.interpretation.entities import EntityReader

    table = pa.table(
        {
            "ref": pa.array([r for r, _ in versions], pa.string()),
            "seq": pa.array(range(1, len(versions) + 1), pa.int64()),
            "tx_time": pa.array([t for _, t in versions], pa.int64()),
        }
    )
    if versions and chunks > 1:  # projection tables come in chunks
        cut = len(versions) // chunks
        table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
    rows = sorted({p % len(versions) for p in picks}) if versions else []
    rows += [len(versions) + 3]  # past this reader's table: ignored
    reader = EntityReader(None, as_of_us)  # type: ignore[arg-type]
    got = reader._current("stages", table, rows)
    assert got == _current_by_loop(table, rows[:-1], as_of_us)


@settings(max_examples=120, deadline=None)
@given(
    versions=st.lists(
        st.tuples(
            st.sampled_from(["stage:p.a.s1", "stage:p.a.s2", "stage:p.b.s1", "stage:p.ab.s1"]),
            st.integers(0, 9),
        ),
        max_size=14,
    ),
    run=st.sampled_from(["run:p.a", "run:p.b", "run:p.c"]),
    as_of_us=st.one_of(st.none(), st.integers(-1, 10)),
    chunks=st.integers(1, 3),
)
def test_a_runs_stage_rows_hold_every_version_of_its_stages(
    versions: list[tuple[str, int]], run: str, as_of_us: int | None, chunks: int
) -> None:
    """Stages looked up by run (a closed lookup: a stage's ref names its run, so every version
    of a stage has its run's ref) keep the same rows as the plain rule over the whole table,
    looking only at the run's rows."""
    import pyarrow as pa

    from contexta.interpretation.entities import _CLOSED_LOOKUPS, EntityReader

    assert ("stages", "run_ref") in _CLOSED_LOOKUPS
    refs = [r for r, _ in versions]
    table = pa.table(
        {
            "ref": pa.array(refs, pa.string()),
            "run_ref": pa.array(["run:" + r[6:].rsplit(".", 1)[0] for r in refs], pa.string()),
            "seq": pa.array(range(1, len(versions) + 1), pa.int64()),
            "tx_time": pa.array([t for _, t in versions], pa.int64()),
        }
    )
    if versions and chunks > 1:
        cut = len(versions) // chunks
        table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
    rows = [i for i, value in enumerate(table.column("run_ref").to_pylist()) if value == run]
    reader = EntityReader(None, as_of_us)  # type: ignore[arg-type]
    got = reader._current("stages", table, [*rows, len(versions) + 3], closed=True)
    assert got == _current_by_loop(table, rows, as_of_us)
    assert got == reader._current("stages", table, rows)


class _Text(str):
    """A str subclass: its own text, but not a plain str (the loop's way, not the shortcut)."""


@settings(max_examples=80, deadline=None)
@given(
    ids=st.lists(
        st.one_of(
            st.sampled_from(["run:p.a", "run:q.a", "p.a", "a", "run:q.b"]),
            st.sampled_from(["run:p.a", "p.a"]).map(_Text),
            st.sampled_from(["run:p.a", "run:q.b"]).map(StableRef.parse),
        ),
        max_size=8,
    ),
    as_tuple=st.booleans(),
)
def test_dedupe_ids_keeps_the_first_spelling_of_each_text(ids: list, as_tuple: bool) -> None:
    expected, seen = [], set()
    for run_id in ids:
        if str(run_id) not in seen:
            seen.add(str(run_id))
            expected.append(run_id)
    got = _dedupe_ids(tuple(ids) if as_tuple else ids)
    assert got == expected
    assert [type(i) for i in got] == [type(i) for i in expected]
    assert _dedupe_ids(iter(ids)) == expected


@settings(max_examples=40, deadline=None)
@given(
    ids=st.one_of(
        st.lists(st.sampled_from(["run:p.a", "run:q.a", "run:q.b"]), min_size=1, max_size=8),
        st.lists(st.sampled_from(["p.a", "q.a", "q.b"]), min_size=1, max_size=8),
    ),
    form=st.sampled_from([list, tuple, iter]),
)
def test_resolve_many_of_known_full_refs_is_those_refs(
    tmp_path_factory: pytest.TempPathFactory, ids: list[str], form: Any
) -> None:
    """Every id a known full ref, or every id a known '<project>.<run>' (the shortcuts), in a
    list, a tuple or an iterator; any other id among them takes the loop, with the same answer
    as resolve_run per id."""
    root = tmp_path_factory.mktemp("ws") / "ws"
    ctx = _runs_workspace(root, [("p", "a", "a"), ("q", "a", "a"), ("q", "b", "b")])
    service = QueryService(ctx._workspace, ctx.config)
    assert service.resolve_many(form(ids)) == [service.resolve_run(i) for i in ids]
    for other in ("run:p.nope", "p.nope", " p.a", "a"):  # the loop's way for the rest
        mixed = [*ids, other]
        one_by_one = [_outcome(lambda i=i: service.resolve_run(i)) for i in mixed]
        errors = [o for o in one_by_one if o[0] == "error"]
        expected = errors[0] if errors else ("ok", [o[1] for o in one_by_one])
        assert _outcome(lambda m=mixed: service.resolve_many(form(m))) == expected
    ctx.close()


@pytest.mark.parametrize("fresh", [True, False], ids=["index", "cached refs"])
def test_a_run_is_known_as_of_as_the_list_of_refs_says(tmp_path: Path, fresh: bool) -> None:
    """``_is_run`` (the runs index by ref, or the refs at hand) answers as membership in the
    refs of the runs table, live and as of a time before later runs were written; so does
    resolve_run of a full ref and of '<project>.<run>'."""
    ctx = _runs_workspace(tmp_path / "ws", [("p", "a", "a"), ("p", "b", "b")])
    at = datetime.now(UTC)
    later = _runs_workspace(tmp_path / "ws", [("p", "c", "c")])
    later.close()
    for view in (ctx, ctx.as_of(at)):
        service = view.query_service
        if not fresh:
            service._run_refs()
        known = dict.fromkeys(
            service.ws.table("runs", as_of_us=service.as_of_us).column("ref").to_pylist()
        )
        for ref in ("run:p.a", "run:p.b", "run:p.c", "run:p.zz"):
            assert service._is_run(ref) == (ref in known), (ref, service.as_of_us)
            for spelled in (ref, ref.removeprefix("run:")):
                outcome = _outcome(lambda s=service, g=spelled: s.resolve_run(g))
                if ref in known:
                    assert outcome == ("ok", ref), spelled
                else:
                    assert outcome[0] == "error", spelled
    assert not ctx.as_of(at).query_service._is_run("run:p.c")
    ctx.close()
