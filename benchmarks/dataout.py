"""Data out and in: tables, exports and the MLflow import, side by side with MLflow's reads.

What it measures, on what data (figures are printed; nothing asserts time):

native   a workspace of ``--runs`` runs (default 10,000), each with a ``train`` stage and
         ``--points`` metric points per run (default 100: keys ``loss`` and ``acc`` in the
         stage, ``lr`` and ``grad-norm`` at run level, 25 steps each; 1,000,000 in all), three
         parameters and a label per run, written through ``put_run``/``append_many``. Then:
         ``runs_table`` and ``metrics_table`` in the same process (warm: median of 7 calls on
         unchanged projections; after a write: one new point first, so the per-table caches
         of the projections are new), ``to_pandas`` of each, and the export rate of
         ``export parquet metrics`` / ``export parquet events`` (the writers the CLI uses);
mlflow   an MLflow SQLite store of ``--mlflow-runs`` runs (default 1,000) with the same shape
         (100 points, 3 params, 1 tag each), made with ``MlflowClient.log_batch``; then
         ``contexta import mlflow`` into a new workspace (import rate), and on the same data:
         MLflow's ``mlflow.search_runs(output_format="pandas")`` against
         ``runs_table().to_pandas()``, and MLflow's ``get_metric_history`` for every run and
         key against one ``metrics_table()``.

    uv run python -m benchmarks.dataout                 # the full run (a few minutes)
    uv run python -m benchmarks.dataout --runs 1000 --mlflow-runs 100   # a quick look
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE = datetime(2025, 1, 1, tzinfo=UTC)
KEYS = (("loss", "train"), ("acc", "train"), ("lr", None), ("grad-norm", None))


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def median_ms(fn: Callable[[], Any], reps: int = 7) -> float:
    samples = []
    for _ in range(reps):
        seconds, _ = timed(fn)
        samples.append(seconds)
    return statistics.median(samples) * 1000


def open_ctx(root: Path) -> Any:
    from contexta import Contexta
    from contexta.config import UnifiedConfig, WorkspaceConfig

    return Contexta(
        config=UnifiedConfig(project_name="bench", workspace=WorkspaceConfig(root_path=root))
    )


# ---------------------------------------------------------------------- native


def build_native(root: Path, runs: int, points: int) -> dict[str, Any]:
    from contexta.contract import (
        ExtensionFieldSet,
        MetricPayload,
        MetricRecord,
        Project,
        RecordEnvelope,
        Run,
        StageExecution,
    )

    ctx = open_ctx(root)
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref="project:bench", name="bench", created_at=iso(BASE))
    )
    steps = max(1, points // len(KEYS))
    started = time.perf_counter()
    written = 0
    batch: list[Any] = []
    for r in range(runs):
        run = f"run:bench.r{r}"
        start = BASE + timedelta(minutes=r)
        store.runs.put_run(
            Run(
                run_ref=run,
                project_ref="project:bench",
                name=f"r{r}",
                status="completed",
                started_at=iso(start),
                ended_at=iso(start + timedelta(hours=1)),
                extensions=(
                    ExtensionFieldSet(
                        namespace="contexta.params",
                        fields={
                            "values": {
                                "lr": str(0.001 * (r % 10 + 1)),
                                "batch_size": str(32 << (r % 3)),
                                "optimizer": ("adam", "sgd")[r % 2],
                            }
                        },
                    ),
                    ExtensionFieldSet(
                        namespace="contexta.tags", fields={"values": {"team": f"t{r % 5}"}}
                    ),
                ),
            )
        )
        store.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref=f"stage:bench.r{r}.train",
                run_ref=run,
                stage_name="train",
                status="completed",
                started_at=iso(start),
                ended_at=iso(start + timedelta(hours=1)),
            )
        )
        n = 0
        for key, stage in KEYS:
            for s in range(steps):
                at = iso(start + timedelta(seconds=s))
                batch.append(
                    MetricRecord(
                        envelope=RecordEnvelope(
                            record_ref=f"record:bench.r{r}.m{n}",
                            record_type="metric",
                            recorded_at=at,
                            observed_at=at,
                            producer_ref="bench",
                            run_ref=run,
                            stage_execution_ref=None
                            if stage is None
                            else f"stage:bench.r{r}.{stage}",
                        ),
                        payload=MetricPayload(
                            metric_key=key,
                            value=(r * 7 + s * 3 + n) % 1000 / 997,
                            value_type="float64",
                            tags={"step": str(s)},
                        ),
                    )
                )
                n += 1
        if len(batch) >= 20_000:
            ctx.record_store.append_many(batch)
            written += len(batch)
            batch = []
    if batch:
        ctx.record_store.append_many(batch)
        written += len(batch)
    ctx.close()
    seconds = time.perf_counter() - started
    return {
        "runs": runs,
        "points": written,
        "build_seconds": round(seconds, 1),
        "events": ctx._workspace.head().seq,
    }


def measure_native(root: Path) -> dict[str, Any]:
    from contexta import tables
    from contexta.cli.commands.export_cmd import write_batches

    out: dict[str, Any] = {}
    t = time.perf_counter()
    ctx = open_ctx(root)
    first = ctx.runs_table()
    out["runs_table_first_call_new_process_ms"] = round((time.perf_counter() - t) * 1000, 1)
    out["runs_table_rows"] = first.num_rows
    out["runs_table_columns"] = first.num_columns
    out["runs_table_warm_ms"] = round(median_ms(ctx.runs_table), 1)
    t = time.perf_counter()
    points = ctx.metrics_table()
    out["metrics_table_first_call_ms"] = round((time.perf_counter() - t) * 1000, 1)
    out["metrics_table_rows"] = points.num_rows
    out["metrics_table_warm_ms"] = round(median_ms(ctx.metrics_table), 1)
    # one new point: every projection table is a new object, so no per-table cache helps
    from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope

    def one_more(i: int) -> None:
        at = iso(BASE)
        ctx.record_store.append(
            MetricRecord(
                envelope=RecordEnvelope(
                    record_ref=f"record:bench.r0.late{i}",
                    record_type="metric",
                    recorded_at=at,
                    observed_at=at,
                    producer_ref="bench",
                    run_ref="run:bench.r0",
                ),
                payload=MetricPayload(metric_key="late", value=float(i), value_type="float64"),
            )
        )
        ctx.flush()

    after: list[float] = []
    after_metrics: list[float] = []
    for i in range(3):
        one_more(i)
        after.append(timed(ctx.runs_table)[0])
        one_more(100 + i)
        after_metrics.append(timed(ctx.metrics_table)[0])
    out["runs_table_after_a_write_ms"] = round(statistics.median(after) * 1000, 1)
    out["metrics_table_after_a_write_ms"] = round(statistics.median(after_metrics) * 1000, 1)
    try:
        import pandas  # noqa: F401

        table = ctx.runs_table()
        out["runs_table_to_pandas_ms"] = round(median_ms(lambda: table.to_pandas(), 3), 1)
        big = ctx.metrics_table()
        out["metrics_table_to_pandas_ms"] = round(median_ms(lambda: big.to_pandas(), 3), 1)
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        qs = ctx.query_service
        with open(Path(tmp) / "m.parquet", "wb") as sink:
            seconds, rows = timed(
                lambda: write_batches(
                    "parquet", sink, tables.METRICS_SCHEMA, tables.metric_batches(qs)
                )
            )
        out["export_parquet_metrics_points_per_s"] = round(rows / seconds)
        with open(Path(tmp) / "e.parquet", "wb") as sink:
            seconds, rows = timed(
                lambda: write_batches(
                    "parquet", sink, tables.EVENTS_SCHEMA, tables.event_batches(qs)
                )
            )
        out["export_parquet_events_rows"] = rows
        out["export_parquet_events_per_s"] = round(rows / seconds)
    ctx.close()
    return out


# ---------------------------------------------------------------------- mlflow


def build_mlflow(uri: str, runs: int, points: int) -> dict[str, Any]:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    started = time.perf_counter()
    eid = client.create_experiment("bench")
    steps = max(1, points // len(KEYS))
    base_ms = int(BASE.timestamp() * 1000)
    for r in range(runs):
        run = client.create_run(eid, run_name=f"r{r}")
        metrics = [
            Metric(
                key if stage is None else f"{stage}/{key}",
                (r * 7 + s * 3 + k) % 1000 / 997,
                base_ms + 60_000 * r + 1000 * s,
                s,
            )
            for k, (key, stage) in enumerate(KEYS)
            for s in range(steps)
        ]
        params = [
            Param("lr", str(0.001 * (r % 10 + 1))),
            Param("batch_size", str(32 << (r % 3))),
            Param("optimizer", ("adam", "sgd")[r % 2]),
        ]
        for i in range(0, len(metrics), 1000):
            client.log_batch(
                run.info.run_id,
                metrics=metrics[i : i + 1000],
                params=params if i == 0 else [],
                tags=[RunTag("team", f"t{r % 5}")] if i == 0 else [],
            )
        client.set_terminated(run.info.run_id, "FINISHED")
    return {
        "runs": runs,
        "points": runs * steps * len(KEYS),
        "eid": eid,
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def measure_mlflow(uri: str, root: Path, made: dict[str, Any]) -> dict[str, Any]:
    import mlflow
    from mlflow.tracking import MlflowClient

    from contexta.importers.mlflow import import_mlflow

    out: dict[str, Any] = {}
    ctx = open_ctx(root)
    seconds, report = timed(lambda: import_mlflow(ctx, uri))
    out["import_seconds"] = round(seconds, 2)
    out["import_runs_per_s"] = round(report.runs / seconds, 1)
    out["import_points_per_s"] = round(report.metric_points_added / seconds)
    seconds, again = timed(lambda: import_mlflow(ctx, uri))
    out["reimport_seconds"] = round(seconds, 2)
    out["reimport_added"] = again.added
    mlflow.set_tracking_uri(uri)
    eid = made["eid"]
    out["mlflow_search_runs_pandas_ms"] = round(
        median_ms(lambda: mlflow.search_runs([eid], output_format="pandas"), 3), 1
    )
    out["ours_runs_table_to_pandas_ms"] = round(
        median_ms(lambda: ctx.runs_table().to_pandas(), 3), 1
    )
    client = MlflowClient(tracking_uri=uri)
    run_ids = [r.info.run_id for r in client.search_runs([eid], max_results=50_000)]
    keys = [k if s is None else f"{s}/{k}" for k, s in KEYS]

    def histories() -> int:
        return sum(len(client.get_metric_history(r, k)) for r in run_ids for k in keys)

    seconds, got = timed(histories)
    out["mlflow_get_metric_history_all_ms"] = round(seconds * 1000, 1)
    out["mlflow_get_metric_history_points"] = got
    out["mlflow_get_metric_history_per_series_ms"] = round(seconds * 1000 / (len(run_ids) * 4), 2)
    out["ours_metrics_table_ms"] = round(median_ms(ctx.metrics_table, 3), 1)
    out["ours_metrics_table_rows"] = ctx.metrics_table().num_rows
    ctx.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100, help="metric points per run")
    parser.add_argument("--mlflow-runs", type=int, default=1_000)
    parser.add_argument("--skip", choices=("native", "mlflow"), action="append", default=[])
    parser.add_argument("--out", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    }
    with tempfile.TemporaryDirectory() as tmp:
        if "native" not in args.skip:
            root = Path(tmp) / "native"
            results["native_build"] = build_native(root, args.runs, args.points)
            gc.collect()
            results["native"] = measure_native(root)
            print(json.dumps({k: results[k] for k in ("native_build", "native")}, indent=2))
        if "mlflow" not in args.skip:
            uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
            made = build_mlflow(uri, args.mlflow_runs, args.points)
            results["mlflow_build"] = {k: v for k, v in made.items() if k != "eid"}
            results["mlflow"] = measure_mlflow(uri, Path(tmp) / "imported", made)
            print(json.dumps({k: results[k] for k in ("mlflow_build", "mlflow")}, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
