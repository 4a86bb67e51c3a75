"""What a NEW process pays: first calls against an existing workspace, each in its own process.

``uv run python -m benchmarks.newproc`` (1k and 10k runs) or ``... --full`` (also 100k runs);
also reachable as ``python -m benchmarks.run --groups newproc``. The workload is the harness's
(3 stages x 10 metrics + a 100-step series + one event per run, 135 events per run). Each
workspace is built once through the 1.0 API (cached under ``--cache``, rebuilt with
``--fresh``) and settled as a user's would be: ``contexta projections rebuild`` saves every
projection. Then every probe runs in a new process, in rotated order over ``--reps``
repetitions, and reports the first call's seconds, the whole process's seconds (interpreter
start, import and open included) and its peak RSS:

==============  ==============================================================  ============
probe           what                                                            per unit of
==============  ==============================================================  ============
snapshot        first ``get_run_snapshot`` (MLflow: ``get_run`` + history)       record
best            first ``select_best_run`` over every run                          run
append          first ``record_store.append`` into an existing run               call
cli_best        ``contexta best accuracy --stage evaluate`` (whole command)      run
as_of           first ``as_of(now).get_run_snapshot``                            record
history         first ``list(history(run))`` (MLflow: ``get_metric_history``)   event
cli_replay      ``contexta audit replay --run RUN`` (whole command)              event
query           list, best, snapshot, as-of snapshot in one process (peak RSS)   run
==============  ==============================================================  ============

The per-unit figure divides the first call's time by the work it answers (a snapshot's records,
the candidate runs of select-best, ...): flat from 1k to 100k runs means a process pays for
what it touches, not for the size of the ledger. MLflow runs the same probes where it has an
equivalent (its workspace takes about 1 minute per 1k runs to ingest).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .run import DRIVERS, RESULTS, interpreter, log, rotated
from .workload import Workload

SHAPE = {"stages": 3, "metrics": 10, "steps": 100}
OURS_PROBES = ("snapshot", "best", "append", "cli_best", "as_of", "history", "cli_replay", "query")
MLFLOW_PROBES = ("snapshot", "best", "append", "history", "query")
#: What each probe's per-unit figure divides by.
UNITS = {
    "snapshot": "record",
    "as_of": "record",
    "best": "run",
    "cli_best": "run",
    "query": "run",
    "append": "call",
    "history": "event",
    "cli_replay": "event",
}
#: the checkout whose packages the current probe imports instead of this one (``--source``;
#: per variant with ``--variants``)
SOURCE: list[str] = []
#: variant tool name (``ours@NAME``) -> its checkout
VARIANTS: dict[str, str] = {}
DEFAULT_CACHE = Path(os.environ.get("NEWPROC_CACHE", "/tmp/contexta-newproc"))


def _env() -> dict[str, str]:
    """The children's environment: no inherited PYTHONPATH, and bytecode caches on (a user's
    installed packages have them; without them every new process compiles its imports)."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if SOURCE:
        env["PYTHONPATH"] = SOURCE[0]  # another checkout's packages (e.g. a baseline)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 3600) -> tuple[str, float]:
    """Run ``cmd``; (stdout, wall seconds). Drivers report their own peak RSS."""
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
    python: str, script: str, probe: str, w: Workload, ws: Path, options: dict[str, Any]
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
    out, wall = _run(cmd, ws.parent)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1])
    result["wall_s"] = wall
    return result


def _cli(python: str, args: list[str], ws: Path) -> dict[str, Any]:
    """A ``contexta`` command as a user runs it: wall time and peak RSS of that one process."""
    cmd = [str(Path(python).parent / "contexta"), "--workspace", str(ws), *args]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=str(ws.parent), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    lines = sum(1 for _ in proc.stdout or ())
    err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"contexta {' '.join(args)} failed ({proc.returncode}):\n{err[-2000:]}")
    return {
        "call_s": wall,
        "process_s": wall,
        "wall_s": wall,
        "peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1),
        "lines": lines,
    }


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


def workspace(tool: str, python: str, w: Workload, cache: Path, fresh: bool) -> Path:
    """The cached, settled workspace of ``tool`` for ``w`` (built when missing or ``fresh``).
    A variant of ours starts from a copy of another ours workspace's ledger (the ledger format
    is shared) and saves its projections with its own code."""
    import shutil

    ws = cache / f"{tool}-{w.runs}" / "ws"
    marker = ws.parent / "built.json"
    if marker.exists() and not fresh:
        return ws
    shutil.rmtree(ws.parent, ignore_errors=True)
    ws.parent.mkdir(parents=True)
    if tool.startswith("ours"):
        donors = [d / "ws" for d in sorted(cache.glob(f"ours*-{w.runs}")) if d != ws.parent]
        donors = [d for d in donors if (d.parent / "built.json").exists()]
        if donors:
            log(f"{tool} {w.runs:,}: the ledger of {donors[0]}, projections rebuilt")
            shutil.copytree(donors[0] / "ledger", ws / "ledger")
            _cli(python, ["projections", "rebuild"], ws)
            shutil.copy(donors[0].parent / "built.json", marker)
            return ws
    script = "ours.py" if tool.startswith("ours") else "mlflow_driver.py"
    log(f"building {tool} workspace of {w.runs:,} runs ({w.events:,} events)")
    built = _driver(python, script, "ingest", w, ws, {})
    if tool.startswith("ours"):
        _cli(python, ["projections", "rebuild"], ws)
    marker.write_text(json.dumps(built, indent=1) + "\n")
    log(f"built {tool} {w.runs:,}: {built['events_per_s']:,.0f} events/s")
    return ws


# ---------------------------------------------------------------------- probes


def probe(tool: str, python: str, name: str, w: Workload, ws: Path, rep: int) -> dict[str, Any]:
    run = f"bench.{w.run_name(w.runs // 2)}"
    if name == "cli_best":
        return _cli(python, ["best", "accuracy", "--stage", "evaluate"], ws)
    if name == "cli_replay":
        return _cli(python, ["audit", "replay", "--run", run], ws)
    script = "newproc_ours.py" if tool.startswith("ours") else "newproc_mlflow.py"
    options: dict[str, Any] = {"tag": f"{rep}-{time.time_ns()}"}
    return _driver(python, script, name, w, ws, options)


def units(name: str, w: Workload, result: dict[str, Any]) -> int:
    if UNITS[name] == "record":
        return int(result.get("records") or w.records_per_run)
    if UNITS[name] == "run":
        return w.runs
    if UNITS[name] == "event":
        return int(result.get("events") or result.get("lines") or w.records_per_run + 4)
    return 1


def stats(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
    }


def measure(
    tools: dict[str, str], scales: list[int], reps: int, cache: Path, fresh: bool
) -> dict[str, Any]:
    """Every probe of every tool at every scale; within a repetition tools and probes run in
    rotated order, so drifting load on the shared machine hits them alike."""
    out: dict[str, Any] = {}
    for runs in scales:
        w = Workload(runs=runs, **SHAPE)
        here = {t: p for t, p in tools.items() if not (t == "mlflow" and runs > 10_000)}
        spaces = {}
        for tool, python in here.items():
            _use(tool)
            spaces[tool] = workspace(tool, python, w, cache, fresh)
        samples: dict[str, dict[str, list[dict[str, Any]]]] = {t: {} for t in here}
        for rep in range(reps):
            for tool in rotated(tuple(here), rep):
                _use(tool)
                names = OURS_PROBES if tool.startswith("ours") else MLFLOW_PROBES
                for name in rotated(names, rep):
                    result = probe(tool, here[tool], name, w, spaces[tool], rep)
                    samples[tool].setdefault(name, []).append(result)
            log(f"{runs:,} runs: repetition {rep + 1}/{reps} done")
        for tool, by_probe in samples.items():
            row: dict[str, Any] = {}
            for name, results in by_probe.items():
                call = [r["call_s"] for r in results]
                n = units(name, w, results[0])
                row[name] = {
                    "call_s": stats(call),
                    "process_s": stats([r["process_s"] for r in results]),
                    "peak_rss_mb": stats([r["peak_rss_mb"] for r in results]),
                    "units": n,
                    "unit": UNITS[name],
                    "per_unit_us": statistics.median(call) / n * 1e6,
                    "answers": sorted({str(r.get("answer")) for r in results if "answer" in r}),
                    "calls_s": results[0].get("calls_s"),
                }
                log(
                    f"{tool} {runs:,} {name}: {row[name]['call_s']['median'] * 1000:,.1f} ms, "
                    f"process {row[name]['process_s']['median']:.2f} s, "
                    f"{row[name]['peak_rss_mb']['median']:,.0f} MiB"
                )
            out.setdefault(str(runs), {})[tool] = row
    return out


# ---------------------------------------------------------------------- report


def _fmt(s: dict[str, float], scale: float = 1.0, digits: int = 1) -> str:
    return (
        f"{s['median'] * scale:,.{digits}f} "
        f"({s['min'] * scale:,.{digits}f}–{s['max'] * scale:,.{digits}f})"
    )


def render(results: dict[str, Any]) -> str:
    lines = [
        f"New-process figures, {results['date']}, {results['reps']} repetitions "
        f"(median (min–max)); load {results['load_start']:.1f} -> {results['load_end']:.1f}",
        "",
    ]
    for runs, by_tool in results["scales"].items():
        lines += [
            f"### {int(runs):,} runs ({int(runs) * 135:,} events)",
            "",
            "| probe | tool | first call, ms | process, s | peak RSS, MiB | per unit, µs |",
            "|---|---|---|---|---|---|",
        ]
        for name in OURS_PROBES:
            for tool, row in by_tool.items():
                if name not in row:
                    continue
                r = row[name]
                lines.append(
                    f"| {name} | {tool} | {_fmt(r['call_s'], 1000)} | "
                    f"{_fmt(r['process_s'], 1, 2)} | {_fmt(r['peak_rss_mb'], 1, 0)} | "
                    f"{r['per_unit_us']:,.1f} per {r['unit']} |"
                )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.newproc", description=__doc__)
    parser.add_argument("--full", action="store_true", help="also 100k runs")
    parser.add_argument("--runs", default=None, help="comma-separated scales (runs)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tools", default="ours,mlflow")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="where workspaces are kept")
    parser.add_argument("--fresh", action="store_true", help="rebuild cached workspaces")
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
    args = parser.parse_args(argv)
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
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "label": args.label,
        "source": args.source or "this checkout",
        "reps": args.reps,
        "load_start": os.getloadavg()[0],
    }
    out = Path(args.out) if args.out else RESULTS / "newproc.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results["scales"] = {}
    for runs in scales:  # written after each scale: a long run keeps what it measured
        results["scales"].update(measure(tools, [runs], args.reps, Path(args.cache), args.fresh))
        results["load_end"] = os.getloadavg()[0]
        out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(render(results))
    log(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
