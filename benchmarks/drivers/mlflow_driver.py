"""Driver for MLflow (latest, SQLite backend, ``MlflowClient``), run in its own venv. Phases:

``ingest``  per run: ``create_run``, one ``log_batch`` (metrics with steps and timestamps, stage
            and event tags; chunks of 1,000 metrics), ``set_terminated``;
``query``   in this new process: import + client + ``search_runs`` over all runs (paged), then
            warm list / snapshot (``get_run`` + the step series' ``get_metric_history``) /
            compare (two ``get_run`` and a diff of latest metrics) / select-best
            (``search_runs`` ordered by the metric, ``max_results=1``);
``loop``    single ``log_metric`` latency and ``log_batch`` rate.

Mapping of the workload: a stage metric is the metric ``<stage>.<key>``; stages are tags
``stage.<name>.started_at``; the structured event is the tag ``event.data.quality-check``.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import logging  # noqa: E402
import os  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from _common import (  # noqa: E402
    Workload,
    dir_bytes,
    emit,
    median_of,
    parse,
    spread_indices,
    timed,
)

PHASES = ("ingest", "query", "loop")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
logging.disable(logging.WARNING)
warnings.filterwarnings("ignore")


def _client(workspace: Path) -> Any:
    from mlflow.tracking import MlflowClient

    workspace.mkdir(parents=True, exist_ok=True)
    return MlflowClient(tracking_uri=f"sqlite:///{workspace}/mlflow.db")


def _experiment(client: Any, workspace: Path, create: bool) -> str:
    found = client.get_experiment_by_name("bench")
    if found is not None:
        return found.experiment_id
    if not create:
        raise SystemExit("no experiment 'bench' in this workspace")
    return client.create_experiment("bench", artifact_location=str(workspace / "artifacts"))


def _search_all(client: Any, exp: str) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = client.search_runs([exp], max_results=50_000, page_token=token)
        out.extend(page)
        token = page.token
        if not token:
            return out


def ingest(w: Workload, workspace: Path) -> dict[str, Any]:
    from mlflow.entities import Metric, RunTag
    from workload import millis

    setup_s, client = timed(lambda: _client(workspace))
    exp = _experiment(client, workspace, create=True)
    events = 1
    store = build = 0.0
    clock = time.perf_counter
    for spec in w.iter_runs():
        t = clock()
        metrics = [
            Metric(f"{p.stage}.{p.key}", p.value, millis(p.observed_at), max(p.step, 0))
            for p in spec.metrics
        ]
        tags = [
            RunTag(f"stage.{name}.started_at", str(millis(start))) for name, start, _ in spec.stages
        ]
        tags.append(RunTag("event.data.quality-check", spec.event_message))
        t1 = clock()
        build += t1 - t
        run = client.create_run(exp, start_time=millis(spec.started_at), run_name=spec.name)
        run_id = run.info.run_id
        for i in range(0, max(len(metrics), 1), 1000):
            client.log_batch(run_id, metrics=metrics[i : i + 1000], tags=tags if i == 0 else [])
        client.set_terminated(run_id, end_time=millis(spec.ended_at))
        store += clock() - t1
        events += 1 + len(spec.stages) + len(spec.metrics) + 1
    return {
        "events": events,
        "store_seconds": store,
        "build_seconds": build,
        "setup_seconds": setup_s,
        "events_per_s": events / store,
        "end_to_end_events_per_s": events / (store + build),
        "bytes": dir_bytes(workspace),
    }


def queries(w: Workload, workspace: Path, import_s: float, reps: int) -> dict[str, Any]:
    client = _client(workspace)
    exp = _experiment(client, workspace, create=False)
    listed = _search_all(client, exp)
    cold = time.perf_counter() - STARTED
    out: dict[str, Any] = {
        "runs_listed": len(listed),
        "cold_open_list_s": cold,
        "import_s": import_s,
    }
    out["list_runs"] = median_of([timed(lambda: _search_all(client, exp))[0] for _ in range(reps)])
    listed.sort(key=lambda r: r.info.start_time)
    ids = [r.info.run_id for r in listed]
    stage = "evaluate" if w.stages > 1 else "train"

    def best() -> Any:
        return client.search_runs(
            [exp], order_by=[f"metrics.`{stage}.accuracy` DESC"], max_results=1
        )[0]

    first, answer = timed(best)
    out["select_best_first_s"] = first
    out["select_best_answer"] = answer.info.run_name
    out["select_best"] = median_of([timed(best)[0] for _ in range(reps)])

    def snapshot(run_id: str) -> Any:
        run = client.get_run(run_id)
        history = client.get_metric_history(run_id, "train.step-loss")
        return run, history

    picks = spread_indices(len(ids), reps + 1)
    snap = [timed(lambda i=i: snapshot(ids[i]))[0] for i in picks]
    out["snapshot_first_s"] = snap[0]
    out["snapshot"] = median_of(snap[1:] or snap)

    def compare(a: str, b: str) -> dict[str, float]:
        left, right = client.get_run(a).data.metrics, client.get_run(b).data.metrics
        return {
            k: right[k] - left[k] for k in sorted(set(left) & set(right)) if left[k] != right[k]
        }

    pairs = [(ids[i], ids[(i + len(ids) // 2 + 1) % len(ids)]) for i in picks]
    comp = [timed(lambda a=a, b=b: compare(a, b))[0] for a, b in pairs]
    out["compare_first_s"] = comp[0]
    out["compare"] = median_of(comp[1:] or comp)
    return out


def loop(workspace: Path, n: int) -> dict[str, Any]:
    from mlflow.entities import Metric

    client = _client(workspace)
    exp = _experiment(client, workspace, create=True)
    run_id = client.create_run(exp, run_name="loop").info.run_id
    lat = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        client.log_metric(run_id, "loss", float(i % 97), timestamp=1_700_000_000_000 + i, step=i)
        lat.append(time.perf_counter_ns() - t0)
    lat.sort()
    batch = [Metric("batch.loss", float(i % 97), 1_700_000_000_000 + i, i) for i in range(10 * n)]
    t0 = time.perf_counter()
    for i in range(0, len(batch), 1000):
        client.log_batch(run_id, metrics=batch[i : i + 1000])
    many_s = time.perf_counter() - t0
    return {
        "single_append_median_us": lat[len(lat) // 2] / 1000.0,
        "single_append_p99_us": lat[int(len(lat) * 0.99)] / 1000.0,
        "single_append_per_s": n / (sum(lat) / 1e9),
        "append_many_per_s": len(batch) / many_s,
        "n": n,
    }


def main() -> None:
    phase, w, workspace, options = parse(PHASES)
    before = time.perf_counter()
    import mlflow

    import_s = time.perf_counter() - before
    if phase == "ingest":
        result = ingest(w, workspace)
    elif phase == "query":
        result = queries(w, workspace, import_s, int(options.get("reps", 5)))
    else:
        result = loop(workspace, int(options.get("n", 200)))
    result["tool"] = "mlflow"
    result["version"] = mlflow.__version__
    emit(result)


if __name__ == "__main__":
    main()
