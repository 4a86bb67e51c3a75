"""The workload through the Contexta 1.0 public API (shared by ``ours.py`` and ``contexta10.py``).

Both drivers call exactly this code; only the interpreter (and so the installed ``contexta``)
differs. Ingest uses ``metadata_store.*.put_*`` and one ``record_store.append`` per record with
the default durability of each version. Model construction is timed apart from the store calls
(``build_seconds`` vs ``store_seconds``): the targets compare store calls, the end-to-end figure
is reported beside them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from _common import Workload, median_of, spread_indices, timed

PROJECT = "bench"


def open_ctx(workspace: Path) -> Any:
    from contexta import Contexta
    from contexta.config import UnifiedConfig, WorkspaceConfig

    return Contexta(
        config=UnifiedConfig(project_name=PROJECT, workspace=WorkspaceConfig(root_path=workspace))
    )


def close_ctx(ctx: Any) -> None:
    close = getattr(ctx, "close", None)
    if close is not None:  # 1.0 has no close(): its stores write through
        close()


def _iso(dt: Any) -> str:
    from workload import iso

    return iso(dt)


def run_models(
    w: Workload, spec: Any, runs_only: bool = False
) -> tuple[list[Any], list[Any], list[Any]]:
    """(run put, stage puts, records) of one run as 1.0 contract objects."""
    from contexta.contract import (
        MetricPayload,
        MetricRecord,
        RecordEnvelope,
        Run,
        StageExecution,
        StructuredEventPayload,
        StructuredEventRecord,
    )

    run_ref = f"run:{PROJECT}.{spec.name}"
    run = Run(
        run_ref=run_ref,
        project_ref=f"project:{PROJECT}",
        name=spec.name,
        status="completed",
        started_at=_iso(spec.started_at),
        ended_at=_iso(spec.ended_at),
    )
    if runs_only:
        return [run], [], []
    stages = []
    stage_refs = {}
    for order, (name, start, end) in enumerate(spec.stages):
        ref = f"stage:{PROJECT}.{spec.name}.{name}"
        stage_refs[name] = ref
        stages.append(
            StageExecution(
                stage_execution_ref=ref,
                run_ref=run_ref,
                stage_name=name,
                status="completed",
                started_at=_iso(start),
                ended_at=_iso(end),
                order_index=order,
            )
        )
    records: list[Any] = []
    for n, point in enumerate(spec.metrics):
        at = _iso(point.observed_at)
        records.append(
            MetricRecord(
                envelope=RecordEnvelope(
                    record_ref=f"record:{PROJECT}.{spec.name}.m{n}",
                    record_type="metric",
                    recorded_at=at,
                    observed_at=at,
                    producer_ref="bench",
                    run_ref=run_ref,
                    stage_execution_ref=stage_refs[point.stage],
                ),
                payload=MetricPayload(
                    metric_key=point.key,
                    value=point.value,
                    value_type="float64",
                    aggregation_scope="step" if point.step >= 0 else "stage",
                ),
            )
        )
    at = _iso(spec.started_at)
    records.append(
        StructuredEventRecord(
            envelope=RecordEnvelope(
                record_ref=f"record:{PROJECT}.{spec.name}.e0",
                record_type="event",
                recorded_at=at,
                observed_at=at,
                producer_ref="bench",
                run_ref=run_ref,
            ),
            payload=StructuredEventPayload(
                event_key="data.quality-check",
                level="info",
                message=spec.event_message,
                attributes={"index": spec.index},
            ),
        )
    )
    return [run], stages, records


def ingest(
    w: Workload, workspace: Path, runs_only: bool = False, batched: bool = False
) -> dict[str, Any]:
    """Every put and single append of the workload; returns counts and timings. ``runs_only``
    puts the project and the runs alone (the list-100k workspace); ``batched`` appends each
    run's records in one ``append_many`` call (the same records, so the same events, fewer
    commits: how the 100k-run probe workspace is built in minutes rather than an hour)."""
    from contexta.contract import Project

    ctx = open_ctx(workspace)
    metadata, records = ctx.metadata_store, ctx.record_store
    build = store = 0.0
    puts = appends = rejected = 0
    clock = time.perf_counter
    cpu0 = time.process_time()
    t = clock()
    project = Project(
        project_ref=f"project:{PROJECT}", name=PROJECT, created_at="2024-12-31T00:00:00Z"
    )
    build += clock() - t
    t = clock()
    metadata.projects.put_project(project)
    store += clock() - t
    puts += 1
    for spec in w.iter_runs(with_metrics=not runs_only):
        t = clock()
        runs, stages, recs = run_models(w, spec, runs_only)
        t1 = clock()
        build += t1 - t
        for run in runs:
            metadata.runs.put_run(run)
        for stage in stages:
            metadata.stages.put_stage_execution(stage)
        if batched:
            rejected += len(records.append_many(recs).rejected)
        else:
            for rec in recs:
                result = records.append(rec)
                if result.rejected:
                    rejected += 1
        store += clock() - t1
        puts += len(runs) + len(stages)
        appends += len(recs)
    seconds, _ = timed(lambda: close_ctx(ctx))
    store += seconds
    events = puts + appends
    cpu = time.process_time() - cpu0
    return {
        "cpu_seconds": cpu,
        "cpu_events_per_s": events / cpu if cpu > 0 else None,
        "events": events,
        "puts": puts,
        "appends": appends,
        "rejected": rejected,
        "store_seconds": store,
        "build_seconds": build,
        "events_per_s": events / store,
        "end_to_end_events_per_s": events / (store + build),
    }


def queries(
    w: Workload,
    workspace: Path,
    started: float,
    import_seconds: float,
    reps: int,
    list_only: bool = False,
    select_reps: int | None = None,
) -> dict[str, Any]:
    """Cold open + list in this new process, then warm list / select-best / snapshot / compare
    (``list_only``: the list alone)."""
    clock = time.perf_counter
    ctx = open_ctx(workspace)
    listed = ctx.list_runs()
    cold = clock() - started
    out: dict[str, Any] = {
        "runs_listed": len(listed),
        "cold_open_list_s": cold,
        "import_s": import_seconds,
    }
    ids = [r.run_id for r in listed]
    out["list_runs"] = median_of([timed(ctx.list_runs)[0] for _ in range(reps)])
    if list_only:
        close_ctx(ctx)  # saves what this process folded, as any well-behaved reader does
        return out
    stage = "evaluate" if w.stages > 1 else "train"
    first, best = timed(lambda: ctx.select_best_run(ids, "accuracy", stage_name=stage))
    out["select_best_first_s"] = first
    out["select_best_answer"] = str(best).rsplit(".", 1)[-1]
    out["select_best"] = median_of(
        [
            timed(lambda: ctx.select_best_run(ids, "accuracy", stage_name=stage))[0]
            for _ in range(reps if select_reps is None else select_reps)
        ]
    )
    picks = spread_indices(len(ids), reps + 1)
    snap = [timed(lambda i=i: ctx.get_run_snapshot(ids[i]))[0] for i in picks]
    out["snapshot_first_s"] = snap[0]
    out["snapshot"] = median_of(snap[1:] or snap)
    out["snapshot_records"] = len(ctx.get_run_snapshot(ids[picks[0]]).records)
    pairs = [(ids[i], ids[(i + len(ids) // 2 + 1) % len(ids)]) for i in picks]
    comp = [timed(lambda a=a, b=b: ctx.compare_runs(a, b))[0] for a, b in pairs]
    out["compare_first_s"] = comp[0]
    out["compare"] = median_of(comp[1:] or comp)
    close_ctx(ctx)
    return out


def single_appends(workspace: Path, n: int) -> dict[str, Any]:
    """Latency of ``n`` single ``append`` calls and the rate of ``append_many`` over 100-record
    batches, records built beforehand (one run, one stage)."""
    from contexta.contract import MetricPayload, MetricRecord, Project, RecordEnvelope, Run

    ctx = open_ctx(workspace)
    ctx.metadata_store.projects.put_project(
        Project(project_ref=f"project:{PROJECT}", name=PROJECT, created_at="2024-12-31T00:00:00Z")
    )
    ctx.metadata_store.runs.put_run(
        Run(
            run_ref=f"run:{PROJECT}.loop",
            project_ref=f"project:{PROJECT}",
            name="loop",
            status="open",
            started_at="2025-01-01T00:00:00Z",
        )
    )

    def build(prefix: str, count: int) -> list[Any]:
        out = []
        for i in range(count):
            at = f"2025-01-01T00:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000000:06d}Z"
            out.append(
                MetricRecord(
                    envelope=RecordEnvelope(
                        record_ref=f"record:{PROJECT}.loop.{prefix}{i}",
                        record_type="metric",
                        recorded_at=at,
                        observed_at=at,
                        producer_ref="bench",
                        run_ref=f"run:{PROJECT}.loop",
                    ),
                    payload=MetricPayload(
                        metric_key="loss", value=float(i % 97), value_type="float64"
                    ),
                )
            )
        return out

    t, singles = timed(lambda: build("s", n))
    build_us = t / n * 1e6
    clock = time.perf_counter_ns
    append = ctx.record_store.append
    lat = []
    for rec in singles:
        t0 = clock()
        append(rec)
        lat.append(clock() - t0)
    lat.sort()
    many = build("b", n)
    append_many = ctx.record_store.append_many
    t0 = time.perf_counter()
    for i in range(0, n, 100):
        append_many(many[i : i + 100])
    flush = getattr(ctx.record_store, "flush", None)
    if flush is not None:  # 1.0 writes through
        flush()
    many_s = time.perf_counter() - t0
    close_ctx(ctx)
    return {
        "single_append_median_us": lat[len(lat) // 2] / 1000.0,
        "single_append_p99_us": lat[int(len(lat) * 0.99)] / 1000.0,
        "single_append_per_s": n / (sum(lat) / 1e9),
        "append_many_per_s": n / many_s,
        "build_record_us": build_us,
        "n": n,
    }
