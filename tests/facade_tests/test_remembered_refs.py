"""A workspace remembers the refs it put, up to a bound per kind: a long ingest does not keep
every ref, and a ref it no longer remembers is still found (by a read), so referential checks
answer the same."""

from __future__ import annotations

from pathlib import Path

import pytest

import contexta.workspace as workspace_module
from contexta import Contexta
from contexta.common.errors import ContextaError
from contexta.contract import Project, Run, StageExecution
from contexta.events import RUN_PUT


def test_the_oldest_refs_are_forgotten_and_still_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace_module, "REMEMBERED", 4)
    ctx = Contexta(workspace=tmp_path / "ws")
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    refs = [f"run:p.r{i}" for i in range(10)]
    for ref in refs:
        store.runs.put_run(
            Run(
                run_ref=ref,
                project_ref="project:p",
                name=ref.rsplit(".", 1)[1],
                status="open",
                started_at="2025-01-01T00:00:00Z",
            )
        )
    ws = ctx._workspace
    assert [ws.remembered(RUN_PUT, ref) for ref in refs] == [False] * 6 + [True] * 4
    assert len(ws._known[RUN_PUT]) == 4
    # a stage of the first run (forgotten) is accepted: its run is found by a read
    store.stages.put_stage_execution(
        StageExecution(
            stage_execution_ref="stage:p.r0.train",
            run_ref="run:p.r0",
            stage_name="train",
            status="open",
            started_at="2025-01-01T00:00:00Z",
        )
    )
    assert ws.remembered(RUN_PUT, "run:p.r0")  # found, so remembered again
    with pytest.raises(ContextaError):  # an unknown run is still refused
        store.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref="stage:p.zz.train",
                run_ref="run:p.zz",
                stage_name="train",
                status="open",
                started_at="2025-01-01T00:00:00Z",
            )
        )
    ctx.close()
