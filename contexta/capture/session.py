"""The runtime session behind ``ctx.run(...)``: which scopes are open, and the writes they make.

One :class:`RuntimeSession` per ``Contexta``. The active scopes live in a ``ContextVar`` (so
threads and asyncio tasks each see their own), and every scope transition writes a real ledger
event: opening a run puts the project (when missing) and the run with status ``open``; closing
it puts a new version of the run, ``completed`` or ``failed``. Stages, batches, deployments and
samples follow the same rule; operations carry no entity of their own (1.0 has no store for
them) but tag every record emitted inside them.
"""

from __future__ import annotations

import itertools
import re
import secrets
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from importlib.metadata import distributions
from platform import platform as _platform
from typing import TYPE_CHECKING, Any

import msgspec
import pyarrow.compute as pc

from ledger.errors import LedgerError

from ..common.errors import ReadOnlyStoreError, ValidationError
from ..contract import (
    BatchExecution,
    DeploymentExecution,
    EnvironmentSnapshot,
    OperationContext,
    Project,
    Run,
    SampleObservation,
    StableRef,
    StageExecution,
)
from ..contract.extensions import labels_of, with_labels
from ..contract.refs import coerce_ref
from ..contract.timestamps import instant_key
from ..events import RUN_PUT, entity_event
from ..ordering import string_scalar
from ..workspace import translate
from ._build import RecordFactory, new_token, utc_now_text
from .context import ActiveContext
from .dispatch import CaptureDispatcher
from .errors import ClosedScopeError, LifecycleError
from .metric_lane import plain_metric_lane
from .results import (
    BatchCaptureResult,
    CaptureResult,
    Delivery,
    DeliveryStatus,
    FailureInfo,
    PayloadFamily,
    ResultStatus,
)
from .scopes import (
    BaseScope,
    BatchScope,
    DeploymentScope,
    OperationScope,
    RunScope,
    SampleScope,
    StageScope,
)

if TYPE_CHECKING:
    from ..store.artifacts import ArtifactStore

__all__ = ["ActiveContext", "ContextState", "RuntimeSession", "slug"]

_TERMINAL = ("completed", "failed", "cancelled")
# A value that is not a number is recorded as degraded; in strict mode (the default) every
# other refused argument (key, step, unit, tags...) raises, in lenient mode it is degraded too.
_VALUE_CODES = frozenset({"capture_model_invalid_metric_value"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_PACKAGES: dict[str, str] | None = None
LEDGER = "ledger"
_LEDGER_OK = (
    Delivery(
        LEDGER, PayloadFamily.RECORD, DeliveryStatus.SUCCESS, "appended to the workspace ledger"
    ),
)
_ARTIFACT_OK = (
    Delivery(
        LEDGER,
        PayloadFamily.ARTIFACT,
        DeliveryStatus.SUCCESS,
        "manifest written to the workspace ledger",
    ),
)
_OK = CaptureResult(status=ResultStatus.SUCCESS, family=PayloadFamily.RECORD)


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise LifecycleError(
            f"{field} must be a string, got {type(value).__name__}.",
            code="runtime_invalid_value",
            details={"field_name": field},
        )
    text = value.strip()
    if not text:
        raise LifecycleError(
            f"{field} must not be blank.",
            code="runtime_invalid_value",
            details={"field_name": field},
        )
    return text


def slug(field: str, value: Any) -> str:
    """1.0's component rule: lower-cased, runs of other characters become ``-``, trimmed."""
    text = _NOT_SLUG.sub("-", _text(field, value).lower()).strip("-")
    if not text:
        raise LifecycleError(
            f"{field} {value!r} must contain at least one letter or digit.",
            code="runtime_invalid_component",
            details={"field_name": field, "value": value},
        )
    return text


def _exact_ref(raw: Any, kind: str, value: str, field: str) -> StableRef:
    if raw is None:
        return StableRef(kind, value)
    ref = coerce_ref(field, raw, (kind,))
    if ref.value != value:
        raise LifecycleError(
            f"{field} must equal {kind}:{value}, got {ref}.",
            code="runtime_ref_mismatch",
            details={"field_name": field, "expected": f"{kind}:{value}"},
        )
    return ref


def _later(now: str, start: str) -> str:
    return max(now, start, key=instant_key)


def installed_packages() -> dict[str, str]:
    """Installed distributions (name -> version), read once per process."""
    global _PACKAGES
    if _PACKAGES is None:
        found = {}
        for dist in distributions():
            name = dist.metadata.get("Name")  # type: ignore[attr-defined]
            if name:
                found[name] = dist.version
        _PACKAGES = {key: found[key] for key in sorted(found)}
    return _PACKAGES


@dataclass(frozen=True, slots=True)
class ContextState:
    """What is open in the current task: the innermost scope and each level's scope."""

    current: ActiveContext
    scope: Any = None
    run_scope: Any = None
    deployment_scope: Any = None
    stage_scope: Any = None
    batch_scope: Any = None
    sample_scope: Any = None
    operation_scope: Any = None


class RuntimeSession:
    """Scope lifecycle and ledger writes for one ``Contexta``."""

    def __init__(self, owner: Any = None, *, config: Any = None, dispatcher: Any = None) -> None:
        if owner is None:  # 1.0's RuntimeSession(config=..., dispatcher=...): its own workspace
            from ..facade import Contexta

            sinks = None if dispatcher is None else tuple(dispatcher.sinks)
            owner = Contexta(config=config, sinks=sinks)
        self._owner = owner
        self.config = owner.config
        self.project_name = _text("project_name", self.config.project_name)
        self.project_ref = StableRef("project", slug("project_name", self.config.project_name))
        self.producer_ref = self.config.capture.producer_ref
        self.schema_version = self.config.contract.schema_version
        self._idle = ContextState(current=ActiveContext(project_ref=self.project_ref))
        self._state: ContextVar[ContextState] = ContextVar(
            f"contexta_runtime_state_{id(self)}", default=self._idle
        )
        self._project_known = False
        self._fresh: Any = None
        self._sinks = tuple(getattr(owner, "sinks", ()) or ())
        self._mirror = getattr(owner, "capture_file", None)  # 1.0's local capture copy
        self.relabelled: set[str] = set()  # run refs ctx.set_tags changed in this process
        self._dispatcher = CaptureDispatcher(config=self.config, sinks=self._sinks)

    # ------------------------------------------------------------------ state

    @property
    def record_store(self) -> Any:
        """The record store captured records are appended to (the owner's)."""
        return self._owner.record_store

    @property
    def sinks(self) -> tuple[Any, ...]:
        """The sinks every capture is delivered to after the ledger."""
        return self._sinks

    @property
    def capture_file(self) -> Any:
        """1.0's local capture copy (a :class:`~.local_copy.LocalCaptureFile`), or None."""
        return self._mirror

    @property
    def state(self) -> ContextState:
        return self._state.get()

    def _current(self, attr: str, code: str, what: str) -> Any:
        scope = getattr(self._state.get(), attr)
        if scope is None:
            raise LifecycleError(f"No active {what} scope is available.", code=code)
        return scope

    def current_run(self) -> RunScope:
        return self._current("run_scope", "runtime_run_required", "run")

    def current_stage(self) -> Any:
        return self._current("stage_scope", "runtime_stage_required", "stage")

    def current_deployment(self) -> Any:
        return self._current("deployment_scope", "runtime_deployment_required", "deployment")

    def current_batch(self) -> Any:
        return self._current("batch_scope", "runtime_batch_required", "batch")

    def current_sample(self) -> Any:
        return self._current("sample_scope", "runtime_sample_required", "sample")

    def current_operation(self) -> Any:
        return self._current("operation_scope", "runtime_operation_required", "operation")

    def capture_scope(self) -> BaseScope:
        """The innermost open scope, for ``ctx.metric(...)`` and friends."""
        state = self._state.get()
        if state.run_scope is None and state.deployment_scope is None:
            raise LifecycleError(
                "Capture requires an active run scope; open one with `with ctx.run(name) as run:`.",
                code="runtime_capture_requires_run",
            )
        return state.scope

    def _push(self, scope: BaseScope, **levels: Any) -> None:
        state = self._state.get()
        fields = {
            name: getattr(state, name)
            for name in (
                "run_scope",
                "deployment_scope",
                "stage_scope",
                "batch_scope",
                "sample_scope",
                "operation_scope",
            )
        }
        fields.update(levels)
        scope._token = self._state.set(ContextState(current=scope.context, scope=scope, **fields))

    def _pop(self, scope: BaseScope, attr: str) -> None:
        if getattr(self._state.get(), attr) is not scope:
            raise LifecycleError(
                f"The {scope.scope_kind} scope {scope.ref} is not the active "
                f"{scope.scope_kind} scope in this task.",
                code=f"runtime_inactive_{scope.scope_kind}_scope",
            )
        self._state.reset(scope._token)
        scope._token = None

    @property
    def artifact_store(self) -> ArtifactStore:
        """The workspace's artifact store (where ``log_artifact`` keeps files)."""
        return self._owner.artifact_store

    # ------------------------------------------------------------------ writes

    def put(self, model: Any) -> None:
        """One entity event in the workspace ledger (metadata store's read-only rule applies)."""
        if self.config.metadata.read_only:
            raise ReadOnlyStoreError(
                "The metadata store is read-only (metadata.read_only is "
                "set); runtime capture cannot open scopes.",
                code="metadata_store_read_only",
            )
        ws = self._owner.maintenance.workspace
        event = entity_event(model, ws.actor)
        ws.write((event,))
        ws.remember(event.kind, event.ref)

    def _ensure_project(self) -> None:
        if self._project_known:
            return
        if not self._owner.metadata_store.projects.exists_project(self.project_ref):
            self.put(
                Project(
                    project_ref=self.project_ref,
                    name=self.project_name,
                    created_at=utc_now_text(),
                    schema_version=self.schema_version,
                )
            )
        self._project_known = True

    # ------------------------------------------------------------------ emissions

    def emit(self, record: Any, service: str) -> CaptureResult:
        """Append one record a scope's factory built and report it."""
        return self._append_and_report(
            record, "record:" + record.envelope.record_ref.value, None, service
        )

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
    ) -> CaptureResult:
        """A metric observed now, appended and reported (the training-loop path).

        A value that is not a real number never raises into the training loop: a degraded
        record saying what was refused and why is appended instead, and the result is
        ``DEGRADED`` (its ``failure`` names the code). A refused key, step, unit or tag raises
        (a programming error, shown at the first call), unless ``contract.validation_mode`` is
        ``lenient``: then it is degraded the same way."""
        try:
            record, ref, observed_us, plain = factory.fresh_metric(
                key, value, unit, aggregation_scope, tags, summary_basis, step
            )
        except ValidationError as exc:
            return self._degraded_metric(factory, key, value, exc)
        if not plain:
            return self._append_and_report(record, ref, observed_us, "metric")
        result = self._append_and_report(record, ref, observed_us, "metric", factory, step)
        if factory.lane is None and result.status is ResultStatus.SUCCESS:
            # the scope's next plain metrics take the lane (False: they cannot)
            factory.lane = plain_metric_lane(self, factory, _OK, _LEDGER_OK) or False
        return result

    def refused_metric(
        self, factory: RecordFactory, key: Any, value: Any, error: ValidationError
    ) -> Any:
        """The degraded record of a refused metric emission: a value that is not a number, or
        (``contract.validation_mode = "lenient"``) any refused argument; else ``error`` is
        raised."""
        if error.code not in _VALUE_CODES and self.config.contract.validation_mode != "lenient":
            raise error
        summary = f"metric {str(key)[:120]!r} not recorded: {error.message}"
        attributes = {
            "metric_key": str(key)[:250],
            "value": repr(value)[:200],
            "value_type": type(value).__name__,
            "code": error.code,
        }
        return factory.degraded("capture.metric_refused", summary, attributes)

    def _degraded_metric(
        self, factory: RecordFactory, key: Any, value: Any, error: ValidationError
    ) -> CaptureResult:
        """Record why a metric emission was refused (a ``capture.metric_refused`` degraded
        record) and report the emission ``DEGRADED`` with that reason."""
        record = self.refused_metric(factory, key, value, error)
        summary = record.payload.summary
        written = self._append_and_report(
            record, "record:" + record.envelope.record_ref.value, None, "metric"
        )
        return CaptureResult(
            status=ResultStatus.DEGRADED,
            family=PayloadFamily.RECORD,
            payload=record,
            deliveries=written.deliveries,
            degradation_reasons=(summary,),
            failure=FailureInfo(error.code, error.message),
            metadata={**(written.metadata or {}), "error_code": error.code},
        )

    def _append_and_report(
        self,
        record: Any,
        ref: str,
        observed_us: int | None,
        service: str,
        plain_from: RecordFactory | None = None,
        step: int | None = None,
    ) -> CaptureResult:
        """Append a factory-built record (valid, under a ref new by construction) through
        ``record_store.append_fresh``, or ``append`` when that path declines it, and report it.
        ``observed_us``: its ``observed_at`` in epoch microseconds, when known; ``plain_from``:
        the factory a plain metric (see :meth:`RecordFactory.fresh_metric`) came from, and its
        ``step``."""
        fresh = self._fresh
        if fresh is None:
            fresh = self._fresh = self._owner.record_store.append_fresh
        status = fresh(record, ref, observed_us)
        rejection = None
        if status is None:
            result = self._owner.record_store.append(record)
            status = result.durability_status
            rejection = result.rejected[0] if result.rejected else None
        metadata = {
            "service": service,
            "record_ref": ref,
            "record_type": record.envelope.record_type,
            "durability": status,
        }  # a str enum: "ACCEPTED", ...
        if rejection is not None:
            return CaptureResult.failure_result(
                PayloadFamily.RECORD,
                FailureInfo(rejection.code, rejection.message),
                deliveries=(
                    Delivery(
                        LEDGER, PayloadFamily.RECORD, DeliveryStatus.FAILURE, rejection.message
                    ),
                ),
                metadata=metadata,
            )
        mirror = self._mirror
        if mirror is not None:
            if plain_from is not None:
                mirror.add_plain_metric(plain_from, record, ref, step)
            else:
                mirror.add_record(record)
        result = CaptureResult._written(_OK, record, metadata, _LEDGER_OK)
        return self._dispatcher.dispatch_capture(result) if self._sinks else result

    def emit_many(self, records: list[Any], service: str) -> BatchCaptureResult:
        """Append records in one ``append_many`` call (one commit when the buffer allows)."""
        result = self._owner.record_store.append_many(records)
        rejected = {r.index: r for r in result.rejected}
        items = []
        for index, record in enumerate(records):
            envelope = record.envelope
            metadata = {
                "service": service.removesuffix("_batch"),
                "record_ref": str(envelope.record_ref),
                "record_type": envelope.record_type,
                "durability": result.durability_status.value,
            }
            if index in rejected:
                items.append(
                    CaptureResult.failure_result(
                        PayloadFamily.RECORD,
                        FailureInfo(rejected[index].code, rejected[index].message),
                        metadata=metadata,
                    )
                )
                continue
            if self._mirror is not None:
                self._mirror.add(PayloadFamily.RECORD, record)
            item = CaptureResult._written(_OK, record, metadata, _LEDGER_OK)
            items.append(self._dispatcher.dispatch_capture(item) if self._sinks else item)
        return BatchCaptureResult.from_results(
            PayloadFamily.RECORD, items, metadata={"service": service}
        )

    def registered(self, manifest: Any, payload: dict[str, Any], exists: bool) -> CaptureResult:
        """The result of an artifact registration already written by :meth:`put`."""
        metadata = {"service": "artifact_registration", "artifact_ref": str(manifest.artifact_ref)}
        if self._mirror is not None:
            self._mirror.add(PayloadFamily.ARTIFACT, payload)
        if not exists:
            result = CaptureResult.with_degradation(
                PayloadFamily.ARTIFACT,
                payload=payload,
                deliveries=_ARTIFACT_OK,
                metadata=metadata,
                degradation_reasons=("artifact source is missing but allow_missing=True",),
            )
        else:
            result = CaptureResult.success(
                PayloadFamily.ARTIFACT, payload=payload, deliveries=_ARTIFACT_OK, metadata=metadata
            )
        return self._dispatcher.dispatch_capture(result) if self._sinks else result

    # ------------------------------------------------------------------ run

    def start_run(
        self,
        name: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        code_revision: str | None = None,
        config_snapshot: Mapping[str, Any] | None = None,
        dataset_ref: Any = None,
        resume: bool = False,
    ) -> RunScope:
        """Open a run. Every call starts a new run: its id is the slug of ``run_id`` or
        ``name``, with a short random suffix when a run of the project already has that id
        (the name is kept as given). ``resume=True`` continues the run of that name (or id)
        instead (an error when several runs share it; a new run when there is none); an
        explicit ``run_id`` that exists is continued too."""
        state = self._state.get()
        if state.run_scope is not None or state.deployment_scope is not None:
            raise LifecycleError(
                "Runs cannot be nested in one task: close the open run (or deployment) first.",
                code="runtime_nested_run",
            )
        run_name = _text("name", name)
        self._ensure_project()
        run = self._continued(run_name, run_id, resume)
        if run is None:
            run_ref = StableRef(
                "run", f"{self.project_ref.value}.{self._free_id(slug('run_id', run_name), run_id)}"
            )
            run = Run(
                run_ref=run_ref,
                project_ref=self.project_ref,
                name=run_name,
                status="open",
                started_at=utc_now_text(),
                schema_version=self.schema_version,
            )
        if tags or config_snapshot:  # visible as the run's tags and params
            run = with_labels(run, params=config_snapshot, tags=tags)
        run_ref = coerce_ref("run_ref", run.run_ref, ("run",))
        self.put(run)
        context = ActiveContext(project_ref=self.project_ref, run_ref=run_ref)
        scope = RunScope(
            self,
            context,
            run,
            tags=tags,
            metadata=metadata,
            code_revision=code_revision,
            config_snapshot=config_snapshot,
            dataset_ref=dataset_ref,
            counter=itertools.count(1),
            token=new_token(),
        )
        if self.config.capture.capture_environment_snapshot:
            packages = (
                installed_packages() if self.config.capture.capture_installed_packages else {}
            )
            self.put(
                EnvironmentSnapshot(
                    environment_snapshot_ref=StableRef("environment", f"{run_ref.value}.runtime"),
                    run_ref=run_ref,
                    captured_at=run.started_at,
                    python_version=sys.version.split()[0],
                    platform=_platform(),
                    packages=packages,
                    schema_version=self.schema_version,
                )
            )
        self._push(scope, run_scope=scope)
        scope._write_context_event()
        return scope

    def _exists(self, ref: StableRef) -> bool:
        """Whether a run has ``ref``: put by this process, or committed by any. Read at the
        committed head without committing this process's buffer (opening a run is not a
        commit point: a full disk still shows at the next commit, as before)."""
        ws = self._owner.maintenance.workspace
        text = str(ref)
        if ws.remembered(RUN_PUT, text):
            return True
        ws.reopen()
        try:
            head = ws.ledger.head()
        except LedgerError as exc:
            raise translate(exc) from exc
        table = ws.table("runs", head=head)
        if table.num_rows == 0:
            return False
        return bool(pc.any(pc.equal(table.column("ref"), string_scalar(text))).as_py())

    def _free_id(self, base: str, run_id: str | None) -> str:
        """``base`` (the slug of ``run_id`` or the name) when no run of the project has it,
        else ``base-<6 hex>`` (random, so two processes starting the same name at once
        do not meet; ``run_id`` given: ``base`` as is, an existing one is continued)."""
        if run_id is not None:
            return slug("run_id", run_id)
        if not self._exists(StableRef("run", f"{self.project_ref.value}.{base}")):
            return base
        stem = base[:55].rstrip("-")
        while True:
            candidate = f"{stem}-{secrets.token_hex(3)}"
            if not self._exists(StableRef("run", f"{self.project_ref.value}.{candidate}")):
                return candidate

    def _continued(self, name: str, run_id: str | None, resume: bool) -> Run | None:
        """The stored run ``ctx.run(name, run_id=..., resume=...)`` continues (put open
        again, same started_at), or None for a new run."""
        ref: StableRef | None
        if run_id is not None:
            ref = StableRef("run", f"{self.project_ref.value}.{slug('run_id', run_id)}")
        elif resume:
            ref = self._run_named(name)
            if ref is None:
                return None
        else:
            return None
        stored = self._owner.metadata_store.runs.get_run(ref) if self._exists(ref) else None
        if stored is None:
            return None
        return msgspec.structs.replace(stored, status="open", ended_at=None)

    def _run_named(self, name: str) -> StableRef | None:
        """The run of this project named ``name`` (or whose id is its slug); LifecycleError
        ``runtime_run_ambiguous`` listing them when several runs share the name."""
        prefix = f"run:{self.project_ref.value}."
        refs = [ref for ref in self._owner.query_service.runs_named(name) if ref.startswith(prefix)]
        if len(refs) > 1:
            raise LifecycleError(
                f"resume=True: {len(refs)} runs are named {name!r}: "
                f"{', '.join(refs)}. Pass run_id= to pick one.",
                code="runtime_run_ambiguous",
                details={"name": name, "candidates": refs},
            )
        if refs:
            return StableRef.parse(refs[0])
        ref = StableRef("run", f"{self.project_ref.value}.{slug('run_id', name)}")
        return ref if self._exists(ref) else None

    def relabel(
        self,
        scope: RunScope,
        *,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Put the run again with ``params``/``tags`` merged into its labels."""
        model = self._with_stored_labels(scope._model)
        scope._model = with_labels(model, params=params, tags=tags)
        self.put(scope._model)

    def _with_stored_labels(self, model: Run) -> Run:
        """``model`` with the labels of the run's latest stored version (tags set meanwhile
        by ``ctx.set_tags`` of this process are kept when the scope puts the run again)."""
        if str(model.run_ref) not in self.relabelled:
            return model  # no read (a read commits the buffer): nothing set from outside
        stored = self._owner.metadata_store.runs.find_run(model.run_ref)
        if stored is None or stored.extensions == model.extensions:
            return model
        params, tags = labels_of(stored)
        return with_labels(model, params=params, tags=tags)

    def close_run(self, scope: RunScope, status: str) -> None:
        status = self._terminal(scope, status)
        state = self._state.get()
        if state.stage_scope is not None:
            state.stage_scope.close(status=status)
        scope._flush_pending_spans()
        self._pop(scope, "run_scope")
        self._finish(scope, status)
        if self._mirror is not None:
            self._mirror.flush()

    # ------------------------------------------------------------------ children

    def start_stage(
        self,
        run: RunScope,
        name: str,
        *,
        stage_ref: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        run._ensure_open("open a stage")
        state = self._state.get()
        if state.run_scope is not run:
            raise LifecycleError(
                "A stage can only be opened from the active run scope.",
                code="runtime_inactive_run_scope",
            )
        if state.stage_scope is not None:
            raise LifecycleError(
                f"Only one stage is open at a time; close {state.stage_scope.ref} first.",
                code="runtime_stage_already_open",
                details={"active_stage_ref": state.stage_scope.ref},
            )
        stage_name = slug("stage_name", name)
        ref = _exact_ref(
            stage_ref,
            "stage",
            f"{run.context.run_ref.value}.{stage_name}",  # type: ignore[union-attr]
            "stage_ref",
        )
        model = StageExecution(
            stage_execution_ref=ref,
            run_ref=run.context.run_ref,
            stage_name=stage_name,
            status="open",
            started_at=utc_now_text(),
            order_index=run._next_stage_order(),
            schema_version=self.schema_version,
        )
        self.put(model)
        context = ActiveContext(
            project_ref=self.project_ref, run_ref=run.context.run_ref, stage_execution_ref=ref
        )
        scope = StageScope(self, context, model, metadata=metadata, parent=run)
        self._push(scope, stage_scope=scope)
        return scope

    def close_stage(self, scope: Any, status: str) -> None:
        status = self._terminal(scope, status)
        state = self._state.get()
        for attr in ("operation_scope", "sample_scope", "batch_scope"):
            child = getattr(state, attr)
            if child is not None:
                child.close(status=status)
                state = self._state.get()
        scope._flush_pending_spans()
        self._pop(scope, "stage_scope")
        self._finish(scope, status)

    def start_batch(
        self,
        stage: Any,
        name: str,
        *,
        batch_ref: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        stage._ensure_open("open a batch")
        state = self._state.get()
        if state.stage_scope is not stage:
            raise LifecycleError(
                "A batch can only be opened from the active stage scope.",
                code="runtime_inactive_stage_scope",
            )
        if state.batch_scope is not None:
            raise LifecycleError(
                "Only one batch is open per stage at a time.",
                code="runtime_batch_already_open",
                details={"active_batch_ref": state.batch_scope.ref},
            )
        batch_name = slug("batch_name", name)
        stage_ref = stage.context.stage_execution_ref
        ref = _exact_ref(batch_ref, "batch", f"{stage_ref.value}.{batch_name}", "batch_ref")
        model = BatchExecution(
            batch_execution_ref=ref,
            run_ref=stage.context.run_ref,
            stage_execution_ref=stage_ref,
            batch_name=batch_name,
            status="open",
            started_at=utc_now_text(),
            order_index=stage._next_batch_order(),
            schema_version=self.schema_version,
        )
        self.put(model)
        context = ActiveContext(
            project_ref=self.project_ref,
            run_ref=stage.context.run_ref,
            stage_execution_ref=stage_ref,
            batch_execution_ref=ref,
        )
        scope = BatchScope(self, context, model, metadata=metadata, parent=stage)
        self._push(scope, batch_scope=scope)
        return scope

    def close_batch(self, scope: Any, status: str) -> None:
        status = self._terminal(scope, status)
        state = self._state.get()
        for attr in ("operation_scope", "sample_scope"):
            child = getattr(state, attr)
            if child is not None:
                child.close(status=status)
        scope._flush_pending_spans()
        self._pop(scope, "batch_scope")
        self._finish(scope, status)

    def _owner_scope(self, owner: Any, what: str) -> Any:
        owner._ensure_open(f"open {what}")
        state = self._state.get()
        active = state.batch_scope if state.batch_scope is not None else state.stage_scope
        if active is not owner:
            raise LifecycleError(
                f"{what.capitalize()} can only be opened from the active stage or batch scope.",
                code=f"runtime_inactive_{what.split()[-1]}_owner_scope",
            )
        ctx = owner.context
        return ctx.batch_execution_ref or ctx.stage_execution_ref

    def start_sample(
        self,
        owner: Any,
        name: str,
        *,
        sample_ref: Any = None,
        retention_class: str | None = None,
        redaction_profile: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        owner_ref = self._owner_scope(owner, "a sample")
        state = self._state.get()
        if state.sample_scope is not None or state.operation_scope is not None:
            raise LifecycleError(
                "Only one sample is open at a time, and not inside an operation.",
                code="runtime_sample_already_open",
            )
        sample_name = slug("sample_name", name)
        ref = _exact_ref(sample_ref, "sample", f"{owner_ref.value}.{sample_name}", "sample_ref")
        ctx = owner.context
        model = SampleObservation(
            sample_observation_ref=ref,
            run_ref=ctx.run_ref,
            stage_execution_ref=ctx.stage_execution_ref,
            batch_execution_ref=ctx.batch_execution_ref,
            sample_name=sample_name,
            observed_at=utc_now_text(),
            retention_class=retention_class,
            redaction_profile=redaction_profile,
            schema_version=self.schema_version,
        )
        self.put(model)
        context = ActiveContext(
            project_ref=self.project_ref,
            run_ref=ctx.run_ref,
            stage_execution_ref=ctx.stage_execution_ref,
            batch_execution_ref=ctx.batch_execution_ref,
            sample_observation_ref=ref,
        )
        scope = SampleScope(self, context, model, metadata=metadata, parent=owner)
        self._push(scope, sample_scope=scope)
        return scope

    def start_operation(
        self,
        owner: Any,
        name: str,
        *,
        operation_ref: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        owner_ref = self._owner_scope(owner, "an operation")
        state = self._state.get()
        if state.operation_scope is not None or state.sample_scope is not None:
            raise LifecycleError(
                "Only one operation is open at a time, and not inside a sample.",
                code="runtime_operation_already_open",
            )
        op_name = slug("operation_name", name)
        ref = _exact_ref(operation_ref, "op", f"{owner_ref.value}.{op_name}", "operation_ref")
        ctx = owner.context
        model = OperationContext(
            operation_context_ref=ref,
            run_ref=ctx.run_ref,
            stage_execution_ref=ctx.stage_execution_ref,
            batch_execution_ref=ctx.batch_execution_ref,
            operation_name=op_name,
            observed_at=utc_now_text(),
            schema_version=self.schema_version,
        )
        context = ActiveContext(
            project_ref=self.project_ref,
            run_ref=ctx.run_ref,
            stage_execution_ref=ctx.stage_execution_ref,
            batch_execution_ref=ctx.batch_execution_ref,
            operation_context_ref=ref,
        )
        scope = OperationScope(self, context, model, metadata=metadata, parent=owner)
        self._push(scope, operation_scope=scope)
        return scope

    def close_leaf(self, scope: Any, status: str, attr: str) -> None:
        """Close a sample or operation scope (neither has a closing entity version)."""
        status = self._terminal(scope, status)
        scope._flush_pending_spans()
        self._pop(scope, attr)
        scope._mark_closed(status, utc_now_text())

    # ------------------------------------------------------------------ deployment

    def start_deployment(
        self,
        name: str,
        *,
        deployment_ref: Any = None,
        run_ref: Any = None,
        artifact_ref: Any = None,
        environment_snapshot_ref: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        state = self._state.get()
        if state.run_scope is not None or state.deployment_scope is not None:
            raise LifecycleError(
                "Deployment scopes cannot be nested in run or deployment scopes.",
                code="runtime_nested_deployment",
            )
        dep_name = slug("deployment_name", name)
        ref = _exact_ref(
            deployment_ref, "deployment", f"{self.project_ref.value}.{dep_name}", "deployment_ref"
        )
        model = DeploymentExecution(
            deployment_execution_ref=ref,
            project_ref=self.project_ref,
            deployment_name=dep_name,
            status="open",
            started_at=utc_now_text(),
            order_index=0,
            run_ref=run_ref,
            artifact_ref=artifact_ref,
            environment_snapshot_ref=environment_snapshot_ref,
            schema_version=self.schema_version,
        )
        self._ensure_project()
        self.put(model)
        context = ActiveContext(
            project_ref=self.project_ref,
            run_ref=model.run_ref,  # type: ignore[arg-type]
            deployment_execution_ref=ref,
        )
        scope = DeploymentScope(self, context, model, metadata=metadata, parent=None)
        self._push(scope, deployment_scope=scope)
        return scope

    def close_deployment(self, scope: Any, status: str) -> None:
        status = self._terminal(scope, status)
        scope._flush_pending_spans()
        self._pop(scope, "deployment_scope")
        self._finish(scope, status)

    def _finish(self, scope: Any, status: str) -> None:
        """Store the scope's model again, ended now with ``status`` (validated like any new
        model: ``msgspec.structs.replace`` runs the checks), and mark the scope closed."""
        model = scope._model
        if isinstance(model, Run):
            model = self._with_stored_labels(model)
        ended = _later(utc_now_text(), model.started_at)
        scope._model = msgspec.structs.replace(model, status=status, ended_at=ended)
        self.put(scope._model)
        scope._mark_closed(status, ended)

    # ------------------------------------------------------------------ checks

    def _terminal(self, scope: Any, status: str) -> str:
        if scope.is_closed:
            raise ClosedScopeError(
                f"The {scope.scope_kind} scope {scope.ref} is already closed.",
                code="runtime_scope_closed",
                details={"scope_kind": scope.scope_kind, "ref": scope.ref},
            )
        value = _text("status", status).lower()
        if value not in _TERMINAL:
            raise LifecycleError(
                f"A scope closes as one of {', '.join(_TERMINAL)}, got {status!r}.",
                code="runtime_invalid_close_status",
                details={"status": status, "allowed": _TERMINAL},
            )
        return value
