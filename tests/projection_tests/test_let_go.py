"""Letting go of a saved projection's mapped pages: the process's resident pages of the chunk
files leave (read from ``/proc/self/smaps``, Linux only), the table answers the same after,
and no map is kept once the projection drops its table (a rebuild, a failed load).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import projections.store as store
from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import Project, Run

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _open(root: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=root))
    )


def _saved_runs(root: Path, count: int) -> Contexta:
    """A workspace of ``count`` runs whose runs projection is saved, reopened."""
    ctx = _open(root)
    store_ = ctx.metadata_store
    store_.projects.put_project(Project(project_ref="project:p", name="p", created_at=_iso(BASE)))
    for i in range(count):
        store_.runs.put_run(
            Run(
                run_ref=f"run:p.r{i:05d}",
                project_ref="project:p",
                name=f"r{i:05d} " + "x" * 200,  # bodies of a few hundred bytes
                status="open",
                started_at=_iso(BASE + timedelta(seconds=i)),
            )
        )
    ctx.list_runs()  # folded, so the close saves it
    ctx.close()
    return _open(root)


def _resident_kib(folder: Path) -> int:
    """This process's resident KiB of the maps of files in ``folder``."""
    total = 0
    current = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()
            if head and "-" in head[0] and not head[0].endswith(":"):
                current = len(head) >= 6 and head[-1].startswith(str(folder))
            elif current and head[0] == "Rss:":
                total += int(head[1])
    return total


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_the_pages_leave_and_the_table_answers_the_same(tmp_path: Path) -> None:
    ctx = _saved_runs(tmp_path / "ws", 3000)
    ws = ctx._workspace
    table = ws.table("runs")
    slot = ws.projector._slots["runs"]
    assert slot.maps and all(m.address % store.mmap.PAGESIZE == 0 for m in slot.maps)
    before = table.column("body").to_pylist()  # every body read: their pages mapped
    folder = tmp_path / "ws" / "projections" / "runs"
    assert _resident_kib(folder) > 0
    ws.let_go("runs")
    assert _resident_kib(folder) == 0
    assert ws.table("runs") is table  # the same table, the same values read again
    assert table.column("body").to_pylist() == before
    assert _resident_kib(folder) > 0  # mapped again by that read
    ctx.close()


def test_list_runs_lets_go_of_the_runs_it_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list that decodes a block of bodies or more lets go of the runs projection; a warm
    list (nothing decoded) does not, and the answers are equal."""
    from contexta.interpretation import workspace_queries

    monkeypatch.setattr(workspace_queries, "_DECODE_BLOCK", 16)
    ctx = _saved_runs(tmp_path / "ws", 40)
    calls: list[str] = []
    real = ctx._workspace.let_go
    monkeypatch.setattr(ctx._workspace, "let_go", lambda name: calls.append(name) or real(name))
    first = ctx.list_runs()
    assert calls == ["runs"] and len(first) == 40
    assert ctx.list_runs() == first and calls == ["runs"]
    ctx.close()


def test_no_map_is_kept_once_the_table_is_dropped(tmp_path: Path) -> None:
    """A rebuild drops the loaded table, and its maps with it; letting go after that (or
    of a projection never loaded) advises nothing and changes no answer."""
    ctx = _saved_runs(tmp_path / "ws", 50)
    ws = ctx._workspace
    runs = ctx.list_runs()
    assert ws.projector._slots["runs"].maps
    ws.projector.rebuild()
    assert ws.projector._slots["runs"].maps == []
    ws.let_go("runs")
    ws.let_go("stages")  # nothing loaded
    assert ctx.list_runs() == runs
    ctx.close()


def test_only_whole_maps_are_advised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A buffer that starts on a page (a whole map) is advised over its size; a slice of one,
    or an empty buffer, is left alone."""
    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(store, "_madvise", lambda: lambda a, n: seen.append((a, n)))
    path = tmp_path / "file"
    path.write_bytes(b"x" * (3 * store.mmap.PAGESIZE + 1))
    with pa.memory_map(str(path), "r") as source:
        whole = source.read_buffer()
    assert whole.address % store.mmap.PAGESIZE == 0
    store.let_go([whole.slice(1), pa.py_buffer(b""), whole])
    assert seen == [(whole.address, whole.size)]
