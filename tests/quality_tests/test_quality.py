"""Retroactive tags, quarantine, as-of views and audit history (issue acceptance list)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.common.errors import ReadOnlyStoreError, ValidationError
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
)
from tests.conftest import SEED, run_cli, run_script

P = "purchase-intent-model"
WINDOW = {
    "project_name": P,
    "started_after": "2025-04-01T00:00:00Z",
    "started_before": "2025-04-21T23:59:59Z",
}


def open_seeded(seeded: Path) -> Contexta:
    return Contexta(workspace=seeded / ".contexta")


def segment_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "ledger").glob("segment-*"))}


def test_tagging_and_quarantine_never_change_existing_bytes(seeded: Path) -> None:
    before = segment_bytes(seeded / ".contexta")
    ctx = open_seeded(seeded)
    ctx._workspace.ledger.roll_bytes = 6_000  # force rolls while tagging
    for i in range(3):
        ctx.tag_runs(f"data.check-{i}", message=f"check {i}", **WINDOW)
    ctx.quarantine_runs(ctx.runs_with_event("data.check-0", P), reason="bad vendor data")
    ctx.close()
    after = segment_bytes(seeded / ".contexta")
    assert len(after) > len(before)
    for name, data in before.items():
        assert after[name][: len(data)] == data, f"{name} was rewritten"
        if name != max(before):
            assert after[name] == data, f"sealed {name} changed"


def test_tag_runs_selects_the_window_and_is_idempotent(seeded: Path) -> None:
    ctx = open_seeded(seeded)
    tagged = ctx.tag_runs("data.vendor-clamp", message="clamped", **WINDOW)
    assert [t.rsplit(".", 1)[1] for t in tagged] == [
        "run-2025-04-03",
        "run-2025-04-08",
        "run-2025-04-14",
        "run-2025-04-21",
    ]
    events = sum(1 for _ in ctx.history())
    assert ctx.tag_runs("data.vendor-clamp", message="clamped", **WINDOW) == tagged
    assert sum(1 for _ in ctx.history()) == events
    tag = next(ctx.history("run-2025-04-08", kinds="record.event"))
    assert tag.model.envelope.observed_at == "2025-04-08T09:00:00Z"  # valid time in the past
    assert tag.tx_time > datetime(2025, 5, 1, tzinfo=UTC)  # recorded now
    assert ctx.runs_with_event("data.vendor-clamp") == tagged
    only = ctx.tag_runs(
        "data.other",
        message="m",
        run_ids=["run-2025-03-28", "run-2025-04-14"],
        started_before="2025-04-01T00:00:00Z",
    )
    assert only == ("run:purchase-intent-model.run-2025-03-28",)


def test_quarantined_runs_are_never_selected_unless_asked(seeded: Path) -> None:
    ctx = open_seeded(seeded)
    runs = [r.run_id for r in ctx.list_runs(P)]
    assert ctx.select_best_run(runs, "auc", stage_name="evaluate") == runs[0]
    ctx.quarantine_runs([runs[0]], reason="suspect")
    assert (
        ctx.select_best_run(runs, "auc", stage_name="evaluate")
        == "run:purchase-intent-model.run-2025-04-14"
    )
    assert (
        ctx.select_best_run(runs, "auc", stage_name="evaluate", include_quarantined=True) == runs[0]
    )
    ctx.quarantine_runs(runs, reason="all suspect")
    assert ctx.select_best_run(runs, "auc", stage_name="evaluate") is None
    assert ctx.quarantined_runs(P) == tuple(runs)


def test_release_makes_a_run_selectable_and_as_of_between_still_excludes_it(seeded: Path) -> None:
    ctx = open_seeded(seeded)
    runs = [r.run_id for r in ctx.list_runs(P)]
    ctx.quarantine_runs(runs[0], reason="suspect")
    time.sleep(0.002)
    between = datetime.now(UTC)
    time.sleep(0.002)
    ctx.release_runs(runs[0], reason="cleared")
    assert ctx.select_best_run(runs, "auc", stage_name="evaluate") == runs[0]
    assert ctx.as_of(between).select_best_run(runs, "auc", stage_name="evaluate") != runs[0]
    assert ctx.as_of(between).quarantined_runs() == (runs[0],)
    assert ctx.quarantined_runs() == ()


def test_as_of_views_are_read_only(seeded: Path) -> None:
    view = open_seeded(seeded).as_of(datetime.now(UTC))
    for write in (
        lambda: view.tag_runs("data.x", message="m", project_name=P),
        lambda: view.quarantine_runs(["run-2025-04-14"], reason="r"),
        lambda: view.metadata_store.runs,
        lambda: view.record_store.append,
    ):
        with pytest.raises(ReadOnlyStoreError) as info:
            write()
        assert info.value.code == "as_of_view_read_only"


def test_bad_quality_input_raises_typed_errors(seeded: Path) -> None:
    ctx = open_seeded(seeded)
    with pytest.raises(ValidationError) as info:
        ctx.quarantine_runs(["run-2025-04-14"], reason="  ")
    assert info.value.code == "quality_missing_reason"
    with pytest.raises(ValidationError) as info:
        ctx.tag_runs("data.x", message="m", project_name=P, started_after="2025-04-01")
    assert info.value.code == "quality_invalid_time"
    with pytest.raises(ValidationError):
        ctx.tag_runs("Bad_Key", message="m", project_name=P)
    assert ctx.runs_with_event("data.x") == ()


# ---------------------------------------------------------------------- as-of property


def answers(view, runs: list[str]) -> tuple:
    listed = tuple((r.run_id, r.status) for r in view.list_runs(P))
    best = view.select_best_run(runs, "auc", stage_name="evaluate") if len(runs) >= 2 else None
    low = (
        view.select_best_run(runs, "auc", stage_name="evaluate", higher_is_better=False)
        if len(runs) >= 2
        else None
    )
    snap = tuple((r.key, r.value) for r in view.get_run_snapshot(runs[0]).records) if runs else ()
    return listed, best, low, snap, view.quarantined_runs(), view.runs_with_event("data.flag")


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("run"), st.integers(0, 5), st.floats(0.5, 0.99, allow_nan=False)),
        st.tuples(st.just("metric"), st.integers(0, 5), st.floats(0.5, 0.99, allow_nan=False)),
        st.tuples(st.just("tag"), st.integers(0, 5), st.just(0.0)),
        st.tuples(st.just("quarantine"), st.integers(0, 5), st.just(0.0)),
        st.tuples(st.just("release"), st.integers(0, 5), st.just(0.0)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(OPS)
def test_as_of_answers_exactly_what_the_live_workspace_answered(tmp_path_factory, ops) -> None:
    root = tmp_path_factory.mktemp("asof")
    ctx = Contexta(workspace=root / "ws")
    ctx.metadata_store.projects.put_project(
        Project(project_ref=f"project:{P}", name=P, created_at="2025-01-01T00:00:00Z")
    )
    made: list[str] = []
    seen = []
    for counter, (op, i, value) in enumerate(ops, start=1):
        name = f"r{i}"
        ref = f"run:{P}.{name}"
        if op == "run" or (ref not in made and op in ("metric", "tag", "quarantine", "release")):
            ctx.metadata_store.runs.put_run(
                Run(
                    run_ref=ref,
                    project_ref=f"project:{P}",
                    name=name,
                    status="completed",
                    started_at=f"2025-04-{i + 1:02d}T00:00:00Z",
                    ended_at=f"2025-04-{i + 1:02d}T01:00:00Z",
                )
            )
            ctx.metadata_store.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:{P}.{name}.evaluate",
                    run_ref=ref,
                    stage_name="evaluate",
                    status="completed",
                    started_at=f"2025-04-{i + 1:02d}T00:00:00Z",
                    ended_at=f"2025-04-{i + 1:02d}T01:00:00Z",
                )
            )
            if ref not in made:
                made.append(ref)
        if op in ("run", "metric"):
            ctx.record_store.append(
                MetricRecord(
                    envelope=RecordEnvelope(
                        record_ref=f"record:{P}.{name}.m{counter}",
                        record_type="metric",
                        recorded_at=f"2025-04-{i + 1:02d}T01:00:00Z",
                        observed_at=f"2025-04-{i + 1:02d}T01:00:00Z",
                        producer_ref="tests",
                        run_ref=ref,
                        stage_execution_ref=f"stage:{P}.{name}.evaluate",
                    ),
                    payload=MetricPayload(metric_key="auc", value=value, value_type="float64"),
                )
            )
        elif op == "tag":
            ctx.tag_runs("data.flag", message="flagged", run_ids=[ref])
        elif op == "quarantine":
            ctx.quarantine_runs([ref], reason="q")
        else:
            ctx.release_runs([ref], reason="r")
        live = answers(ctx, list(made))
        time.sleep(0.0005)
        seen.append((datetime.now(UTC), list(made), live))
    for when, runs, live in seen:
        assert answers(ctx.as_of(when), runs) == live
    ctx.close()
    reopened = Contexta(workspace=root / "ws")  # and after reopening
    for when, runs, live in seen:
        assert answers(reopened.as_of(when), runs) == live


def test_the_example_story_holds_as_of_promotion_and_after_rebuild(tmp_path: Path) -> None:
    out = run_script(SEED / "case08_retroactive_quarantine.py", tmp_path, "ws").stdout
    assert "promoted: run-2025-04-14" in out
    assert "select_best_run(April onwards)      -> run-2025-05-12" in out
    assert "select_best_run(the April cycle)    -> none" in out
    assert "   select_best_run(April cycle) -> run-2025-04-14" in out
    assert "runs tagged data.contamination-window: []" in out
    assert "8 of 8 facts above were recorded after it." in out
    before = run_cli(
        tmp_path, "--workspace", "ws", "best", "auc", "--stage", "evaluate", "--project", P
    ).stdout
    assert before.strip().endswith("run:purchase-intent-model.run-2025-03-28")
    run_cli(tmp_path, "--workspace", "ws", "projections", "rebuild")
    assert (
        run_cli(
            tmp_path, "--workspace", "ws", "best", "auc", "--stage", "evaluate", "--project", P
        ).stdout
        == before
    )
    with_flag = run_cli(
        tmp_path,
        "--workspace",
        "ws",
        "--format",
        "json",
        "quarantine",
        "run-2025-03-28",
        "--reason",
        "test",
    )
    assert '"quarantined"' in with_flag.stdout
    after = run_cli(
        tmp_path, "--workspace", "ws", "best", "auc", "--stage", "evaluate", "--project", P
    ).stdout
    assert after.strip().endswith("run:purchase-intent-model.run-2025-05-12")
    included = run_cli(
        tmp_path,
        "--workspace",
        "ws",
        "best",
        "auc",
        "--stage",
        "evaluate",
        "--project",
        P,
        "--include-quarantined",
    ).stdout
    assert included.strip().endswith("run:purchase-intent-model.run-2025-03-28")


def test_audit_replay_shows_reasons_and_as_of_cuts_history(tmp_path: Path) -> None:
    run_script(SEED / "case08_retroactive_quarantine.py", tmp_path, "ws")
    replay = run_cli(
        tmp_path, "--workspace", "ws", "audit", "replay", "--kind", "run.quarantine"
    ).stdout
    assert replay.count("reason: vendor schema clamp") == 4
    first = run_cli(
        tmp_path, "--workspace", "ws", "--format", "json", "audit", "replay"
    ).stdout.splitlines()
    import json

    events = [json.loads(line) for line in first]
    cut = events[4]["tx_time"]
    upto = run_cli(
        tmp_path, "--workspace", "ws", "--format", "json", "audit", "replay", "--as-of", cut
    ).stdout.splitlines()
    assert all(json.loads(line)["tx_time"] <= cut for line in upto)
    assert 5 <= len(upto) < len(events)
    assert all(e["actor"] for e in events)


def test_answers_survive_a_new_process(seeded: Path) -> None:
    ctx = open_seeded(seeded)
    ctx.quarantine_runs(["run-2025-04-14"], reason="suspect")
    ctx.close()
    code = (
        "from contexta import Contexta\n"
        "c = Contexta(workspace='.contexta')\n"
        "runs = [r.run_id for r in c.list_runs('purchase-intent-model')][1:]\n"
        "print(c.select_best_run(runs, 'auc', stage_name='evaluate'), c.quarantined_runs())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=seeded, capture_output=True, text=True, check=True
    ).stdout
    assert (
        out.strip()
        == "run:purchase-intent-model.run-2025-04-03 ('run:purchase-intent-model.run-2025-04-14',)"
    )


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["train", "evaluate", "test"]),
            st.sampled_from(["auc", "loss", "f1"]),
            st.floats(-10, 10, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=30,
    ),
    st.sets(st.integers(0, 3), min_size=1),
    st.sampled_from(["train", "evaluate", "test", None]),
    st.sampled_from(["auc", "loss", "f1"]),
    st.booleans(),
)
def test_a_quarantined_run_is_never_selected_whatever_the_metric(
    tmp_path_factory, metrics, bad, stage, key, higher
) -> None:
    root = tmp_path_factory.mktemp("q")
    ctx = Contexta(workspace=root / "ws")
    ctx.metadata_store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    runs = []
    for r in range(4):
        ref = f"run:p.r{r}"
        runs.append(ref)
        ctx.metadata_store.runs.put_run(
            Run(
                run_ref=ref,
                project_ref="project:p",
                name=f"r{r}",
                status="completed",
                started_at="2025-01-02T00:00:00Z",
                ended_at="2025-01-02T01:00:00Z",
            )
        )
        for s in ("train", "evaluate", "test"):
            ctx.metadata_store.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:p.r{r}.{s}",
                    run_ref=ref,
                    stage_name=s,
                    status="completed",
                    started_at="2025-01-02T00:00:00Z",
                    ended_at="2025-01-02T01:00:00Z",
                )
            )
    for i, (s, k, v) in enumerate(metrics):
        for r in range(4):
            ctx.record_store.append(
                MetricRecord(
                    envelope=RecordEnvelope(
                        record_ref=f"record:p.r{r}.m{i}",
                        record_type="metric",
                        recorded_at="2025-01-02T01:00:00Z",
                        observed_at="2025-01-02T01:00:00Z",
                        producer_ref="tests",
                        run_ref=f"run:p.r{r}",
                        stage_execution_ref=None if i % 5 == 0 else f"stage:p.r{r}.{s}",
                    ),
                    payload=MetricPayload(metric_key=k, value=v * (r + 1), value_type="float64"),
                )
            )
    quarantined = [runs[i] for i in sorted(bad)]
    ctx.quarantine_runs(quarantined, reason="bad")
    best = ctx.select_best_run(runs, key, stage_name=stage, higher_is_better=higher)
    assert best not in quarantined
    anyway = ctx.select_best_run(
        runs, key, stage_name=stage, higher_is_better=higher, include_quarantined=True
    )
    if best is not None and anyway is not None and anyway not in quarantined:
        assert anyway == best
    ctx.close()


def test_as_of_views_offer_every_read_of_the_facade(seeded: Path) -> None:
    ctx = open_seeded(seeded)
    before = datetime.now(UTC)
    time.sleep(0.002)
    ctx.tag_runs("data.flag", message="late finding", run_ids=["run-2025-04-14"], level="error")
    then = ctx.as_of(before)
    assert [i.code for i in then.diagnose_run("run-2025-04-14").issues] == [
        i.code for i in ctx.diagnose_run("run-2025-04-14").issues
    ]
    assert "data.flag" not in then.build_snapshot_report("run-2025-04-14").to_markdown()
    assert "data.flag" in ctx.build_snapshot_report("run-2025-04-14").to_markdown()
    assert (
        then.get_metric_trend("auc", project_name=P, stage_name="evaluate").values
        == ctx.get_metric_trend("auc", project_name=P, stage_name="evaluate").values
    )


def test_metric_steps_from_capture_tags_reach_the_step_column(tmp_path: Path) -> None:
    ctx = Contexta(workspace=tmp_path / "ws")
    with ctx.run("steps") as run, run.stage("train") as stage:
        for step in (0, 10, 20):
            stage.metric("loss", 1.0 / (step + 1), step=step)
    table = ctx._workspace.table("stage_metrics")
    assert table.column("step").to_pylist() == [0, 10, 20]
