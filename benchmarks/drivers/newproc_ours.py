"""One first call in a new process, this project: ``python newproc_ours.py PROBE --workload JSON
--workspace DIR [--options JSON]``. Prints one JSON object: the call's seconds (``call_s``), the
whole process's seconds from start (``process_s``, import and open included) and its peak RSS.

Probes (every one opens the workspace, makes one call, closes):

``snapshot``  ``get_run_snapshot`` of one run (the middle one);
``best``      ``select_best_run`` over every run by ``evaluate``/``accuracy``;
``append``    ``record_store.append`` of one metric record into an existing run
              (``close_s``: the close after it, which commits and saves what was folded);
``as_of``     ``as_of(now).get_run_snapshot`` of the same run;
``history``   ``list(history(run))``;
``query``     list, best, snapshot and as-of snapshot in one process (for its peak RSS).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from _common import Workload, emit, parse, timed  # noqa: E402

PROBES = ("snapshot", "best", "append", "as_of", "history", "query")


def run_id(w: Workload) -> str:
    return f"bench.{w.run_name(w.runs // 2)}"


def all_ids(w: Workload) -> list[str]:
    return [f"bench.{w.run_name(i)}" for i in range(w.runs)]


def metric_record(w: Workload, tag: str) -> Any:
    from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

    name = w.run_name(w.runs // 2)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat() + "Z"
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:bench.{name}.x{tag}",
            record_type="metric",
            recorded_at=now,
            observed_at=now,
            producer_ref="bench",
            run_ref=f"run:bench.{name}",
            stage_execution_ref=f"stage:bench.{name}.train",
        ),
        payload=MetricPayload(
            metric_key="probe", value=1.0, value_type="float64", aggregation_scope="stage"
        ),
    )


def main() -> None:
    probe, w, workspace, options = parse(PROBES)
    import _contexta_api as api

    out: dict[str, Any] = {"probe": probe}
    ctx = api.open_ctx(workspace)
    rid = run_id(w)
    if probe == "snapshot":
        out["call_s"], snap = timed(lambda: ctx.get_run_snapshot(rid))
        out["records"] = len(snap.records)
    elif probe == "best":
        ids = all_ids(w)
        out["call_s"], best = timed(
            lambda: ctx.select_best_run(ids, "accuracy", stage_name="evaluate")
        )
        out["answer"] = str(best).rsplit(".", 1)[-1]
        out["expected"] = options.get("expected")
    elif probe == "append":
        record = metric_record(w, str(options.get("tag", time.time_ns())))
        out["call_s"], result = timed(lambda: ctx.record_store.append(record))
        out["rejected"] = bool(result.rejected)
    elif probe == "as_of":
        now = datetime.now(UTC)
        out["call_s"], snap = timed(lambda: ctx.as_of(now).get_run_snapshot(rid))
        out["records"] = len(snap.records)
    elif probe == "history":
        out["call_s"], events = timed(lambda: list(ctx.history(rid)))
        out["events"] = len(events)
    else:
        ids = all_ids(w)
        now = datetime.now(UTC)
        steps = {
            "list": lambda: ctx.list_runs(),
            "best": lambda: ctx.select_best_run(ids, "accuracy", stage_name="evaluate"),
            "snapshot": lambda: ctx.get_run_snapshot(rid),
            "as_of": lambda: ctx.as_of(now).get_run_snapshot(rid),
        }
        out["calls_s"] = {name: timed(fn)[0] for name, fn in steps.items()}
        out["call_s"] = sum(out["calls_s"].values())
    out["close_s"], _ = timed(lambda: api.close_ctx(ctx))
    out["process_s"] = time.perf_counter() - STARTED
    emit(out)


if __name__ == "__main__":
    main()
