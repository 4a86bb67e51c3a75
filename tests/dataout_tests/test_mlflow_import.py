"""``contexta import mlflow``: a tracking store made by real MLflow (SQLite and file stores)
imports with every value equal (experiments, runs, params, tags, every metric point with its
step and timestamp, artifacts copied), and importing again adds nothing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from contexta.cli.main import main
from contexta.contract.timestamps import timestamp_micros
from contexta.importers.mlflow import kebab_key, metric_key, slug

from .conftest import open_ctx

mlflow = pytest.importorskip("mlflow")

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore::ResourceWarning",
    "ignore::PendingDeprecationWarning",
)

STEPS = 1000


def make_store(tmp: Path, uri: str) -> Any:
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    body = tmp / "weights.bin"
    for e, name in enumerate(("Image Classifier", "tabular_v2")):
        eid = client.create_experiment(name, artifact_location=(tmp / f"artifacts-{e}").as_uri())
        for r in range(2):
            run = client.create_run(
                eid, run_name=f"trial {r}", tags={"team": f"t{e}", "mlflow.user": "ana"}
            )
            rid = run.info.run_id
            ts = 1_700_000_000_000 + 10_000 * r
            points = [Metric("train/loss", 1.0 / (s + 1) + r, ts + 7 * s, s) for s in range(STEPS)]
            points += [Metric("val_acc", 0.5 + s / 100, ts + s, s * 100) for s in range(10)]
            if (e, r) == (0, 1):  # NaN is stored as it is (counted as non-finite)
                points += [Metric("diverged", float("nan"), ts, 0), Metric("diverged", 2.0, ts, 1)]
            params = [
                Param("lr", str(0.01 * (r + 1))),
                Param("Batch Size", "32"),
                Param("optimizer.name", "adam"),
            ]
            for start in range(0, len(points), 1000):
                client.log_batch(
                    rid, metrics=points[start : start + 1000], params=params if start == 0 else []
                )
            body.write_bytes(bytes(range(256)) * (e + r + 1))
            client.log_artifact(rid, str(body), "model")
            client.set_terminated(rid, "FINISHED" if r == 0 else "FAILED")
    return client


def shown(value: float) -> float | str:
    """NaN as text, so that points compare equal."""
    return "nan" if math.isnan(value) else value


def ms(value: Any) -> int:
    return (
        timestamp_micros(value) // 1000 if isinstance(value, str) else int(value.timestamp() * 1000)
    )


def check_equal(client: Any, ctx: Any) -> int:
    from mlflow.entities import ViewType

    runs_table = {r["run_id"]: r for r in ctx.runs_table().to_pylist()}
    metrics = ctx.metrics_table().to_pylist()
    checked = 0
    for experiment in client.search_experiments(view_type=ViewType.ALL):
        runs = client.search_runs([experiment.experiment_id])
        project = slug(experiment.name, "x")
        assert any(p == experiment.name for p in ctx.list_projects())
        for run in runs:
            ref = f"run:{project}.{run.info.run_id}"
            row = runs_table[ref]
            assert row["project"] == experiment.name and row["name"] == run.info.run_name
            assert row["status"] == {"FINISHED": "completed", "FAILED": "failed"}[run.info.status]
            assert ms(row["started_at"]) == run.info.start_time
            assert ms(row["ended_at"]) == run.info.end_time
            assert {
                k[7:]: v for k, v in row.items() if k.startswith("params.") and v
            } == run.data.params
            assert {
                k[5:]: v for k, v in row.items() if k.startswith("tags.") and v
            } == run.data.tags
            mine = [m for m in metrics if m["run_id"] == ref]
            for key in run.data.metrics:
                history = sorted(
                    client.get_metric_history(run.info.run_id, key),
                    key=lambda m: (m.step, m.timestamp, m.value),
                )
                got = [
                    (m["step"], shown(m["value"]), ms(m["observed_at"]))
                    for m in mine
                    if m["key"] == metric_key(key)
                ]
                assert metric_key(key) == key  # MLflow's keys are stored as given
                assert sorted(got) == [(m.step, shown(m.value), m.timestamp) for m in history]
                checked += len(history)
                assert row[f"metrics.{key}"] == history[-1].value
            snapshot = ctx.get_run_snapshot(ref)
            assert len(snapshot.artifacts) == 1
            local = Path(run.info.artifact_uri.removeprefix("file://")) / "model" / "weights.bin"
            bodies = [
                ctx.artifact_store.object_path(b.hash_value)
                for b in ctx.artifact_store.bindings()
                if b.artifact_ref.startswith(f"artifact:{ref[4:]}.")
            ]
            assert len(bodies) == 1 and bodies[0].read_bytes() == local.read_bytes()
    return checked


def imported(root: Path, uri: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    code = main(
        [
            "--workspace",
            str(root),
            "--format",
            "json",
            "import",
            "mlflow",
            "--tracking-uri",
            uri,
            *extra,
        ]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def file_stores_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")


# a new SQLite store runs MLflow's schema migrations (~20 s here): that variant is slow
@pytest.mark.parametrize("store", [pytest.param("sqlite", marks=pytest.mark.slow), "file"])
def test_mlflow_store_imports_with_every_value_equal_and_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store: str
) -> None:
    uri = (
        f"sqlite:///{tmp_path / 'mlflow.db'}"
        if store == "sqlite"
        else (tmp_path / "mlruns").as_uri()
    )
    client = make_store(tmp_path, uri)
    root = tmp_path / "ws"
    first = imported(root, uri, capsys)
    assert first["runs_added"] == 4 and first["artifacts_copied"] == 4
    assert first["metric_points_added"] == 4 * (STEPS + 10) + 2
    assert first["metric_points_nonfinite"] == 1
    ctx = open_ctx(root)
    assert check_equal(client, ctx) == 4 * (STEPS + 10) + 2
    head = ctx._workspace.head().seq
    ctx.close()
    again = imported(root, uri, capsys)
    assert again["added"] == 0 and again["runs"] == 4
    ctx = open_ctx(root)
    assert ctx._workspace.head().seq == head  # nothing at all was written
    ctx.close()
    # a run that changed in MLflow since (a new tag) is written again, and only it
    run = client.search_runs([client.get_experiment_by_name("tabular_v2").experiment_id])[0]
    client.set_tag(run.info.run_id, "reviewed", "yes")
    third = imported(root, uri, capsys, "--experiment", "tabular_v2")
    assert (third["runs_updated"], third["added"]) == (1, 1)
    ctx = open_ctx(root)
    row = next(r for r in ctx.runs_table().to_pylist() if r["run_id"].endswith(run.info.run_id))
    assert row["tags.reviewed"] == "yes"
    ctx.close()


def test_unknown_experiment_is_a_typed_error(tmp_path: Path, capsys) -> None:
    uri = (tmp_path / "mlruns").as_uri()
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=uri).create_experiment("known")
    code = main(
        [
            "--workspace",
            str(tmp_path / "ws"),
            "import",
            "mlflow",
            "--tracking-uri",
            uri,
            "--experiment",
            "nope",
        ]
    )
    assert code == 2
    assert "error [import_unknown_experiment]" in capsys.readouterr().err


@pytest.mark.parametrize(
    "key, expected",
    [
        ("train/loss", "train.loss"),
        ("val_acc", "val-acc"),
        ("Accuracy", "accuracy"),
        ("1st/loss", "m1st.loss"),
        ("a..b//c", "a.b.c"),
        ("___", "metric"),
    ],
)
def test_kebab_keys_are_dotted_kebab(key: str, expected: str) -> None:
    from contexta.contract.validation import DOTTED_KEBAB

    assert kebab_key(key) == expected and DOTTED_KEBAB.fullmatch(expected)


@pytest.mark.parametrize(
    "key, expected",
    [
        ("train/loss", "train/loss"),
        ("val_acc", "val_acc"),
        ("Accuracy", "Accuracy"),
        ("1st/loss", "1st/loss"),
        ("epoch time s", "epoch time s"),
        ("a:b/Loss_1", "a-b.loss-1"),  # MLflow allows ':', the logged grammar does not
    ],
)
def test_metric_keys_are_kept_as_given_when_the_grammar_allows(key: str, expected: str) -> None:
    assert metric_key(key) == expected


def test_keys_longer_than_the_grammar_stay_apart() -> None:
    from contexta.contract.validation import DOTTED_KEBAB

    one, two = metric_key("k" * 300 + "a"), metric_key("k" * 300 + "b")
    assert one != two and len(one) <= 250 and len(two) <= 250
    assert one.startswith("k" * 239) and DOTTED_KEBAB.fullmatch(one)
