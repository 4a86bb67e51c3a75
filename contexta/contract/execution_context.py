"""Execution-context models: projects, runs, stages, deployments, batches, samples, operations
and environment snapshots (contract sections 2.1 to 2.8).

Timestamp fields are annotated ``str`` (what they hold after construction) but also accept
``datetime`` objects; ref fields accept a :class:`StableRef` or its text and hold a StableRef.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import force_setattr as _set

from .base import ContractModel
from .extensions import ExtensionFieldSet, check_extensions
from .field_validators import (
    LIFECYCLE_STATUSES,
    component,
    fail,
    lifecycle,
    optional_str,
    order_index,
    required_str,
    string_map,
    timestamp,
)
from .refs import StableRef, coerce_ref, optional_ref, starts_within

__all__ = [
    "BatchExecution",
    "DeploymentExecution",
    "EnvironmentSnapshot",
    "OperationContext",
    "Project",
    "Run",
    "SampleObservation",
    "StageExecution",
]

SCHEMA_VERSION = "1.0.0"
#: 1.0's names: the contract schema version and the run/stage lifecycle statuses
DEFAULT_CONTRACT_SCHEMA_VERSION = SCHEMA_VERSION
RUN_STAGE_STATUSES = LIFECYCLE_STATUSES
_PREFIX = "context_ref_prefix_mismatch"


def _common(model: ContractModel, name: str) -> None:
    _set(model, "schema_version", required_str(f"{name}.schema_version", model.schema_version))  # type: ignore[attr-defined]
    _set(model, "extensions", check_extensions(name, model.extensions))  # type: ignore[attr-defined]


def _prefix_error(where: str, ref: StableRef, expected: str, **extra: Any) -> Exception:
    return fail(_PREFIX, where, str(ref), f"must be {expected}", **extra)


def _require_within(where: str, child: StableRef, owner_where: str, owner: StableRef) -> None:
    if not starts_within(child, owner):
        raise _prefix_error(
            where,
            child,
            f"inside {owner_where.rpartition('.')[2]} {str(owner)!r} "
            f"(its value must start with '{owner.value}.')",
            owner=str(owner),
        )


def _require_child(
    where: str, child: StableRef, owner: StableRef, name_field: str, name: str
) -> None:
    expected = f"{owner.value}.{name}"
    if child.value != expected:
        raise _prefix_error(
            where,
            child,
            f"'{child.kind}:{expected}' (owner {str(owner)!r} + '.' + {name_field})",
            owner=str(owner),
            **{name_field: name},
        )


class Project(ContractModel, frozen=True):
    """A project: the namespace of runs (contract 2.1)."""

    project_ref: StableRef | str
    name: str
    created_at: str
    description: str | None = None
    tags: Mapping[str, str] | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "Project"

    def __post_init__(self) -> None:
        _set(self, "project_ref", coerce_ref("Project.project_ref", self.project_ref, ("project",)))
        _set(self, "name", required_str("Project.name", self.name))
        _set(self, "created_at", timestamp("Project.created_at", self.created_at))
        _set(self, "description", optional_str("Project.description", self.description))
        _set(self, "tags", string_map("Project.tags", self.tags))
        _common(self, "Project")


class Run(ContractModel, frozen=True):
    """One run of a project, with a lifecycle status (contract 2.2)."""

    run_ref: StableRef | str
    project_ref: StableRef | str
    name: str
    status: str
    started_at: str
    ended_at: str | None = None
    description: str | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "Run"

    def __post_init__(self) -> None:
        run = coerce_ref("Run.run_ref", self.run_ref, ("run",))
        project = coerce_ref("Run.project_ref", self.project_ref, ("project",))
        if not starts_within(run, project):
            raise _prefix_error(
                "Run.run_ref",
                run,
                f"in project {str(project)!r} ('run:{project.value}.<run>')",
                project_ref=str(project),
            )
        _set(self, "run_ref", run)
        _set(self, "project_ref", project)
        _set(self, "name", required_str("Run.name", self.name))
        started = timestamp("Run.started_at", self.started_at)
        ended = None if self.ended_at is None else timestamp("Run.ended_at", self.ended_at)
        _set(self, "status", lifecycle("Run", self.status, started, ended))
        _set(self, "started_at", started)
        _set(self, "ended_at", ended)
        _set(self, "description", optional_str("Run.description", self.description))
        _common(self, "Run")


class StageExecution(ContractModel, frozen=True):
    """A named stage inside a run (contract 2.3)."""

    stage_execution_ref: StableRef | str
    run_ref: StableRef | str
    stage_name: str
    status: str
    started_at: str
    ended_at: str | None = None
    order_index: int | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "StageExecution"

    def __post_init__(self) -> None:
        m = "StageExecution"
        stage = coerce_ref(f"{m}.stage_execution_ref", self.stage_execution_ref, ("stage",))
        run = coerce_ref(f"{m}.run_ref", self.run_ref, ("run",))
        name = component(f"{m}.stage_name", self.stage_name)
        _require_child(f"{m}.stage_execution_ref", stage, run, "stage_name", name)
        _set(self, "stage_execution_ref", stage)
        _set(self, "run_ref", run)
        _set(self, "stage_name", name)
        started = timestamp(f"{m}.started_at", self.started_at)
        ended = None if self.ended_at is None else timestamp(f"{m}.ended_at", self.ended_at)
        _set(self, "status", lifecycle(m, self.status, started, ended))
        _set(self, "started_at", started)
        _set(self, "ended_at", ended)
        _set(self, "order_index", order_index(f"{m}.order_index", self.order_index))
        _common(self, m)


class DeploymentExecution(ContractModel, frozen=True):
    """A deployment of a project, optionally linked to a run and artifact (2.4)."""

    deployment_execution_ref: StableRef | str
    project_ref: StableRef | str
    deployment_name: str
    status: str
    started_at: str
    ended_at: str | None = None
    order_index: int | None = None
    run_ref: StableRef | str | None = None
    artifact_ref: StableRef | str | None = None
    environment_snapshot_ref: StableRef | str | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "DeploymentExecution"

    def __post_init__(self) -> None:
        m = "DeploymentExecution"
        deployment = coerce_ref(
            f"{m}.deployment_execution_ref", self.deployment_execution_ref, ("deployment",)
        )
        project = coerce_ref(f"{m}.project_ref", self.project_ref, ("project",))
        name = component(f"{m}.deployment_name", self.deployment_name)
        _require_child(
            f"{m}.deployment_execution_ref", deployment, project, "deployment_name", name
        )
        run = optional_ref(f"{m}.run_ref", self.run_ref, ("run",))
        if run is not None:
            _require_within(f"{m}.run_ref", run, f"{m}.project_ref", project)
        artifact = optional_ref(f"{m}.artifact_ref", self.artifact_ref, ("artifact",))
        if artifact is not None:
            _require_within(f"{m}.artifact_ref", artifact, f"{m}.project_ref", project)
        environment = optional_ref(
            f"{m}.environment_snapshot_ref", self.environment_snapshot_ref, ("environment",)
        )
        if environment is not None and run is not None:
            _require_within(f"{m}.environment_snapshot_ref", environment, f"{m}.run_ref", run)
        _set(self, "deployment_execution_ref", deployment)
        _set(self, "project_ref", project)
        _set(self, "deployment_name", name)
        started = timestamp(f"{m}.started_at", self.started_at)
        ended = None if self.ended_at is None else timestamp(f"{m}.ended_at", self.ended_at)
        _set(self, "status", lifecycle(m, self.status, started, ended))
        _set(self, "started_at", started)
        _set(self, "ended_at", ended)
        _set(self, "order_index", order_index(f"{m}.order_index", self.order_index))
        _set(self, "run_ref", run)
        _set(self, "artifact_ref", artifact)
        _set(self, "environment_snapshot_ref", environment)
        _common(self, m)


class BatchExecution(ContractModel, frozen=True):
    """A batch inside a stage (contract 2.5)."""

    batch_execution_ref: StableRef | str
    run_ref: StableRef | str
    stage_execution_ref: StableRef | str
    batch_name: str
    status: str
    started_at: str
    ended_at: str | None = None
    order_index: int | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "BatchExecution"

    def __post_init__(self) -> None:
        m = "BatchExecution"
        batch = coerce_ref(f"{m}.batch_execution_ref", self.batch_execution_ref, ("batch",))
        run = coerce_ref(f"{m}.run_ref", self.run_ref, ("run",))
        stage = coerce_ref(f"{m}.stage_execution_ref", self.stage_execution_ref, ("stage",))
        name = component(f"{m}.batch_name", self.batch_name)
        _require_within(f"{m}.stage_execution_ref", stage, f"{m}.run_ref", run)
        _require_child(f"{m}.batch_execution_ref", batch, stage, "batch_name", name)
        _set(self, "batch_execution_ref", batch)
        _set(self, "run_ref", run)
        _set(self, "stage_execution_ref", stage)
        _set(self, "batch_name", name)
        started = timestamp(f"{m}.started_at", self.started_at)
        ended = None if self.ended_at is None else timestamp(f"{m}.ended_at", self.ended_at)
        _set(self, "status", lifecycle(m, self.status, started, ended))
        _set(self, "started_at", started)
        _set(self, "ended_at", ended)
        _set(self, "order_index", order_index(f"{m}.order_index", self.order_index))
        _common(self, m)


def _scoped_observation(
    m: str,
    own_field: str,
    own: Any,
    kind: str,
    name_field: str,
    name: Any,
    run_value: Any,
    stage_value: Any,
    batch_value: Any,
) -> tuple[StableRef, StableRef, StableRef, str, StableRef | None]:
    """Shared rules of SampleObservation and OperationContext (owner = batch if given, else stage)."""
    ref = coerce_ref(f"{m}.{own_field}", own, (kind,))
    run = coerce_ref(f"{m}.run_ref", run_value, ("run",))
    stage = coerce_ref(f"{m}.stage_execution_ref", stage_value, ("stage",))
    text = component(f"{m}.{name_field}", name)
    batch = optional_ref(f"{m}.batch_execution_ref", batch_value, ("batch",))
    _require_within(f"{m}.stage_execution_ref", stage, f"{m}.run_ref", run)
    if batch is not None:
        _require_within(f"{m}.batch_execution_ref", batch, f"{m}.stage_execution_ref", stage)
    _require_child(f"{m}.{own_field}", ref, batch if batch is not None else stage, name_field, text)
    return ref, run, stage, text, batch


class SampleObservation(ContractModel, frozen=True):
    """One observed sample, owned by a batch if given, else by its stage (2.6)."""

    sample_observation_ref: StableRef | str
    run_ref: StableRef | str
    stage_execution_ref: StableRef | str
    sample_name: str
    observed_at: str
    batch_execution_ref: StableRef | str | None = None
    retention_class: str | None = None
    redaction_profile: str | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "SampleObservation"

    def __post_init__(self) -> None:
        m = "SampleObservation"
        ref, run, stage, name, batch = _scoped_observation(
            m,
            "sample_observation_ref",
            self.sample_observation_ref,
            "sample",
            "sample_name",
            self.sample_name,
            self.run_ref,
            self.stage_execution_ref,
            self.batch_execution_ref,
        )
        _set(self, "sample_observation_ref", ref)
        _set(self, "run_ref", run)
        _set(self, "stage_execution_ref", stage)
        _set(self, "sample_name", name)
        _set(self, "observed_at", timestamp(f"{m}.observed_at", self.observed_at))
        _set(self, "batch_execution_ref", batch)
        _set(self, "retention_class", optional_str(f"{m}.retention_class", self.retention_class))
        _set(
            self,
            "redaction_profile",
            optional_str(f"{m}.redaction_profile", self.redaction_profile),
        )
        _common(self, m)


class OperationContext(ContractModel, frozen=True):
    """A named operation, owned by a batch if given, else by its stage (2.7)."""

    operation_context_ref: StableRef | str
    run_ref: StableRef | str
    stage_execution_ref: StableRef | str
    operation_name: str
    observed_at: str
    batch_execution_ref: StableRef | str | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "OperationContext"

    def __post_init__(self) -> None:
        m = "OperationContext"
        ref, run, stage, name, batch = _scoped_observation(
            m,
            "operation_context_ref",
            self.operation_context_ref,
            "op",
            "operation_name",
            self.operation_name,
            self.run_ref,
            self.stage_execution_ref,
            self.batch_execution_ref,
        )
        _set(self, "operation_context_ref", ref)
        _set(self, "run_ref", run)
        _set(self, "stage_execution_ref", stage)
        _set(self, "operation_name", name)
        _set(self, "observed_at", timestamp(f"{m}.observed_at", self.observed_at))
        _set(self, "batch_execution_ref", batch)
        _common(self, m)


class EnvironmentSnapshot(ContractModel, frozen=True):
    """The Python/platform/package environment of a run (contract 2.8)."""

    environment_snapshot_ref: StableRef | str
    run_ref: StableRef | str
    captured_at: str
    python_version: str
    platform: str
    packages: Mapping[str, str] | None = None
    environment_variables: Mapping[str, str] | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "EnvironmentSnapshot"

    def __post_init__(self) -> None:
        m = "EnvironmentSnapshot"
        ref = coerce_ref(
            f"{m}.environment_snapshot_ref", self.environment_snapshot_ref, ("environment",)
        )
        run = coerce_ref(f"{m}.run_ref", self.run_ref, ("run",))
        _require_within(f"{m}.environment_snapshot_ref", ref, f"{m}.run_ref", run)
        if ref.value.count(".") != run.value.count(".") + 1:
            raise _prefix_error(
                f"{m}.environment_snapshot_ref",
                ref,
                f"run_ref's value plus exactly one snapshot key ('environment:{run.value}.<key>')",
                run_ref=str(run),
            )
        _set(self, "environment_snapshot_ref", ref)
        _set(self, "run_ref", run)
        _set(self, "captured_at", timestamp(f"{m}.captured_at", self.captured_at))
        _set(self, "python_version", required_str(f"{m}.python_version", self.python_version))
        _set(self, "platform", required_str(f"{m}.platform", self.platform))
        _set(self, "packages", string_map(f"{m}.packages", self.packages))
        _set(
            self,
            "environment_variables",
            string_map(f"{m}.environment_variables", self.environment_variables),
        )
        _common(self, m)
