"""Case 08, told honestly: the contamination is found weeks later, after a run was promoted.

1. Training history is logged as it happened, with no data-quality tags.
2. Release day: the best run of the April training cycle is promoted.
3. Weeks later a data engineer finds the vendor clamp. The contamination window is tagged
   retroactively (recorded now, observed at each run's start) and the tagged runs are
   quarantined; a clean retrain is logged.
4. select_best_run can no longer return a contaminated run.
5. as_of(<promotion time>) still answers what we knew on release day: the contaminated run
   that was promoted, and no tag anywhere.
6. The audit trail shows when each fact entered the ledger.

Usage: python examples/case_studies/case08_retroactive_quarantine.py [WORKSPACE]
(default: ./case08-workspace, recreated on every run).
"""

from __future__ import annotations

import shutil
import sys
import time
from datetime import UTC, datetime
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

PROJECT = "purchase-intent-model"
EVENT_KEY = "data.contamination-window"
WINDOW = ("2025-04-01T00:00:00Z", "2025-04-21T23:59:59Z")
MESSAGE = (
    "Trained during the vendor schema contamination window (2025-04-01 to 2025-04-21): "
    "purchase_intent_score clamped to [0.0, 0.1]."
)

# (run name, day, accuracy, auc, f1); April runs trained on clamped vendor data.
HISTORY = [
    ("run-2025-03-28", "2025-03-28", 0.934, 0.961, 0.928),
    ("run-2025-04-03", "2025-04-03", 0.891, 0.912, 0.887),
    ("run-2025-04-08", "2025-04-08", 0.884, 0.905, 0.879),
    ("run-2025-04-14", "2025-04-14", 0.897, 0.918, 0.893),
    ("run-2025-04-21", "2025-04-21", 0.878, 0.901, 0.872),
]
RETRAIN = ("run-2025-05-12", "2025-05-12", 0.931, 0.957, 0.925)


def log_run(ctx: Contexta, name: str, day: str, accuracy: float, auc: float, f1: float) -> str:
    """Log one training run the way the training job did at the time."""
    run_ref = f"run:{PROJECT}.{name}"
    started, ended = f"{day}T09:00:00Z", f"{day}T12:00:00Z"
    store = ctx.metadata_store
    store.runs.put_run(
        Run(
            run_ref=run_ref,
            project_ref=f"project:{PROJECT}",
            name=name,
            status="completed",
            started_at=started,
            ended_at=ended,
        )
    )
    for order, (stage, start, end) in enumerate(
        [("train", started, f"{day}T10:00:00Z"), ("evaluate", f"{day}T10:00:00Z", ended)]
    ):
        store.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref=f"stage:{PROJECT}.{name}.{stage}",
                run_ref=run_ref,
                stage_name=stage,
                status="completed",
                started_at=start,
                ended_at=end,
                order_index=order,
            )
        )
    ctx.record_store.append_many(
        [
            MetricRecord(
                envelope=RecordEnvelope(
                    record_ref=f"record:{PROJECT}.{name}.{key}",
                    record_type="metric",
                    recorded_at=ended,
                    observed_at=ended,
                    producer_ref="contexta.case08",
                    run_ref=run_ref,
                    stage_execution_ref=f"stage:{PROJECT}.{name}.evaluate",
                ),
                payload=MetricPayload(metric_key=key, value=value, value_type="float64"),
            )
            for key, value in (("accuracy", accuracy), ("auc", auc), ("f1", f1))
        ]
    )
    return run_ref


def short(run_id: str | None) -> str:
    return "none" if run_id is None else run_id.rsplit(".", 1)[1]


def main(workspace: Path) -> None:
    if (workspace / "ledger").is_dir():
        shutil.rmtree(workspace)
    ctx = Contexta(
        config=UnifiedConfig(project_name=PROJECT, workspace=WorkspaceConfig(root_path=workspace))
    )

    print("1. Training history, logged as it happened (no data-quality tags)")
    ctx.metadata_store.projects.put_project(
        Project(project_ref=f"project:{PROJECT}", name=PROJECT, created_at="2025-03-01T00:00:00Z")
    )
    for row in HISTORY:
        log_run(ctx, *row)
    for run in ctx.list_runs(PROJECT):
        print(f"   {run.name}  started {run.started_at}")

    print("\n2. Release day: promote the best run of the April training cycle")
    april = [r.run_id for r in ctx.list_runs(PROJECT) if r.started_at >= "2025-04-01"]
    promoted = ctx.select_best_run(april, "auc", stage_name="evaluate")
    promoted_at = datetime.now(UTC)
    print(f"   promoted: {short(promoted)} (decided at {promoted_at:%Y-%m-%dT%H:%M:%S.%fZ})")
    time.sleep(0.01)  # the discovery happens strictly later than the promotion

    print("\n3. Weeks later: the vendor clamp is found; tag the window and quarantine it")
    window = {"project_name": PROJECT, "started_after": WINDOW[0], "started_before": WINDOW[1]}
    attributes = {"affected_feature": "purchase_intent_score", "vendor_issue": "schema_range_clamp"}
    tagged = ctx.tag_runs(EVENT_KEY, message=MESSAGE, attributes=attributes, **window)
    print(f"   tagged:      {', '.join(short(r) for r in tagged)}")
    before = sum(1 for _ in ctx.history())
    ctx.tag_runs(EVENT_KEY, message=MESSAGE, attributes=attributes, **window)
    print(f"   tagging again adds nothing: {sum(1 for _ in ctx.history()) - before} new events")
    quarantined = ctx.quarantine_runs(
        ctx.runs_with_event(EVENT_KEY, PROJECT),
        reason="vendor schema clamp (data incident DI-2025-041)",
    )
    print(f"   quarantined: {', '.join(short(r) for r in quarantined)}")
    retrain = log_run(ctx, *RETRAIN)
    print(f"   clean retrain logged: {short(retrain)}")

    print("\n4. Selecting the best run now")
    candidates = [r.run_id for r in ctx.list_runs(PROJECT) if r.started_at >= "2025-04-01"]
    print(
        f"   select_best_run(April onwards)      -> {short(ctx.select_best_run(candidates, 'auc', stage_name='evaluate'))}"
    )
    print(
        f"   select_best_run(the April cycle)    -> {short(ctx.select_best_run(april, 'auc', stage_name='evaluate'))}"
    )
    with_flag = ctx.select_best_run(april, "auc", stage_name="evaluate", include_quarantined=True)
    print(f"   ... with include_quarantined=True   -> {short(with_flag)}")

    print("\n5. What we knew on release day: as_of(promotion time)")
    then = ctx.as_of(promoted_at)
    print(
        f"   select_best_run(April cycle) -> {short(then.select_best_run(april, 'auc', stage_name='evaluate'))}"
    )
    print(f"   runs tagged {EVENT_KEY}: {list(then.runs_with_event(EVENT_KEY))}")
    print(f"   quarantined runs: {list(then.quarantined_runs())}")
    print(f"   runs known: {len(then.list_runs(PROJECT))} (the retrain did not exist yet)")

    print("\n6. Audit trail: when each data-quality fact entered the ledger")
    facts = list(ctx.history(kinds=("record.event", "run.quarantine", "run.release")))
    for event in facts:
        recorded = event.tx_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if event.kind == "record.event":
            detail = f"tag {event.key}, observed {event.model.envelope.observed_at}"
        else:
            detail = f"reason: {event.model.reason}"
        print(
            f"   seq {event.seq:>3}  recorded {recorded}  {event.kind:<14} {short(event.run_ref)}  {detail}"
        )
    later = sum(1 for event in facts if event.tx_time > promoted_at)
    print(
        f"\n   promotion decided at {promoted_at:%Y-%m-%dT%H:%M:%S.%fZ}: {later} of {len(facts)} "
        "facts above were recorded after it."
    )
    ctx.close()
    print(
        f"\nWorkspace: {workspace.resolve()} (try: uv run contexta --workspace {workspace} audit replay --verify)"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("case08-workspace"))
