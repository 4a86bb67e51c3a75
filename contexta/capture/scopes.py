"""Runtime capture scopes: ``with ctx.run("train") as run: with run.stage("fit") as stage: ...``.

Every scope can emit metrics, events, spans and artifact registrations bound to its refs. The
records are contract records appended through ``ctx.record_store`` (so they are buffered by the
ledger and visible to the next query in this process), and each call returns a
:class:`~contexta.capture.results.CaptureResult` whose ``payload`` is the record written.
Scopes are context managers: leaving the block closes them ``completed``, or ``failed`` when an
exception escapes.
"""

from __future__ import annotations

import contextvars
import hashlib
import itertools
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import msgspec

from ..common.errors import ConflictError, ValidationError
from ..contract import ArtifactManifest, StableRef
from ..contract.extensions import labels_of
from ..contract.frozen import EMPTY_MAP, FrozenMap
from ..contract.refs import ref_component
from ..contract.timestamps import instant_key
from ..contract.validation import freeze_json
from ._build import RecordFactory, new_token, utc_now_text
from .context import ActiveContext
from .errors import CaptureError, ClosedScopeError, LifecycleError
from .models import ArtifactRegistrationEmission, EventEmission, MetricEmission, SpanEmission
from .results import BatchCaptureResult, CaptureResult, PayloadFamily

if TYPE_CHECKING:
    from ..config import UnifiedConfig
    from ..store.artifacts import ArtifactStore

__all__ = [
    "BaseScope",
    "BatchScope",
    "DeploymentScope",
    "OperationScope",
    "RunScope",
    "SampleScope",
    "SpanScope",
    "StageScope",
]

_CURRENT_SPAN: contextvars.ContextVar[SpanScope | None] = contextvars.ContextVar(
    "contexta_current_span", default=None
)


class ScopeHost(Protocol):
    """What a scope asks of the session that opened it (:class:`~.session.RuntimeSession`):
    its settings, the writes, and opening and closing the scopes below it."""

    config: UnifiedConfig
    producer_ref: str
    schema_version: str

    @property
    def artifact_store(self) -> ArtifactStore: ...

    def put(self, model: Any) -> None: ...

    def emit(self, record: Any, service: str) -> CaptureResult: ...

    def emit_many(self, records: list[Any], service: str) -> BatchCaptureResult: ...

    def emit_metric(
        self,
        factory: RecordFactory,
        key: str,
        value: Any,
        unit: str | None,
        aggregation_scope: str,
        tags: Mapping[str, str] | None,
        summary_basis: str | None,
        step: int | None,
    ) -> CaptureResult: ...

    def refused_metric(
        self, factory: RecordFactory, key: Any, value: Any, error: ValidationError
    ) -> Any: ...

    def registered(
        self, manifest: ArtifactManifest, payload: dict[str, Any], exists: bool
    ) -> CaptureResult: ...

    def relabel(
        self,
        scope: RunScope,
        *,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None: ...

    def start_stage(
        self,
        run: RunScope,
        name: str,
        *,
        stage_ref: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> StageScope: ...

    def start_batch(
        self,
        stage: StageScope,
        name: str,
        *,
        batch_ref: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> BatchScope: ...

    def start_sample(
        self,
        owner: StageScope | BatchScope,
        name: str,
        *,
        sample_ref: Any = None,
        retention_class: str | None = None,
        redaction_profile: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> SampleScope: ...

    def start_operation(
        self,
        owner: BaseScope,
        name: str,
        *,
        operation_ref: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> OperationScope: ...

    def close_run(self, scope: RunScope, status: str) -> None: ...

    def close_stage(self, scope: StageScope, status: str) -> None: ...

    def close_batch(self, scope: BatchScope, status: str) -> None: ...

    def close_deployment(self, scope: DeploymentScope, status: str) -> None: ...

    def close_leaf(self, scope: BaseScope, status: str, attr: str) -> None: ...


def _frozen(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not values:
        return EMPTY_MAP
    return FrozenMap((key, values[key]) for key in sorted(values))


def _jsonable(value: Any) -> Any:
    """JSON-like form of user metadata for the run-context event (repr for other objects)."""
    try:
        return freeze_json("value", value)
    except ValidationError:
        if isinstance(value, Mapping):
            return {str(k): _jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_jsonable(v) for v in value]
        return repr(value)


class BaseScope:
    """Lifecycle and emissions shared by every scope."""

    scope_kind = "base"

    def __init__(
        self,
        session: ScopeHost,
        context: ActiveContext,
        model: Any,
        *,
        name: str,
        started_at: str,
        metadata: Mapping[str, Any] | None = None,
        parent: BaseScope | None = None,
    ) -> None:
        self._session = session
        self.context = context
        self._model = model
        self._ref = context.ref
        self._name = name
        self._started_at = started_at
        self._closed_at: str | None = None
        self._status = "open"
        self._token: contextvars.Token[Any] | None = None
        self._factory: RecordFactory | None = None
        self._pending: list[SpanScope] = []
        self._metadata = _frozen(metadata)
        self._parent = parent
        self._counter: itertools.count[int] = parent._counter if parent else itertools.count(1)
        self._record_token: str = parent._record_token if parent else new_token()

    # ------------------------------------------------------------------ properties

    @property
    def ref(self) -> str:
        return self._ref

    @property
    def name(self) -> str:
        return self._name

    @property
    def started_at(self) -> str:
        return self._started_at

    @property
    def closed_at(self) -> str | None:
        return self._closed_at

    @property
    def status(self) -> str:
        return self._status

    @property
    def is_closed(self) -> bool:
        return self._closed_at is not None

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._metadata

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ref={self._ref!r}, status={self._status!r})"

    # ------------------------------------------------------------------ lifecycle

    def close(self, *, status: str = "completed") -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        if self._closed_at is None:
            self.close(status="failed" if exc_type is not None else "completed")
        return False

    def _mark_closed(self, status: str, closed_at: str) -> None:
        self._status = status
        self._closed_at = closed_at

    def _ensure_open(self, action: str) -> None:
        if self._closed_at is not None:
            raise ClosedScopeError(
                f"Cannot {action} on the closed {self.scope_kind} scope {self._ref}.",
                code="runtime_scope_closed",
                details={"scope_kind": self.scope_kind, "ref": self._ref},
            )

    def _flush_pending_spans(self) -> None:
        for span in list(self._pending):
            span.close()

    def _make_factory(self) -> RecordFactory:
        ctx = self.context
        if ctx.run_ref is None:
            raise CaptureError(
                "Records need a run: this deployment scope has no run_ref.",
                code="capture_run_context_required",
            )
        self._factory = RecordFactory(
            run_ref=ctx.run_ref,
            producer_ref=self._session.producer_ref,
            schema_version=self._session.schema_version,
            counter=self._counter,
            token=self._record_token,
            stage_ref=ctx.stage_execution_ref,
            batch_ref=ctx.batch_execution_ref,
            sample_ref=ctx.sample_observation_ref,
            op_ref=ctx.operation_context_ref,
            deployment_ref=ctx.deployment_execution_ref,
        )
        return self._factory

    # ------------------------------------------------------------------ records

    def metric(
        self,
        key: str,
        value: Any,
        *,
        unit: str | None = None,
        aggregation_scope: str = "step",
        tags: Mapping[str, str] | None = None,
        summary_basis: str = "raw_observation",
        step: int | None = None,
    ) -> CaptureResult:
        """Record one metric value (``step``, ours, is kept in the record's tags)."""
        if self._closed_at is not None:
            self._ensure_open("metric")
        factory = self._factory
        if (
            factory is not None
            and factory.lane
            and unit is None
            and aggregation_scope == "step"
            and not tags
            and summary_basis == "raw_observation"
        ):
            result = factory.lane(key, value, step)  # a plain metric (see metric_lane)
            if result is not None:
                return result
        return self._session.emit_metric(
            self._factory or self._make_factory(),
            key,
            value,
            unit,
            aggregation_scope,
            tags,
            summary_basis,
            step,
        )

    def emit_metrics(
        self, emissions: Sequence[MetricEmission | Mapping[str, Any]]
    ) -> BatchCaptureResult:
        self._ensure_open("emit_metrics")
        factory = self._factory or self._make_factory()
        records = []
        for item in emissions:
            try:
                e = item if isinstance(item, MetricEmission) else MetricEmission(**item)
                records.append(
                    factory.metric(
                        e.key, e.value, e.unit, e.aggregation_scope, e.tags, e.summary_basis, e.step
                    )
                )
            except ValidationError as exc:  # as run.metric: a bad value is degraded, not raised
                key = item.get("key") if isinstance(item, Mapping) else None
                value = item.get("value") if isinstance(item, Mapping) else item
                records.append(self._session.refused_metric(factory, key, value, exc))
        return self._session.emit_many(records, "metric_batch")

    def event(
        self,
        key: str,
        *,
        message: str,
        level: str = "info",
        attributes: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> CaptureResult:
        """Record one structured event."""
        self._ensure_open("event")
        factory = self._factory or self._make_factory()
        return self._session.emit(factory.event(key, message, level, attributes, tags), "event")

    def emit_events(
        self, emissions: Sequence[EventEmission | Mapping[str, Any]]
    ) -> BatchCaptureResult:
        self._ensure_open("emit_events")
        factory = self._factory or self._make_factory()
        records = []
        for item in emissions:
            e = item if isinstance(item, EventEmission) else EventEmission(**item)
            records.append(factory.event(e.key, e.message, e.level, e.attributes, e.tags))
        return self._session.emit_many(records, "event_batch")

    def span(
        self,
        name: str,
        *,
        started_at: str | None = None,
        ended_at: str | None = None,
        status: str = "ok",
        span_kind: str = "operation",
        attributes: Mapping[str, Any] | None = None,
        linked_refs: Sequence[Any] | None = None,
        parent_span_id: str | None = None,
    ) -> Any:
        """A trace span. With ``started_at``/``ended_at`` it is recorded at once (1.0's form)
        and a CaptureResult returned. Without them it returns a :class:`SpanScope`: use it as a
        context manager to time a block (``with stage.span("load"):``); a span scope never
        entered is recorded as an instant when closed (or when its owner closes)."""
        self._ensure_open("span")
        if started_at is None and ended_at is None:
            return SpanScope(
                self,
                name,
                status=status,
                span_kind=span_kind,
                attributes=attributes,
                linked_refs=linked_refs,
                parent_span_id=parent_span_id,
            )
        e = SpanEmission(
            name=name,
            started_at=started_at,
            ended_at=ended_at,
            status=status,
            span_kind=span_kind,
            attributes=attributes,
            linked_refs=None if linked_refs is None else tuple(linked_refs),
            parent_span_id=parent_span_id,
        )
        return self._session.emit(self._span_record(e), "span")

    def _span_record(self, e: SpanEmission) -> Any:
        factory = self._factory or self._make_factory()
        start = e.started_at or utc_now_text()
        parent = _CURRENT_SPAN.get()
        return factory.span(
            e.name,
            started_at=start,
            ended_at=e.ended_at or start,
            status=e.status,
            span_kind=e.span_kind,
            attributes=e.attributes,
            linked_refs=e.linked_refs or (),
            parent_span_id=e.parent_span_id or (parent.span_id if parent else None),
            trace_id=parent.trace_id if parent else None,
        )

    def emit_spans(
        self, emissions: Sequence[SpanEmission | Mapping[str, Any]]
    ) -> BatchCaptureResult:
        self._ensure_open("emit_spans")
        records = [
            self._span_record(item if isinstance(item, SpanEmission) else SpanEmission(**item))
            for item in emissions
        ]
        return self._session.emit_many(records, "span_batch")

    # ------------------------------------------------------------------ artifacts

    def register_artifact(
        self,
        artifact_kind: str,
        path: str,
        *,
        artifact_ref: Any = None,
        attributes: Mapping[str, Any] | None = None,
        compute_hash: bool = True,
        allow_missing: bool = False,
    ) -> CaptureResult:
        """Record an artifact manifest (an ``artifact.put`` event) for a file; the body stays
        where it is (use ``ctx.artifact_store.put_artifact`` to store it)."""
        self._ensure_open("register_artifact")
        e = ArtifactRegistrationEmission(
            artifact_kind=artifact_kind,
            path=path,
            artifact_ref=artifact_ref,
            attributes=attributes,
            compute_hash=compute_hash,
            allow_missing=allow_missing,
        )
        return self._register(e)

    def log_artifact(
        self,
        path: str | Path,
        name: str | None = None,
        *,
        kind: str = "file",
        attributes: Mapping[str, Any] | None = None,
    ) -> CaptureResult:
        """Store the file at ``path`` in the workspace's content-addressed artifact store, bound
        to this scope's run (and stage), in one call; ``contexta artifact get REF -o PATH``
        fetches it back. The ref is ``artifact:<run>.<name>`` (``name``: the file name by
        default; a short hash of the exact name is added when the ref cannot spell it, so
        ``model.npz`` and ``model-npz`` never meet); logging the same name again with another
        body stores it as ``<name>-2``, ``-3``... (the earlier body is kept)."""
        self._ensure_open("log_artifact")
        ctx = self.context
        if ctx.run_ref is None:
            raise CaptureError(
                "Artifact logging requires an active run.",
                code="artifact_registration_requires_run",
            )
        source = Path(path).expanduser()
        if not source.is_file():
            raise ValidationError(
                f"log_artifact: {str(source)!r} is not an existing file.",
                code="artifact_source_missing",
                details={"path": str(source)},
            )
        label = source.name if name is None else name
        base = f"{ctx.run_ref.value}.{ref_component(label)}"
        store = self._session.artifact_store
        manifest = ArtifactManifest(
            artifact_ref=StableRef("artifact", base),
            artifact_kind=kind,
            created_at=utc_now_text(),
            producer_ref=self._session.producer_ref,
            run_ref=ctx.run_ref,
            location_ref=label,
            stage_execution_ref=ctx.stage_execution_ref,
            attributes={**(attributes or {}), "name": label},
            schema_version=self._session.schema_version,
        )
        for version in itertools.count(1):
            ref = base if version == 1 else f"{base}-{version}"
            manifest = msgspec.structs.replace(manifest, artifact_ref=StableRef("artifact", ref))
            try:
                receipt = store.put_artifact(manifest, source, mode="copy")
                break
            except ConflictError:
                continue  # another body under this name: the next version
        payload = {
            "manifest": manifest,
            "binding": receipt.binding,
            "source": {"kind": "PATH", "uri": str(source.resolve()), "exists": True},
            "binding_status": "BOUND",
        }
        return self._session.registered(manifest, payload, True)

    def register_artifacts(
        self, emissions: Sequence[ArtifactRegistrationEmission | Mapping[str, Any]]
    ) -> BatchCaptureResult:
        self._ensure_open("register_artifacts")
        results = []
        for item in emissions:
            try:
                e = (
                    item
                    if isinstance(item, ArtifactRegistrationEmission)
                    else ArtifactRegistrationEmission(**item)
                )
                results.append(self._register(e))
            except Exception as exc:
                results.append(CaptureResult.failure_result(PayloadFamily.ARTIFACT, exc))
        return BatchCaptureResult.from_results(
            PayloadFamily.ARTIFACT, results, metadata={"service": "artifact_registration_batch"}
        )

    def _register(self, e: ArtifactRegistrationEmission) -> CaptureResult:
        ctx = self.context
        if ctx.run_ref is None:
            raise CaptureError(
                "Artifact registration requires an active run.",
                code="artifact_registration_requires_run",
            )
        source = Path(e.path).expanduser().resolve()
        exists = source.exists()
        if not exists and not e.allow_missing:
            raise ValidationError(
                f"Artifact source path {str(source)!r} does not exist.",
                code="artifact_source_missing",
                details={"path": str(source)},
            )
        ref = e.artifact_ref or StableRef(
            "artifact",
            f"{ctx.run_ref.value}.{e.artifact_kind.replace('_', '-')}-{secrets.token_hex(6)}",
        )
        size = digest = None
        if exists and source.is_file():
            size = source.stat().st_size
            if e.compute_hash:
                sha = hashlib.sha256()
                with source.open("rb") as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        sha.update(chunk)
                digest = sha.hexdigest()
        manifest = ArtifactManifest(
            artifact_ref=ref,
            artifact_kind=e.artifact_kind,
            created_at=utc_now_text(),
            producer_ref=self._session.producer_ref,
            run_ref=ctx.run_ref,
            location_ref=f"path:{source.as_posix()}",
            deployment_execution_ref=ctx.deployment_execution_ref,
            stage_execution_ref=ctx.stage_execution_ref,
            batch_execution_ref=ctx.batch_execution_ref,
            sample_observation_ref=ctx.sample_observation_ref,
            operation_context_ref=ctx.operation_context_ref,
            hash_value=digest,
            size_bytes=size,
            attributes=e.attributes or None,
            schema_version=self._session.schema_version,
        )
        self._session.put(manifest)
        payload = {
            "manifest": manifest,
            "source": {"kind": "PATH", "uri": str(source), "exists": exists},
            "binding_status": "BOUND" if exists else "PENDING",
        }
        return self._session.registered(manifest, payload, exists)


class SpanScope:
    """A span timed by a ``with`` block; nested spans share its trace and name it as parent."""

    scope_kind = "span"

    def __init__(
        self,
        owner: BaseScope,
        name: str,
        *,
        status: str = "ok",
        span_kind: str = "operation",
        attributes: Mapping[str, Any] | None = None,
        linked_refs: Sequence[Any] | None = None,
        parent_span_id: str | None = None,
    ) -> None:
        e = SpanEmission(
            name=name,
            status=status,
            span_kind=span_kind,
            attributes=attributes,
            linked_refs=tuple(linked_refs or ()),
            parent_span_id=parent_span_id,
        )
        parent = _CURRENT_SPAN.get()
        self._owner = owner
        self._emission = e
        self._attributes: dict[str, Any] = dict(e.attributes or {})
        self.name = e.name
        self.span_id = f"span-{secrets.token_hex(6)}"
        self.trace_id: str = parent.trace_id if parent else f"trace-{secrets.token_hex(8)}"
        self.parent_span_id = e.parent_span_id or (parent.span_id if parent else None)
        self.created_at = utc_now_text()
        self.started_at: str | None = None
        self.result: CaptureResult | None = None
        self._cv: contextvars.Token[Any] | None = None
        owner._pending.append(self)

    def set_attribute(self, key: str, value: Any) -> None:
        """Add an attribute before the span is recorded."""
        self._attributes[key] = value

    def __enter__(self) -> SpanScope:
        self.started_at = utc_now_text()
        self._cv = _CURRENT_SPAN.set(self)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        if self._cv is not None:
            _CURRENT_SPAN.reset(self._cv)
            self._cv = None
        status = "error" if exc_type is not None and self._emission.status == "ok" else None
        if exc_type is not None:
            self._attributes.setdefault("error_type", exc_type.__name__)
        self.close(status=status)
        return False

    def close(self, *, status: str | None = None) -> CaptureResult:
        """Record the span now (instant at creation if it was never entered). Idempotent."""
        if self.result is not None:
            return self.result
        start = self.started_at or self.created_at
        end = start if self.started_at is None else max(utc_now_text(), start, key=instant_key)
        factory = self._owner._factory or self._owner._make_factory()
        record = factory.span(
            self.name,
            started_at=start,
            ended_at=end,
            status=status or self._emission.status,
            span_kind=self._emission.span_kind,
            attributes=self._attributes or None,
            linked_refs=self._emission.linked_refs or (),
            parent_span_id=self.parent_span_id,
            span_id=self.span_id,
            trace_id=self.trace_id,
            trusted_times=True,
        )
        if self in self._owner._pending:
            self._owner._pending.remove(self)
        self.result = self._owner._session.emit(record, "span")
        return self.result


class RunScope(BaseScope):
    """``ctx.run(name)``: ``ref`` = ``run:<project>.<slug>``, ``run_id`` = ``<slug>``."""

    scope_kind = "run"

    def __init__(
        self,
        session: ScopeHost,
        context: ActiveContext,
        model: Any,
        *,
        tags: Mapping[str, str] | None,
        metadata: Mapping[str, Any] | None,
        code_revision: str | None,
        config_snapshot: Mapping[str, Any] | None,
        dataset_ref: Any,
        counter: itertools.count[int],
        token: str,
    ) -> None:
        super().__init__(
            session, context, model, name=model.name, started_at=model.started_at, metadata=metadata
        )
        self._counter = counter
        self._record_token = token
        for label, value in (("code_revision", code_revision), ("dataset_ref", dataset_ref)):
            if value is not None and (not str(value).strip()):
                raise LifecycleError(f"{label} must not be blank.", code="runtime_invalid_value")
        self._code_revision = None if code_revision is None else str(code_revision).strip()
        self._dataset_ref = None if dataset_ref is None else str(dataset_ref).strip()
        self._tags = _frozen({str(k).strip(): str(v).strip() for k, v in (tags or {}).items()})
        self._given_config = config_snapshot
        self._stage_order = itertools.count()

    @property
    def run_id(self) -> str:
        return self.context.run_ref.value.split(".", 1)[1]  # type: ignore[union-attr]

    @property
    def code_revision(self) -> str | None:
        return self._code_revision

    @property
    def dataset_ref(self) -> str | None:
        return self._dataset_ref

    @property
    def tags(self) -> Mapping[str, str]:
        return _frozen({**self._tags, **labels_of(self._model)[1]})

    @property
    def params(self) -> Mapping[str, Any]:
        return _frozen(labels_of(self._model)[0])

    @property
    def config_snapshot(self) -> Mapping[str, Any]:
        if self._given_config is not None:
            return _frozen(self._given_config)
        if self._session.config.capture.capture_config_snapshot:
            from ..config import config_to_mapping

            return _frozen(config_to_mapping(self._session.config))
        return EMPTY_MAP

    @property
    def config_snapshot_ref(self) -> str | None:
        if self._given_config is None and not self._session.config.capture.capture_config_snapshot:
            return None
        return f"artifact:{self.context.run_ref.value}.config-snapshot"  # type: ignore[union-attr]

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record the run's parameters (a new version of the run: history is kept; a name
        given again takes the new value). Shown by snapshots, comparisons, reports and
        ``runs``."""
        self._ensure_open("log_params")
        self._session.relabel(self, params=params)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags of the run (values as text; a new version of the run, history kept);
        ``list_runs(tags=...)`` filters by them."""
        self._ensure_open("set_tags")
        self._session.relabel(self, tags=tags)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def stage(
        self, name: str, *, stage_ref: Any = None, metadata: Mapping[str, Any] | None = None
    ) -> StageScope:
        """Open a stage (order_index = creation order in this run)."""
        return self._session.start_stage(self, name, stage_ref=stage_ref, metadata=metadata)

    def close(self, *, status: str = "completed") -> None:
        self._session.close_run(self, status)

    def _next_stage_order(self) -> int:
        return next(self._stage_order)

    def _write_context_event(self) -> None:
        """What the caller said about the run (tags, metadata, code revision, config, dataset)
        as one ``run.context`` event, so it is in the ledger rather than only in memory."""
        given = {
            "tags": dict(self._tags) or None,
            "metadata": dict(self._metadata) or None,
            "code_revision": self._code_revision,
            "dataset_ref": self._dataset_ref,
            "config_snapshot": self._given_config,
        }
        attributes = {k: _jsonable(v) for k, v in given.items() if v is not None}
        if attributes:
            self.event("run.context", message="run context", attributes=attributes)


class StageScope(BaseScope):
    scope_kind = "stage"

    def __init__(
        self,
        session: ScopeHost,
        context: ActiveContext,
        model: Any,
        *,
        metadata: Mapping[str, Any] | None,
        parent: BaseScope,
    ) -> None:
        super().__init__(
            session,
            context,
            model,
            name=model.stage_name,
            started_at=model.started_at,
            metadata=metadata,
            parent=parent,
        )
        self._batch_order = itertools.count()

    @property
    def order_index(self) -> int:
        return self._model.order_index

    def batch(
        self, name: str, *, batch_ref: Any = None, metadata: Mapping[str, Any] | None = None
    ) -> BatchScope:
        return self._session.start_batch(self, name, batch_ref=batch_ref, metadata=metadata)

    def sample(
        self,
        name: str,
        *,
        sample_ref: Any = None,
        retention_class: str | None = None,
        redaction_profile: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> SampleScope:
        return self._session.start_sample(
            self,
            name,
            sample_ref=sample_ref,
            retention_class=retention_class,
            redaction_profile=redaction_profile,
            metadata=metadata,
        )

    def operation(
        self, name: str, *, operation_ref: Any = None, metadata: Mapping[str, Any] | None = None
    ) -> OperationScope:
        return self._session.start_operation(
            self, name, operation_ref=operation_ref, metadata=metadata
        )

    def close(self, *, status: str = "completed") -> None:
        self._session.close_stage(self, status)

    def _next_batch_order(self) -> int:
        return next(self._batch_order)


class BatchScope(BaseScope):
    scope_kind = "batch"

    def __init__(
        self,
        session: ScopeHost,
        context: ActiveContext,
        model: Any,
        *,
        metadata: Mapping[str, Any] | None,
        parent: BaseScope,
    ) -> None:
        super().__init__(
            session,
            context,
            model,
            name=model.batch_name,
            started_at=model.started_at,
            metadata=metadata,
            parent=parent,
        )

    @property
    def order_index(self) -> int:
        return self._model.order_index

    sample = StageScope.sample
    operation = StageScope.operation

    def close(self, *, status: str = "completed") -> None:
        self._session.close_batch(self, status)


class SampleScope(BaseScope):
    scope_kind = "sample"

    def __init__(
        self,
        session: ScopeHost,
        context: ActiveContext,
        model: Any,
        *,
        metadata: Mapping[str, Any] | None,
        parent: BaseScope,
    ) -> None:
        super().__init__(
            session,
            context,
            model,
            name=model.sample_name,
            started_at=model.observed_at,
            metadata=metadata,
            parent=parent,
        )

    @property
    def observed_at(self) -> str:
        return self._model.observed_at

    def close(self, *, status: str = "completed") -> None:
        self._session.close_leaf(self, status, "sample_scope")


class OperationScope(BaseScope):
    scope_kind = "operation"

    def __init__(
        self,
        session: ScopeHost,
        context: ActiveContext,
        model: Any,
        *,
        metadata: Mapping[str, Any] | None,
        parent: BaseScope,
    ) -> None:
        super().__init__(
            session,
            context,
            model,
            name=model.operation_name,
            started_at=model.observed_at,
            metadata=metadata,
            parent=parent,
        )

    @property
    def observed_at(self) -> str:
        return self._model.observed_at

    def close(self, *, status: str = "completed") -> None:
        self._session.close_leaf(self, status, "operation_scope")


class DeploymentScope(BaseScope):
    scope_kind = "deployment"

    def __init__(
        self,
        session: ScopeHost,
        context: ActiveContext,
        model: Any,
        *,
        metadata: Mapping[str, Any] | None,
        parent: BaseScope | None,
    ) -> None:
        super().__init__(
            session,
            context,
            model,
            name=model.deployment_name,
            started_at=model.started_at,
            metadata=metadata,
            parent=parent,
        )

    @property
    def order_index(self) -> int:
        return self._model.order_index

    def close(self, *, status: str = "completed") -> None:
        self._session.close_deployment(self, status)
