"""The smallest complete use of the 1.0 API: one project, two runs with a metric each, then a
snapshot, a report title, the run list and a comparison. Runs unchanged on Contexta 1.0.0
(its output is recorded in tests/parity_tests/_examples_c10.py):

    uv run python examples/parity/quickstart_minimal.py [--workspace DIR]
"""

from __future__ import annotations

import argparse
import tempfile

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
)

START, END = "2025-05-01T09:00:00Z", "2025-05-01T09:30:00Z"


def record_run(ctx: Contexta, name: str, accuracy: float) -> str:
    run_ref = f"run:quickstart.{name}"
    stage_ref = f"stage:quickstart.{name}.evaluate"
    store = ctx.metadata_store
    store.runs.put_run(
        Run(
            run_ref=run_ref,
            project_ref="project:quickstart",
            name=name,
            status="completed",
            started_at=START,
            ended_at=END,
        )
    )
    store.stages.put_stage_execution(
        StageExecution(
            stage_execution_ref=stage_ref,
            run_ref=run_ref,
            stage_name="evaluate",
            status="completed",
            started_at=START,
            ended_at=END,
            order_index=1,
        )
    )
    ctx.record_store.append(
        MetricRecord(
            envelope=RecordEnvelope(
                record_ref=f"record:quickstart.{name}.accuracy",
                record_type="metric",
                recorded_at=END,
                observed_at=END,
                producer_ref="quickstart",
                run_ref=run_ref,
                stage_execution_ref=stage_ref,
                completeness_marker="complete",
                degradation_marker="none",
            ),
            payload=MetricPayload(metric_key="eval.accuracy", value=accuracy, value_type="float64"),
        )
    )
    return run_ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", default=None, help="default: a fresh temporary directory")
    root = parser.parse_args().workspace or tempfile.mkdtemp(prefix="contexta-quickstart-")
    ctx = Contexta(
        config=UnifiedConfig(project_name="quickstart", workspace=WorkspaceConfig(root_path=root))
    )
    try:
        ctx.metadata_store.projects.put_project(
            Project(project_ref="project:quickstart", name="quickstart", created_at=START)
        )
        baseline = record_run(ctx, "baseline", 0.81)
        tuned = record_run(ctx, "tuned", 0.86)
        snapshot = ctx.get_run_snapshot(tuned)
        print(
            f"Snapshot of {snapshot.run.name}: {len(snapshot.stages)} stage(s), "
            f"{len(snapshot.records)} record(s)"
        )
        print("Report:", ctx.build_snapshot_report(tuned).title)
        print("Runs:", ", ".join(r.run_id for r in ctx.list_runs("quickstart")))
        comparison = ctx.compare_runs(baseline, tuned)
        print(comparison.summary)
        for row in comparison.stage_comparisons:
            for delta in row.metric_deltas:
                print(
                    f"  {row.stage_name}/{delta.metric_key}: {delta.left_value} -> "
                    f"{delta.right_value} (delta {delta.delta:+.2f})"
                )
        best = ctx.select_best_run([baseline, tuned], "eval.accuracy", stage_name="evaluate")
        print("Best:", best)
    finally:
        ctx.metadata_store.close()


if __name__ == "__main__":
    main()
