"""One first call in a new process, then the same call warm, MLflow (SQLite backend,
``MlflowClient``): the peer of ``newproc_ours.py`` with the same output. Probes:

``snapshot``  the run found by name, ``get_run`` + ``get_metric_history`` of the step series
              (a run with its metric history);
``best``      ``search_runs`` ordered by ``evaluate.accuracy``, ``max_results=1``;
``append``    one ``log_metric`` into an existing run (its id known beforehand);
``history``   the run found by name, ``get_metric_history`` of the step series;
``list``      every run (``search_runs``, paged);
``compare``   both runs found by name, ``get_run`` of each and the differing latest metrics;
``query``     list, best, snapshot and compare in one process (peak RSS).

Our run ids are names (``bench.r000500``); MLflow's are generated, so a caller holding a name
looks the run up first, and the lookup is part of the call. The workspace is the one
``mlflow_driver.py ingest`` builds.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import logging  # noqa: E402
import os  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

from _common import append_run, emit, parse, peak_rss_mb, read_run, timed  # noqa: E402

PROBES = ("snapshot", "best", "append", "history", "list", "compare", "query")
STEP_SERIES = "train.step-loss"
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
logging.disable(logging.WARNING)
warnings.filterwarnings("ignore")


def main() -> None:
    probe, w, workspace, options = parse(PROBES)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace}/mlflow.db")
    # the read probes' run and the append probes' run differ (see _common.read_run)
    middle, first = w.run_name(read_run(w)), w.run_name(0)

    def find_run(name: str) -> str:
        exp = client.get_experiment_by_name("bench").experiment_id
        found = client.search_runs([exp], filter_string=f"attributes.run_name = '{name}'")
        return str(found[0].info.run_id)

    def snapshot() -> Any:
        run_id = find_run(middle)
        return client.get_run(run_id), client.get_metric_history(run_id, STEP_SERIES)

    def best() -> Any:
        exp = client.get_experiment_by_name("bench").experiment_id
        return client.search_runs(
            [exp], order_by=["metrics.`evaluate.accuracy` DESC"], max_results=1
        )[0].info.run_name

    def listed() -> int:
        exp = client.get_experiment_by_name("bench").experiment_id
        count, token = 0, None
        while True:
            page = client.search_runs([exp], max_results=50_000, page_token=token)
            count += len(page)
            token = page.token
            if not token:
                return count

    def compare() -> dict[str, float]:
        left = client.get_run(find_run(middle)).data.metrics
        right = client.get_run(find_run(first)).data.metrics
        return {
            k: right[k] - left[k] for k in sorted(set(left) & set(right)) if left[k] != right[k]
        }

    def history() -> int:
        return len(client.get_metric_history(find_run(middle), STEP_SERIES))

    def query() -> dict[str, float]:
        steps = {"list": listed, "best": best, "snapshot": snapshot, "compare": compare}
        return {key: timed(fn)[0] for key, fn in steps.items()}

    fns: dict[str, Any] = {
        "snapshot": lambda _i: snapshot(),
        "best": lambda _i: best(),
        "history": lambda _i: history(),
        "list": lambda _i: listed(),
        "compare": lambda _i: compare(),
        "query": lambda _i: query(),
    }
    if probe == "append":
        # the caller holds its run id; finding it is not the append
        run_id = find_run(w.run_name(append_run(w)))
        fns["append"] = lambda i: client.log_metric(
            run_id, "probe", float(i), timestamp=int(time.time() * 1000), step=i
        )
    fn = fns[probe]
    out: dict[str, Any] = {"probe": probe}
    out["call_s"], value = timed(lambda: fn(0))
    out["process_s"] = time.perf_counter() - STARTED
    out["first_rss_mb"] = peak_rss_mb()
    if probe == "query":
        out["calls_s"] = value
    elif probe == "best":
        out["answer"] = value
    elif probe in ("history", "list"):
        out["count"] = value
    elif probe == "snapshot":
        out["count"] = len(value[1])
    out["warm_s"] = [timed(lambda i=i: fn(i))[0] for i in range(1, int(options.get("warm", 5)) + 1)]
    emit(out)


if __name__ == "__main__":
    main()
