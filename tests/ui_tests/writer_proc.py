"""Run as a separate process: adds one run with a metric to a workspace, then prints the
time (epoch seconds) at which its commit returned."""

from __future__ import annotations

import sys
import time

from contexta import Contexta
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope, Run

root, name = sys.argv[1], sys.argv[2]
ctx = Contexta(workspace=root)
ctx.metadata_store.runs.put_run(
    Run(
        run_ref=f"run:vision.{name}",
        project_ref="project:vision",
        name=name,
        status="open",
        started_at="2025-03-09T09:00:00Z",
    )
)
ctx.record_store.append(
    MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:vision.{name}.acc",
            record_type="metric",
            recorded_at="2025-03-09T10:00:00Z",
            observed_at="2025-03-09T10:00:00Z",
            producer_ref="writer",
            run_ref=f"run:vision.{name}",
        ),
        payload=MetricPayload(metric_key="throughput", value=999.0, value_type="float64"),
    )
)
ctx.flush()
print(time.time(), flush=True)
ctx.close()
