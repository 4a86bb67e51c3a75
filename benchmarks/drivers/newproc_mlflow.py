"""One first call in a new process, MLflow (SQLite backend, ``MlflowClient``), the peer of
``newproc_ours.py`` with the same output. Probes:

``snapshot``  ``get_run`` + ``get_metric_history`` of the step series (run with metric history);
``best``      ``search_runs`` ordered by ``evaluate.accuracy``, ``max_results=1``;
``append``    one ``log_metric`` into an existing run;
``history``   ``get_metric_history`` of the step series alone;
``query``     list (every run, paged), best and snapshot in one process (peak RSS).

The workspace is the one ``mlflow_driver.py ingest`` builds; runs are found by name.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import logging  # noqa: E402
import os  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

from _common import emit, parse, timed  # noqa: E402

PROBES = ("snapshot", "best", "append", "history", "query")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
logging.disable(logging.WARNING)
warnings.filterwarnings("ignore")


def main() -> None:
    probe, w, workspace, _options = parse(PROBES)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace}/mlflow.db")
    name = w.run_name(w.runs // 2)

    def find_run() -> str:
        exp = client.get_experiment_by_name("bench").experiment_id
        found = client.search_runs([exp], filter_string=f"attributes.run_name = '{name}'")
        return str(found[0].info.run_id)

    def snapshot() -> Any:
        run_id = find_run()
        return client.get_run(run_id), client.get_metric_history(run_id, "train.step-loss")

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

    out: dict[str, Any] = {"probe": probe}
    if probe == "snapshot":
        out["call_s"], (_, history) = timed(snapshot)
        out["records"] = len(history)
    elif probe == "best":
        out["call_s"], out["answer"] = timed(best)
    elif probe == "append":
        run_id = find_run()  # the caller holds its run id; finding it is not the append
        out["call_s"], _ = timed(
            lambda: client.log_metric(run_id, "probe", 1.0, timestamp=int(time.time() * 1000))
        )
    elif probe == "history":
        out["call_s"], events = timed(
            lambda: client.get_metric_history(find_run(), "train.step-loss")
        )
        out["events"] = len(events)
    else:
        steps = {"list": listed, "best": best, "snapshot": snapshot}
        out["calls_s"] = {key: timed(fn)[0] for key, fn in steps.items()}
        out["call_s"] = sum(out["calls_s"].values())
    out["close_s"] = 0.0
    out["process_s"] = time.perf_counter() - STARTED
    emit(out)


if __name__ == "__main__":
    main()
