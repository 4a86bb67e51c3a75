"""Latency of ``ctx.watch``: a writer's commit returning -> the watcher yielding that event.

``uv run python -m benchmarks.watch_latency`` (about a minute; ``--commits N`` to change the
size). A watcher process follows a fresh workspace with ``ctx.watch(kinds="metric")``; this
process writes metrics through ``ctx.record_store`` and ``ctx.flush()``. Each metric's value is
its index, and the writer notes ``time.monotonic_ns()`` when ``flush()`` (the commit) returns;
the watcher notes ``time.monotonic_ns()`` when ``watch`` yields the event. Both use Linux's
system-wide monotonic clock, so the difference is the end-to-end latency. Scenarios:

``paced``   one metric per commit, a commit every 2-8 ms (random): each commit is its own wake;
``bursts``  commits of 100 metrics, 20 ms apart: every event of a burst is timed against its
            commit;
``no-file-events``  like ``paced`` at a slower pace (50-100 ms), with watchfiles replaced by
            a watcher that never reports a change, so only the 250 ms HEAD poll wakes the reader:
            the bound on what a missed file event costs.

Before the writer starts, the idle watcher's CPU use is read from ``/proc`` over 3 s. Prints a
table and writes ``benchmarks/results/watch_latency.md``. It measures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "watch_latency.md"
IDLE_SECONDS = 3.0


# ---------------------------------------------------------------------- watcher process


def watcher(workspace: str, expect: int, out: str, deaf: bool) -> None:
    """Follow ``workspace`` until ``expect`` metrics arrived; dump ``{value: yield_ns}``."""
    if deaf:  # no file events at all: only the HEAD poll wakes the reader
        import watchfiles

        def never(*args: Any, rust_timeout: int, **kwargs: Any) -> Any:
            while True:
                time.sleep(rust_timeout / 1000)
                yield set()

        watchfiles.watch = never  # type: ignore[assignment]
    from contexta import Contexta

    ctx = Contexta(workspace=workspace)
    events = ctx.watch(kinds="metric", timeout=60)
    print("ready", flush=True)
    seen: dict[int, int] = {}
    for event in events:
        seen[int(event.value)] = time.monotonic_ns()
        if len(seen) >= expect:
            break
    events.close()
    Path(out).write_text(json.dumps(seen))


# ---------------------------------------------------------------------- writer (this process)


def _metric(i: int) -> Any:
    from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:bench.live.m{i}",
            record_type="metric",
            recorded_at="2026-01-01T00:00:00Z",
            observed_at="2026-01-01T00:00:00Z",
            producer_ref="benchmarks.watch-latency",
            run_ref="run:bench.live",
        ),
        payload=MetricPayload(metric_key="loss", value=float(i), value_type="float64"),
    )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scenario(
    name: str, commits: int, per_commit: int, pause_ms: tuple[float, float], deaf: bool = False
) -> dict[str, Any]:
    from contexta import Contexta
    from contexta.contract import Project, Run

    with tempfile.TemporaryDirectory(prefix="watch-latency-") as tmp:
        workspace = str(Path(tmp) / "ws")
        writer = Contexta(workspace=workspace)
        writer.metadata_store.projects.put_project(
            Project(project_ref="project:bench", name="bench", created_at="2026-01-01T00:00:00Z")
        )
        writer.metadata_store.runs.put_run(
            Run(
                run_ref="run:bench.live",
                project_ref="project:bench",
                name="live",
                status="open",
                started_at="2026-01-01T00:00:00Z",
            )
        )
        writer.flush()
        total = commits * per_commit
        records = [_metric(i) for i in range(total)]
        out = Path(tmp) / "seen.json"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.watch_latency",
                "--role",
                "watcher",
                workspace,
                str(total),
                str(out),
            ]
            + (["--deaf"] if deaf else []),
            stdout=subprocess.PIPE,
            text=True,
            cwd=HERE.parent,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready"
        cpu0 = _cpu_seconds(proc.pid)
        time.sleep(IDLE_SECONDS)
        idle_cpu = (_cpu_seconds(proc.pid) - cpu0) / IDLE_SECONDS
        committed: list[int] = []
        rng = random.Random(7)
        for c in range(commits):
            writer.record_store.append_many(records[c * per_commit : (c + 1) * per_commit])
            writer.flush()
            now = time.monotonic_ns()
            committed.extend([now] * per_commit)
            time.sleep(rng.uniform(*pause_ms) / 1000)
        proc.wait(timeout=120)
        proc.stdout.close()
        seen = {int(k): v for k, v in json.loads(out.read_text()).items()}
    lat = sorted((seen[i] - committed[i]) / 1e6 for i in range(total))
    return {
        "scenario": name,
        "commits": commits,
        "events": total,
        "median_ms": statistics.median(lat),
        "p90_ms": _pct(lat, 90),
        "p99_ms": _pct(lat, 99),
        "max_ms": lat[-1],
        "min_ms": lat[0],
        "idle_cpu_pct": idle_cpu * 100,
    }


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| scenario | commits | events | median ms | p90 ms | p99 ms | max ms | "
        "idle watcher CPU |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    return head + "".join(
        f"| {r['scenario']} | {r['commits']} | {r['events']} | {r['median_ms']:.2f} | "
        f"{r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | {r['idle_cpu_pct']:.1f}% |\n"
        for r in rows
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", default="bench", choices=("bench", "watcher"))
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true", help="print only, no results file")
    parser.add_argument("--deaf", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.role == "watcher":
        workspace, expect, out = opts.args
        watcher(workspace, int(expect), out, opts.deaf)
        return
    from contexta.live import POLL_SECONDS, WAKE_STEP_MS

    load_before = os.getloadavg()[0]
    rows = [
        scenario("paced (1 metric per commit, every 2-8 ms)", opts.commits, 1, (2, 8)),
        scenario(
            "bursts (100 metrics per commit, every 20 ms)",
            max(10, opts.commits // 20),
            100,
            (20, 20),
        ),
        scenario(
            "no file events (HEAD poll only, every 50-100 ms)",
            max(50, opts.commits // 10),
            1,
            (50, 100),
            deaf=True,
        ),
    ]
    table = _table(rows)
    load = f"load average (1 min) {load_before:.1f} before and {os.getloadavg()[0]:.1f} after"
    print(table + "\n" + load)
    if opts.no_write:
        return
    import pyarrow
    import watchfiles

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        "# Watch latency: commit returns -> `ctx.watch` yields\n\n"
        "Measured by `uv run python -m benchmarks.watch_latency` on "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}: {os.cpu_count()} cores (shared), "
        f"Python {platform.python_version()}, pyarrow {pyarrow.__version__}, "
        f"watchfiles {watchfiles.__version__}; wake step {WAKE_STEP_MS} ms, HEAD poll "
        f"{POLL_SECONDS * 1000:.0f} ms. The writer and the watcher are separate processes; "
        "latency is from the writer's `flush()` returning to the watcher's `watch` yielding the "
        "event (CLOCK_MONOTONIC in both). The idle watcher CPU is its process's CPU time over "
        f"{IDLE_SECONDS:.0f} s with no commits, as a share of one core. Machine {load} (other "
        "work was running: on a shared 2-core machine the tails mostly measure waiting for a "
        "core).\n\n" + table
    )
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
