"""Sections 2.0 to 2.8: projects, runs, stages, deployments, batches, samples, operations and
environment snapshots -- valid constructions, normalisation and one row per rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contexta.contract import (
    BatchExecution,
    FrozenMap,
    OperationContext,
    Project,
    Run,
    SampleObservation,
    StableRef,
)

from .helpers import (
    STAGE,
    T0,
    T1,
    batch,
    deployment,
    environment,
    operation,
    project,
    raises_code,
    run,
    sample,
    stage,
)

RULES: list[tuple[str, Callable[[], Any], str]] = [
    # --- required / optional strings (context_invalid_string)
    ("name blank", lambda: run(name="  "), "context_invalid_string"),
    ("name not str", lambda: run(name=5), "context_invalid_string"),
    ("project name blank", lambda: project(name=""), "context_invalid_string"),
    ("description blank", lambda: run(description=" "), "context_invalid_string"),
    ("description not str", lambda: run(description=5), "context_invalid_string"),
    ("schema_version blank", lambda: run(schema_version=" "), "context_invalid_string"),
    ("schema_version not str", lambda: run(schema_version=1), "context_invalid_string"),
    ("status not str", lambda: run(status=1), "context_invalid_string"),
    ("python_version blank", lambda: environment(python_version=" "), "context_invalid_string"),
    ("platform not str", lambda: environment(platform=3), "context_invalid_string"),
    ("retention_class blank", lambda: sample(retention_class=" "), "context_invalid_string"),
    ("redaction_profile not str", lambda: sample(redaction_profile=1), "context_invalid_string"),
    ("stage_name not str", lambda: stage(stage_name=1), "context_invalid_string"),
    ("stage_name blank", lambda: stage(stage_name=" "), "context_invalid_string"),
    # --- name components (context_invalid_component)
    ("stage_name upper", lambda: stage(stage_name="S"), "context_invalid_component"),
    ("stage_name underscore", lambda: stage(stage_name="a_b"), "context_invalid_component"),
    ("deployment_name dot", lambda: deployment(deployment_name="d.e"), "context_invalid_component"),
    ("batch_name space", lambda: batch(batch_name="b 1"), "context_invalid_component"),
    ("sample_name upper", lambda: sample(sample_name="X"), "context_invalid_component"),
    (
        "operation_name padded upper",
        lambda: operation(operation_name=" O "),
        "context_invalid_component",
    ),
    # --- lifecycle
    ("status case", lambda: run(status="Open"), "context_invalid_status"),
    ("status unknown", lambda: batch(status="done"), "context_invalid_status"),
    ("open with ended_at", lambda: run(ended_at=T0), "context_invalid_status_transition"),
    (
        "closed without ended_at",
        lambda: run(status="completed"),
        "context_invalid_status_transition",
    ),
    (
        "failed without ended_at",
        lambda: stage(status="failed"),
        "context_invalid_status_transition",
    ),
    (
        "ended before started",
        lambda: run(status="completed", started_at=T1, ended_at=T0),
        "context_invalid_time_order",
    ),
    (
        "stage ended before started",
        lambda: stage(status="cancelled", started_at=T1, ended_at=T0),
        "context_invalid_time_order",
    ),
    # --- order_index
    ("order_index negative", lambda: stage(order_index=-1), "context_invalid_order_index"),
    ("order_index bool", lambda: stage(order_index=True), "context_invalid_order_index"),
    ("order_index float", lambda: stage(order_index=1.0), "context_invalid_order_index"),
    ("order_index str", lambda: deployment(order_index="1"), "context_invalid_order_index"),
    # --- string maps (context_invalid_mapping)
    ("tags blank key", lambda: project(tags={" ": "1"}), "context_invalid_mapping"),
    ("tags blank value", lambda: project(tags={"a": ""}), "context_invalid_mapping"),
    ("tags int value", lambda: project(tags={"a": 1}), "context_invalid_mapping"),
    ("tags int key", lambda: project(tags={1: "a"}), "context_invalid_mapping"),
    ("tags list", lambda: project(tags=[("a", "b")]), "context_invalid_mapping"),
    ("tags str", lambda: project(tags="ab"), "context_invalid_mapping"),
    ("packages None value", lambda: environment(packages={"a": None}), "context_invalid_mapping"),
    (
        "environment_variables blank",
        lambda: environment(environment_variables={"X": ""}),
        "context_invalid_mapping",
    ),
    # --- prefix rules (context_ref_prefix_mismatch)
    ("run outside project", lambda: run(run_ref="run:q.r"), "context_ref_prefix_mismatch"),
    ("stage name differs from ref", lambda: stage(stage_name="t"), "context_ref_prefix_mismatch"),
    ("stage under other run", lambda: stage(run_ref="run:p.q"), "context_ref_prefix_mismatch"),
    (
        "deployment name differs",
        lambda: deployment(deployment_name="e"),
        "context_ref_prefix_mismatch",
    ),
    (
        "deployment other project",
        lambda: deployment(project_ref="project:q"),
        "context_ref_prefix_mismatch",
    ),
    (
        "deployment run other project",
        lambda: deployment(run_ref="run:q.r"),
        "context_ref_prefix_mismatch",
    ),
    (
        "deployment artifact other project",
        lambda: deployment(artifact_ref="artifact:q.r.a"),
        "context_ref_prefix_mismatch",
    ),
    (
        "deployment env outside run",
        lambda: deployment(run_ref="run:p.r", environment_snapshot_ref="environment:p.x.e"),
        "context_ref_prefix_mismatch",
    ),
    (
        "deployment env equal to run value",
        lambda: deployment(run_ref="run:p.r", environment_snapshot_ref="environment:p.r"),
        "context_ref_prefix_mismatch",
    ),
    (
        "batch stage under other run",
        lambda: batch(run_ref="run:p.q"),
        "context_ref_prefix_mismatch",
    ),
    (
        "batch under other stage",
        lambda: batch(run_ref="run:p.q", stage_execution_ref="stage:p.q.t"),
        "context_ref_prefix_mismatch",
    ),
    ("batch name differs", lambda: batch(batch_name="c"), "context_ref_prefix_mismatch"),
    (
        "sample owned by batch but ref under stage",
        lambda: sample(batch_execution_ref="batch:p.r.s.b"),
        "context_ref_prefix_mismatch",
    ),
    (
        "sample batch under other stage",
        lambda: sample(
            sample_observation_ref="sample:p.r.t.b.x", batch_execution_ref="batch:p.r.t.b"
        ),
        "context_ref_prefix_mismatch",
    ),
    (
        "sample stage under other run",
        lambda: sample(sample_observation_ref="sample:p.q.s.x", stage_execution_ref="stage:p.q.s"),
        "context_ref_prefix_mismatch",
    ),
    ("sample name differs", lambda: sample(sample_name="y"), "context_ref_prefix_mismatch"),
    (
        "operation name differs",
        lambda: operation(operation_name="x"),
        "context_ref_prefix_mismatch",
    ),
    (
        "environment under other run",
        lambda: environment(environment_snapshot_ref="environment:p.q.e"),
        "context_ref_prefix_mismatch",
    ),
    (
        "environment two keys deep",
        lambda: environment(environment_snapshot_ref="environment:p.r.e.f"),
        "context_ref_prefix_mismatch",
    ),
    (
        "environment equal to run value",
        lambda: environment(environment_snapshot_ref="environment:p.r"),
        "context_ref_prefix_mismatch",
    ),
    # --- shapes and kinds of the owned refs
    (
        "sample ref 3 components",
        lambda: sample(sample_observation_ref="sample:p.r.x"),
        "stable_ref_invalid_shape",
    ),
    (
        "sample ref 6 components",
        lambda: sample(sample_observation_ref="sample:p.r.s.b.c.x"),
        "stable_ref_invalid_shape",
    ),
    (
        "operation ref wrong kind",
        lambda: operation(operation_context_ref="sample:p.r.s.o"),
        "stable_ref_kind_mismatch",
    ),
    ("project ref wrong kind", lambda: project(project_ref="run:p.r"), "stable_ref_kind_mismatch"),
    (
        "environment env: kind",
        lambda: environment(environment_snapshot_ref="env:p.r.e"),
        "stable_ref_kind_mismatch",
    ),
    # --- extensions
    (
        "extensions with a non-ExtensionFieldSet",
        lambda: run(extensions=(1,)),
        "context_invalid_extensions",
    ),
    ("extensions as text", lambda: run(extensions="org.team"), "context_invalid_extensions"),
]


@pytest.mark.parametrize(("build", "code"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule(build: Callable[[], Any], code: str) -> None:
    with raises_code(code) as info:
        build()
    # every rule names the offending field and value in the details
    assert {"field", "value"} <= set(info.value.details or {})


def test_project_normalisation() -> None:
    p = project(name="  Some Name! ", description=" d ", tags={" b ": " 2 ", "a": "1"})
    assert p.name == "Some Name!"  # free text, not tied to refs
    assert p.description == "d"
    assert list(p.tags.items()) == [("a", "1"), ("b", "2")]  # stripped, sorted by key
    assert isinstance(p.tags, FrozenMap)
    with pytest.raises(TypeError):
        p.tags["c"] = "3"  # type: ignore[index]
    assert project().tags == {}
    assert project(tags={"a": "1", " a": "2"}).tags == {"a": "2"}  # last wins after strip


def test_run_defaults_and_free_name() -> None:
    r = run(name="Run #1 (baseline)", status=" open ")
    assert r.name == "Run #1 (baseline)" and r.status == "open"
    assert (r.ended_at, r.description, r.schema_version, r.extensions) == (None, None, "1.0.0", ())
    closed = run(status="completed", ended_at=T1)
    assert closed.ended_at == T1
    assert not hasattr(r, "tags")  # Run has no tags field in 1.0


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_closed_statuses(status: str) -> None:
    assert stage(status=status, ended_at=T1, order_index=0).status == status


def test_stage_normalisation() -> None:
    s = stage(stage_name=" s ", order_index=3)
    assert s.stage_name == "s" and s.order_index == 3
    assert s.stage_execution_ref == StableRef("stage", "p.r.s")


def test_deployment_optional_links() -> None:
    d = deployment(
        run_ref="run:p.r",
        artifact_ref="artifact:p.r.a",
        environment_snapshot_ref="environment:p.r.e",
    )
    assert str(d.environment_snapshot_ref) == "environment:p.r.e"
    # without run_ref the environment ref is not prefix-checked (1.0)
    assert str(deployment(environment_snapshot_ref="environment:q.x.e").environment_snapshot_ref)
    # with run_ref any depth below the run is fine (1.0)
    deployment(run_ref="run:p.r", environment_snapshot_ref="environment:p.r.e.f")


def test_batch_sample_operation_scopes() -> None:
    b = batch()
    assert isinstance(b, BatchExecution) and b.batch_name == "b"
    s = sample(retention_class=" short ", redaction_profile="none")
    assert (s.retention_class, s.redaction_profile, s.batch_execution_ref) == (
        "short",
        "none",
        None,
    )
    in_batch = sample(
        sample_observation_ref="sample:p.r.s.b.x", batch_execution_ref="batch:p.r.s.b"
    )
    assert in_batch.batch_execution_ref == StableRef("batch", "p.r.s.b")
    op = operation(operation_context_ref="op:p.r.s.b.o", batch_execution_ref="batch:p.r.s.b")
    assert isinstance(op, OperationContext) and op.operation_name == "o"


def test_environment_snapshot_maps() -> None:
    e = environment(python_version=" 3.11 ", packages={"b": "1", "a": "2"})
    assert e.python_version == "3.11"
    assert list(e.packages) == ["a", "b"] and e.environment_variables == {}


# ------------------------------------------------------------ positions, equality
def test_positional_construction_in_field_order() -> None:
    r = Run("run:p.r", "project:p", "n", "completed", T0, T1, "desc", "1.0.0", ())
    assert (r.name, r.ended_at, r.description) == ("n", T1, "desc")
    s = SampleObservation("sample:p.r.s.b.x", "run:p.r", STAGE, "x", T0, "batch:p.r.s.b", "keep")
    assert s.retention_class == "keep"
    assert Project("project:p", "P", T0, None, {"a": "b"}).tags == {"a": "b"}


def test_models_are_frozen_and_comparable() -> None:
    r = run()
    with pytest.raises(AttributeError):
        r.name = "x"  # type: ignore[misc]
    assert r == run(run_ref=StableRef("run", "p.r"), started_at="2025-01-01T00:00:00.000Z")
    assert r != run(name="other")
    assert hash(r) == hash(run())
    assert hash(project(tags={"a": "b"})) == hash(project(tags={"a": "b"}))
