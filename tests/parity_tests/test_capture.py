"""Runtime capture (contract 4.11, decision 8.9): scopes write real ledger events, and what they
record is listed, compared and snapshotted like anything else."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.capture import (
    BatchCaptureResult,
    CaptureResult,
    ClosedScopeError,
    DeliveryStatus,
    InMemorySink,
    LifecycleError,
    MetricEmission,
    PayloadFamily,
    ResultStatus,
    RunScope,
    SpanScope,
    StageScope,
)
from contexta.common.errors import ValidationError
from contexta.contract import MetricRecord, Project, TraceSpanRecord

QUIET = {"capture": {"capture_environment_snapshot": False}, "project_name": "Vision Lab"}


def open_ctx(path: Path, **extra: object) -> Contexta:
    return Contexta(workspace=str(path / "ws"), config=dict(QUIET), **extra)  # type: ignore[arg-type]


@pytest.fixture()
def ctx(tmp_path: Path) -> Contexta:
    return open_ctx(tmp_path)


def kinds(ctx: Contexta, run: str | None = None) -> list[str]:
    return [e.kind for e in ctx.history(run)]


# ---------------------------------------------------------------------- run scope


def test_run_scope_refs_follow_the_slug_rule(ctx: Contexta) -> None:
    with ctx.run("  Train ResNet-50 (v2)! ") as run:
        assert isinstance(run, RunScope)
        assert run.ref == "run:vision-lab.train-resnet-50-v2"
        assert run.run_id == "train-resnet-50-v2"
        assert run.name == "Train ResNet-50 (v2)!"
    with ctx.run("anything", run_id="Sweep_07") as other:
        assert other.ref == "run:vision-lab.sweep-07"
    with pytest.raises(LifecycleError) as err:
        ctx.run("!!!")
    assert err.value.code == "runtime_invalid_component"


def test_run_is_open_inside_the_block_then_completed(ctx: Contexta) -> None:
    with ctx.run("fit") as run:
        (inside,) = ctx.list_runs()
        assert (inside.run_id, inside.status, inside.ended_at) == (run.ref, "open", None)
    (after,) = ctx.list_runs()
    assert after.status == "completed" and after.ended_at is not None
    assert run.status == "completed" and run.is_closed
    assert kinds(ctx, run.ref).count("run.put") == 2  # the open version stays in the ledger


def test_exception_closes_the_run_failed_and_propagates(ctx: Contexta) -> None:
    with pytest.raises(ZeroDivisionError), ctx.run("boom") as run, run.stage("fit"):
        1 / 0  # noqa: B018
    (record,) = ctx.list_runs()
    assert record.status == "failed"
    assert [s.status for s in ctx.get_run_snapshot(run.ref).stages] == ["failed"]


def test_project_is_put_once_and_an_existing_one_is_kept(tmp_path: Path) -> None:
    ctx = open_ctx(tmp_path)
    ctx.metadata_store.projects.put_project(
        Project(
            project_ref="project:vision-lab",
            name="Vision Lab",
            created_at="2024-01-01T00:00:00Z",
            description="made by hand",
        )
    )
    with ctx.run("a"):
        pass
    with ctx.run("b"):
        pass
    assert kinds(ctx).count("project.put") == 1
    assert (
        ctx.metadata_store.projects.get_project("project:vision-lab").description == "made by hand"
    )
    assert ctx.list_projects() == ("Vision Lab",)


def test_runs_do_not_nest_and_closed_scopes_refuse_work(ctx: Contexta) -> None:
    run = ctx.run("outer")
    with pytest.raises(LifecycleError) as err:
        ctx.run("inner")
    assert err.value.code == "runtime_nested_run"
    run.close()
    with pytest.raises(ClosedScopeError) as closed:
        run.metric("loss", 1.0)
    assert closed.value.code == "runtime_scope_closed"
    with pytest.raises(ClosedScopeError):
        run.close()


def test_current_scopes_and_capture_without_a_run(ctx: Contexta) -> None:
    with pytest.raises(LifecycleError) as err:
        ctx.metric("loss", 1.0)
    assert err.value.code == "runtime_capture_requires_run"
    with pytest.raises(LifecycleError):
        ctx.current_run()
    with ctx.run("r") as run:
        assert ctx.current_run() is run
        with pytest.raises(LifecycleError) as no_stage:
            ctx.current_stage()
        assert no_stage.value.code == "runtime_stage_required"
        with run.stage("fit") as stage:
            assert ctx.current_stage() is stage
            ctx.metric("loss", 0.5)  # routed to the innermost scope
        ctx.metric("wall-time", 12)
    records = ctx.get_run_snapshot(run.ref).records
    assert [(r.key, r.stage_id) for r in records] == [
        ("loss", "stage:vision-lab.r.fit"),
        ("wall-time", None),
    ]


# ---------------------------------------------------------------------- stages and records


def test_stages_are_ordered_by_creation_and_one_is_open_at_a_time(ctx: Contexta) -> None:
    with ctx.run("r") as run:
        for name in ("Prep Data", "train", "evaluate"):
            with run.stage(name) as stage:
                assert isinstance(stage, StageScope)
                with pytest.raises(LifecycleError) as err:
                    run.stage("other")
                assert err.value.code == "runtime_stage_already_open"
    stages = ctx.get_run_snapshot(run.ref).stages
    assert [(s.name, s.order, s.status) for s in stages] == [
        ("prep-data", 0, "completed"),
        ("train", 1, "completed"),
        ("evaluate", 2, "completed"),
    ]


def test_metric_returns_a_capture_result_holding_the_record(ctx: Contexta) -> None:
    with ctx.run("r") as run, run.stage("train") as stage:
        result = stage.metric("train.loss", 0.25, unit="nats", step=7)
        as_int = stage.metric("train.tokens", 4096)
    assert isinstance(result, CaptureResult)
    assert result.status is ResultStatus.SUCCESS and result.succeeded
    assert result.family is PayloadFamily.RECORD
    record = result.payload
    assert isinstance(record, MetricRecord) and result.value is record
    assert str(record.envelope.record_ref).startswith("record:vision-lab.r.metric-")
    assert str(record.envelope.stage_execution_ref) == "stage:vision-lab.r.train"
    assert record.payload.subject_ref == "stage:vision-lab.r.train"
    assert (record.payload.unit, dict(record.payload.tags)) == ("nats", {"step": "7"})
    assert as_int.payload.payload.value_type == "int"
    assert result.metadata["record_ref"] == str(record.envelope.record_ref)
    assert [d.sink_name for d in result.deliveries] == ["ledger"]
    as_dict = result.to_dict()  # 1.0 raised TypeError building any CaptureResult
    assert as_dict["status"] == "SUCCESS" and as_dict["payload"]["payload"]["value"] == 0.25
    (obs, tokens) = ctx.get_run_snapshot(run.ref).records
    assert (obs.key, obs.value, obs.unit, obs.payload["tags"]) == (
        "train.loss",
        0.25,
        "nats",
        {"step": "7"},
    )
    assert tokens.value == 4096


def test_record_refs_are_unique_across_scopes_of_a_run(ctx: Contexta) -> None:
    with ctx.run("r") as run:
        refs = {str(run.metric("m", 1).payload.envelope.record_ref) for _ in range(3)}
        with run.stage("s") as stage:
            refs |= {str(stage.metric("m", 1).payload.envelope.record_ref) for _ in range(3)}
    assert len(refs) == 6
    assert len(ctx.get_run_snapshot(run.ref).records) == 6


def test_invalid_emissions_raise_1_0_codes_and_write_nothing(ctx: Contexta) -> None:
    # Deliberate difference: 'Train_Loss' and NaN are accepted by a capture scope, and a value
    # that is not a number is recorded as degraded (tests/facade_tests/test_logging.py); a
    # key outside the logged grammar still raises 1.0's code.
    with ctx.run("r") as run:
        for key, value, code in (
            ("Train Loss!", 1.0, "capture_model_invalid_metric_key"),
            ("loss_" * 60, 1.0, "capture_model_invalid_metric_key"),
        ):
            with pytest.raises(ValidationError) as err:
                run.metric(key, value)
            assert err.value.code == code
        with pytest.raises(ValidationError) as bad_level:
            run.event("done", message="x", level="loud")
        assert bad_level.value.code == "capture_model_invalid_marker"
        run.metric("loss", 1.0)
    assert [r.key for r in ctx.get_run_snapshot(run.ref).records] == ["loss"]


def test_event_attributes_and_tags_are_kept(ctx: Contexta) -> None:
    with ctx.run("r") as run:
        run.event(
            "data.loaded",
            message="  loaded  ",
            level="warning",
            attributes={"rows": 10, "files": ["a", "b"]},
            tags={"source": "s3"},
        )
        run.event("data.loaded", message="plain")
    first, second = ctx.get_run_snapshot(run.ref).records
    assert (first.message, first.payload["level"]) == ("loaded", "warning")
    assert first.payload["attributes"] == {
        "files": ["a", "b"],
        "rows": 10,
        "tags": {"source": "s3"},
    }
    assert second.payload["attributes"] == {}


def test_run_context_is_recorded_as_one_event(ctx: Contexta) -> None:
    with ctx.run(
        "r",
        tags={"team": "cv"},
        code_revision="abc123",
        dataset_ref="ds:v1",
        metadata={"seed": 7},
        config_snapshot={"lr": 0.1},
    ) as run:
        assert run.tags == {"team": "cv"} and run.code_revision == "abc123"
        assert run.config_snapshot_ref == "artifact:vision-lab.r.config-snapshot"
    (event,) = ctx.get_run_snapshot(run.ref).records
    assert event.key == "run.context"
    assert event.payload["attributes"] == {
        "code_revision": "abc123",
        "config_snapshot": {"lr": 0.1},
        "dataset_ref": "ds:v1",
        "metadata": {"seed": 7},
        "tags": {"team": "cv"},
    }


# ---------------------------------------------------------------------- spans


def test_span_scope_times_a_block_and_nests(ctx: Contexta) -> None:
    with ctx.run("r") as run, run.stage("load") as stage:
        with stage.span("read-files") as outer:
            assert isinstance(outer, SpanScope)
            time.sleep(0.02)
            with ctx.span("decode") as inner:
                pass
        with pytest.raises(KeyError), stage.span("lookup"):
            raise KeyError("x")
    assert outer.result is not None and isinstance(outer.result.payload, TraceSpanRecord)
    spans = {r.key: r for r in ctx.get_run_snapshot(run.ref).records}
    assert spans["read-files"].value >= 20.0 and spans["read-files"].unit == "ms"
    decode = spans["decode"].payload
    assert decode["parent_span_id"] == outer.span_id == inner.parent_span_id
    assert decode["trace_id"] == spans["read-files"].payload["trace_id"]
    assert spans["lookup"].payload["status"] == "error"
    assert spans["lookup"].payload["attributes"] == {"error_type": "KeyError"}


def test_span_with_times_is_recorded_at_once_and_an_unentered_span_at_close(ctx: Contexta) -> None:
    with ctx.run("r") as run:
        result = run.span(
            "warmup", started_at="2025-01-01T00:00:00Z", ended_at="2025-01-01T00:00:01.5Z"
        )
        assert isinstance(result, CaptureResult) and result.succeeded
        pending = run.span("checkpoint")
        assert pending.result is None
    assert pending.result is not None
    spans = {r.key: r for r in ctx.get_run_snapshot(run.ref).records}
    assert spans["warmup"].value == 1500.0
    assert spans["checkpoint"].value == 0.0


# ---------------------------------------------------------------------- batches, samples, ops


def test_batch_sample_and_operation_scopes(ctx: Contexta) -> None:
    with ctx.run("r") as run, run.stage("infer") as stage:
        for i in range(2):
            with stage.batch(f"batch-{i}") as batch:
                assert batch.order_index == i
                with batch.sample("img-1", retention_class="short") as sample:
                    sample.metric("score", 0.5 + i)
        with stage.operation("tokenize") as op:
            op.event("op.done", message="ok")
        with stage.sample("a"), pytest.raises(LifecycleError) as err:
            stage.operation("b")
        assert err.value.code == "runtime_operation_already_open"
    history = kinds(ctx, run.ref)
    assert history.count("batch.put") == 4 and history.count("sample.put") == 3
    records = ctx.record_store.scan()
    envs = [r.record.envelope for r in records]
    assert str(envs[0].sample_observation_ref) == "sample:vision-lab.r.infer.batch-0.img-1"
    assert str(envs[-1].operation_context_ref) == "op:vision-lab.r.infer.tokenize"
    if hasattr(ctx, "list_batches"):
        batches = ctx.list_batches(run.ref)
        assert [(b.name, b.status, b.order) for b in batches] == [
            ("batch-0", "completed", 0),
            ("batch-1", "completed", 1),
        ]


def test_deployment_scope_puts_its_execution(ctx: Contexta) -> None:
    with ctx.deployment("Serve API", run_ref="run:vision-lab.r") as dep:
        assert dep.ref == "deployment:vision-lab.serve-api"
        with pytest.raises(LifecycleError):
            ctx.run("inside")
    puts = [e.model for e in ctx.history() if e.kind == "deployment.put"]
    assert [(m.status, m.ended_at is None) for m in puts] == [("open", True), ("completed", False)]


# ---------------------------------------------------------------------- batches of emissions


def test_emit_metrics_appends_a_batch(ctx: Contexta) -> None:
    with ctx.run("r") as run:
        result = run.emit_metrics([MetricEmission("a", 1.0), {"key": "b", "value": 2, "step": 3}])
        assert isinstance(result, BatchCaptureResult) and result.succeeded
        assert (result.total_count, result.success_count, result.failure_count) == (2, 2, 0)
        assert [r.payload.payload.metric_key for r in result.results] == ["a", "b"]
        with pytest.raises(ValidationError):
            run.emit_metrics([{"key": "bad key!", "value": 1.0}])  # spaces are allowed now
        events = ctx.emit_events([{"key": "e", "message": "m"}])
        spans = ctx.emit_spans([{"name": "s", "started_at": "2025-01-01T00:00:00Z"}])
        assert events.succeeded and spans.succeeded
    assert [r.key for r in ctx.get_run_snapshot(run.ref).records] == ["a", "b", "e", "s"]


# ---------------------------------------------------------------------- artifacts and sinks


def test_register_artifact_writes_one_manifest_event(ctx: Contexta, tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x00" * 64)
    with ctx.run("r") as run, run.stage("train") as stage:
        result = stage.register_artifact("checkpoint", str(weights), attributes={"epoch": 3})
        missing = stage.register_artifact(
            "checkpoint", str(tmp_path / "nope.bin"), allow_missing=True
        )
        with pytest.raises(ValidationError) as err:
            stage.register_artifact("checkpoint", str(tmp_path / "nope.bin"))
        assert err.value.code == "artifact_source_missing"
    assert result.family is PayloadFamily.ARTIFACT and result.succeeded
    manifest = result.payload["manifest"]
    assert manifest.size_bytes == 64 and manifest.location_ref == f"path:{weights.as_posix()}"
    assert str(manifest.stage_execution_ref) == "stage:vision-lab.r.train"
    assert missing.status is ResultStatus.DEGRADED
    assert kinds(ctx, run.ref).count("artifact.put") == 2
    artifacts = ctx.get_run_snapshot(run.ref).artifacts
    assert sorted(a.kind for a in artifacts) == ["checkpoint", "checkpoint"]


class _Broken:
    name = "broken"

    def capture(self, *, family: object, payload: object) -> object:
        raise RuntimeError("disk full")


def test_sinks_get_a_copy_and_a_failing_sink_never_loses_the_record(tmp_path: Path) -> None:
    memory = InMemorySink()
    ctx = open_ctx(tmp_path, sinks=[memory, _Broken()])
    with ctx.run("r") as run:
        result = run.metric("loss", 0.1)
    assert [e.payload_ref for e in memory.entries] == [result.metadata["record_ref"]]
    assert [d.status for d in result.deliveries] == [
        DeliveryStatus.SUCCESS,
        DeliveryStatus.SUCCESS,
        DeliveryStatus.FAILURE,
    ]
    assert result.status is ResultStatus.DEGRADED
    assert [r.key for r in ctx.get_run_snapshot(run.ref).records] == ["loss"]


# ---------------------------------------------------------------------- the point of it all


def training_loop(ctx: Contexta, name: str, lr: float) -> str:
    with ctx.run(name) as run:
        with run.stage("train") as stage:
            for epoch in range(3):
                stage.metric("train.loss", round(1.0 / (epoch + 1) + lr, 6), step=epoch)
        with run.stage("evaluate") as stage:
            stage.metric("eval.accuracy", round(0.9 - lr, 6))
    return run.ref


def test_captured_runs_are_listed_compared_and_snapshotted(tmp_path: Path) -> None:
    ctx = open_ctx(tmp_path)
    base = training_loop(ctx, "baseline", 0.1)
    tuned = training_loop(ctx, "tuned", 0.05)
    ctx.close()
    ctx = open_ctx(tmp_path)  # a fresh process view: everything was committed to the ledger
    assert [r.run_id for r in ctx.list_runs("Vision Lab")] == [base, tuned]
    comparison = ctx.compare_runs(base, tuned)
    deltas = {
        (s.stage_name, d.metric_key): d.delta
        for s in comparison.stage_comparisons
        for d in s.metric_deltas
    }
    assert deltas == {
        ("evaluate", "eval.accuracy"): pytest.approx(0.05),
        ("train", "train.loss"): pytest.approx(-0.05),
    }
    multi = ctx.compare_multiple_runs([base, tuned])
    assert {(row.stage_name, row.metric_key) for row in multi.metric_table} == {
        ("evaluate", "eval.accuracy"),
        ("train", "train.loss"),
    }
    assert ctx.select_best_run([base, tuned], "eval.accuracy", stage_name="evaluate") == tuned
    snapshot = ctx.get_run_snapshot("tuned")
    assert [s.name for s in snapshot.stages] == ["train", "evaluate"]
    assert [r.value for r in snapshot.records if r.key == "train.loss"] == [1.05, 0.55, 0.383333]


def test_environment_snapshot_is_captured_when_configured(tmp_path: Path) -> None:
    ctx = Contexta(workspace=str(tmp_path / "ws"))
    with ctx.run("r") as run:
        pass
    (env,) = [e.model for e in ctx.history(run.ref) if e.kind == "environment.put"]
    assert str(env.environment_snapshot_ref) == "environment:default.r.runtime"
    assert env.python_version.count(".") == 2


def test_threads_opening_their_first_scopes_at_once_share_one_session(
    ctx: Contexta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session is made once per ``Contexta``, however slow making it is: two threads
    asking for it at the same moment get the same one (else one thread's open scopes would
    live in a session the other replaced)."""
    import contexta.capture as capture

    class Slow(capture.RuntimeSession):  # type: ignore[misc]
        def __init__(self, owner: object) -> None:
            time.sleep(0.05)
            super().__init__(owner)

    monkeypatch.setattr(capture, "RuntimeSession", Slow)
    barrier = threading.Barrier(2)
    seen: list[object] = []

    def ask() -> None:
        barrier.wait(timeout=10)
        seen.append(ctx.session)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 2 and seen[0] is seen[1] and isinstance(seen[0], Slow)


def test_threads_have_their_own_open_scopes(ctx: Contexta) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        try:
            with ctx.run(name) as run:
                barrier.wait(timeout=10)
                run.metric("x", 1.0)
                assert ctx.current_run() is run
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("t1", "t2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.status for r in ctx.list_runs()) == ["completed", "completed"]
