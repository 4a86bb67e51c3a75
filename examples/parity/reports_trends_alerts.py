"""Trends, alerts, aggregation, anomaly detection and reports, end to end.

Writes six training runs of a small model into a fresh workspace (through the 1.0 stores),
then asks the questions a person would ask of them and saves the reports (Markdown, JSON, CSV
and self-contained HTML pages with charts) under the workspace's reports directory:

    uv run python examples/parity/reports_trends_alerts.py [--workspace DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

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
from contexta.interpretation import AggregationService, AlertRule, AnomalyService

PROJECT = "fraud-detector"
# run name, day, final accuracy, auc, loss curve (one value per epoch)
RUNS = [
    ("baseline", 1, 0.912, 0.951, (0.62, 0.41, 0.33, 0.29, 0.27)),
    ("wider-net", 2, 0.921, 0.957, (0.60, 0.38, 0.30, 0.26, 0.24)),
    ("more-data", 3, 0.934, 0.963, (0.58, 0.36, 0.28, 0.24, 0.22)),
    ("lr-sweep-1", 4, 0.929, 0.960, (0.55, 0.37, 0.29, 0.25, 0.23)),
    ("lr-sweep-2", 5, 0.931, 0.962, (0.57, 0.35, 0.27, 0.24, 0.22)),
    ("vendor-feed", 6, 0.861, 0.902, (0.59, 0.44, 0.39, 0.37, 0.36)),  # the bad one
]


def record_runs(ctx: Contexta) -> None:
    """Project, runs, train/evaluate stages, a loss curve and evaluation metrics per run."""
    store, records = ctx.metadata_store, ctx.record_store
    store.projects.put_project(
        Project(project_ref=f"project:{PROJECT}", name=PROJECT, created_at="2025-06-01T00:00:00Z")
    )
    count = 0
    for name, day, accuracy, auc, losses in RUNS:
        date = f"2025-06-{day:02d}"
        run_ref = f"run:{PROJECT}.{name}"
        store.runs.put_run(
            Run(
                run_ref=run_ref,
                project_ref=f"project:{PROJECT}",
                name=name,
                status="completed",
                started_at=f"{date}T08:00:00Z",
                ended_at=f"{date}T11:00:00Z",
            )
        )
        for stage, order, start, end in (
            ("train", 0, "08:00", "10:00"),
            ("evaluate", 1, "10:00", "11:00"),
        ):
            store.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:{PROJECT}.{name}.{stage}",
                    run_ref=run_ref,
                    stage_name=stage,
                    status="completed",
                    started_at=f"{date}T{start}:00Z",
                    ended_at=f"{date}T{end}:00Z",
                    order_index=order,
                )
            )
        points = [
            ("train", "loss", v, f"{date}T{8 + i // 3:02d}:{(i % 3) * 20:02d}:00Z")
            for i, v in enumerate(losses)
        ]
        points += [
            ("evaluate", "accuracy", accuracy, f"{date}T10:30:00Z"),
            ("evaluate", "auc", auc, f"{date}T10:30:00Z"),
        ]
        for stage, key, value, at in points:
            count += 1
            records.append(
                MetricRecord(
                    envelope=RecordEnvelope(
                        record_ref=f"record:{PROJECT}.{name}.m{count:03d}",
                        record_type="metric",
                        recorded_at=at,
                        observed_at=at,
                        producer_ref="examples.reports",
                        run_ref=run_ref,
                        stage_execution_ref=f"stage:{PROJECT}.{name}.{stage}",
                    ),
                    payload=MetricPayload(metric_key=key, value=value, value_type="float64"),
                )
            )


def main(workspace: Path) -> dict[str, Path]:
    ctx = Contexta(
        config=UnifiedConfig(project_name=PROJECT, workspace=WorkspaceConfig(root_path=workspace))
    )
    record_runs(ctx)

    trend = ctx.get_metric_trend("accuracy", project_name=PROJECT, stage_name="evaluate")
    print("accuracy by run:", ", ".join(f"{p.run_name}={p.value}" for p in trend.points))

    rules = [
        AlertRule("accuracy", "lt", 0.9, stage_name="evaluate", severity="error"),
        AlertRule("loss", "gt", 0.3, stage_name="train", name="loss-plateau"),
    ]
    fleet = ctx.evaluate_alerts_fleet(rules, project_name=PROJECT)
    for result in fleet.triggered:
        print(
            f"alert {result.severity}: {result.rule_name} on {result.run_id} "
            f"(actual {result.actual_value})"
        )

    accuracy = AggregationService(ctx.query_service).aggregate_metric(
        "accuracy", project_name=PROJECT, stage_name="evaluate"
    )
    print(f"accuracy over {accuracy.count} runs: mean {accuracy.mean:.4f}, p50 {accuracy.p50:.4f}")
    latest = trend.points[-1].run_id
    for anomaly in AnomalyService(ctx.query_service).detect_anomalies_in_run(
        latest, stage_name="evaluate"
    ):
        print(
            f"anomaly {anomaly.severity}: {anomaly.metric_key}={anomaly.actual_value} "
            f"(z={anomaly.z_score:.1f})"
        )

    best = ctx.select_best_run([p.run_id for p in trend.points], "accuracy", stage_name="evaluate")
    reports = Path(ctx.config.workspace.reports_path)
    reports.mkdir(parents=True, exist_ok=True)
    written = {
        "trend.md": ctx.build_trend_report(
            "accuracy", project_name=PROJECT, stage_name="evaluate"
        ).to_markdown(),
        "trend.html": ctx.build_trend_report(
            "accuracy", project_name=PROJECT, stage_name="evaluate"
        ).to_html(),
        "best-vs-latest.html": ctx.build_run_report(best, latest).to_html(),
        "all-runs.html": ctx.build_multi_run_report([p.run_id for p in trend.points]).to_html(),
        "latest-snapshot.json": json.dumps(ctx.build_snapshot_report(latest).to_json(), indent=2),
        "alerts.csv": ctx.build_alert_report(latest, rules).to_csv(),
    }
    paths = {}
    for name, text in written.items():
        path = reports / name
        path.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        paths[name] = path
    ctx.close()
    print(f"reports written to {reports}:")
    for name in written:
        print(f"  {name}")
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="workspace directory (default: a new temporary directory)",
    )
    args = parser.parse_args()
    main(args.workspace or Path(tempfile.mkdtemp(prefix="contexta-reports-")) / ".contexta")
