"""One first call in a new process, then the same call warm: ``python newproc_ours.py PROBE
--workload JSON --workspace DIR [--options JSON]``. Runs this project or, under its own
interpreter, Contexta 1.0 (the 1.0 API is the same; probes 1.0 lacks are refused with a clear
line). Prints one JSON object: the first call's seconds (``call_s``), the whole process's
seconds up to the end of that first call (``process_s``: interpreter start, import and open
included), the peak RSS after the first call (``first_rss_mb``), the seconds of ``warm``
repetitions of the same call in the same process (``warm_s``) and the peak RSS at the end.

Probes (each opens the workspace, makes its first call, repeats it, closes):

``snapshot``    ``get_run_snapshot`` of one run (``read_run``: one no append probe writes into);
``best``        ``select_best_run`` over every run by ``evaluate``/``accuracy``;
``append``      ``record_store.append`` of one metric record into an existing run (``append_run``; each
                repetition a new record of the same run; ``close_s``: the close after them);
``as_of``       ``as_of(now).get_run_snapshot`` of the same run;
``history``     ``list(history(run))``;
``list``        ``list_runs()``;
``compare``     ``compare_runs`` of the snapshot's run and the first one;
``cli_best``    ``contexta best accuracy --stage evaluate``, the CLI's ``main`` in this process;
``cli_replay``  ``contexta audit replay --run RUN``, likewise;
``query``       list, best, snapshot, as-of snapshot and compare in one process (peak RSS).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import contextlib  # noqa: E402
import io  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from _common import Workload, append_run, emit, parse, peak_rss_mb, read_run, timed  # noqa: E402

PROBES = (
    "snapshot",
    "best",
    "append",
    "as_of",
    "history",
    "list",
    "compare",
    "cli_best",
    "cli_replay",
    "query",
)


#: how a run is named to the read API: ours takes ``project.run``, 1.0 wants the ref
PREFIX = ["bench."]


def run_id(w: Workload, index: int | None = None) -> str:
    return f"{PREFIX[0]}{w.run_name(read_run(w) if index is None else index)}"


def all_ids(w: Workload) -> list[str]:
    return [f"{PREFIX[0]}{w.run_name(i)}" for i in range(w.runs)]


def metric_record(w: Workload, tag: str) -> Any:
    from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

    name = w.run_name(append_run(w))
    now = datetime.now(UTC).replace(tzinfo=None).isoformat() + "Z"
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:bench.{name}.x{tag}",
            record_type="metric",
            recorded_at=now,
            observed_at=now,
            producer_ref="bench",
            run_ref=f"run:bench.{name}",
            stage_execution_ref=f"stage:bench.{name}.train",
        ),
        payload=MetricPayload(
            metric_key="probe", value=1.0, value_type="float64", aggregation_scope="stage"
        ),
    )


def cli(workspace: Any, args: list[str]) -> int:
    """The CLI's ``main`` in this process, its output counted and dropped; the lines printed."""
    from contexta.cli import main as cli_main

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        status = cli_main(["--workspace", str(workspace), *args])
    if status:
        raise SystemExit(f"contexta {' '.join(args)} exited {status}")
    return sink.getvalue().count("\n")


def calls(probe: str, w: Workload, workspace: Any, ctx: Any, tag: str) -> dict[str, Any]:
    """The probe's call (a function of the repetition number) and what to report of its
    answer."""
    rid = run_id(w)
    if probe == "snapshot":
        return {"fn": lambda _i: ctx.get_run_snapshot(rid), "count": lambda s: len(s.records)}
    if probe == "best":
        ids = all_ids(w)
        return {
            "fn": lambda _i: ctx.select_best_run(ids, "accuracy", stage_name="evaluate"),
            "answer": lambda best: str(best).rsplit(".", 1)[-1],
        }
    if probe == "append":
        return {
            "fn": lambda i: ctx.record_store.append(metric_record(w, f"{tag}-{i}")),
            "answer": lambda result: "rejected" if result.rejected else "stored",
        }
    if probe == "as_of":
        return {
            "fn": lambda _i: ctx.as_of(datetime.now(UTC)).get_run_snapshot(rid),
            "count": lambda s: len(s.records),
        }
    if probe == "history":
        return {"fn": lambda _i: list(ctx.history(rid)), "count": len}
    if probe == "list":
        return {"fn": lambda _i: ctx.list_runs(), "count": len}
    if probe == "compare":
        other = run_id(w, 0)
        return {"fn": lambda _i: ctx.compare_runs(rid, other)}
    if probe == "cli_best":
        return {"fn": lambda _i: cli(workspace, ["best", "accuracy", "--stage", "evaluate"])}
    if probe == "cli_replay":
        return {"fn": lambda _i: cli(workspace, ["audit", "replay", "--run", rid]), "count": int}
    ids = all_ids(w)
    other = run_id(w, 0)
    steps = {
        "list": lambda: ctx.list_runs(),
        "best": lambda: ctx.select_best_run(ids, "accuracy", stage_name="evaluate"),
        "snapshot": lambda: ctx.get_run_snapshot(rid),
        "as_of": lambda: ctx.as_of(datetime.now(UTC)).get_run_snapshot(rid),
        "compare": lambda: ctx.compare_runs(rid, other),
    }
    if not hasattr(ctx, "as_of"):  # Contexta 1.0 has no as-of reads
        del steps["as_of"]
    return {"fn": lambda _i: {name: timed(fn)[0] for name, fn in steps.items()}}


def main() -> None:
    probe, w, workspace, options = parse(PROBES)
    import _contexta_api as api

    ctx = None if probe.startswith("cli_") else api.open_ctx(workspace)
    if ctx is not None and not hasattr(ctx, "as_of"):  # Contexta 1.0
        PREFIX[0] = "run:bench."
    spec = calls(probe, w, workspace, ctx, str(options.get("tag", time.time_ns())))
    out: dict[str, Any] = {"probe": probe}
    out["call_s"], value = timed(lambda: spec["fn"](0))
    out["process_s"] = time.perf_counter() - STARTED
    out["first_rss_mb"] = peak_rss_mb()
    if probe == "query":
        out["calls_s"] = value
    if "count" in spec:
        out["count"] = spec["count"](value)
    if "answer" in spec:
        out["answer"] = spec["answer"](value)
    out["warm_s"] = [
        timed(lambda i=i: spec["fn"](i))[0] for i in range(1, int(options.get("warm", 5)) + 1)
    ]
    if ctx is not None:
        out["close_s"], _ = timed(lambda: api.close_ctx(ctx))
    emit(out)


if __name__ == "__main__":
    main()
