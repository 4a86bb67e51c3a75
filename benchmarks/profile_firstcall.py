"""Profile one first call of a new process against a workspace of ``benchmarks.newproc``.

``uv run python benchmarks/profile_firstcall.py PROBE WORKSPACE RUNS [--top N] [--all]``

PROBE is ``snapshot``, ``best``, ``as_of`` or ``list``. The interpreter start and the imports are
not profiled (``python -X importtime`` shows those); the open of the workspace and the call are,
each under its own cProfile, and the top functions by cumulative time are printed (this
project's functions only unless ``--all``), then whether the process imported pandas.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _report(profile: cProfile.Profile, title: str, top: int, everything: bool) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
    if everything:
        stats.print_stats(top)
    else:
        stats.print_stats(r"contexta|ledger|projections", top)
    lines = [line[:200] for line in out.getvalue().splitlines() if line.strip()]
    print(f"== {title}")
    print("\n".join(lines[3:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("probe", choices=("snapshot", "best", "as_of", "list"))
    parser.add_argument("workspace")
    parser.add_argument("runs", type=int)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--all", action="store_true", help="every function, not only ours")
    args = parser.parse_args()

    started = time.perf_counter()
    from contexta import Contexta
    from contexta.config import UnifiedConfig, WorkspaceConfig

    imported = time.perf_counter()
    names = [f"bench.r{i:06d}" for i in range(args.runs)]
    run = names[args.runs // 2]
    opening = cProfile.Profile()
    opening.enable()
    ctx = Contexta(
        config=UnifiedConfig(
            project_name="bench", workspace=WorkspaceConfig(root_path=Path(args.workspace))
        )
    )
    opening.disable()
    opened = time.perf_counter()
    calls: dict[str, Any] = {
        "snapshot": lambda: ctx.get_run_snapshot(run),
        "best": lambda: ctx.select_best_run(names, "accuracy", stage_name="evaluate"),
        "as_of": lambda: ctx.as_of(datetime.now(UTC)).get_run_snapshot(run),
        "list": lambda: ctx.list_runs(),
    }
    calling = cProfile.Profile()
    calling.enable()
    calls[args.probe]()
    calling.disable()
    done = time.perf_counter()
    _report(opening, "open", args.top, args.all)
    _report(calling, f"first {args.probe}", args.top, args.all)
    print(
        f"import {imported - started:.3f} s, open {opened - imported:.3f} s, "
        f"call {done - opened:.3f} s (profiled); pandas imported: {'pandas' in sys.modules}"
    )
    ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
