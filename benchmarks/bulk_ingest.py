"""Bulk ingest rates on the same metric points, and the peak RSS of a many-run ingest.

    uv run python -m benchmarks.bulk_ingest [--points 200000] [--reps 5] [--rss-runs 10000]

Prints, medians of ``--reps`` (each rep a fresh workspace, the clock around the write and
the final flush only; inputs are built before):
- ``record_store.append_many`` of MetricRecords (the 1.0 API),
- ``ctx.log_metrics`` of the same points as columns (the columnar API),
- ``Ledger.append_many`` of the same points as ledger events (their bodies encoded before);
then the peak RSS of a child process ingesting ``--rss-runs`` runs x 135 points through
``record_store.append_many`` (one call per run), with the default ref cap and unbounded.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

AT = "2025-01-01T00:00:00.000001Z"


def _records(run: str, n: int, offset: int = 0) -> list[Any]:
    from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

    return [
        MetricRecord(
            envelope=RecordEnvelope(
                record_ref=f"record:{run}.m-{offset + i}",
                record_type="metric",
                recorded_at=AT,
                observed_at=AT,
                producer_ref="bench",
                run_ref=f"run:{run}",
                stage_execution_ref=f"stage:{run}.train",
            ),
            payload=MetricPayload(
                metric_key="train.loss",
                value=1.0 / (i + 1),
                value_type="float",
                tags={"step": str(i)},
            ),
        )
        for i in range(n)
    ]


def _open(root: Path) -> Any:
    from contexta import Contexta

    ctx = Contexta(workspace=root)
    with ctx.run("bench"):
        pass
    ctx.flush()
    return ctx


def bench_append_many(root: Path, n: int) -> float:
    ctx = _open(root)
    records = _records("default.bench", n)
    start = time.perf_counter()
    for i in range(0, n, 10_000):
        ctx.record_store.append_many(records[i : i + 10_000])
    ctx.flush()
    elapsed = time.perf_counter() - start
    ctx.close()
    return n / elapsed


def bench_columns(root: Path, n: int) -> float:
    ctx = _open(root)
    steps = pa.array(range(n), pa.int64())
    values = pa.array([1.0 / (i + 1) for i in range(n)], pa.float64())
    start = time.perf_counter()
    ctx.log_metrics(
        run="run:default.bench", stage="train", key="train.loss", steps=steps, values=values
    )
    ctx.flush()
    elapsed = time.perf_counter() - start
    ctx.close()
    return n / elapsed


def bench_ledger(root: Path, n: int) -> float:
    from contexta.contract.codec import ENCODER
    from contexta.store.record_store import fast_record_event

    ctx = _open(root)
    events = [
        fast_record_event(r, str(r.envelope.record_ref), "bench", ENCODER.encode(r))
        for r in _records("default.bench", n)
    ]
    ledger = ctx._workspace.ledger
    start = time.perf_counter()
    for i in range(0, n, 10_000):
        ledger.append_many(events[i : i + 10_000])
    ledger.flush()
    elapsed = time.perf_counter() - start
    ctx.close()
    return n / elapsed


def rss_child(root: str, runs: int, cap: int) -> None:
    """Ingest ``runs`` runs x 135 points; print the peak RSS in MiB."""
    from contexta import Contexta

    ctx = Contexta(workspace=root)
    store = ctx.record_store
    if cap:
        store.ref_cache_max = cap
    start = time.perf_counter()
    for r in range(runs):
        store.append_many(_records(f"default.run{r}", 135))
    ctx.flush()
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mib": round(peak), "seconds": round(elapsed, 1)}))
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rss-runs", type=int, default=10_000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        rss_child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    for name, fn in (
        ("record_store.append_many", bench_append_many),
        ("ctx.log_metrics (columns)", bench_columns),
        ("Ledger.append_many", bench_ledger),
    ):
        rates = []
        for _ in range(args.reps):
            with tempfile.TemporaryDirectory() as tmp:
                rates.append(fn(Path(tmp) / "ws", args.points))
        print(
            f"{name:28s} median {statistics.median(rates):>10,.0f} events/s "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f}, {args.points:,} points, "
            f"{args.reps} reps)",
            flush=True,
        )
    if args.rss_runs:
        for label, cap in (("default ref cap", 0), ("unbounded refs", 1 << 62)):
            with tempfile.TemporaryDirectory() as tmp:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.bulk_ingest",
                        "--child",
                        str(Path(tmp) / "ws"),
                        str(args.rss_runs),
                        str(cap),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
            found = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"ingest {args.rss_runs:,} runs x 135 points ({label}): peak RSS "
                f"{found['peak_mib']} MiB in {found['seconds']} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
