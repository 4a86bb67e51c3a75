"""Run the benchmark: this project, Contexta 1.0 and MLflow, side by side.

``uv run python -m benchmarks.run --quick`` (a few minutes) or ``... -m benchmarks.run`` (the
full run). Every measurement runs a driver (``benchmarks/drivers/*.py``) in its own process under
its tool's interpreter; tools alternate within each repetition (A/B/C, then B/C/A, ...). Results
are written to ``benchmarks/results/<mode>.json`` and printed as tables (``benchmarks.report``);
``--readme`` also regenerates the results section of ``benchmarks/README.md``.

Groups:

``side``     the same small workload through all three tools: ingest, then queries in a new
             process (cold open + list, warm list, snapshot, compare, select-best), bytes, RSS;
``loop``     a training loop: single-append latency and batched-append rate, all three tools;
``scale``    this project only, on the target workspace (10,000 runs x 3 stages x 10 metrics +
             a 100-step series): ingest, queries in a new process, ``projections rebuild``;
``list100k`` this project only: 100,000 runs, open + list_runs in a new process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .report import render, summarize, write_readme
from .workload import STAGE_NAMES, Workload

HERE = Path(__file__).resolve().parent
DRIVERS = HERE / "drivers"
RESULTS = HERE / "results"
TOOLS = ("ours", "contexta10", "mlflow")
SCRIPTS = {"ours": "ours.py", "contexta10": "contexta10.py", "mlflow": "mlflow_driver.py"}
ENV_VARS = {"contexta10": "CONTEXTA10_PYTHON", "mlflow": "MLFLOW_PYTHON"}
PEER_MODULES = {"contexta10": "contexta", "mlflow": "mlflow"}


@dataclass(frozen=True)
class Plan:
    side: Workload
    side_reps: int
    scale: Workload
    scale_reps: int
    list_runs: int
    list_reps: int
    loop_reps: int
    loop_n: dict[str, int] = field(default_factory=dict)
    query_reps: dict[str, int] = field(default_factory=dict)


SHAPE = dict(stages=3, metrics=10, steps=100)
PLANS = {
    "quick": Plan(
        side=Workload(runs=5, **SHAPE),
        side_reps=2,
        scale=Workload(runs=2_000, **SHAPE),
        scale_reps=1,
        list_runs=100_000,
        list_reps=1,
        loop_reps=2,
        loop_n={"ours": 20_000, "contexta10": 100, "mlflow": 100},
        query_reps={"ours": 5, "contexta10": 2, "mlflow": 3},
    ),
    "full": Plan(
        side=Workload(runs=10, **SHAPE),
        side_reps=3,
        scale=Workload(runs=10_000, **SHAPE),
        scale_reps=2,
        list_runs=100_000,
        list_reps=2,
        loop_reps=3,
        loop_n={"ours": 100_000, "contexta10": 300, "mlflow": 300},
        query_reps={"ours": 15, "contexta10": 3, "mlflow": 7},
    ),
}


# ---------------------------------------------------------------------- interpreters


def venv_root() -> Path:
    return Path(os.environ.get("BENCH_VENVS", Path.home() / ".cache" / "contexta-bench"))


def _imports(python: str, module: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-I", "-c", f"import {module}"], capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def interpreter(tool: str) -> str | None:
    """The Python that runs ``tool``'s driver: this one for ours; for a peer, $<TOOL>_PYTHON, the
    venv made by ``setup_peers.sh``, or /work/c10venv, the first that imports the package."""
    if tool == "ours":
        return sys.executable
    candidates = [
        os.environ.get(ENV_VARS[tool]),
        str(venv_root() / tool / "bin" / "python"),
        "/work/c10venv/bin/python",
        "/root/c10/bin/python",
    ]
    for python in candidates:
        if python and Path(python).exists() and _imports(python, PEER_MODULES[tool]):
            return python
    return None


def setup_peers() -> None:
    subprocess.run(["bash", str(HERE / "setup_peers.sh")], check=True)


# ---------------------------------------------------------------------- drivers


class DriverError(RuntimeError):
    pass


def call(
    python: str,
    tool: str,
    phase: str,
    workload: Workload,
    workspace: Path,
    options: dict[str, Any] | None = None,
    timeout: float = 1800,
) -> dict[str, Any]:
    """Run one driver phase in a fresh process; returns its JSON result."""
    cmd = [
        python,
        str(DRIVERS / SCRIPTS[tool]),
        phase,
        "--workload",
        json.dumps(workload.to_dict()),
        "--workspace",
        str(workspace),
        "--options",
        json.dumps(options or {}),
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=str(workspace.parent),
        check=False,
    )
    if done.returncode != 0:
        raise DriverError(f"{tool} {phase} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise DriverError(f"{tool} {phase} printed no result:\n{done.stdout[-2000:]}")
    return json.loads(lines[-1])


def rotated(items: tuple[str, ...], rep: int) -> list[str]:
    k = rep % len(items)
    return list(items[k:] + items[:k])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- groups


def group_side(plan: Plan, pythons: dict[str, str], scratch: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {t: [] for t in pythons}
    w = plan.side
    for rep in range(plan.side_reps):
        for tool in rotated(tuple(pythons), rep):
            ws = scratch / f"side-{tool}-{rep}"
            ingest = call(pythons[tool], tool, "ingest", w, ws)
            query = call(pythons[tool], tool, "query", w, ws, {"reps": plan.query_reps[tool]})
            out[tool].append({"ingest": ingest, "query": query})
            log(
                f"side rep {rep + 1}/{plan.side_reps} {tool}: {ingest['events_per_s']:,.0f} events/s"
            )
            shutil.rmtree(ws, ignore_errors=True)
    return out


def group_loop(plan: Plan, pythons: dict[str, str], scratch: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {t: [] for t in pythons}
    for rep in range(plan.loop_reps):
        for tool in rotated(tuple(pythons), rep):
            ws = scratch / f"loop-{tool}-{rep}"
            n = plan.loop_n[tool]
            # the capture scope logs as many metrics as the append loops (a training loop's
            # steady state; the writer's one-off recovery scan at its first commit included)
            result = call(pythons[tool], tool, "loop", plan.side, ws, {"n": n, "scope_n": n})
            out[tool].append({"loop": result})
            log(
                f"loop rep {rep + 1}/{plan.loop_reps} {tool}: single append "
                f"{result['single_append_median_us']:.1f} us"
            )
            shutil.rmtree(ws, ignore_errors=True)
    return out


def group_scale(plan: Plan, python: str, scratch: Path) -> dict[str, list[dict]]:
    runs = []
    w = plan.scale
    for rep in range(plan.scale_reps):
        ws = scratch / f"scale-{rep}"
        ingest = call(python, "ours", "ingest", w, ws)
        log(
            f"scale rep {rep + 1}: ingest {ingest['events']:,} events, {ingest['events_per_s']:,.0f}/s"
        )
        # the first reader after the writer folds the runs projection from the ledger
        catch_up = call(python, "ours", "query", w, ws, {"reps": 1, "list_only": True})
        rebuild = call(python, "ours", "rebuild", w, ws)
        # and once more, as a user rebuilding a workspace whose projections are all saved
        again = call(python, "ours", "rebuild", w, ws)
        log(
            f"scale rep {rep + 1}: rebuild {rebuild['events_per_s']:,.0f} events/s, again "
            f"{again['events_per_s']:,.0f} events/s"
        )
        # steady state: every projection saved, a new process opens and queries
        query = call(python, "ours", "query", w, ws, {"reps": plan.query_reps["ours"]})
        log(
            f"scale rep {rep + 1}: open+list {query['cold_open_list_s']:.2f} s, select "
            f"{query['select_best']['median'] * 1000:.1f} ms, snapshot "
            f"{query['snapshot']['median'] * 1000:.1f} ms"
        )
        record = {
            "ingest": ingest,
            "catch_up": catch_up,
            "rebuild": rebuild,
            "rebuild_again": again,
            "query": query,
        }
        shutil.rmtree(ws, ignore_errors=True)
        runs.append(record)
    return {"ours": runs}


def group_list(plan: Plan, python: str, scratch: Path) -> dict[str, list[dict]]:
    runs = []
    w = Workload(runs=plan.list_runs, stages=1, metrics=1, steps=0)
    for rep in range(plan.list_reps):
        ws = scratch / f"list-{rep}"
        ingest = call(python, "ours", "ingest", w, ws, {"runs_only": True})
        query = call(python, "ours", "query", w, ws, {"reps": 5, "list_only": True})
        log(
            f"list100k rep {rep + 1}: open+list {query['cold_open_list_s']:.3f} s, warm list "
            f"{query['list_runs']['median']:.3f} s"
        )
        runs.append({"ingest": ingest, "query": query})
        shutil.rmtree(ws, ignore_errors=True)
    return {"ours": runs}


# ---------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem, 1),
        "platform": platform.platform(),
        "shared": True,
        "load_start": os.getloadavg()[0],
        "loop_ns_start": calibrate(),
    }


def calibrate() -> float:
    """Nanoseconds per iteration of an empty Python loop (best of 5): how fast this shared
    machine was at the time (about 15-25 ns on an unloaded modern core)."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(1_000_000):
            pass
        best = min(best, (time.perf_counter_ns() - start) / 1_000_000)
    return round(best, 1)


def expected_answers(plan: Plan) -> dict[str, str]:
    stage = STAGE_NAMES[1] if plan.side.stages > 1 else STAGE_NAMES[0]
    return {"side": plan.side.best_run(stage), "scale": plan.scale.best_run(stage)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="the short run (under five minutes)")
    parser.add_argument(
        "--groups",
        default="side,loop,scale,list100k",
        help="comma-separated subset of side,loop,scale,list100k",
    )
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of tools")
    parser.add_argument("--setup", action="store_true", help="create the peer venvs first (uv)")
    parser.add_argument(
        "--scale-runs", type=int, default=None, help="override the scale workload's P"
    )
    parser.add_argument("--out", default=None, help="results JSON (default results/<mode>.json)")
    parser.add_argument("--readme", action="store_true", help="regenerate benchmarks/README.md")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    plan = PLANS[mode]
    if args.scale_runs:
        plan = Plan(**{**plan.__dict__, "scale": plan.scale.scaled(args.scale_runs)})
    if args.setup:
        setup_peers()
    pythons: dict[str, str] = {}
    for tool in args.tools.split(","):
        python = interpreter(tool)
        if python is None:
            log(
                f"skipping {tool}: no interpreter with it installed (run with --setup or set "
                f"{ENV_VARS.get(tool, '')})"
            )
            continue
        pythons[tool] = python
    groups = [g for g in args.groups.split(",") if g]
    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": mode,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "interpreters": pythons,
        "workloads": {
            "side": plan.side.to_dict(),
            "scale": plan.scale.to_dict(),
            "list100k": {"runs": plan.list_runs},
        },
        "reps": {
            "side": plan.side_reps,
            "loop": plan.loop_reps,
            "scale": plan.scale_reps,
            "list100k": plan.list_reps,
        },
        "expected": expected_answers(plan),
        "groups": {},
    }
    with tempfile.TemporaryDirectory(prefix="contexta-bench-") as tmp:
        scratch = Path(tmp)
        if "side" in groups:
            results["groups"]["side"] = group_side(plan, pythons, scratch)
        if "loop" in groups:
            results["groups"]["loop"] = group_loop(plan, pythons, scratch)
        if "ours" in pythons and "scale" in groups:
            results["groups"]["scale"] = group_scale(plan, pythons["ours"], scratch)
        if "ours" in pythons and "list100k" in groups:
            results["groups"]["list100k"] = group_list(plan, pythons["ours"], scratch)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_end"] = os.getloadavg()[0]
    results["machine"]["loop_ns_end"] = calibrate()
    results["summary"] = summarize(results)
    out = Path(args.out) if args.out else RESULTS / f"{mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(render(results))
    log(f"results in {out} ({results['seconds']} s)")
    if args.readme:
        write_readme(results, HERE / "README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
