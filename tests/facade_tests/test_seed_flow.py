"""The seed's case 08 pair against the facade, and the contract's id and append rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from contexta import Contexta
from contexta.common.errors import InterpretationError
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope
from tests.conftest import REPO, SEED, run_cli, run_script

EXPECTED_SEED = Path(REPO).parent / "shared" / "seed" / "expected_seed_output.txt"
EXPECTED_ANALYSIS = Path(REPO).parent / "shared" / "seed" / "expected_analysis_output.txt"
SEED_OUT = "Seeded purchase-intent-model data in .contexta.\n"
ANALYSIS_OUT = """Runs trained during contamination window:
  run-2025-04-03
  run-2025-04-08
  run-2025-04-14
  run-2025-04-21

Clean baseline -> latest contaminated:
evaluate/accuracy: -0.0560
evaluate/auc: -0.0600
evaluate/f1: -0.0560

False best to quarantine: run:purchase-intent-model.run-2025-04-14
"""


def test_expected_outputs_match_the_shared_seed_when_present() -> None:
    if not EXPECTED_ANALYSIS.exists():
        pytest.skip("../shared/seed is not beside the repository")
    assert EXPECTED_SEED.read_text() == SEED_OUT
    assert EXPECTED_ANALYSIS.read_text() == ANALYSIS_OUT


def analyse(cwd: Path) -> str:
    return run_script(SEED / "case08_analyze_contamination.py", cwd).stdout


def test_seed_then_analysis_print_exactly_what_contexta_1_0_prints(tmp_path: Path) -> None:
    seeded = run_script(SEED / "case08_seed_contamination_data.py", tmp_path)
    assert seeded.stdout == SEED_OUT
    assert analyse(tmp_path) == ANALYSIS_OUT


def test_ledger_holds_exactly_one_event_per_put_or_append(seeded: Path) -> None:
    tables = [
        pa.ipc.open_stream(pa.memory_map(str(p))).read_all()
        for p in sorted((seeded / ".contexta" / "ledger").glob("segment-*"))
    ]
    table = pa.concat_tables(tables)
    assert table.num_rows == 35
    counts = dict(
        zip(
            *[
                table.column("kind").value_counts().field(f).to_pylist()
                for f in ("values", "counts")
            ],
            strict=True,
        )
    )
    assert counts == {
        "project.put": 1,
        "run.put": 5,
        "stage.put": 10,
        "record.metric": 15,
        "record.event": 4,
    }
    assert table.column("seq").to_pylist() == list(range(1, 36))


def test_deleted_projections_and_rebuild_give_the_same_answers(seeded: Path) -> None:
    assert analyse(seeded) == ANALYSIS_OUT
    shutil.rmtree(seeded / ".contexta" / "projections")
    assert analyse(seeded) == ANALYSIS_OUT
    rebuilt = run_cli(seeded, "projections", "rebuild")
    assert "folded 35 events" in rebuilt.stdout
    assert analyse(seeded) == ANALYSIS_OUT


def metric(record: str, value: float, run: str = "run-2025-03-28") -> MetricRecord:
    project = "purchase-intent-model"
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{project}.{run}.{record}",
            record_type="metric",
            recorded_at="2025-05-01T00:00:00Z",
            observed_at="2025-05-01T00:00:00Z",
            producer_ref="tests",
            run_ref=f"run:{project}.{run}",
            stage_execution_ref=f"stage:{project}.{run}.evaluate",
        ),
        payload=MetricPayload(metric_key="recall", value=value, value_type="float64"),
    )


def test_appending_the_same_record_twice_keeps_one_copy(seeded: Path) -> None:
    ctx = Contexta(workspace=seeded / ".contexta")
    first = ctx.record_store.append(metric("x1", 0.5))
    second = ctx.record_store.append(metric("x1", 0.5))
    assert first.success and second.success
    snapshot = ctx.get_run_snapshot("run-2025-03-28")
    assert [r.key for r in snapshot.records].count("recall") == 1
    assert sum(1 for e in ctx.history() if e.ref and e.ref.endswith(".x1")) == 1
    ctx.close()
    again = Contexta(workspace=seeded / ".contexta")  # a new process-like instance
    assert again.record_store.append(metric("x1", 0.5)).success
    assert sum(1 for e in again.history() if e.ref and e.ref.endswith(".x1")) == 1


def test_a_different_record_under_an_existing_ref_is_rejected(seeded: Path) -> None:
    ctx = Contexta(workspace=seeded / ".contexta")
    ctx.record_store.append(metric("x2", 0.5))
    result = ctx.record_store.append(metric("x2", 0.7))
    assert not result.success
    assert result.rejected[0].code == "record_ref_conflict"
    ctx.close()
    fresh = Contexta(workspace=seeded / ".contexta")
    result = fresh.record_store.append(metric("x2", 0.9))
    assert [r.code for r in result.rejected] == ["record_ref_conflict"]
    values = [
        r.value for r in fresh.get_run_snapshot("run-2025-03-28").records if r.key == "recall"
    ]
    assert values == [0.5]


@pytest.mark.parametrize(
    "run_id",
    [
        "run:purchase-intent-model.run-2025-04-14",
        "  run:purchase-intent-model.run-2025-04-14 ",
        "run-2025-04-14",
        "purchase-intent-model.run-2025-04-14",  # decision 8.1
    ],
)
def test_run_ids_resolve_as_1_0_plus_decision_8_1(seeded: Path, run_id: str) -> None:
    ctx = Contexta(workspace=seeded / ".contexta")
    assert ctx.get_run_snapshot(run_id).run.run_id == "run:purchase-intent-model.run-2025-04-14"


@pytest.mark.parametrize(
    "run_id", ["run:purchase-intent-model.nope", "nope", "other.run-2025-04-14"]
)
def test_unknown_runs_raise_query_run_not_found(seeded: Path, run_id: str) -> None:
    ctx = Contexta(workspace=seeded / ".contexta")
    with pytest.raises(InterpretationError) as info:
        ctx.get_run_snapshot(run_id)
    assert info.value.code == "query_run_not_found"


def test_select_best_run_keeps_1_0_rules(seeded: Path) -> None:
    ctx = Contexta(workspace=seeded / ".contexta")
    runs = ["run-2025-04-03", "run-2025-04-14", "run-2025-04-14"]
    assert ctx.select_best_run(runs, "auc", stage_name="evaluate") == "run-2025-04-14"
    assert ctx.select_best_run(runs, "auc") is None  # stage metrics need stage_name
    assert (
        ctx.select_best_run(runs, "auc", stage_name="evaluate", higher_is_better=False)
        == "run-2025-04-03"
    )
    from contexta.interpretation import ComparisonError

    with pytest.raises(ComparisonError) as info:
        ctx.select_best_run(["run-2025-04-14", "run-2025-04-14"], "auc", stage_name="evaluate")
    assert info.value.code == "compare_requires_multiple_runs"


def test_read_your_writes_within_a_process(tmp_path: Path) -> None:
    from contexta.contract import Project, Run

    ctx = Contexta(workspace=tmp_path / "ws")
    ctx.metadata_store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    ctx.metadata_store.runs.put_run(
        Run(
            run_ref="run:p.r1",
            project_ref="project:p",
            name="r1",
            status="open",
            started_at="2025-01-02T00:00:00Z",
        )
    )
    assert [r.run_id for r in ctx.list_runs("p")] == ["run:p.r1"]
    ctx.metadata_store.runs.put_run(
        Run(
            run_ref="run:p.r1",
            project_ref="project:p",
            name="r1",
            status="completed",
            started_at="2025-01-02T00:00:00Z",
            ended_at="2025-01-02T01:00:00Z",
        )
    )
    assert ctx.list_runs("p")[0].status == "completed"
    assert ctx.metadata_store.runs.get_run("run:p.r1").status == "completed"
    assert len([e for e in ctx.history() if e.kind == "run.put"]) == 2  # every version stays


def test_put_with_missing_owner_raises_not_found(tmp_path: Path) -> None:
    from contexta.common.errors import NotFoundError
    from contexta.contract import Run

    ctx = Contexta(workspace=tmp_path / "ws")
    with pytest.raises(NotFoundError) as info:
        ctx.metadata_store.runs.put_run(
            Run(
                run_ref="run:p.r1",
                project_ref="project:p",
                name="r1",
                status="open",
                started_at="2025-01-02T00:00:00Z",
            )
        )
    assert info.value.code == "metadata_missing_run_project"
    assert list(ctx.history()) == []


APPENDER = """
import sys
from contexta import Contexta
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope
tag = sys.argv[1]
ctx = Contexta(workspace=".contexta")
for i in range(5000):
    ctx.record_store.append(MetricRecord(
        envelope=RecordEnvelope(record_ref=f"record:purchase-intent-model.run-2025-03-28.{tag}-{i}",
            record_type="metric", recorded_at="2025-05-01T00:00:00Z", observed_at="2025-05-01T00:00:00Z",
            producer_ref="tests", run_ref="run:purchase-intent-model.run-2025-03-28"),
        payload=MetricPayload(metric_key="loss", value=float(i), value_type="float64")))
ctx.close()
"""


def test_two_processes_appending_metric_records_lose_nothing(seeded: Path) -> None:
    import subprocess
    import sys

    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, tag], cwd=seeded) for tag in ("a", "b")
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0
    ctx = Contexta(workspace=seeded / ".contexta")
    from ledger import verify

    report = verify(seeded / ".contexta" / "ledger")
    assert report.ok and report.events == 35 + 10_000 and report.last_seq == 10_035
    losses = [r for r in ctx.get_run_snapshot("run-2025-03-28").records if r.key == "loss"]
    assert len(losses) == 10_000
    seqs = [e.seq for e in ctx.history()]
    assert seqs == list(range(1, 10_036))
    for _, frame in ctx._workspace.ledger.frames():  # every batch whole: one writer each
        assert len(set(frame.batch.column("actor").to_pylist())) == 1
