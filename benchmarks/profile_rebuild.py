"""Where a projection rebuild spends its time: ``uv run python -m benchmarks.profile_rebuild WS``.

Rebuilds the projections of workspace ``WS`` (its ledger is only read; its saved projections
are replaced, as ``contexta projections rebuild`` does) in this process and prints events/s,
CPU seconds and peak RSS, with ``--no-save`` the fold alone, with ``--profile N`` the top ``N``
functions of a cProfile run by cumulative and by own time, and with ``--reps R`` the median
of ``R`` rebuilds (each in a new process, so peak RSS is per rebuild). ``--generate RUNS``
first writes a ledger of the harness's shape (per run: a run, 3 stages, 30 metrics, a 100-step
series and an event: 135 events) into ``WS`` without the 1.0 API, much faster than the
harness's ingest, for rebuilds at 100k runs (13.5M events).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _once(workspace: Path, save: bool, profile: int) -> dict[str, float]:
    from ledger import LedgerReader
    from projections import Projector

    reader = LedgerReader(workspace / "ledger")
    projector = Projector(reader, workspace / "projections")
    cpu0 = time.process_time()
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    stats = projector.rebuild(save=save)
    if profiler is not None:
        profiler.disable()
    cpu = time.process_time() - cpu0
    if profiler is not None:
        for key in ("cumulative", "tottime"):
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(key).print_stats(profile)
    return {
        "events": stats.events,
        "seconds": stats.seconds,
        "events_per_s": stats.events_per_second,
        "cpu_s": cpu,
        "cpu_events_per_s": stats.events / cpu if cpu > 0 else float("inf"),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def generate(workspace: Path, runs: int) -> int:
    """Write ``runs`` runs of the harness's shape into a new ledger at ``workspace``."""
    from ledger import Ledger, PendingEvent

    ledger = Ledger(workspace / "ledger", buffer_max_events=65_536)
    base = 1_735_689_600_000_000
    body = b'{"value": 0.5, "unit": null, "tags": {"source": "bench"}, "note": "x"}'
    events = 0
    for r in range(runs):
        run = f"run:bench.r{r:06d}"
        t = base + r * 1_000_000
        batch = [PendingEvent("run.put", run, "project:bench", run, None, t, f"r{r}", body=body)]
        for s, stage in enumerate(("prepare", "train", "evaluate")):
            sref = f"stage:bench.r{r:06d}.{stage}"
            batch.append(PendingEvent("stage.put", sref, None, run, sref, t + s, stage, body=body))
            for m in range(10):
                batch.append(
                    PendingEvent(
                        "record.metric",
                        f"record:bench.r{r:06d}.m{s}{m}",
                        None,
                        run,
                        sref,
                        t + s * 100 + m,
                        f"metric-{m}",
                        float(m + r % 7),
                        None,
                        None,
                        body,
                    )
                )
        train = f"stage:bench.r{r:06d}.train"
        for step in range(100):
            batch.append(
                PendingEvent(
                    "record.metric",
                    f"record:bench.r{r:06d}.s{step}",
                    None,
                    run,
                    train,
                    t + 1000 + step,
                    "step-loss",
                    1.0 / (step + 1),
                    step,
                    None,
                    body,
                )
            )
        batch.append(
            PendingEvent(
                "record.event", f"record:bench.r{r:06d}.e", None, run, None, t, "done", body=body
            )
        )
        ledger.append_many(batch)
        events += len(batch)
    ledger.close()
    return events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_rebuild")
    parser.add_argument("workspace")
    parser.add_argument("--no-save", action="store_true", help="fold only, save nothing")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--reps", type=int, default=1, help="rebuilds, each in a new process")
    parser.add_argument("--generate", type=int, default=0, help="write a ledger of N runs first")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workspace = Path(args.workspace).resolve()
    if args.generate:
        print(json.dumps({"generated_events": generate(workspace, args.generate)}), flush=True)
    if args.child or (args.reps == 1 and args.profile):
        print(json.dumps(_once(workspace, not args.no_save, args.profile)))
        return 0
    cmd = [sys.executable, "-m", "benchmarks.profile_rebuild", str(workspace), "--child"]
    if args.no_save:
        cmd.append("--no-save")
    results = []
    for rep in range(args.reps):
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(f"rep {rep + 1}: {json.dumps(results[-1])}", flush=True)
    summary = {
        key: statistics.median(r[key] for r in results)
        for key in ("events_per_s", "cpu_events_per_s", "peak_rss_mib", "seconds")
    }
    summary["load_average"] = os.getloadavg()[0]
    summary["events"] = results[0]["events"]
    summary["spread_events_per_s"] = [
        min(r["events_per_s"] for r in results),
        max(r["events_per_s"] for r in results),
    ]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
