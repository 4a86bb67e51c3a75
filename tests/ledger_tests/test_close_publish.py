"""After ``Ledger.close`` (and ``Contexta.close``) nothing of the writer still writes under the
workspace: the background Parquet publish of the segments it sealed has finished, so the
folder can be copied or archived at once (a copy taken right after close used to race the
publish thread's ``.partial`` files)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.contract import Project
from ledger import Ledger, PendingEvent
from ledger import publish as publish_module
from ledger.publish import _PENDING, _PENDING_LOCK, PUBLISHED_DIR


def _publishing(root: Path) -> bool:
    with _PENDING_LOCK:
        return str(root) in _PENDING


def _event(i: int) -> PendingEvent:
    return PendingEvent(kind="note", ref=f"n{i}", body=b"x" * 512)


@pytest.mark.parametrize("segments", [1, 5])
def test_ledger_close_returns_after_the_publish_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, segments: int
) -> None:
    real = publish_module.publish

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.2)  # a large segment's copy takes a while
        return real(*args, **kwargs)

    monkeypatch.setattr(publish_module, "publish", slow)
    root = tmp_path / "ledger"
    ledger = Ledger(root, roll_bytes=1)  # every commit seals its segment
    for i in range(segments + 1):
        ledger.append(_event(i))
        ledger.commit()
    ledger.close()
    assert not _publishing(root)
    assert not list(root.rglob(".*.partial"))
    assert len(list((root / PUBLISHED_DIR).glob("*.parquet"))) >= segments
    shutil.copytree(root, tmp_path / "copy")  # nothing moves under the copy


def test_contexta_close_leaves_nothing_writing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ctx = Contexta(workspace=str(ws))
    ctx.maintenance.workspace.ledger.roll_bytes = 1
    for i in range(4):
        ctx.metadata_store.projects.put_project(
            Project(project_ref=f"project:p{i}", name=f"p{i}", created_at="2025-04-01T00:00:00Z")
        )
        ctx.flush()
    ctx.close()
    assert not _publishing(ws / "ledger")
    assert not list(ws.rglob(".*.partial"))
    shutil.copytree(ws, tmp_path / "copy")
