"""Every model has 1.0's fields: same names, same order, same defaults (recorded from 1.0.0)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

import contexta.contract as contract

# Recorded by introspecting the real Contexta 1.0.0 dataclasses ("FACTORY": a default factory).
LAYOUT: dict[str, list[tuple[str, Any]]] = {
    "Project": [
        ("project_ref", "REQUIRED"),
        ("name", "REQUIRED"),
        ("created_at", "REQUIRED"),
        ("description", None),
        ("tags", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "Run": [
        ("run_ref", "REQUIRED"),
        ("project_ref", "REQUIRED"),
        ("name", "REQUIRED"),
        ("status", "REQUIRED"),
        ("started_at", "REQUIRED"),
        ("ended_at", None),
        ("description", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "StageExecution": [
        ("stage_execution_ref", "REQUIRED"),
        ("run_ref", "REQUIRED"),
        ("stage_name", "REQUIRED"),
        ("status", "REQUIRED"),
        ("started_at", "REQUIRED"),
        ("ended_at", None),
        ("order_index", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "DeploymentExecution": [
        ("deployment_execution_ref", "REQUIRED"),
        ("project_ref", "REQUIRED"),
        ("deployment_name", "REQUIRED"),
        ("status", "REQUIRED"),
        ("started_at", "REQUIRED"),
        ("ended_at", None),
        ("order_index", None),
        ("run_ref", None),
        ("artifact_ref", None),
        ("environment_snapshot_ref", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "BatchExecution": [
        ("batch_execution_ref", "REQUIRED"),
        ("run_ref", "REQUIRED"),
        ("stage_execution_ref", "REQUIRED"),
        ("batch_name", "REQUIRED"),
        ("status", "REQUIRED"),
        ("started_at", "REQUIRED"),
        ("ended_at", None),
        ("order_index", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "SampleObservation": [
        ("sample_observation_ref", "REQUIRED"),
        ("run_ref", "REQUIRED"),
        ("stage_execution_ref", "REQUIRED"),
        ("sample_name", "REQUIRED"),
        ("observed_at", "REQUIRED"),
        ("batch_execution_ref", None),
        ("retention_class", None),
        ("redaction_profile", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "OperationContext": [
        ("operation_context_ref", "REQUIRED"),
        ("run_ref", "REQUIRED"),
        ("stage_execution_ref", "REQUIRED"),
        ("operation_name", "REQUIRED"),
        ("observed_at", "REQUIRED"),
        ("batch_execution_ref", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "EnvironmentSnapshot": [
        ("environment_snapshot_ref", "REQUIRED"),
        ("run_ref", "REQUIRED"),
        ("captured_at", "REQUIRED"),
        ("python_version", "REQUIRED"),
        ("platform", "REQUIRED"),
        ("packages", None),
        ("environment_variables", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "CorrelationRefs": [
        ("trace_id", None),
        ("session_id", None),
    ],
    "RecordEnvelope": [
        ("record_ref", "REQUIRED"),
        ("record_type", "REQUIRED"),
        ("recorded_at", "REQUIRED"),
        ("observed_at", "REQUIRED"),
        ("producer_ref", "REQUIRED"),
        ("run_ref", "REQUIRED"),
        ("deployment_execution_ref", None),
        ("stage_execution_ref", None),
        ("batch_execution_ref", None),
        ("sample_observation_ref", None),
        ("operation_context_ref", None),
        ("correlation_refs", "FACTORY"),
        ("completeness_marker", "complete"),
        ("degradation_marker", "none"),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "MetricPayload": [
        ("metric_key", "REQUIRED"),
        ("value", "REQUIRED"),
        ("value_type", "REQUIRED"),
        ("unit", None),
        ("aggregation_scope", "step"),
        ("subject_ref", None),
        ("slice_ref", None),
        ("tags", None),
        ("summary_basis", None),
    ],
    "MetricRecord": [
        ("envelope", "REQUIRED"),
        ("payload", "REQUIRED"),
    ],
    "StructuredEventPayload": [
        ("event_key", "REQUIRED"),
        ("level", "REQUIRED"),
        ("message", "REQUIRED"),
        ("subject_ref", None),
        ("attributes", None),
        ("origin_marker", "explicit_capture"),
    ],
    "StructuredEventRecord": [
        ("envelope", "REQUIRED"),
        ("payload", "REQUIRED"),
    ],
    "TraceSpanPayload": [
        ("span_id", "REQUIRED"),
        ("trace_id", "REQUIRED"),
        ("parent_span_id", "REQUIRED"),
        ("span_name", "REQUIRED"),
        ("started_at", "REQUIRED"),
        ("ended_at", "REQUIRED"),
        ("status", "REQUIRED"),
        ("span_kind", "REQUIRED"),
        ("attributes", None),
        ("linked_refs", ()),
    ],
    "TraceSpanRecord": [
        ("envelope", "REQUIRED"),
        ("payload", "REQUIRED"),
    ],
    "DegradedPayload": [
        ("issue_key", "REQUIRED"),
        ("category", "REQUIRED"),
        ("severity", "REQUIRED"),
        ("summary", "REQUIRED"),
        ("subject_ref", None),
        ("origin_marker", "explicit_capture"),
        ("attributes", None),
    ],
    "DegradedRecord": [
        ("envelope", "REQUIRED"),
        ("payload", "REQUIRED"),
    ],
    "ArtifactManifest": [
        ("artifact_ref", "REQUIRED"),
        ("artifact_kind", "REQUIRED"),
        ("created_at", "REQUIRED"),
        ("producer_ref", "REQUIRED"),
        ("run_ref", "REQUIRED"),
        ("location_ref", "REQUIRED"),
        ("deployment_execution_ref", None),
        ("stage_execution_ref", None),
        ("batch_execution_ref", None),
        ("sample_observation_ref", None),
        ("operation_context_ref", None),
        ("hash_value", None),
        ("size_bytes", None),
        ("attributes", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "LineageEdge": [
        ("relation_ref", "REQUIRED"),
        ("relation_type", "REQUIRED"),
        ("source_ref", "REQUIRED"),
        ("target_ref", "REQUIRED"),
        ("recorded_at", "REQUIRED"),
        ("origin_marker", "REQUIRED"),
        ("confidence_marker", "REQUIRED"),
        ("operation_context_ref", None),
        ("evidence_refs", ()),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "ProvenanceRecord": [
        ("provenance_ref", "REQUIRED"),
        ("relation_ref", "REQUIRED"),
        ("assertion_mode", "REQUIRED"),
        ("asserted_at", "REQUIRED"),
        ("formation_context_ref", None),
        ("policy_ref", None),
        ("evidence_bundle_ref", None),
        ("schema_version", "1.0.0"),
        ("extensions", ()),
    ],
    "StableRef": [
        ("kind", "REQUIRED"),
        ("value", "REQUIRED"),
    ],
    "ExtensionFieldSet": [
        ("namespace", "REQUIRED"),
        ("fields", "REQUIRED"),
        ("readonly_fields", ()),
    ],
}


def _layout(model: type) -> list[tuple[str, Any]]:
    out = []
    for field in msgspec.structs.fields(model):
        if field.default is not msgspec.NODEFAULT:
            default: Any = field.default
        elif field.default_factory is not msgspec.NODEFAULT:
            default = "FACTORY"
        else:
            default = "REQUIRED"
        out.append((field.name, default))
    return out


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_fields_match_contexta_1_0(name: str) -> None:
    assert _layout(getattr(contract, name)) == LAYOUT[name]


def test_every_model_is_covered() -> None:
    assert {model.__name__ for model in contract.MODEL_TYPES} == set(LAYOUT)


def test_correlation_refs_default_is_empty() -> None:
    envelope = contract.RecordEnvelope(
        "record:p.r.x", "metric", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "prod", "run:p.r"
    )
    assert envelope.correlation_refs == contract.CorrelationRefs()
    assert envelope.correlation_refs.trace_id is None


@pytest.mark.parametrize("model", contract.MODEL_TYPES, ids=lambda m: m.__name__)
def test_models_are_frozen_msgspec_structs(model: type) -> None:
    assert issubclass(model, msgspec.Struct)
    assert model.__struct_config__.frozen
