"""Bring an MLflow tracking store's history into a workspace (``contexta import mlflow``).

What becomes what (every event is recorded now and observed at MLflow's time):

experiment   a project: ref ``project:<slug of the name>``, name = the experiment's name,
             created at its creation time;
run          a run: ref ``run:<project>.<MLflow run id>``, name = run name, status (RUNNING and
             SCHEDULED -> open, FINISHED -> completed, FAILED -> failed, KILLED -> cancelled),
             start and end times; params and tags in the run's ``contexta.params`` and
             ``contexta.tags`` extension field sets (``runs_table``'s ``params.*`` and ``tags.*``),
             MLflow's ids and artifact URI in ``contexta.mlflow``;
metric point one metric record per point of every key's history, observed at its timestamp, with
             its step (``tags["step"]``) and original key (``tags["mlflow.key"]``); the key is
             kept as given (MLflow's key rule is within the logged key grammar), except one
             outside it (a ``:``, over 250 characters), which becomes dotted lower-kebab
             (``a:b/Loss_1`` -> ``a-b.loss-1``). NaN and infinite values are stored as they are
             (counted as non-finite; select-best skips them, diagnostics flag them);
artifact     one manifest per file (kind ``export_package``, ``location_ref`` = its MLflow URI);
             files under a local artifact root are copied into the artifact store.

Importing again adds nothing: refs are derived from MLflow's ids (a metric point's from its key
and its position in the key's history ordered by step, timestamp and value), records and
artifacts already stored are skipped, and a run is written again only when MLflow's copy of it
changed (a run that finished since, a new tag).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..common.errors import ValidationError
from ..contract import (
    ArtifactManifest,
    ExtensionFieldSet,
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
)
from ..contract.validation import LOGGED_KEY_MAX, logged_grammar, logged_key
from ..tables import PARAMS_NAMESPACE, TAGS_NAMESPACE

__all__ = ["MLFLOW_NAMESPACE", "ImportReport", "import_mlflow", "metric_key", "slug"]

MLFLOW_NAMESPACE = "contexta.mlflow"
PRODUCER = "contexta.import.mlflow"
_EPOCH = "1970-01-01T00:00:00.000000Z"
_STATUS = {
    "RUNNING": "open",
    "SCHEDULED": "open",
    "FINISHED": "completed",
    "FAILED": "failed",
    "KILLED": "cancelled",
}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_PAGE = 1000


@dataclass(slots=True)
class ImportReport:
    experiments: int = 0
    projects_added: int = 0
    runs: int = 0
    runs_added: int = 0
    runs_updated: int = 0
    metric_points: int = 0
    metric_points_added: int = 0
    metric_points_nonfinite: int = 0  # NaN or infinite values (stored as they are)
    artifacts: int = 0
    artifacts_added: int = 0
    artifacts_copied: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def added(self) -> int:
        return (
            self.projects_added
            + self.runs_added
            + self.runs_updated
            + self.metric_points_added
            + self.artifacts_added
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "added": self.added}


def slug(text: str, fallback: str) -> str:
    """``text`` as one ref component: lowercase letters and digits joined by single dashes,
    at most 63 characters (``fallback`` when nothing is left)."""
    out = _NOT_SLUG.sub("-", text.lower()).strip("-")[:63].strip("-")
    return out or fallback


def metric_key(key: str) -> str:
    """An MLflow metric key as stored: as given when it fits the logged key grammar
    (:data:`~contexta.contract.validation.LOGGED_KEY_RULE`), else :func:`kebab_key`."""
    try:
        return logged_key("metric_key", key, "import_metric_key")
    except ValidationError:
        return kebab_key(key)


def kebab_key(key: str) -> str:
    """``key`` as a dotted lower-kebab key: ``/`` and ``.`` separate segments, anything else
    not a letter or digit becomes ``-``, and a segment that does not start with a letter gets an
    ``m`` in front; one longer than the grammar allows keeps its first 239 characters and a
    digest of the whole key."""
    segments = []
    for part in re.split(r"[/.]+", key):
        text = _NOT_SLUG.sub("-", part.lower()).strip("-")
        if not text:
            continue
        segments.append(text if text[0].isalpha() else "m" + text)
    out = ".".join(segments) or "metric"
    if len(out) > LOGGED_KEY_MAX:
        out = f"{out[:239].rstrip('.-')}-{_digest(key)}"
    return out


def _iso(ms: int | None) -> str | None:
    """MLflow's epoch milliseconds as a UTC timestamp (None stays None)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=5).hexdigest()


def _client(tracking_uri: str) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise ValidationError(
            "Importing from MLflow needs the mlflow package: pip install 'contexta[mlflow]'.",
            code="import_mlflow_missing",
            details={"package": "mlflow"},
        ) from exc
    if urlparse(tracking_uri).scheme in ("", "file"):
        # MLflow 3 refuses file stores unless asked; this import only reads them
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return MlflowClient(tracking_uri=tracking_uri)


def _experiments(client: Any, names: Sequence[str] | None) -> list[Any]:
    from mlflow.entities import ViewType

    found = list(client.search_experiments(view_type=ViewType.ALL, max_results=50_000))
    if not names:
        return found
    by_name = {e.name: e for e in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ValidationError(
            f"No experiment named {missing[0]!r} in the tracking store (it has "
            f"{sorted(by_name)!r}).",
            code="import_unknown_experiment",
            details={"experiment": missing[0], "known": sorted(by_name)},
        )
    return [by_name[n] for n in names]


def _runs(client: Any, experiment_id: str) -> Iterator[Any]:
    from mlflow.entities import ViewType

    token = None
    while True:
        page = client.search_runs(
            [experiment_id],
            run_view_type=ViewType.ALL,
            max_results=_PAGE,
            page_token=token,
            order_by=["attributes.start_time ASC"],
        )
        yield from page
        token = page.token
        if not token:
            return


def import_mlflow(
    ctx: Any,
    tracking_uri: str,
    experiments: Sequence[str] | None = None,
    *,
    advance: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``experiments`` (every experiment when None) of the MLflow tracking store at
    ``tracking_uri`` into ``ctx``'s workspace. ``advance`` is told each run done."""
    client = _client(tracking_uri)
    report = ImportReport()
    chosen = _experiments(client, experiments)
    runs_of = [(e, list(_runs(client, e.experiment_id))) for e in chosen]
    if on_total is not None:
        on_total(sum(len(r) for _, r in runs_of))
    for experiment, runs in runs_of:
        report.experiments += 1
        project = _project(ctx, experiment, report)
        for run in runs:
            _import_run(ctx, client, project, run, report)
            if advance is not None:
                advance(1)
    ctx.flush()
    return report


def _project(ctx: Any, experiment: Any, report: ImportReport) -> str:
    ref = (
        f"project:{slug(experiment.name, 'experiment-' + slug(str(experiment.experiment_id), 'x'))}"
    )
    store = ctx.metadata_store.projects
    if not store.exists_project(ref):
        created = _iso(getattr(experiment, "creation_time", None)) or _EPOCH
        store.put_project(
            Project(
                project_ref=ref,
                name=experiment.name,
                created_at=created,
                description=f"imported from MLflow experiment {experiment.experiment_id}",
            )
        )
        report.projects_added += 1
    return ref


def _run_model(project: str, run: Any) -> Run:
    info, data = run.info, run.data
    status = _STATUS.get(info.status, "open")
    ended = _iso(info.end_time) if status != "open" else None
    if status != "open" and ended is None:
        ended = _iso(info.start_time)
    extensions = [
        ExtensionFieldSet(
            namespace=MLFLOW_NAMESPACE,
            fields={
                "run_id": info.run_id,
                "experiment_id": str(info.experiment_id),
                "artifact_uri": info.artifact_uri or "",
                "status": info.status,
                "lifecycle_stage": info.lifecycle_stage,
            },
        )
    ]
    if data.params:
        extensions.append(
            ExtensionFieldSet(namespace=PARAMS_NAMESPACE, fields={"values": dict(data.params)})
        )
    if data.tags:
        extensions.append(
            ExtensionFieldSet(namespace=TAGS_NAMESPACE, fields={"values": dict(data.tags)})
        )
    return Run(
        run_ref=f"run:{project[8:]}.{slug(info.run_id, 'run')}",
        project_ref=project,
        name=info.run_name or info.run_id,
        status=status,
        started_at=_iso(info.start_time) or _EPOCH,
        ended_at=ended,
        extensions=tuple(extensions),
    )


def _import_run(ctx: Any, client: Any, project: str, run: Any, report: ImportReport) -> None:
    report.runs += 1
    model = _run_model(project, run)
    ref = str(model.run_ref)
    repository = ctx.metadata_store.runs
    stored = repository.find_run(ref)
    if stored is None or stored != model:
        repository.put_run(model)
        if stored is None:
            report.runs_added += 1
        else:
            report.runs_updated += 1
    have = set(ctx.query_service.record_rows(ref).column("ref").to_pylist()) if stored else set()
    now = _iso(int(datetime.now(UTC).timestamp() * 1000)) or _EPOCH
    records: list[MetricRecord] = []
    for key in sorted(run.data.metrics):
        records += _metric_records(client, run.info.run_id, ref, key, now, have, report)
    if records:
        result = ctx.record_store.append_many(records)
        report.metric_points_added += result.accepted_count
        for rejected in result.rejected:
            report.notes.append(f"{ref}: {rejected.code}")
    _import_artifacts(ctx, client, model, run, report)


def _metric_records(
    client: Any, run_id: str, run_ref: str, key: str, now: str, have: set[str], report: ImportReport
) -> Iterator[MetricRecord]:
    """The points of ``key``'s history not stored yet (``have``: record refs stored)."""
    history = sorted(
        client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp, m.value)
    )
    name = metric_key(key)
    tag = _digest(key)
    for i, point in enumerate(history):
        report.metric_points += 1
        if not math.isfinite(point.value):
            report.metric_points_nonfinite += 1
        ref = f"record:{run_ref[4:]}.mlflow-{tag}-{i}"
        if ref in have:
            continue
        observed = _iso(point.timestamp) or now
        with logged_grammar():  # the key as MLflow has it; NaN and infinities kept
            record = _metric_record(ref, now, observed, run_ref, name, point, key)
        yield record


def _metric_record(
    ref: str, now: str, observed: str, run_ref: str, name: str, point: Any, key: str
) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=ref,
            record_type="metric",
            recorded_at=now,
            observed_at=observed,
            producer_ref=PRODUCER,
            run_ref=run_ref,
        ),
        payload=MetricPayload(
            metric_key=name,
            value=float(point.value),
            value_type="float64",
            tags={"step": str(point.step), "mlflow.key": key},
        ),
    )


def _local_root(uri: str | None) -> Path | None:
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path if parsed.scheme else uri))
    return None


def _artifact_files(client: Any, run_id: str, path: str | None = None) -> Iterator[Any]:
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            yield from _artifact_files(client, run_id, item.path)
        else:
            yield item


def _import_artifacts(
    ctx: Any, client: Any, run: Run, mlflow_run: Any, report: ImportReport
) -> None:
    uri = mlflow_run.info.artifact_uri
    root = _local_root(uri)
    for item in _artifact_files(client, mlflow_run.info.run_id):
        report.artifacts += 1
        ref = f"artifact:{str(run.run_ref)[4:]}.{slug(item.path, 'file')[:50]}-{_digest(item.path)}"
        manifest = ArtifactManifest(
            artifact_ref=ref,
            artifact_kind="export_package",
            created_at=run.started_at,
            producer_ref=PRODUCER,
            run_ref=run.run_ref,
            location_ref=f"{uri}/{item.path}",
            size_bytes=item.file_size,
            attributes={"mlflow_path": item.path},
        )
        source = None if root is None else (root / item.path)
        if source is not None and source.is_file():
            before = ctx.maintenance.head().seq
            ctx.artifact_store.put_artifact(manifest, source, mode="copy")
            if ctx.maintenance.head().seq != before:  # a new binding (same body again: none)
                report.artifacts_added += 1
                report.artifacts_copied += 1
            continue
        if ctx.maintenance.put_once(manifest, projection="artifacts"):
            report.artifacts_added += 1
