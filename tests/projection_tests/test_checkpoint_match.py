"""Projections saved together share their checkpoint: a process reads that ledger batch once,
not once per projection, and still finds a checkpoint that does not match (another chain, or
a segment file replaced since the first check)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import projections.engine as engine
from contexta import Contexta
from contexta.contract import Project, Run, StageExecution


def _saved(root: Path) -> None:
    ctx = Contexta(workspace=root)
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    for i in range(3):
        store.runs.put_run(
            Run(
                run_ref=f"run:p.r{i}",
                project_ref="project:p",
                name=f"r{i}",
                status="open",
                started_at="2025-01-01T00:00:00Z",
            )
        )
        store.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref=f"stage:p.r{i}.train",
                run_ref=f"run:p.r{i}",
                stage_name="train",
                status="open",
                started_at="2025-01-01T00:00:00Z",
            )
        )
    ctx.list_runs()
    ctx._workspace.table("stages")
    ctx._workspace.table("projects")
    ctx.close()


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = engine.read_frame
    monkeypatch.setattr(
        engine,
        "read_frame",
        lambda buf, offset, *a, **k: calls.append(offset) or real(buf, offset, *a, **k),
    )
    return calls


def _notes(ctx: Contexta) -> dict[str, str]:
    return {name: slot.load_note for name, slot in ctx._workspace.projector._slots.items()}


def test_one_read_for_projections_saved_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    _saved(root)
    calls = _reads(monkeypatch)
    ctx = Contexta(workspace=root)
    ws = ctx._workspace
    for name in ("runs", "stages", "projects"):
        ws.table(name)
    notes = _notes(ctx)
    assert [notes[n] for n in ("runs", "stages", "projects")] == ["loaded"] * 3
    assert len(calls) == 1
    assert len(ctx.list_runs()) == 3
    ctx.close()


def test_a_checkpoint_of_another_chain_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    _saved(root)
    manifest = root / "projections" / "stages" / "MANIFEST.json"
    saved = json.loads(manifest.read_text())
    saved["checkpoint"]["chain"] = "0" * len(saved["checkpoint"]["chain"])
    manifest.write_text(json.dumps(saved))
    ctx = Contexta(workspace=root)
    ws = ctx._workspace
    ws.table("runs")  # its checkpoint matches, and is remembered
    ws.table("stages")
    notes = _notes(ctx)
    assert notes["runs"] == "loaded"
    assert notes["stages"].startswith("rebuilt") and "does not match" in notes["stages"]
    assert ws.table("stages").num_rows == 3  # folded from the ledger instead
    ctx.close()


def test_a_segment_replaced_since_the_check_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    _saved(root)
    calls = _reads(monkeypatch)
    ctx = Contexta(workspace=root)
    ws = ctx._workspace
    ws.table("runs")
    assert len(calls) == 1
    segment = next((root / "ledger").glob("segment-*.arrows"))
    copy = segment.with_name(segment.name + ".copy")
    shutil.copy2(segment, copy)
    copy.replace(segment)  # the same bytes under a new inode
    ws.table("stages")
    assert len(calls) == 2
    assert _notes(ctx)["stages"] == "loaded"
    ctx.close()
