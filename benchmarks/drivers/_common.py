"""Helpers every driver shares: argument parsing, JSON on stdout, peak RSS, bytes on disk.

A driver is run as ``python DRIVER PHASE --workload JSON --workspace DIR [--options JSON]`` in its
own process (under its own interpreter) and prints exactly one JSON object on its last stdout
line. Standard library only: this module runs under Python 3.11 and 3.13 alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(1, str(HERE.parent))  # benchmarks/ (for ``workload``), never the repo root

from workload import Workload  # noqa: E402

__all__ = [
    "Workload",
    "append_run",
    "dir_bytes",
    "emit",
    "median_of",
    "parse",
    "peak_rss_mb",
    "read_run",
    "timed",
]


def append_run(w: Workload) -> int:
    """The run the ``append`` probes write into (the middle one)."""
    return w.runs // 2


def read_run(w: Workload) -> int:
    """The run the single-run read probes read (snapshot, as-of, history, replay, compare):
    the one after the middle one, never the one the ``append`` probes write into, so it keeps
    the workload's records however many times the harness ran on a cached workspace. (Until
    2026-12-03 both were the middle run: on the cached 100k workspace it had 516 records, not
    131, each probe's appends spread over the ledger.)"""
    return min(w.runs - 1, w.runs // 2 + 1)


def parse(phases: tuple[str, ...]) -> tuple[str, Workload, Path, dict[str, Any]]:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=phases)
    parser.add_argument("--workload", required=True, help="Workload fields as JSON")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--options", default="{}")
    args = parser.parse_args()
    return (
        args.phase,
        Workload(**json.loads(args.workload)),
        Path(args.workspace),
        json.loads(args.options),
    )


def emit(result: dict[str, Any]) -> None:
    result.setdefault("peak_rss_mb", peak_rss_mb())
    result.setdefault("python", sys.version.split()[0])
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size of this process (or its waited-for children) in MiB."""
    return round(resource.getrusage(who).ru_maxrss / 1024.0, 1)


def dir_bytes(path: Path) -> int:
    """Bytes of every regular file under ``path`` (what the workspace costs on disk)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median_of(samples: list[float]) -> dict[str, float]:
    """Median, min and max of timing samples (seconds), plus how many."""
    if not samples:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
    }


def spread_indices(total: int, count: int) -> list[int]:
    """``count`` distinct indices spread evenly over ``range(total)``."""
    count = max(1, min(count, total))
    step = total / count
    return sorted({min(total - 1, int(i * step + step / 2)) for i in range(count)})
