"""examples/train_numpy.py run twice (and a third, diverging run): the command line gives the
answers a person expects about runs, params, tags, metrics, NaN, best run and the model file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli, run_script

EXAMPLE = REPO / "examples" / "train_numpy.py"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("train")
    for args in (
        ("--lr", "0.5"),
        ("--lr", "0.05"),
        ("--name", "diverged", "--lr", "2.0", "--nan-epoch", "7"),
    ):
        run_script(EXAMPLE, root, "--workspace", "ws", *args)
    return root


def cli_json(root: Path, *args: str) -> object:
    return json.loads(run_cli(root, "--workspace", "ws", "--format", "json", *args).stdout)


def last_values(snapshot: dict, key: str) -> float:
    stages = {s["stage_id"]: s["name"] for s in snapshot["stages"]}
    points = [
        r
        for r in snapshot["records"]
        if r["key"] == key and stages.get(r["stage_id"]) == "evaluate"
    ]
    return points[-1]["value"]


def test_two_runs_of_the_same_script_are_two_runs_with_params_and_tags(trained: Path) -> None:
    runs = cli_json(trained, "runs")["runs"]
    assert [(r["name"], r["status"]) for r in runs] == [
        ("logreg", "completed"),
        ("logreg", "completed"),
        ("diverged", "completed"),
    ]
    first, second = runs[0]["run_id"], runs[1]["run_id"]
    assert first == "run:default.logreg" and second.startswith("run:default.logreg-")
    assert runs[0]["tags"] == {"model": "logreg", "team": "growth"}
    text = run_cli(trained, "--workspace", "ws", "runs").stdout
    assert first in text and second in text
    shown = cli_json(trained, "run", "show", second)
    assert shown["params"] == {"epochs": 8, "features": 4, "lr": 0.05, "optimizer": "gd"}
    steps = [
        r["tags"].get("step") or r["payload"]["tags"]["step"]
        for r in shown["records"]
        if r["key"] == "train_loss"
    ]
    assert steps == [str(i) for i in range(8)]  # one curve, not two merged into a sawtooth
    keys = {r["key"] for r in shown["records"] if r["record_type"] == "metric"}
    assert keys == {"train_loss", "loss/val", "valAcc"}
    nan_points = [
        r
        for r in shown["records"]
        if r["key"] == "loss/val" and isinstance(r["value"], float) and math.isnan(r["value"])
    ]
    assert len(nan_points) == 1
    ambiguous = run_cli(trained, "--workspace", "ws", "run", "show", "logreg", check=False)
    assert ambiguous.returncode != 0 and first in ambiguous.stderr + ambiguous.stdout


def test_compare_shows_the_param_that_changed_and_the_metric_deltas(trained: Path) -> None:
    runs = cli_json(trained, "runs")["runs"]
    comparison = cli_json(trained, "compare", runs[0]["run_id"], runs[1]["run_id"])
    assert comparison["param_changes"] == [{"name": "lr", "left_value": 0.5, "right_value": 0.05}]
    deltas = {
        (s["stage_name"], d["metric_key"])
        for s in comparison["stage_comparisons"]
        for d in s["metric_deltas"]
    }
    assert ("train", "train_loss") in deltas


def test_best_picks_the_better_run_and_skips_a_nan(trained: Path) -> None:
    runs = cli_json(trained, "runs")["runs"]
    ids = [r["run_id"] for r in runs]
    snapshots = {i: cli_json(trained, "run", "show", i) for i in ids}
    accuracy = {i: last_values(s, "valAcc") for i, s in snapshots.items()}
    assert all(0.5 < a <= 1.0 for a in accuracy.values())
    top = max(ids, key=lambda i: (accuracy[i], -ids.index(i)))
    best = run_cli(trained, "--workspace", "ws", "best", "valAcc", "--stage", "evaluate").stdout
    assert best.strip() == f"Best by evaluate/valAcc: {top}"
    losses = {i: last_values(s, "loss/val") for i, s in snapshots.items()}
    assert math.isnan(losses[ids[2]])  # the diverged run's last loss/val
    lowest = min(ids[:2], key=lambda i: losses[i])
    best_loss = run_cli(
        trained, "--workspace", "ws", "best", "loss/val", "--stage", "evaluate", "--lower-is-better"
    ).stdout
    assert best_loss.strip() == f"Best by evaluate/loss/val: {lowest}"
    issues = cli_json(trained, "diagnostics", ids[2])["issues"]
    assert "non_finite_metric" in [i["code"] for i in issues]


def test_the_model_file_comes_back(trained: Path) -> None:
    second = cli_json(trained, "runs")["runs"][1]["run_id"]
    (artifact,) = cli_json(trained, "run", "show", second)["artifacts"]
    out = trained / "model-copy.npy"
    run_cli(
        trained, "--workspace", "ws", "artifact", "get", artifact["artifact_ref"], "-o", str(out)
    )
    weights = np.load(out)
    assert weights.shape == (4,) and np.all(np.isfinite(weights)) and np.all(weights > 0)


def text(root: Path, *args: str) -> str:
    return run_cli(root, "--workspace", "ws", *args).stdout


def test_run_show_and_compare_in_text_list_the_params(trained: Path) -> None:
    first, second = (r["run_id"] for r in cli_json(trained, "runs")["runs"][:2])
    shown = text(trained, "run", "show", second).splitlines()
    at = shown.index("Params (4)")
    assert [line.split() for line in shown[at + 1 : at + 6]] == [
        ["param", "value"],
        ["epochs", "8"],
        ["features", "4"],
        ["lr", "0.05"],
        ["optimizer", "gd"],
    ]
    compared = text(trained, "compare", first, second).splitlines()
    at = compared.index("Params that differ (1; 3 equal)")
    assert compared[at + 2].split() == ["lr", "0.5", "0.05"]


def test_the_series_command_prints_each_step_of_a_curve_nan_included(trained: Path) -> None:
    diverged = cli_json(trained, "runs")["runs"][2]["run_id"]
    lines = text(trained, "series", diverged, "loss/val").splitlines()
    assert lines[0] == f"Series: loss/val of {diverged} (8 points)"
    rows = [line.split() for line in lines[2:]]
    assert [int(r[0]) for r in rows] == list(range(8))
    assert [r[1] for r in rows].count("nan") == 1 and rows[7][1] == "nan"
    points = cli_json(trained, "series", diverged, "loss/val")["points"]
    assert [p["step"] for p in points] == list(range(8))
    assert all(p["stage"] == "evaluate" for p in points)
    values = [p["value"] for p in points]
    assert math.isnan(values[7]) and all(math.isfinite(v) for v in values[:7])
