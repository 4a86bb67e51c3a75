"""The runtime-capture and recovery examples run and say what they should."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO, run_script

EXAMPLES = REPO / "examples" / "parity"


def test_runtime_capture_example(tmp_path: Path) -> None:
    done = run_script(
        EXAMPLES / "runtime_capture.py", tmp_path, "--workspace", str(tmp_path / "ws")
    )
    out = done.stdout
    assert "run:capture-demo.slow-lr  completed" in out
    assert "run:capture-demo.fast-lr  completed" in out
    assert "stage train    order=1 status=completed" in out
    assert "records by type: {'event': 2, 'metric': 7, 'span': 5}" in out
    assert "Compared slow lr and fast lr: 3 stage rows, 3 metric deltas, 0 artifact changes." in out
    assert "Best run by eval.score: run:capture-demo.fast-lr" in out


def test_artifacts_backup_restore_example(tmp_path: Path) -> None:
    done = run_script(
        EXAMPLES / "artifacts_backup_restore.py", tmp_path, "--workspace", str(tmp_path / "demo")
    )
    out = done.stdout
    assert "Verify: verified" in out
    assert "Snapshot artifacts: ['artifact:recovery-demo.train-v1.model']" in out
    assert "Import into another workspace: imported, 1664 bytes" in out
    assert "Import again: idempotent" in out
    assert "Verify-only restore: SUCCESS, applied=False" in out
    assert "Restore into restored/: SUCCESS, runs=1, artifacts verified=1" in out
    assert "Restored body matches: True" in out
    assert "artifact.put artifact:recovery-demo.train-v1.model" in out
    assert "Outbox replay: SUCCESS" in out
