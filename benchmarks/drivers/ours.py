"""Driver for this project (the ledger). Phases:

``ingest``   the workload through the 1.0 API (puts + single appends, default durability);
``query``    in this new process: open + list_runs, then warm list/snapshot/compare/select-best;
``loop``     a training loop: single ``append`` latency and ``append_many`` rate;
``rebuild``  ``contexta projections rebuild`` as a subprocess: events/s and its peak RSS.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from _common import dir_bytes, emit, parse, peak_rss_mb  # noqa: E402

PHASES = ("ingest", "query", "loop", "rebuild")


def main() -> None:
    phase, w, workspace, options = parse(PHASES)
    before_import = time.perf_counter()
    import contexta

    import_s = time.perf_counter() - before_import
    import _contexta_api as api

    if options.get("compress_min_rows"):
        # a ledger variant for experiments (which commits are zstd-compressed), applied to this
        # writer only; readers need nothing (IPC batches say how they are packed)
        import ledger.segment

        ledger.segment.COMPRESS_MIN_ROWS = int(options["compress_min_rows"])
    if phase == "ingest":
        result = api.ingest(
            w,
            workspace,
            runs_only=bool(options.get("runs_only")),
            batched=bool(options.get("batched")),
        )
        result["bytes"] = dir_bytes(workspace)
        result["ledger_bytes"] = dir_bytes(workspace / "ledger")
    elif phase == "query":
        result = api.queries(
            w,
            workspace,
            STARTED,
            import_s,
            int(options.get("reps", 5)),
            list_only=bool(options.get("list_only")),
            select_reps=options.get("select_reps"),
        )
    elif phase == "loop":
        result = api.single_appends(workspace, int(options.get("n", 50_000)))
        result.update(_scope_loop(workspace, int(options.get("scope_n", 2_000))))
    else:
        result = _rebuild(workspace)
    result["tool"] = "ours"
    result["version"] = contexta.__version__
    emit(result)


def _scope_loop(workspace, n: int) -> dict:
    """``ctx.run(...).stage(...).metric(...)`` when the capture scopes exist (else nothing)."""
    ctx = api_ctx(workspace)
    run = getattr(ctx, "run", None)
    if run is None:
        return {"scope_metric_per_s": None}
    try:
        with run("scope-loop") as scope:
            stage = scope.stage("train")
            metric = stage.metric
            t0 = time.perf_counter()
            for i in range(n):
                metric("loss", float(i % 97))
            ctx.flush()
            seconds = time.perf_counter() - t0
    except Exception as exc:
        return {"scope_metric_per_s": None, "scope_error": f"{type(exc).__name__}: {exc}"}
    return {"scope_metric_per_s": n / seconds}


def api_ctx(workspace):
    import _contexta_api as api

    return api.open_ctx(workspace)


def _rebuild(workspace) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "contexta.cli",
        "--workspace",
        str(workspace),
        "--format",
        "json",
        "projections",
        "rebuild",
    ]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"rebuild failed: {done.stderr.strip()[-2000:]}")
    stats = json.loads(done.stdout.strip() or "{}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "cpu_seconds": cpu,
        "cpu_events_per_s": stats["events"] / cpu if cpu > 0 else None,
        "events": stats["events"],
        "fold_seconds": stats["seconds"],
        "events_per_s": stats["events_per_second"],
        "wall_seconds": wall,
        "wall_events_per_s": stats["events"] / wall if wall > 0 else None,
        "rebuild_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
        "ledger_bytes": dir_bytes(workspace / "ledger"),
        "projection_bytes": dir_bytes(workspace / "projections"),
    }


if __name__ == "__main__":
    main()
