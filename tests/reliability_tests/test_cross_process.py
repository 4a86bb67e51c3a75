"""Cross-process invariants: what the README promises within one process holds between two.

- ``as_of(T)`` is repeatable: asked while another process commits large batches, and asked
  again once it stopped, it gives the same answer.
- a different record under a ``record_ref`` another process already committed is refused with
  ``record_ref_conflict`` (never stored beside it), deterministically: the later commit loses;
- an identical re-append of a record another process committed is stored once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from contexta import Contexta
from contexta.contract import MetricPayload, MetricRecord, Project, RecordEnvelope, Run
from ledger import LedgerReader, verify

TS = "2025-03-01T00:00:00Z"
LATER = "2025-03-01T01:00:00Z"

_PRELUDE = textwrap.dedent(
    """
    import sys, time
    from contexta import Contexta
    from contexta.contract import MetricPayload, MetricRecord, Project, RecordEnvelope, Run
    TS = "2025-03-01T00:00:00Z"

    def metric(ref, value, run="r"):
        return MetricRecord(
            envelope=RecordEnvelope(record_ref=ref, record_type="metric", recorded_at=TS,
                                    observed_at=TS, producer_ref="t", run_ref=f"run:p.{run}"),
            payload=MetricPayload(metric_key="loss", value=value, value_type="float64"))
    """
)


def _seed(workspace: Path) -> None:
    ctx = Contexta(workspace=str(workspace))
    ms = ctx.metadata_store
    ms.projects.put_project(Project(project_ref="project:p", name="p", created_at=TS))
    ms.runs.put_run(Run(run_ref="run:p.r", project_ref="project:p", name="r",
                        status="completed", started_at=TS, ended_at=LATER))
    ctx.close()


def _metric(ref: str, value: float) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(record_ref=ref, record_type="metric", recorded_at=TS,
                                observed_at=TS, producer_ref="t", run_ref="run:p.r"),
        payload=MetricPayload(metric_key="loss", value=value, value_type="float64"),
    )


def _child(workspace: Path, body: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(body), str(workspace)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
        env={**os.environ, **env},
    )


def _wait_line(proc: subprocess.Popen[str], expected: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != expected:
        _, err = proc.communicate(timeout=60)
        raise AssertionError(f"child said {line!r}, expected {expected!r}: {err}")


# ---------------------------------------------------------------------- as_of repeatability

_BATCH_WRITER = """
ctx = Contexta(workspace=sys.argv[1])
ms, rs = ctx.metadata_store, ctx.record_store
deadline = time.monotonic() + float(sys.argv[2])
i = 0
while time.monotonic() < deadline or i < 3:
    i += 1
    # one commit of 1,001 events: a new run and 1,000 metrics of it
    ms.runs.put_run(Run(run_ref=f"run:p.b{i}", project_ref="project:p", name=f"b{i}",
                        status="completed", started_at=TS, ended_at=TS))
    rs.append_many([metric(f"record:p.b{i}.m{j}", float(j), f"b{i}") for j in range(1000)])
    ctx.flush()
    if i == 1:
        print("ready", flush=True)
ctx.close()
print("done", i, flush=True)
"""


def test_as_of_now_is_repeatable_while_another_process_commits_large_batches(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "ws"
    _seed(workspace)
    # fsync mode: a commit stays in flight through its fsync too (the window the bug lives in)
    writer = _child(workspace, _BATCH_WRITER.replace("sys.argv[2]", "'6'"),
                    CONTEXTA_RECORDS_DURABILITY_MODE="fsync")
    _wait_line(writer, "ready")
    reader = Contexta(workspace=str(workspace))
    asked: list[tuple[datetime, tuple[str, ...]]] = []
    try:
        while writer.poll() is None and len(asked) < 200:
            when = datetime.now(UTC)
            asked.append((when, tuple(r.run_id for r in reader.as_of(when).list_runs("p"))))
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert len(asked) >= 10, f"only {len(asked)} questions while the writer ran"
        assert len({answer for _, answer in asked}) > 1, "the writer committed nothing meanwhile"
        later = Contexta(workspace=str(workspace))  # a fresh reader, after every commit
        changed = [
            (when.isoformat(), len(first), len(again))
            for when, first in asked
            if first != (again := tuple(r.run_id for r in later.as_of(when).list_runs("p")))
        ]
        assert changed == [], f"{len(changed)} of {len(asked)} as_of answers changed: {changed}"
        later.close()
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
        reader.close()
    assert verify(workspace / "ledger").ok


def test_as_of_a_future_time_answers_as_of_now_and_says_so(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    _seed(workspace)
    ctx = Contexta(workspace=str(workspace))
    future = datetime(2999, 1, 1, tzinfo=UTC)
    view = ctx.as_of(future)
    assert view.when < datetime.now(UTC)
    before = tuple(r.run_id for r in view.list_runs("p"))
    ctx.metadata_store.runs.put_run(Run(run_ref="run:p.later", project_ref="project:p",
                                        name="later", status="completed", started_at=TS,
                                        ended_at=LATER))
    ctx.flush()
    assert tuple(r.run_id for r in view.list_runs("p")) == before  # the view stays put
    assert tuple(r.run_id for r in ctx.as_of(view.when).list_runs("p")) == before
    assert "run:p.later" in {r.run_id for r in ctx.as_of(future).list_runs("p")}
    ctx.close()
