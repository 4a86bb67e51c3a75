"""The cost of 1.0's default local capture copy (``cache/capture/record.jsonl``) in a training
loop: CPU seconds for N ``stage.metric`` calls (loop, flush and close included, every thread
of the process counted), with ``sinks=[]`` (no copy) and with the default copy, each run in its
own process, alternating, median of the repetitions.

    uv run python -m benchmarks.capture_copy [--calls 60000] [--reps 7]
    uv run python -m benchmarks.capture_copy --one default WORKDIR   # one measurement
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(mode: str, work: Path, calls: int) -> dict[str, float]:
    from contexta import Contexta

    sinks = [] if mode == "no-copy" else None
    ctx = Contexta(
        workspace=str(work / ".contexta"),
        sinks=sinks,
        config={"project_name": "bench", "capture": {"capture_environment_snapshot": False}},
    )
    with ctx.run("warm") as run, run.stage("train") as stage:
        for step in range(1000):
            stage.metric("loss", 1.0 / (step + 1), step=step)
    ctx.flush()
    cpu, wall = time.process_time(), time.perf_counter()
    with ctx.run("loop") as run, run.stage("train") as stage:
        for step in range(calls):
            stage.metric("loss", 1.0 / (step + 1), step=step)
    ctx.close()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    copy = work / ".contexta" / "cache" / "capture" / "record.jsonl"
    lines = sum(1 for _ in copy.open("rb")) if copy.exists() else 0
    return {"cpu_s": cpu, "wall_s": wall, "copy_lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--one", nargs=2, metavar=("MODE", "WORKDIR"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], Path(args.one[1]), args.calls)))
        return
    results: dict[str, list[float]] = {"no-copy": [], "default": []}
    for rep in range(args.reps):
        order = ["no-copy", "default"] if rep % 2 == 0 else ["default", "no-copy"]
        for mode in order:
            with tempfile.TemporaryDirectory() as tmp:
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.capture_copy",
                        "--calls",
                        str(args.calls),
                        "--one",
                        mode,
                        tmp,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                got = json.loads(done.stdout)
                results[mode].append(got["cpu_s"])
                if mode == "default":
                    assert got["copy_lines"] == args.calls + 1000, got
    for mode, values in results.items():
        median = statistics.median(values)
        print(
            f"{mode:8} median CPU {median:6.3f} s  ({args.calls / median:8.0f} metrics/s)  "
            f"runs: {', '.join(f'{v:.3f}' for v in values)}"
        )
    ratio = statistics.median(results["default"]) / statistics.median(results["no-copy"])
    print(f"default / no-copy: {ratio:.3f}")


if __name__ == "__main__":
    main()
