"""Interpreter exit: a writer whose last commit fails at exit says so and exits non-zero.

The child process appends in ``flush`` mode (the events are only buffered), then the file
system starts refusing to grow files (``RLIMIT_FSIZE`` at the current size, with ``SIGXFSZ``
ignored: every write that extends a file fails with ``EFBIG``, even for root, as a read-only or
full file system would refuse it). The commit at exit cannot write the events: the process must
name how many were lost and why on stderr and exit with a non-zero status.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from ledger import LedgerReader

_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    from contexta import Contexta
    from contexta.contract import MetricPayload, MetricRecord, Project, RecordEnvelope, Run

    TS = "2025-03-01T00:00:00Z"
    ctx = Contexta(workspace=sys.argv[1])
    ms = ctx.metadata_store
    ms.projects.put_project(Project(project_ref="project:p", name="p", created_at=TS))
    ms.runs.put_run(Run(run_ref="run:p.r", project_ref="project:p", name="r",
                        status="completed", started_at=TS, ended_at=TS))
    ctx.flush()
    ctx.record_store.append(MetricRecord(
        envelope=RecordEnvelope(record_ref="record:p.r.m0", record_type="metric",
                                recorded_at=TS, observed_at=TS, producer_ref="t",
                                run_ref="run:p.r"),
        payload=MetricPayload(metric_key="loss", value=0.0, value_type="float64")))
    ctx.flush()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = max(p.stat().st_size for p in (ctx._workspace.ledger.root).iterdir() if p.is_file())
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
    for i in range(1, 8):
        result = ctx.record_store.append(MetricRecord(
            envelope=RecordEnvelope(record_ref=f"record:p.r.m{i}", record_type="metric",
                                    recorded_at=TS, observed_at=TS, producer_ref="t",
                                    run_ref="run:p.r"),
            payload=MetricPayload(metric_key="loss", value=float(i), value_type="float64")))
        assert result.success and result.durability_status == "ACCEPTED", result
    print("appended", flush=True)
    """
)


def test_failed_commit_at_exit_is_reported_and_exits_non_zero(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(workspace)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "appended" in done.stdout, done.stderr
    assert done.returncode != 0, (done.returncode, done.stderr)
    assert "7 accepted event(s) could not be committed" in done.stderr, done.stderr
    assert "File too large" in done.stderr or "EFBIG" in done.stderr or "errno 27" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    # what was committed before is intact; the lost events were never acknowledged as written
    reader = LedgerReader(workspace / "ledger")
    assert reader.head().seq == 3


def test_a_clean_exit_stays_silent_and_zero(tmp_path: Path) -> None:
    child = _CHILD.split("signal.signal")[0] + "print('appended', flush=True)\n"
    done = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
