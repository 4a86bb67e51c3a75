"""Logging from a training loop: keys, values, runs, params and tags, artifacts.

Each family pins one finding of the logging review: keys ML code uses were rejected; NaN and
numpy scalars crashed the loop; re-running a script merged into the same run; params and tags
were invisible; artifacts were not stored.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from contexta import Contexta
from contexta.capture.results import ResultStatus
from contexta.common.errors import ValidationError
from contexta.contract import MetricPayload


def open_ctx(root: Path, **contract: str) -> Contexta:
    config = {"project_name": "demo", "workspace": {"root_path": str(root / ".contexta")}}
    if contract:
        config["contract"] = dict(contract)
    return Contexta(config=config)


@pytest.fixture()
def ctx(tmp_path: Path) -> Contexta:
    context = open_ctx(tmp_path)
    yield context
    context.close()


def metric_values(ctx: Contexta, run_ref: str) -> list[tuple[str, float]]:
    return [
        (r.key, r.value) for r in ctx.get_run_snapshot(run_ref).records if r.record_type == "metric"
    ]


# ---------------------------------------------------------------------- keys

ML_KEYS = [
    "train_loss",
    "loss/train",
    "loss/val",
    "valAcc",
    "F1",
    "epoch_time_s",
    "val acc",
    "lr.group-0",
    "train-loss",
    "Train_Loss",
    "a" * 250,
]


def test_keys_ml_code_uses_are_stored_as_given(ctx: Contexta) -> None:
    with ctx.run("keys") as run:
        for key in ML_KEYS:
            assert run.metric(key, 0.5).status is ResultStatus.SUCCESS
    assert metric_values(ctx, run.ref) == [(key, 0.5) for key in ML_KEYS]
    ctx.close()
    reopened = Contexta(config=ctx.config)  # from the ledger, not from memory
    assert [k for k, _ in metric_values(reopened, run.ref)] == ML_KEYS
    reopened.close()


def test_keys_that_differ_only_in_spelling_are_distinct_series(ctx: Contexta) -> None:
    with ctx.run("spelling") as run:
        refs = {
            key: str(run.metric(key, float(i)).payload.envelope.record_ref)
            for i, key in enumerate(["train_loss", "train-loss", "Train_Loss", "train loss"])
        }
    assert len(set(refs.values())) == 4  # record refs never derive from the key alone
    values = dict(metric_values(ctx, run.ref))
    assert values == {"train_loss": 0.0, "train-loss": 1.0, "Train_Loss": 2.0, "train loss": 3.0}


@pytest.mark.parametrize("key", ["loss!", "a" * 251, "___", "loss\tx", "accuracy@1", "é"])
def test_a_refused_key_states_the_rule(ctx: Contexta, key: str) -> None:
    with ctx.run("bad-key") as run:
        with pytest.raises(ValidationError) as err:
            run.metric(key, 1.0)
        assert err.value.code == "capture_model_invalid_metric_key"
        assert "letters (either case), digits, '_', '-', '.', '/' and spaces" in err.value.message
        assert "250" in err.value.message
    assert metric_values(ctx, run.ref) == []


def test_lenient_mode_records_a_refused_key_as_degraded(tmp_path: Path) -> None:
    ctx = open_ctx(tmp_path, validation_mode="lenient")
    with ctx.run("lenient") as run:
        result = run.metric("loss!", 1.0)
        step = run.metric("loss", 1.0, step=2**63)  # strict mode raises capture_model_invalid_step
        run.metric("loss", 1.0)
    assert (
        step.status is ResultStatus.DEGRADED and step.failure.code == "capture_model_invalid_step"
    )
    assert result.status is ResultStatus.DEGRADED
    assert "letters (either case)" in result.degradation_reasons[0]
    assert run.status == "completed"
    records = ctx.get_run_snapshot(run.ref).records
    assert [(r.record_type, r.key) for r in records] == [
        ("degraded", "capture.metric_refused"),
        ("degraded", "capture.metric_refused"),
        ("metric", "loss"),
    ]
    ctx.close()


def test_models_built_by_hand_keep_the_1_0_key_rule() -> None:
    with pytest.raises(ValidationError) as err:
        MetricPayload(metric_key="train_loss", value=1.0, value_type="float")
    assert err.value.code == "record_invalid_metric_key"
    assert "run.metric" in err.value.message  # says where the wider grammar is taken


# ---------------------------------------------------------------------- values

REALS = [
    (np.float32(0.25), 0.25),
    (np.float64(0.5), 0.5),
    (np.int64(7), 7),
    (np.int32(-3), -3),
    (np.uint8(200), 200),
    (np.array(1.5), 1.5),
    (np.array(4, dtype=np.int16), 4),
    (Decimal("2.5"), 2.5),
    (Fraction(1, 4), 0.25),
    (3, 3),
    (0.75, 0.75),
]


def test_any_real_number_is_a_value(ctx: Contexta) -> None:
    class Tensorish:
        def __float__(self) -> float:
            return 0.125

    with ctx.run("reals") as run:
        for i, (value, _) in enumerate(REALS):
            assert run.metric(f"m{i}", value).status is ResultStatus.SUCCESS
        run.metric("duck", Tensorish())
    stored = dict(metric_values(ctx, run.ref))
    for i, (_, expected) in enumerate(REALS):
        assert stored[f"m{i}"] == expected and type(stored[f"m{i}"]) in (int, float)
    assert stored["duck"] == 0.125


def test_nan_and_infinities_are_stored_and_the_loop_goes_on(ctx: Contexta) -> None:
    with ctx.run("diverging") as run, run.stage("train") as stage:
        for step, loss in enumerate([1.0, float("nan"), math.inf, -math.inf, np.float32("nan")]):
            assert stage.metric("train_loss", loss, step=step).succeeded
    assert run.status == "completed"
    values = [v for _, v in metric_values(ctx, run.ref)]
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2:4] == [math.inf, -math.inf]
    assert math.isnan(values[4])
    series = ctx.get_step_series(run.ref, "train_loss", stage_name="train")
    assert [p.step for p in series.points] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "value",
    ["0.5", None, True, np.bool_(True), 1 + 2j, [1.0], np.array([1.0, 2.0]), object(), 2**70],
)
def test_a_bad_value_is_recorded_as_degraded_not_raised(ctx: Contexta, value: object) -> None:
    with ctx.run("bad-value") as run:
        result = run.metric("loss", value, step=3)
        run.metric("loss", 0.5)
    assert run.status == "completed"
    assert result.status is ResultStatus.DEGRADED
    assert "real number" in result.degradation_reasons[0]
    (degraded, metric) = ctx.get_run_snapshot(run.ref).records
    assert (degraded.record_type, degraded.key) == ("degraded", "capture.metric_refused")
    assert degraded.payload["attributes"]["metric_key"] == "loss"
    assert "real number" in degraded.payload["summary"]
    assert (metric.key, metric.value) == ("loss", 0.5)


def _two_runs(ctx: Contexta, last_of_first: float) -> tuple[str, str]:
    refs = []
    for name, values in (("first", [0.5, last_of_first]), ("second", [0.4, 0.3])):
        with ctx.run(name) as run, run.stage("evaluate") as stage:
            for step, value in enumerate(values):
                stage.metric("val_loss", value, step=step)
        refs.append(run.ref)
    return refs[0], refs[1]


@pytest.mark.parametrize("bad", [float("nan"), math.inf, -math.inf])
def test_select_best_skips_non_finite_values(ctx: Contexta, bad: float) -> None:
    first, second = _two_runs(ctx, bad)
    for higher in (True, False):
        assert (
            ctx.select_best_run(
                [first, second], "val_loss", stage_name="evaluate", higher_is_better=higher
            )
            == second
        )
    assert (
        ctx.query_service.select_best_run(
            [first, second], "val_loss", stage_name="evaluate", higher_is_better=False
        )
        == second
    )


def test_non_finite_values_are_a_diagnostics_warning_and_shown_in_reports(ctx: Contexta) -> None:
    first, second = _two_runs(ctx, float("nan"))
    issues = [i for i in ctx.diagnose_run(first).issues if i.code == "non_finite_metric"]
    assert [(i.severity, i.details["metric_key"], i.details["count"]) for i in issues] == [
        ("warning", "val_loss", 1)
    ]
    assert "nan at step 1" in issues[0].summary
    assert not [i for i in ctx.diagnose_run(second).issues if i.code == "non_finite_metric"]
    report = ctx.build_snapshot_report(first)  # raised on a NaN in a curve before
    markdown = report.to_markdown()
    assert "val_loss" in markdown and "nan" in markdown
    (chart,) = [c for section in report.sections for c in section.charts]
    assert chart.series[0].values == (0.5, None)  # a gap in the curve
    assert "(nan: not plotted)" in chart.annotations[1]
    assert "<svg" in report.to_html()


def test_the_ledger_row_checks_take_non_finite_values(tmp_path: Path) -> None:
    from ledger.schema import PendingEvent, check_events

    rows = [
        PendingEvent(
            "record.metric",
            f"record:p.r.m{i}",
            "project:p",
            "run:p.r",
            None,
            1,
            "train_loss",
            value,
            i,
            "me",
            b"x",
        )
        for i, value in enumerate([float("nan"), math.inf, -math.inf])
    ]
    assert list(check_events(rows)) == rows
    ctx = open_ctx(tmp_path)
    with ctx.run("stored") as run:
        run.metric("train_loss", float("nan"))
        run.metric("train_loss", -math.inf)
    ctx.close()
    reopened = open_ctx(tmp_path)
    values = [e.value for e in reopened.history(run.ref) if e.kind == "record.metric"]
    assert math.isnan(values[0]) and values[1] == -math.inf
    reopened.close()


# ---------------------------------------------------------------------- runs


def _train(ctx: Contexta, name: str, **kwargs: object) -> str:
    with ctx.run(name, **kwargs) as run, run.stage("train") as stage:
        for step in range(3):
            stage.metric("train_loss", 1.0 / (step + 1), step=step)
    return run.ref


def test_running_a_script_twice_makes_two_runs(tmp_path: Path) -> None:
    refs = []
    for _ in range(2):  # two processes' worth: a fresh Contexta each time
        ctx = open_ctx(tmp_path)
        refs.append(_train(ctx, "baseline"))
        ctx.close()
    ctx = open_ctx(tmp_path)
    assert refs[0] == "run:demo.baseline" and refs[1].startswith("run:demo.baseline-")
    runs = ctx.list_runs()
    assert [(r.run_id, r.name) for r in runs] == [(refs[0], "baseline"), (refs[1], "baseline")]
    for ref in refs:  # each curve is its own: steps 0, 1, 2 once (no sawtooth)
        series = ctx.get_step_series(ref, "train_loss", stage_name="train")
        assert [p.step for p in series.points] == [0, 1, 2]
    ctx.close()


def test_a_shared_name_resolves_to_an_error_listing_the_runs(ctx: Contexta) -> None:
    from contexta.common.errors import InterpretationError

    first, second = _train(ctx, "baseline"), _train(ctx, "baseline")
    with pytest.raises(InterpretationError) as err:
        ctx.get_run_snapshot("baseline")
    assert err.value.code == "query_run_ambiguous"
    assert first in err.value.message and second in err.value.message
    assert err.value.details["candidates"] == sorted([first, second])
    assert ctx.get_run_snapshot(second).run.name == "baseline"  # by id it is one run


def test_resume_and_an_explicit_run_id_continue_a_run(ctx: Contexta) -> None:
    first = _train(ctx, "long-job")
    with ctx.run("long-job", resume=True) as run:
        run.metric("epochs_done", 3)
    assert run.ref == first
    with ctx.run("whatever", run_id="long-job") as again:
        again.metric("epochs_done", 6)
    assert again.ref == first and len(ctx.list_runs()) == 1
    snap = ctx.get_run_snapshot(first)
    assert snap.run.status == "completed" and snap.run.name == "long-job"
    assert [r.value for r in snap.records if r.key == "epochs_done"] == [3, 6]
    with ctx.run("fresh", resume=True) as new:  # nothing to resume: a new run
        pass
    assert new.ref == "run:demo.fresh"
    _train(ctx, "long-job")
    from contexta.capture.errors import LifecycleError

    with pytest.raises(LifecycleError) as err:
        ctx.run("long-job", resume=True)
    assert err.value.code == "runtime_run_ambiguous" and first in err.value.message


@pytest.mark.parametrize("name", ["sgd-lr0.1", "Adam lr=3e-4", "run_7"])
def test_a_run_is_found_by_its_name_as_given(tmp_path: Path, name: str) -> None:
    from tests.conftest import run_cli

    ctx = open_ctx(tmp_path)
    ref = _train(ctx, name)
    assert ctx.get_run_snapshot(name).run.run_id == ref
    ctx.close()
    shown = run_cli(
        tmp_path,
        "--workspace",
        str(tmp_path / ".contexta"),
        "--format",
        "json",
        "run",
        "show",
        name,
    )
    assert ref in shown.stdout and name in shown.stdout


# ---------------------------------------------------------------------- params and tags


def _labelled(ctx: Contexta, name: str, lr: float, team: str) -> str:
    with ctx.run(name, tags={"team": team}) as run:
        run.log_params({"lr": np.float32(lr), "optimizer": "sgd", "layers": [64, 32]})
        run.set_tags({"dataset": "v2"})
        with run.stage("evaluate") as stage:
            stage.metric("valAcc", 0.9 - lr)
    return run.ref


def test_params_and_tags_are_stored_and_shown(ctx: Contexta) -> None:
    import json

    from tests.conftest import run_cli

    a = _labelled(ctx, "a", 0.1, "growth")
    b = _labelled(ctx, "b", 0.01, "core")
    snap = ctx.get_run_snapshot(a)
    assert dict(snap.params) == {"layers": (64, 32), "lr": 0.1, "optimizer": "sgd"}
    assert snap.to_dict()["params"]["layers"] == [64, 32]
    assert dict(snap.tags) == {"dataset": "v2", "team": "growth"}
    assert dict(snap.run.tags) == {"dataset": "v2", "team": "growth"}
    assert [r.run_id for r in ctx.list_runs(tags={"team": "growth"})] == [a]
    # 1.0's rule: with a filter, newest first
    assert [r.run_id for r in ctx.list_runs("demo", tags={"dataset": "v2"})] == [b, a]
    changes = ctx.compare_runs(a, b).param_changes
    assert [(c.name, c.left_value, c.right_value) for c in changes] == [("lr", 0.1, 0.01)]
    summary = ctx.build_snapshot_report(a).sections[0].body
    assert "params: layers=" in summary and "lr=0.1" in summary and "team=growth" in summary
    report = ctx.build_run_report(a, b)
    assert "lr: left=0.1, right=0.01" in {s.title: s.body for s in report.sections}["Param Changes"]
    ctx.close()
    listed = run_cli(
        Path(ctx.config.workspace.root_path).parent,
        "--workspace",
        ctx.config.workspace.root_path,
        "--format",
        "json",
        "runs",
    )
    rows = json.loads(listed.stdout)
    rows = rows if isinstance(rows, list) else rows.get("runs", rows)
    tags = {row["run_id"]: row["tags"] for row in rows}
    assert tags[a] == {"dataset": "v2", "team": "growth"} and tags[b]["team"] == "core"


def test_set_tags_after_the_fact_keeps_history(ctx: Contexta) -> None:
    a = _labelled(ctx, "a", 0.1, "growth")
    before = ctx.history(a)
    moment = [e for e in before if e.kind == "run.put"][-1].tx_time
    assert ctx.set_tags("a", {"team": "platform", "reviewed": True}) == a
    assert dict(ctx.get_run_snapshot(a).tags) == {
        "dataset": "v2",
        "reviewed": "True",
        "team": "platform",
    }
    assert ctx.list_runs(tags={"team": "growth"}) == ()
    assert ctx.as_of(moment).get_run_snapshot(a).tags["team"] == "growth"  # history kept
    puts = [e for e in ctx.history(a) if e.kind == "run.put"]
    assert len(puts) >= 4 and puts[-1].model.status == "completed"
    with pytest.raises(ValidationError):
        ctx.set_tags(a, ["team"])  # type: ignore[arg-type]


def test_tags_set_from_outside_survive_the_run_closing(ctx: Contexta) -> None:
    with ctx.run("open-run") as run:
        ctx.set_tags(run.ref, {"owner": "ana"})
        run.set_tags({"phase": "1"})
    assert dict(ctx.get_run_snapshot(run.ref).tags) == {"owner": "ana", "phase": "1"}


# ---------------------------------------------------------------------- artifacts


def test_log_artifact_stores_the_file_and_artifact_get_fetches_it(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    ctx = open_ctx(tmp_path)
    model = tmp_path / "model.npz"
    model.write_bytes(b"weights-1")
    with ctx.run("train") as run, run.stage("fit") as stage:
        first = run.log_artifact(model)
        model.write_bytes(b"weights-2")  # a checkpoint overwritten: a second version
        second = stage.log_artifact(model)
        other = run.log_artifact(model, name="model-npz")  # a name that slugs the same
    refs = [str(r.payload["manifest"].artifact_ref) for r in (first, second, other)]
    assert refs[0].startswith("artifact:demo.train.model-npz-") and refs[1] == refs[0] + "-2"
    assert refs[2] == "artifact:demo.train.model-npz" and len(set(refs)) == 3
    assert ctx.artifact_store.read_artifact_bytes(refs[0]) == b"weights-1"
    listed = ctx.get_run_snapshot(run.ref).artifacts
    assert sorted(a.artifact_ref for a in listed) == sorted(refs)
    assert {a.artifact_ref: a.stage_id for a in listed}[refs[1]] == "stage:demo.train.fit"
    model.unlink()  # the store holds its own copy
    ctx.close()
    out = tmp_path / "fetched.npz"
    ws = str(tmp_path / ".contexta")
    done = run_cli(tmp_path, "--workspace", ws, "artifact", "get", refs[0], "-o", str(out))
    assert out.read_bytes() == b"weights-1" and refs[0] in done.stdout
    again = run_cli(
        tmp_path, "--workspace", ws, "artifact", "get", refs[1], "-o", str(out), check=False
    )
    assert again.returncode != 0 and "--force" in again.stderr + again.stdout
    assert out.read_bytes() == b"weights-1"  # untouched
    run_cli(
        tmp_path,
        "--workspace",
        ws,
        "artifact",
        "get",
        refs[1].removeprefix("artifact:"),
        "-o",
        str(out),
        "--force",
    )
    assert out.read_bytes() == b"weights-2"
    missing = run_cli(
        tmp_path,
        "--workspace",
        ws,
        "artifact",
        "get",
        "artifact:demo.train.nope",
        "-o",
        str(tmp_path / "x"),
        check=False,
    )
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert not (tmp_path / "x").exists()


def test_log_artifact_of_a_missing_file_is_a_typed_error(ctx: Contexta, tmp_path: Path) -> None:
    with ctx.run("train") as run:
        with pytest.raises(ValidationError) as err:
            run.log_artifact(tmp_path / "nope.bin")
        assert err.value.code == "artifact_source_missing"


def test_a_bad_value_in_a_batch_of_emissions_is_degraded_too(ctx: Contexta) -> None:
    with ctx.run("batch") as run:
        result = run.emit_metrics(
            [
                {"key": "loss", "value": 0.5},
                {"key": "loss", "value": "oops", "step": 1},
                {"key": "valAcc", "value": np.float32(0.75)},
            ]
        )
        with pytest.raises(ValidationError):
            run.emit_metrics([{"key": "bad key!", "value": 1.0}])  # keys still raise (strict)
    assert run.status == "completed" and result.total_count == 3
    kinds = [(r.record_type, r.key) for r in ctx.get_run_snapshot(run.ref).records]
    assert kinds == [
        ("metric", "loss"),
        ("degraded", "capture.metric_refused"),
        ("metric", "valAcc"),
    ]
