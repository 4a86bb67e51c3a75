"""A writer in its own process for the read-skew tests.

``python _writer.py WORKSPACE SECONDS``: for SECONDS, commit small batches to the runs ``a``
and ``b`` of project ``demo`` (new ``acc`` and ``loss`` points in their stages and at run
level), a new run now and then, and a quarantine or release of ``a``; prints ``ready`` after
the first commit and ``done <head seq>`` at the end.
"""

from __future__ import annotations

import sys
import time

from contexta import Contexta
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

T0 = "2026-01-01T00:00:00Z"


def point(run_ref: str, stage_ref: str | None, key: str, value: float, rid: str) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{run_ref[4:]}.{rid}",
            record_type="metric",
            recorded_at=T0,
            observed_at=T0,
            producer_ref="tests.reads",
            run_ref=run_ref,
            stage_execution_ref=stage_ref,
        ),
        payload=MetricPayload(metric_key=key, value=value, value_type="float64"),
    )


def main() -> None:
    root, seconds = sys.argv[1], float(sys.argv[2])
    ctx = Contexta(config={"project_name": "demo", "workspace": {"root_path": root}})
    targets = []
    for name in ("a", "b"):
        snap = ctx.get_run_snapshot(name)
        targets.append((snap.run.run_id, [None, *(s.stage_id for s in snap.stages)]))
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline or i == 0:
        records = []
        for run_ref, stages in targets:
            stage = stages[i % len(stages)]
            records.append(point(run_ref, stage, "acc", (i * 7919 % 1000) / 1000, f"w{i}a"))
            records.append(point(run_ref, stage, "loss", 1.0 / (i + 2), f"w{i}l"))
        ctx.record_store.append_many(records)
        if i % 5 == 4:
            with ctx.run(f"w{i}", tags={"team": "x"}):
                ctx.metric("acc", (i % 10) / 10)
        if i % 7 == 3:
            ctx.quarantine_runs([targets[0][0]], reason=f"check {i}")
        elif i % 7 == 6:
            ctx.release_runs([targets[0][0]], reason=f"checked {i}")
        ctx.flush()
        if i == 0:
            print("ready", flush=True)
        i += 1
        time.sleep(0.005)
    ctx.close()
    print(f"done {ctx._workspace.ledger.head().seq}", flush=True)


if __name__ == "__main__":
    main()
