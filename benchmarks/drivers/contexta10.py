"""Driver for Contexta 1.0.0 (run under its own Python 3.13 venv). Phases:

``ingest``  the workload through the 1.0 API (puts + single appends, 1.0's default durability,
            which is ``fsync``);
``query``   in this new process: open + list_runs, then warm list/snapshot/compare/select-best;
``loop``    single ``append`` latency and ``append_many`` rate.

The code is the same as ``ours.py``'s (``_contexta_api``); only the installed package differs.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

from _common import dir_bytes, emit, parse  # noqa: E402

PHASES = ("ingest", "query", "loop")


def main() -> None:
    phase, w, workspace, options = parse(PHASES)
    before_import = time.perf_counter()
    import contexta

    import_s = time.perf_counter() - before_import
    if "site-packages" not in (contexta.__file__ or ""):
        raise SystemExit(f"expected an installed Contexta 1.0, got {contexta.__file__}")
    import _contexta_api as api

    if phase == "ingest":
        result = api.ingest(w, workspace, runs_only=bool(options.get("runs_only")))
        result["bytes"] = dir_bytes(workspace)
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
    else:
        result = api.single_appends(workspace, int(options.get("n", 200)))
    result["tool"] = "contexta10"
    result["version"] = getattr(contexta, "__version__", "1.0.0")
    emit(result)


if __name__ == "__main__":
    main()
