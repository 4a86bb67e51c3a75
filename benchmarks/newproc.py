"""What a NEW process pays, at 1k, 10k and 100k runs: first calls and warm calls of every query,
each probe in a process of its own, side by side with MLflow and Contexta 1.0.

``uv run python -m benchmarks.newproc`` (1k and 10k runs), ``... --full`` (also 100k runs),
``... --from-cache --full --readme`` (the final measurement: probes only, on the cached
workspaces, after ``projections rebuild`` with the code under test). The workload is the
harness's (3 stages x 10 metrics + a 100-step series + one event per run, 135 events per run).

Each workspace is built once through the 1.0 API and cached under ``--cache`` (rebuilt with
``--fresh``): ours at every scale, MLflow at 1k and 10k (``create_run`` + one ``log_batch`` per
run), Contexta 1.0 at ``--c10-runs`` (equal work: the same runs as ours at that scale). Then, per
scale, ``contexta projections rebuild`` is measured on ours (events/s, peak RSS), ingest is
measured on a scratch workspace when the cached one was not built by this invocation, and every
probe runs in a new process, tools and probes in rotated order over ``--reps`` repetitions. A
probe reports its first call (``call_s``), the process up to the end of that call (interpreter
start, import and open included), the peak RSS after it, and ``--warm`` repetitions of the same
call in the same process (warm: their median):

==============  ==============================================================  ============
probe           what                                                            per unit of
==============  ==============================================================  ============
snapshot        ``get_run_snapshot`` (MLflow: ``get_run`` + step history)        record
best            ``select_best_run`` over every run                                run
append          ``record_store.append`` into an existing run                     call
cli_best        ``contexta best accuracy --stage evaluate`` (the CLI's main)     run
as_of           ``as_of(now).get_run_snapshot``                                   record
history         ``list(history(run))`` (MLflow: ``get_metric_history``)          event
cli_replay      ``contexta audit replay --run RUN`` (the CLI's main)             event
list            ``list_runs`` (MLflow: ``search_runs``, paged)                   run
compare         ``compare_runs`` of two runs (MLflow: two ``get_run`` + a diff)   record
query           list, best, snapshot, as-of and compare in one process (RSS)     run
==============  ==============================================================  ============

The per-unit figure divides the call's time by the work it answers: flat from 1k to 100k runs
means a process pays for what it touches, not for the size of the ledger. The tables and the
targets are rendered by ``benchmarks/newproc_report.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .newproc_report import render, summarize_probe, write_readme
from .run import DRIVERS, RESULTS, interpreter, log, rotated
from .workload import Workload

SHAPE = {"stages": 3, "metrics": 10, "steps": 100}
PROBES = {
    "ours": (
        "snapshot",
        "best",
        "append",
        "cli_best",
        "as_of",
        "history",
        "cli_replay",
        "list",
        "compare",
        "query",
    ),
    "mlflow": ("snapshot", "best", "append", "history", "list", "compare", "query"),
    # 1.0 has neither as-of reads, nor history, nor these CLI commands
    "contexta10": ("snapshot", "best", "append", "list", "compare", "query"),
}
SCRIPTS = {
    "ours": "newproc_ours.py",
    "mlflow": "newproc_mlflow.py",
    "contexta10": "newproc_ours.py",
}
INGEST = {"ours": "ours.py", "mlflow": "mlflow_driver.py", "contexta10": "contexta10.py"}
MLFLOW_MAX_RUNS = 10_000
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: the checkout whose packages the current probe imports instead of this one (``--source``;
#: per variant with ``--variants``)
SOURCE: list[str] = []
#: variant tool name (``ours@NAME``) -> its checkout
VARIANTS: dict[str, str] = {}
DEFAULT_CACHE = Path(os.environ.get("NEWPROC_CACHE", "/work/bench-cache"))


def _env() -> dict[str, str]:
    """The children's environment: no inherited PYTHONPATH, and bytecode caches on (a user's
    installed packages have them; without them every new process compiles its imports)."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if SOURCE:
        env["PYTHONPATH"] = SOURCE[0]  # another checkout's packages (e.g. a baseline)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 4 * 3600) -> tuple[str, float]:
    """Run ``cmd``; (stdout, wall seconds). Drivers report their own peak RSS. A child that
    outlives ``timeout`` is killed (``subprocess.TimeoutExpired``)."""
    start = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=str(cwd), env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:3])} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return done.stdout, time.perf_counter() - start


def _driver(
    python: str,
    script: str,
    probe: str,
    w: Workload,
    ws: Path,
    options: dict[str, Any],
    timeout: float = 4 * 3600,
) -> dict[str, Any]:
    cmd = [
        python,
        str(DRIVERS / script),
        probe,
        "--workload",
        json.dumps(w.to_dict()),
        "--workspace",
        str(ws),
        "--options",
        json.dumps(options),
    ]
    out, wall = _run(cmd, ws.parent, timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1])
    result["wall_s"] = wall
    return result


def _compile(python: str) -> None:
    """Write the bytecode caches of ``python``'s packages (and this repo's) once, as an install
    does, so no probe pays for compiling its imports."""
    code = (
        "import compileall, site, sys; [compileall.compile_dir(p, quiet=2) for p in sys.argv[1:]]"
    )
    paths = subprocess.run(
        [python, "-c", "import site; print('\\n'.join(site.getsitepackages()))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    root = Path(__file__).resolve().parent.parent
    if python == sys.executable:
        source = Path(SOURCE[0]) if SOURCE else root
        paths += [str(source / p) for p in ("contexta", "ledger", "projections")]
    subprocess.run([python, "-c", code, *paths], env=_env(), check=False, capture_output=True)


# ---------------------------------------------------------------------- workspaces


def _use(tool: str) -> None:
    """Point the children at ``tool``'s checkout (a variant's, else --source's, else this)."""
    if tool in VARIANTS:
        SOURCE[:] = [VARIANTS[tool]]
    elif "default" in VARIANTS:
        SOURCE[:] = [VARIANTS["default"]]
    else:
        SOURCE[:] = []


def _rebuild(python: str, w: Workload, ws: Path) -> dict[str, Any]:
    """``contexta projections rebuild`` on ``ws`` (a subprocess of the driver): events/s of the
    fold, peak RSS, bytes on disk."""
    return _driver(python, "ours.py", "rebuild", w, ws, {})


#: ours' cached workspaces of at least this many runs are built with one ``append_many`` per
#: run (``--batched-from``): the same events as single appends in fewer commits; their ingest
#: figures are then not the single-append rate (``ingest_scratch`` measures that)
BATCHED_FROM = [100_000]


def workspace(tool: str, python: str, w: Workload, cache: Path, fresh: bool) -> tuple[Path, bool]:
    """The cached, settled workspace of ``tool`` for ``w`` and whether this call built it (built
    when missing or ``fresh``; ``built.json`` beside it keeps the ingest's figures). A variant
    of ours starts from a copy of another ours workspace's ledger (the ledger format is shared)
    and saves its projections with its own code."""
    ws = cache / f"{tool}-{w.runs}" / "ws"
    marker = ws.parent / "built.json"
    if marker.exists() and not fresh:
        return ws, False
    shutil.rmtree(ws.parent, ignore_errors=True)
    ws.parent.mkdir(parents=True)
    if tool.startswith("ours"):
        donors = [d / "ws" for d in sorted(cache.glob(f"ours*-{w.runs}")) if d != ws.parent]
        donors = [d for d in donors if (d.parent / "built.json").exists()]
        if donors:
            log(f"{tool} {w.runs:,}: the ledger of {donors[0]}, projections rebuilt")
            shutil.copytree(donors[0] / "ledger", ws / "ledger")
            _rebuild(python, w, ws)
            shutil.copy(donors[0].parent / "built.json", marker)
            return ws, False
    log(f"building {tool} workspace of {w.runs:,} runs ({w.events:,} events)")
    batched = tool.startswith("ours") and w.runs >= BATCHED_FROM[0]
    built = _driver(python, INGEST[_kind(tool)], "ingest", w, ws, {"batched": batched})
    built["batched"] = batched
    if tool.startswith("ours"):
        _rebuild(python, w, ws)
    built["built_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    built["commit"] = commit(Path(SOURCE[0]) if SOURCE else ROOT)
    marker.write_text(json.dumps(built, indent=1) + "\n")
    log(f"built {tool} {w.runs:,}: {built['events_per_s']:,.0f} events/s")
    return ws, True


def ingest_scratch(tool: str, python: str, w: Workload, cache: Path) -> dict[str, Any]:
    """Ingest ``w`` through the 1.0 API into a scratch workspace (removed after): the figures of
    the code under test when the cached workspace was built by older code."""
    scratch = cache / f"scratch-{tool}-{w.runs}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        return _driver(python, INGEST[_kind(tool)], "ingest", w, scratch / "ws", {})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _kind(tool: str) -> str:
    return "ours" if tool.startswith("ours") else tool


CODE = ("contexta", "ledger", "projections")


def commit(root: Path) -> str:
    """The code under test: the last commit of ``root``'s checkout that changed the packages,
    ``+dirty`` when they differ from it (benchmarks/ and docs do not count)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%h", "--", *CODE],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", *CODE],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


# ---------------------------------------------------------------------- probes


def probe(
    tool: str, python: str, name: str, w: Workload, ws: Path, rep: int, warm: int, timeout: float
) -> dict[str, Any]:
    """One probe in a new process; ``{"timeout": True}`` when it outlived ``timeout``."""
    options: dict[str, Any] = {"tag": f"{rep}-{time.time_ns()}", "warm": warm}
    try:
        return _driver(python, SCRIPTS[_kind(tool)], name, w, ws, options, timeout)
    except subprocess.TimeoutExpired:
        log(f"{tool} {w.runs:,} {name}: no answer within {timeout:,.0f} s")
        return {"timeout": True, "timeout_s": timeout}


class Plan:
    """What one invocation measures."""

    def __init__(self, args: argparse.Namespace, tools: dict[str, str], scales: list[int]) -> None:
        self.tools = tools
        self.reps: int = args.reps
        self.warm: int = args.warm
        self.cache = Path(args.cache)
        self.fresh: bool = args.fresh
        self.from_cache: bool = args.from_cache
        self.c10_runs: int = args.c10_runs
        self.timeout: float = args.timeout
        self.ingest: bool = not args.no_ingest
        #: the scales asked for (MLflow runs at these only, not at 1.0's equal-work scale)
        self.scales: set[int] = set(scales)

    def tools_at(self, runs: int) -> dict[str, str]:
        out = {}
        for tool, python in self.tools.items():
            if tool == "mlflow" and (runs > MLFLOW_MAX_RUNS or runs not in self.scales):
                continue
            if tool == "contexta10" and runs != self.c10_runs:
                continue
            out[tool] = python
        return out


def measure_scale(plan: Plan, runs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every probe of every tool at ``runs`` runs (per tool and probe: the summary of its
    repetitions), and ours' ingest and rebuild figures there."""
    w = Workload(runs=runs, **SHAPE)
    here = plan.tools_at(runs)
    spaces: dict[str, Path] = {}
    side: dict[str, Any] = {}
    for tool, python in list(here.items()):
        _use(tool)
        cached = _cached(plan, tool, python, w)
        if cached is None:
            log(f"--from-cache: no cached {tool} workspace of {runs:,} runs; {tool} skipped")
            side[tool] = {"missing": True}
            del here[tool]
            continue
        ws, built = cached
        spaces[tool] = ws
        facts = json.loads((ws.parent / "built.json").read_text())
        if tool.startswith("ours"):
            if not built and plan.ingest:
                log(f"{tool} {runs:,}: ingest into a scratch workspace")
                facts = ingest_scratch(tool, python, w, plan.cache)
                facts["commit"] = commit(Path(SOURCE[0]) if SOURCE else ROOT)
            log(f"{tool} {runs:,}: projections rebuild")
            rebuilt = _rebuild(python, w, ws)
            side[tool] = {
                "ingest_events_per_s": _one(facts.get("events_per_s")),
                "ingest_rss_mb": _one(facts.get("peak_rss_mb")),
                "ingest_commit": facts.get("commit", "unknown"),
                "rebuild_events_per_s": _one(rebuilt.get("events_per_s")),
                "rebuild_rss_mb": _one(rebuilt.get("rebuild_peak_rss_mb")),
                "disk_mb": _one(
                    (rebuilt.get("ledger_bytes", 0) + rebuilt.get("projection_bytes", 0)) / 2**20
                ),
            }
        else:
            side[tool] = {
                "ingest_events_per_s": _one(facts.get("events_per_s")),
                "ingest_rss_mb": _one(facts.get("peak_rss_mb")),
                "built_at": facts.get("built_at", "before the date was recorded"),
            }
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {t: {} for t in here}
    for rep in range(plan.reps):
        for tool in rotated(tuple(here), rep):
            _use(tool)
            for name in rotated(PROBES[_kind(tool)], rep):
                done = samples[tool].setdefault(name, [])
                if any(r.get("timeout") for r in done):
                    continue  # it did not answer once: do not wait for it again
                done.append(
                    probe(tool, here[tool], name, w, spaces[tool], rep, plan.warm, plan.timeout)
                )
        log(f"{runs:,} runs: repetition {rep + 1}/{plan.reps} done")
    out: dict[str, Any] = {}
    for tool, by_probe in samples.items():
        out[tool] = {}
        for name, results in by_probe.items():
            row = summarize_probe(name, results, runs, w.records_per_run)
            out[tool][name] = row
            if "first_s" in row:
                log(
                    f"{tool} {runs:,} {name}: first {row['first_s']['median'] * 1000:,.1f} ms, "
                    f"warm {row['warm_s']['median'] * 1000:,.2f} ms, process "
                    f"{row['process_s']['median']:.2f} s, {row['peak_rss_mb']['median']:,.0f} MiB"
                )
    return out, side


def _one(value: float | None) -> dict[str, float] | None:
    """A single figure in the shape of a summary (n=1)."""
    if value is None:
        return None
    return {"median": float(value), "min": float(value), "max": float(value), "n": 1}


def _cached(plan: Plan, tool: str, python: str, w: Workload) -> tuple[Path, bool] | None:
    """The workspace of ``tool`` and whether it was built now; with ``--from-cache`` never
    built: a missing peer's is None (skipped), a missing one of ours stops the run."""
    if plan.from_cache:
        ws = plan.cache / f"{tool}-{w.runs}" / "ws"
        if (ws.parent / "built.json").exists():
            return ws, False
        if tool.startswith("ours"):
            raise SystemExit(
                f"--from-cache: no cached {tool} workspace of {w.runs:,} runs under {plan.cache} "
                "(build it first: the same command without --from-cache)"
            )
        return None
    return workspace(tool, python, w, plan.cache, plan.fresh)


def equal_work(results: dict[str, Any], c10_runs: int) -> dict[str, Any] | None:
    """Ingest through the 1.0 API, ours against Contexta 1.0 at the same number of runs."""
    side = results["side"].get(str(c10_runs), {})
    ours, theirs = side.get("ours"), side.get("contexta10")
    if not ours or not theirs:
        return None
    if not ours.get("ingest_events_per_s") or not theirs.get("ingest_events_per_s"):
        return None
    o = ours["ingest_events_per_s"]["median"]
    t = theirs["ingest_events_per_s"]["median"]
    return {
        "runs": c10_runs,
        "ours": o,
        "contexta10": t,
        "ratio": o / t,
        "contexta10_when": f"1.0's ingest measured when its workspace was built, {theirs['built_at']}",
    }


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several results files as one: the first's run facts, every file's scales (a later file's
    scale replaces an earlier one's), equal work recomputed, the dates and commits listed."""
    out = dict(parts[0])
    out["scales"], out["side"] = {}, {}
    for part in parts:
        out["scales"].update(part.get("scales", {}))
        out["side"].update(part.get("side", {}))
    if len(parts) > 1:
        out["date"] = " and ".join(p["date"] for p in parts)
        out["commit"] = " and ".join(sorted({p.get("commit", "?") for p in parts}))
        out["seconds"] = sum(p.get("seconds", 0.0) for p in parts)
        out["load_end"] = parts[-1].get("load_end", float("nan"))
        out["label"] = "; ".join(p["label"] for p in parts if p.get("label"))
    for part in parts:
        runs = (part.get("equal_work") or {}).get("runs")
        if runs:
            out["equal_work"] = equal_work(out, runs)
    return out


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.newproc", description=__doc__)
    parser.add_argument("--full", action="store_true", help="also 100k runs")
    parser.add_argument("--runs", default=None, help="comma-separated scales (runs)")
    parser.add_argument("--reps", type=int, default=3, help="new processes per probe")
    parser.add_argument("--warm", type=int, default=5, help="warm repetitions in each process")
    parser.add_argument("--tools", default="ours,mlflow,contexta10")
    parser.add_argument(
        "--c10-runs",
        type=int,
        default=200,
        help="Contexta 1.0's scale (equal work: ours runs there too); 1.0 ingests a few hundred "
        "events/s, 200 runs (27k events) take 2-10 minutes",
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds a probe may take before it is killed"
    )
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="where workspaces are kept")
    parser.add_argument("--fresh", action="store_true", help="rebuild cached workspaces")
    parser.add_argument(
        "--from-cache",
        action="store_true",
        help="probe the cached workspaces only (never build one); rebuild their projections first",
    )
    parser.add_argument(
        "--no-ingest", action="store_true", help="take ingest figures from the cached build only"
    )
    parser.add_argument(
        "--source", default=None, help="import contexta/ledger/projections from this checkout"
    )
    parser.add_argument(
        "--variants",
        default="",
        help="NAME=DIR,...: also measure ours as imported from each checkout DIR (tool ours@NAME)",
    )
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument("--out", default=None, help="results JSON (default results/newproc.json)")
    parser.add_argument("--readme", action="store_true", help="rewrite benchmarks/README.md")
    parser.add_argument(
        "--render",
        default=None,
        metavar="RESULTS[,RESULTS...]",
        help="render results JSON files (their scales merged, later files win), measure nothing",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build the missing workspaces, measure nothing"
    )
    parser.add_argument(
        "--batched-from",
        type=int,
        default=BATCHED_FROM[0],
        help="build ours' workspaces of at least this many runs with append_many per run",
    )
    args = parser.parse_args(argv)
    if args.render:
        saved = merge([json.loads(Path(p).read_text()) for p in args.render.split(",")])
        print(render(saved))
        if args.readme:
            write_readme(saved, HERE / "README.md")
        return 0
    scales = (
        [int(x) for x in args.runs.split(",")]
        if args.runs
        else [1_000, 10_000, 100_000]
        if args.full
        else [1_000, 10_000]
    )
    if args.source:
        VARIANTS["default"] = str(Path(args.source).resolve())
    tools: dict[str, str] = {}
    for tool in filter(None, args.tools.split(",")):
        python = interpreter(tool)
        if python is None:
            log(f"skipping {tool}: no interpreter with it installed")
            continue
        tools[tool] = python
        _use(tool)
        _compile(python)
    for spec in filter(None, args.variants.split(",")):
        name, _, path = spec.partition("=")
        tool = f"ours@{name}"
        VARIANTS[tool] = str(Path(path).resolve())
        tools[tool] = sys.executable
        _use(tool)
        _compile(sys.executable)
    plan = Plan(args, tools, scales)
    if "contexta10" in tools and args.c10_runs not in scales:
        scales = sorted([*scales, args.c10_runs])  # equal work: ours at 1.0's scale too
    BATCHED_FROM[0] = args.batched_from
    if args.build_only:
        for runs in scales:
            w = Workload(runs=runs, **SHAPE)
            for tool, python in plan.tools_at(runs).items():
                _use(tool)
                workspace(tool, python, w, plan.cache, plan.fresh)
        return 0
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "label": args.label,
        "commit": commit(Path(VARIANTS.get("default", ROOT))),
        "source": args.source or "this checkout",
        "reps": args.reps,
        "warm": args.warm,
        "from_cache": args.from_cache,
        "load_start": os.getloadavg()[0],
        "scales": {},
        "side": {},
    }
    out = Path(args.out) if args.out else RESULTS / "newproc.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    for runs in scales:  # written after each scale: a long run keeps what it measured
        probes, side = measure_scale(plan, runs)
        results["scales"][str(runs)] = probes
        results["side"][str(runs)] = side
        results["equal_work"] = equal_work(results, args.c10_runs)
        results["load_end"] = os.getloadavg()[0]
        results["seconds"] = time.perf_counter() - started
        out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(render(results))
    if args.readme:
        write_readme(results, HERE / "README.md")
    log(f"results in {out}; {results['seconds'] / 60:,.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
