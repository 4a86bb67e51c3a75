"""``Contexta(workspace="s3://bucket/prefix")`` and ``--workspace s3://...`` on the loopback S3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.common.errors import ValidationError

from .conftest import child_env


def _runs(ctx: Contexta, project: str, names: list[tuple[str, float]]) -> None:
    for name, auc in names:
        with ctx.run(name) as run, run.stage("evaluate") as stage:
            stage.metric("auc", auc)


def _answers(ctx: Contexta, project: str) -> dict[str, object]:
    runs = [r.run_id for r in ctx.list_runs(project)]
    snapshots = [ctx.get_run_snapshot(r) for r in runs]
    return {
        "runs": runs,
        "best": ctx.select_best_run(runs, "auc", stage_name="evaluate"),
        "metrics": [
            sorted((m.key, m.value) for m in snap.metrics) if hasattr(snap, "metrics") else None
            for snap in snapshots
        ],
        "status": [getattr(snap.run, "status", None) for snap in snapshots],
    }


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "caches"))
    return tmp_path / "caches"


def test_two_hosts_on_one_s3_workspace_answer_like_one_machine(
    bucket: str, tmp_path: Path, caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/team/ws"
    config = {"project_name": "demo"}
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "host-a"))
    host_a = Contexta(workspace=url, config=config)
    _runs(host_a, "demo", [("run-a", 0.91), ("run-c", 0.89)])
    host_a.close()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "host-b"))
    host_b = Contexta(workspace=url, config=config)
    _runs(host_b, "demo", [("run-b", 0.94)])
    host_b.flush()
    remote = _answers(host_b, "demo")
    host_b.close()

    local = Contexta(workspace=str(tmp_path / "local"), config=config)
    _runs(local, "demo", [("run-a", 0.91), ("run-c", 0.89), ("run-b", 0.94)])
    expected = _answers(local, "demo")
    local.close()
    assert remote["best"] == expected["best"] == "run:demo.run-b"
    assert remote == expected
    # a third host that only reads sees the same answers
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "host-c"))
    reader = Contexta(workspace=url, config=config)
    assert _answers(reader, "demo") == remote
    reader.close()


def test_a_bad_s3_url_is_a_validation_error_naming_the_field(caches: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        Contexta(workspace="s3://Bad_Bucket/x")
    assert caught.value.code == "objectstore_bad_url"
    assert caught.value.details["field"] == "bucket"
    assert not caches.exists() or not any(caches.iterdir())


def test_cli_workspace_s3(bucket: str, caches: Path, s3_env: dict[str, str]) -> None:
    import subprocess
    import sys

    url = f"s3://{bucket}/cli"
    ctx = Contexta(workspace=url, config={"project_name": "demo"})
    _runs(ctx, "demo", [("run-a", 0.5)])
    ctx.close()
    env = {**child_env(s3_env), "XDG_CACHE_HOME": str(caches.parent / "cli-host")}
    done = subprocess.run(
        [sys.executable, "-m", "contexta.cli", "--workspace", url, "--format", "json", "runs"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "run:demo.run-a" in done.stdout
    assert json.loads(done.stdout)


def test_as_of_on_an_s3_workspace_is_final_across_hosts(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As of a time later than every commit a host has pulled, the answer is bounded by its
    mirror's last commit: another host's later commit can never change it."""
    from datetime import UTC, datetime

    url = f"s3://{bucket}/asof"
    config = {"project_name": "demo"}
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "host-a"))
    host_a = Contexta(workspace=url, config=config)
    _runs(host_a, "demo", [("run-a", 0.5)])
    host_a.flush()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "host-r"))
    reader = Contexta(workspace=url, config=config)  # pulls run-a
    reader._workspace.ledger.pull_interval_s = 3600.0  # no pull on its own before as_of
    _runs(host_a, "demo", [("run-b", 0.9)])  # committed on another host, not pulled yet
    host_a.flush()
    view = reader.as_of(datetime(2999, 1, 1, tzinfo=UTC))
    answer = [r.run_id for r in view.list_runs("demo")]
    host_a.close()
    reader.close()
    again = Contexta(workspace=url, config=config)  # pulls everything
    assert [r.run_id for r in again.as_of(view.when).list_runs("demo")] == answer
    assert len(again.list_runs("demo")) == 2
    again.close()
