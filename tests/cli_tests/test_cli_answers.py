"""The command line answers a person's questions in text: what a run holds (``run show``), how
two or more runs differ (``compare``, ``compare-multi``: values side by side with the change),
a metric's curve (``series``), which run is best (``best``, a single candidate checked like any
other), and errors that name what was typed and what is known.

Commands run in-process through ``contexta.cli.main.main``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.cli.main import main
from contexta.common.errors import ContextaError


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Project ``shop``: ``baseline`` (lr 0.1) and ``tuned`` (lr 0.05), each with a 3-step
    ``train.loss`` in ``train``, an ``epoch-end`` event and ``eval.acc`` in ``evaluate``."""
    root = tmp_path_factory.mktemp("answers") / "ws"
    ctx = Contexta(workspace=str(root), config={"project_name": "shop"})
    for name, lr in (("baseline", 0.1), ("tuned", 0.05)):
        run = ctx.run(
            name, tags={"team": "growth"}, config_snapshot={"lr": lr, "optimizer": {"name": "sgd"}}
        )
        with run.stage("train") as stage:
            for step in range(3):
                stage.metric("train.loss", round(1.0 / (step + 1) + lr, 4), step=step)
            stage.event("epoch-end", message=f"epoch done at lr {lr}")
        with run.stage("evaluate") as stage:
            stage.metric("eval.acc", round(0.9 - lr, 4))
        run.close(status="completed")
    ctx.close()
    yield root


@pytest.fixture()
def one_run(tmp_path: Path) -> Path:
    """Project ``churn`` with a single run ``only`` (``val.acc`` 0.7 in ``evaluate``)."""
    root = tmp_path / "one"
    ctx = Contexta(workspace=str(root), config={"project_name": "churn"})
    run = ctx.run("only")
    with run.stage("evaluate") as stage:
        stage.metric("val.acc", 0.7)
    run.close(status="completed")
    ctx.close()
    return root


def cli(ws: Path, capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> tuple[str, str]:
    capsys.readouterr()
    assert main(["--workspace", str(ws), *args]) == code
    return capsys.readouterr()


def error_of(ws: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    """The JSON error of a failing command (exit 2)."""
    out, _ = cli(ws, capsys, "--format", "json", *args, code=2)
    return json.loads(out)["error"]  # type: ignore[no-any-return]


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


# ---------------------------------------------------------------------- run show


def test_run_show_prints_params_tags_final_metrics_and_events(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = cli(ws, capsys, "run", "show", "baseline")
    lines = rows(out)
    assert ["lr", "0.1"] in lines and ["optimizer.name", "sgd"] in lines  # params
    assert ["team", "growth"] in lines  # tags
    final = [
        line for line in lines if line[:2] in (["train", "train.loss"], ["evaluate", "eval.acc"])
    ]
    assert [line[:4] for line in final] == [
        ["train", "train.loss", "0.4333", "2"],
        ["evaluate", "eval.acc", "0.8", "-"],
    ]
    assert any(
        line[1:4] == ["train", "epoch-end", "info"] and " ".join(line[4:]) == "epoch done at lr 0.1"
        for line in lines
    )
    assert "Artifacts (0)" in out
    assert "run.context" not in out  # the capture's own bookkeeping event is not an event
    # 1.0's summary lines stay first
    assert out.splitlines()[:4] == [
        "Run: run:shop.baseline",
        "Project: shop",
        "Status: completed",
        "Stages: 2",
    ]


# ---------------------------------------------------------------------- compare


def test_compare_prints_values_side_by_side_with_the_change(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = cli(ws, capsys, "compare", "baseline", "tuned")
    lines = rows(out)
    assert ["stage", "metric", "baseline", "tuned", "change"] in lines
    assert ["evaluate", "eval.acc", "0.8", "0.85", "+0.05", "(+6.25%)"] in lines
    assert ["train", "train.loss", "0.4333", "0.3833", "-0.05", "(-11.5%)"] in lines
    assert ["lr", "0.1", "0.05"] in lines  # the params that differ
    assert not any(line and line[0] == "optimizer.name" for line in lines)  # equal: not listed


def test_compare_keeps_only_the_metrics_asked_for(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = cli(ws, capsys, "compare", "baseline", "tuned", "--metric", "eval.acc")
    assert "eval.acc" in out and "train.loss" not in out
    data = json.loads(
        cli(
            ws,
            capsys,
            "--format",
            "json",
            "compare-multi",
            "baseline",
            "tuned",
            "--metric",
            "train.loss",
        )[0]
    )
    assert [r["metric_key"] for r in data["metric_table"]] == ["train.loss"]


def test_compare_multi_prints_a_table_of_values(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = cli(ws, capsys, "compare-multi", "tuned", "baseline")
    lines = rows(out)
    assert ["stage", "metric", "tuned", "baseline", "best"] in lines
    assert ["evaluate", "eval.acc", "0.85", "0.8", "tuned"] in lines
    assert ["train", "train.loss", "0.3833", "0.4333", "baseline"] in lines


# ---------------------------------------------------------------------- series, version


def test_series_prints_a_metrics_steps(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = cli(ws, capsys, "series", "baseline", "train.loss", "--stage", "train")
    lines = rows(out)
    assert lines[1] == ["step", "value", "observed_at"]
    assert [line[:2] for line in lines[2:]] == [["0", "1.1"], ["1", "0.6"], ["2", "0.4333"]]
    data = json.loads(cli(ws, capsys, "--format", "json", "series", "shop.tuned", "train.loss")[0])
    assert data["run_id"] == "run:shop.tuned" and data["metric_key"] == "train.loss"
    assert [(p["stage"], p["step"], p["value"]) for p in data["points"]] == [
        ("train", 0, 1.05),
        ("train", 1, 0.55),
        ("train", 2, 0.3833),
    ]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from contexta import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"contexta {__version__}"


# ---------------------------------------------------------------------- errors that help


@pytest.mark.parametrize(
    "args",
    [
        ("run", "show", "basline"),
        ("compare", "basline", "tuned"),
        ("compare-multi", "tuned", "basline"),
        ("series", "basline", "train.loss"),
        ("diagnostics", "basline"),
        ("best", "eval.acc", "--stage", "evaluate", "--run", "basline"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_run_not_found_names_the_id_and_suggests(
    ws: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    _, err = cli(ws, capsys, *args, code=2)
    assert err.startswith("error [query_run_not_found]: Unknown run 'basline'.")
    assert "Did you mean 'shop.baseline'?" in err
    assert "anchor" not in err
    error = error_of(ws, capsys, *args)
    assert error["code"] == "query_run_not_found"
    assert "anchor" not in json.dumps(error)
    assert error["details"]["run_id"] == "basline"  # type: ignore[index]
    assert error["details"]["close_matches"] == ["shop.baseline"]  # type: ignore[index]


def test_a_dotted_name_that_is_not_an_id_names_the_stored_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "dots"
    ctx = Contexta(workspace=str(root), config={"project_name": "mnist"})
    ctx.run("sgd-lr0.1").close(status="completed")  # its id may be run:mnist.sgd-lr0-1
    ctx.close()
    stored = next(r.run_id for r in Contexta(workspace=str(root)).list_runs())
    _, err = cli(root, capsys, "run", "show", "sgd-lr0.2", code=2)
    assert "Unknown run 'sgd-lr0.2'." in err and stored.split(":", 1)[1] in err


def test_an_ambiguous_bare_name_lists_the_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "two"
    for project in ("a", "b"):
        ctx = Contexta(workspace=str(root), config={"project_name": project})
        ctx.run("same").close(status="completed")
        ctx.close()
    _, err = cli(root, capsys, "run", "show", "same", code=2)
    assert "error [query_run_ambiguous]" in err and "'same' is shared by 2 runs" in err
    assert "run:a.same" in err and "run:b.same" in err


@pytest.mark.parametrize(
    "args",
    [
        ("best", "eval.ac", "--stage", "evaluate"),
        ("best", "eval.ac", "--stage", "evaluate", "--project", "shop"),
        ("trend", "eval.ac", "--stage", "evaluate"),
        ("trend", "eval.ac"),
        ("aggregate", "eval.ac", "--stage", "evaluate"),
        ("aggregate", "eval.ac", "--project", "shop"),
        ("series", "baseline", "eval.ac"),
        ("series", "baseline", "eval.ac", "--stage", "evaluate"),
        ("compare", "baseline", "tuned", "--metric", "eval.ac"),
        ("compare-multi", "baseline", "tuned", "--metric", "eval.ac"),
        ("anomaly", "baseline", "--metric", "eval.ac"),
        ("alert", "baseline", "--metric", "eval.ac", "--operator", "lt", "--threshold", "0.5"),
        (
            "alert",
            "baseline",
            "--metric",
            "eval.ac",
            "--operator",
            "lt",
            "--threshold",
            "0.5",
            "--stage",
            "evaluate",
        ),
    ],
    ids=lambda a: " ".join(a),
)
def test_unknown_metric_key_is_an_error_listing_the_known_keys(
    ws: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    _, err = cli(ws, capsys, *args, code=2)
    assert err.startswith("error [metric_not_found]: Unknown metric key 'eval.ac'")
    assert "Did you mean 'eval.acc'?" in err
    assert "Known metric keys" in err and "eval.acc" in err
    error = error_of(ws, capsys, *args)
    assert error["code"] == "metric_not_found"
    assert "eval.acc" in error["details"]["known"]  # type: ignore[index]


def test_a_key_of_another_stage_says_where_it_is(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = cli(ws, capsys, "best", "eval.acc", "--stage", "train", code=2)
    assert "It is recorded in stage 'evaluate' (--stage evaluate)." in err
    assert "Known metric keys in stage 'train': train.loss." in err
    _, err = cli(ws, capsys, "best", "eval.acc", code=2)  # run level: none there
    assert "at run level" in err and "--stage evaluate" in err


def test_aggregate_of_nothing_prints_n_a(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = cli(ws, capsys, "aggregate", "eval.acc", "--status", "failed")
    assert out.splitlines()[1:] == ["Count: 0", "Mean: n/a", "Std: n/a", "Min: n/a", "Max: n/a"]
    out, _ = cli(ws, capsys, "aggregate", "eval.acc")
    assert "Count: 2" in out and "Max: 0.85" in out


@pytest.mark.parametrize(
    "args",
    [("audit", "replay", "--kind", "metrics"), ("watch", "--kind", "metrics", "--timeout", "0")],
)
def test_an_unknown_event_kind_is_an_error(
    ws: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    _, err = cli(ws, capsys, *args, code=2)
    assert "Unknown event kind 'metrics'" in err and "'metric'" in err


# ---------------------------------------------------------------------- best: one candidate


def test_best_of_a_single_run_that_does_not_exist_is_an_error(
    one_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = cli(
        one_run, capsys, "best", "val.acc", "--stage", "evaluate", "--run", "churn.nope", code=2
    )
    assert err.startswith("error [query_run_not_found]: Unknown run 'churn.nope'.")
    assert "Best by" not in capsys.readouterr().out


def test_best_on_a_one_run_workspace_checks_the_metric(
    one_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = cli(one_run, capsys, "best", "no.such.metric", "--stage", "nostage", code=2)
    assert err.startswith("error [metric_not_found]:") and "nostage" in err
    out, _ = cli(one_run, capsys, "best", "val.acc", "--stage", "evaluate")
    assert out == "Best by evaluate/val.acc: run:churn.only\n"
    out, _ = cli(one_run, capsys, "best", "val.acc", "--stage", "evaluate", "--run", "only")
    assert out == "Best by evaluate/val.acc: only\n"


def test_best_of_a_single_quarantined_run_is_none(
    one_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(one_run, capsys, "quarantine", "only", "--reason", "bad data")
    out, _ = cli(one_run, capsys, "run", "show", "only")
    assert "Quarantined: yes (bad data)" in out.splitlines()
    out, _ = cli(one_run, capsys, "best", "val.acc", "--stage", "evaluate", "--run", "only")
    assert out == "Best by evaluate/val.acc: none\n"
    out, _ = cli(
        one_run,
        capsys,
        "best",
        "val.acc",
        "--stage",
        "evaluate",
        "--run",
        "only",
        "--include-quarantined",
    )
    assert out == "Best by evaluate/val.acc: only\n"


def test_query_best_of_checks_a_single_candidate(one_run: Path, ws: Path) -> None:
    """The check is in the query, so every caller of it gets it (not only the command)."""
    service = Contexta(workspace=str(one_run)).query_service
    assert service.best_of(["only"], "val.acc", stage_name="evaluate") == "only"
    assert service.best_of(["only"], "val.acc", stage_name="train") is None
    assert service.best_of(["only"], "no.such.metric", stage_name="evaluate") is None
    with pytest.raises(ContextaError) as info:
        service.best_of(["churn.nope"], "val.acc", stage_name="evaluate")
    assert info.value.code == "query_run_not_found"
    many = Contexta(workspace=str(ws)).query_service  # two or more: select_best_run itself
    assert many.best_of(["baseline", "tuned"], "eval.acc", stage_name="evaluate") == "tuned"
    assert (
        many.best_of(
            ["baseline", "tuned"], "train.loss", stage_name="train", higher_is_better=False
        )
        == "tuned"
    )
