"""No read skew: while another process commits, every answer a reader gives equals the answer
``as_of`` the head that answer was taken at, computed afterwards.

The snapshot an answer came from is :meth:`Workspace.last_snapshot` (its head's seq and
transaction time); a commit's ``tx_time`` is later than every earlier one's, so ``as_of`` that
time holds exactly the events up to that seq.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta.workspace import Workspace
from tests.reads_tests.conftest import fill, open_ctx

HERE = Path(__file__).parent
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Read = Callable[[Any, tuple[str, ...]], object]

#: reads whose answers hold no time of their own (reports stamp when they were built)
READS: dict[str, Read] = {
    "list_runs": lambda c, r: c.list_runs("demo"),
    "list_runs_query": lambda c, r: c.list_runs("demo", status="completed", tags={"team": "x"}),
    "get_run_snapshot": lambda c, r: c.get_run_snapshot(r[0]),
    "compare_runs": lambda c, r: c.compare_runs(r[0], r[1]),
    "compare_multiple_runs": lambda c, r: c.compare_multiple_runs(list(r)),
    "select_best_run": lambda c, r: c.select_best_run(list(r), "acc"),
    "select_best_run_stage": lambda c, r: c.select_best_run(list(r), "acc", stage_name="eval"),
    "diagnose_run": lambda c, r: c.diagnose_run(r[0]),
    "get_metric_trend": lambda c, r: c.get_metric_trend("acc", project_name="demo"),
    "get_step_series": lambda c, r: c.get_step_series(r[0], "loss", stage_name="train"),
    "quarantined_runs": lambda c, r: c.quarantined_runs("demo"),
    "runs_with_event": lambda c, r: c.runs_with_event("note", "demo"),
    "runs_table": lambda c, r: c.runs_table("demo"),
    "metrics_table": lambda c, r: c.metrics_table(list(r)),
    "events_table": lambda c, r: c.events_table("metric", r[0]),
    "history": lambda c, r: list(c.history(r[1])),
}


def _same(left: object, right: object) -> bool:
    if isinstance(left, pa.Table) and isinstance(right, pa.Table):
        return left.equals(right)
    return left == right


def _at(tx_time_us: int) -> datetime:
    return EPOCH + timedelta(microseconds=tx_time_us)


def _answer_and_seq(ws: Workspace, read: Read, view: Any, refs: tuple[str, ...]) -> Any:
    answer = read(view, refs)
    snap = ws.last_snapshot()
    assert snap is not None
    return answer, snap


@pytest.fixture()
def seeded(tmp_path: Path) -> tuple[Path, tuple[str, ...]]:
    root = tmp_path / "ws"
    ctx = open_ctx(root)
    refs = fill(ctx)
    ctx.close()
    return root, refs


def test_every_answer_under_a_concurrent_writer_equals_as_of_its_head(
    seeded: tuple[Path, tuple[str, ...]],
) -> None:
    root, refs = seeded
    writer = subprocess.Popen(
        [sys.executable, str(HERE / "_writer.py"), str(root), "8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready", writer.stderr
    ctx = open_ctx(root)
    ws = ctx._workspace
    seqs: set[int] = set()

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(st.sampled_from(sorted(READS)), min_size=1, max_size=4))
    def reads_agree_with_the_past(names: list[str]) -> None:
        taken = []
        for name in names:
            answer, snap = _answer_and_seq(ws, READS[name], ctx, refs)
            taken.append((name, answer, snap.seq, snap.tx_time_us))
        for name, answer, seq, tx_time in taken:
            seqs.add(seq)
            past = ctx.as_of(_at(tx_time))
            again = READS[name](past, refs)
            assert _same(answer, again), f"{name} at seq {seq} differs from as_of its head"

    try:
        reads_agree_with_the_past()
    finally:
        _out, err = writer.communicate(timeout=60)
        ctx.close()
    assert writer.returncode == 0, err
    assert len(seqs) > 3, f"the reads saw too few heads to test anything: {sorted(seqs)}"


def test_a_commit_landing_inside_a_read_is_not_part_of_its_answer(
    seeded: tuple[Path, tuple[str, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic skew: another writer commits while ``compare_runs`` is between its two
    runs' records. One snapshot answers as of the head read when the call began; without it
    the left run was read before the commit and the right one after."""
    root, refs = seeded
    reader, writer = open_ctx(root), open_ctx(root)
    try:
        reader.compare_runs(refs[0], refs[1])  # warm
        before = reader._workspace.ledger.head()
        expected = reader.as_of(_at(before.tx_time)).compare_runs(refs[0], refs[1])
        fired: list[bool] = []
        index = Workspace.index

        def index_then_commit(self: Workspace, name: str, column: str) -> Any:
            found = index(self, name, column)
            if self is reader._workspace and name == "records" and not fired:
                fired.append(True)
                with writer.run("late", run_id=refs[1].split(".", 1)[1], resume=True):
                    writer.metric("acc", 0.01)
                    writer.metric("late_metric", 1.0)
                writer.flush()
            return found

        monkeypatch.setattr(Workspace, "index", index_then_commit)
        answer = reader.compare_runs(refs[0], refs[1])
        monkeypatch.setattr(Workspace, "index", index)
        after = reader._workspace.ledger.head()
        later = reader.compare_runs(refs[0], refs[1])
    finally:
        writer.close()
        reader.close()
    assert fired and after.seq > before.seq
    assert later != expected  # the commit changes the comparison...
    assert answer == expected  # ...but not the one that began before it
