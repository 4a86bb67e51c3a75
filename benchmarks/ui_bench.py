"""Web UI answers, timed over HTTP against a server in this process (warm medians).

    uv run python -m benchmarks.ui_bench [--runs 10000,100000] [--steps 1000000] [--reps 15]

For each size: a workspace of N runs (one ``evaluate`` stage, ``accuracy`` and ``loss`` each),
then ``/api/table`` first page (50 rows) sorted by start time and by a metric column, and a
filtered page. Then one run with a series of S steps: the whole curve reduced to 1,000 pixel
buckets, and a zoomed window of 1,000 steps (exact points). The first request of each kind
(cold: projections folded, caches built) is reported apart; the median of the next ``reps``
is the warm figure. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from contexta import Contexta
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
)
from contexta.surfaces.http import make_server

START = "2025-01-01T00:00:00Z"


def _metric(
    run: str, key: str, value: float, stage: str | None, i: int, step: int | None = None
) -> MetricRecord:
    tags = None if step is None else {"step": str(step)}
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{run[4:]}.{key}{i}",
            record_type="metric",
            recorded_at=START,
            observed_at=START,
            producer_ref="bench",
            run_ref=run,
            stage_execution_ref=stage,
        ),
        payload=MetricPayload(metric_key=key, value=value, value_type="float64", tags=tags),
    )


def write_runs(root: Path, runs: int) -> Contexta:
    ctx = Contexta(workspace=root)
    ms = ctx.metadata_store
    ms.projects.put_project(Project(project_ref="project:bench", name="bench", created_at=START))
    records = []
    for i in range(runs):
        run = f"run:bench.r{i:06d}"
        started = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
        ms.runs.put_run(
            Run(
                run_ref=run,
                project_ref="project:bench",
                name=f"r{i:06d}",
                status="failed" if i % 17 == 0 else "completed",
                started_at=started,
                ended_at=started,
            )
        )
        stage = f"stage:bench.r{i:06d}.evaluate"
        ms.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref=stage,
                run_ref=run,
                stage_name="evaluate",
                status="completed",
                started_at=started,
                ended_at=started,
            )
        )
        records.append(_metric(run, "accuracy", (i * 7919 % 10007) / 10007, stage, i))
        records.append(_metric(run, "loss", (i * 104729 % 10007) / 10007, stage, i))
        if len(records) >= 20_000:
            ctx.record_store.append_many(records)
            records = []
    if records:
        ctx.record_store.append_many(records)
    ctx.flush()
    return ctx


def write_series(root: Path, steps: int) -> Contexta:
    ctx = Contexta(workspace=root)
    ms = ctx.metadata_store
    ms.projects.put_project(Project(project_ref="project:big", name="big", created_at=START))
    ms.runs.put_run(
        Run(
            run_ref="run:big.long",
            project_ref="project:big",
            name="long",
            status="completed",
            started_at=START,
            ended_at=START,
        )
    )
    batch = []
    for step in range(steps):
        value = 1.0 / (1.0 + step / 1000.0) + (50.0 if step == steps * 2 // 3 else 0.0)
        batch.append(_metric("run:big.long", "loss", value, None, step, step))
        if len(batch) == 50_000:
            ctx.record_store.append_many(batch)
            batch = []
    if batch:
        ctx.record_store.append_many(batch)
    ctx.flush()
    return ctx


def timed(base: str, path: str, reps: int) -> dict[str, Any]:
    def once() -> tuple[float, Any]:
        t0 = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=600) as response:
            body = json.loads(response.read())
        return time.perf_counter() - t0, body

    cold, body = once()
    warm = [once()[0] for _ in range(reps)]
    return {
        "path": path,
        "cold_ms": cold * 1000,
        "warm_median_ms": statistics.median(warm) * 1000,
        "warm_p90_ms": sorted(warm)[int(len(warm) * 0.9) - 1] * 1000,
        "body": body,
    }


def serve(ctx: Contexta) -> tuple[Any, str]:
    server = make_server(ctx, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="10000,100000")
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for n in [int(x) for x in args.runs.split(",") if x]:
            t0 = time.perf_counter()
            ctx = write_runs(Path(scratch) / f"runs-{n}", n)
            print(f"wrote {n:,} runs in {time.perf_counter() - t0:.0f} s", flush=True)
            server, base = serve(ctx)
            for label, path in (
                ("first page, by start time", "/api/table?project=bench&limit=50"),
                (
                    "first page, by evaluate/accuracy",
                    "/api/table?project=bench&limit=50&sort=evaluate/accuracy",
                ),
                (
                    "filtered page (status, metric)",
                    "/api/table?project=bench&limit=50&status=completed&where=evaluate/loss<0.2&sort=evaluate/loss&desc=false",
                ),
            ):
                result = timed(base, path, args.reps)
                rows.append((f"{n:,} runs: {label}", result))
                print(rows[-1][0], f"{result['warm_median_ms']:.1f} ms", flush=True)
            server.shutdown()
            server.server_close()
            ctx.close()
        if args.steps:
            t0 = time.perf_counter()
            ctx = write_series(Path(scratch) / "series", args.steps)
            print(f"wrote {args.steps:,} steps in {time.perf_counter() - t0:.0f} s", flush=True)
            server, base = serve(ctx)
            mid = args.steps * 2 // 3
            for label, path in (
                (
                    f"{args.steps:,}-point curve, reduced to 1,000 buckets",
                    "/api/series?runs=big.long&key=loss&width=1000",
                ),
                (
                    "zoomed window of 1,000 steps (exact)",
                    f"/api/series?runs=big.long&key=loss&width=1000&from={mid - 500}&to={mid + 499}",
                ),
            ):
                result = timed(base, path, args.reps)
                rows.append((label, result))
                print(label, f"{result['warm_median_ms']:.1f} ms", flush=True)
            server.shutdown()
            server.server_close()
            ctx.close()
    print("\n| request | cold (first) ms | warm median ms | warm p90 ms | answer |")
    print("|---|---:|---:|---:|---|")
    for label, r in rows:
        body = r["body"]
        if "series" in body:
            s = body["series"][0]
            what = f"{len(s['x']):,} points of {s['in_window']:,}, exact={s['exact']}, max={max(s['y']):.2f}"
        else:
            what = f"{len(body['rows'])} rows of {body['matched']:,} matching"
        print(
            f"| {label} | {r['cold_ms']:.0f} | {r['warm_median_ms']:.1f} | {r['warm_p90_ms']:.1f} | {what} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
