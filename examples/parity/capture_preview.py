"""Runtime capture with the default local sink: a run with an event and two metrics, then a
look at the local capture file 1.0 kept under ``<workspace>/cache/capture/`` and at the run the
ledger recorded. (Contexta 1.0.0 raised ``TypeError`` at the first emission; its documented
preview reports the capture file and three captured records, as this does.)

    uv run python examples/parity/capture_preview.py [--workspace DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", default=None, help="default: a fresh temporary directory")
    root = Path(parser.parse_args().workspace or tempfile.mkdtemp(prefix="contexta-preview-"))
    ctx = Contexta(
        config=UnifiedConfig(
            project_name="capture-preview", workspace=WorkspaceConfig(root_path=str(root))
        )
    )
    with ctx.run("preview") as run:
        run.event("preview.started", message="capture preview")
        with run.stage("train") as stage:
            stage.metric("train.loss", 0.42)
            stage.metric("train.accuracy", 0.91)
    capture = root / "cache" / "capture" / "record.jsonl"
    lines = capture.read_text().splitlines() if capture.exists() else []
    print(f"Run: {run.ref}")
    print(f"Capture file exists: {capture.exists()}")
    print(f"Captured records: {len(lines)}")
    snapshot = ctx.get_run_snapshot(run.ref)
    print(f"Ledger records: {len(snapshot.records)} ({snapshot.run.status})")
    ctx.close()


if __name__ == "__main__":
    main()
