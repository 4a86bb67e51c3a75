"""Contexta 1.0's import path; see :mod:`contexta.contract.canonical_json`."""

from contexta.contract import (  # noqa: F401 (1.0 names beyond __all__)
    deserialize_artifact_manifest,
    deserialize_batch_execution,
    deserialize_correlation_refs,
    deserialize_degraded_payload,
    deserialize_degraded_record,
    deserialize_deployment_execution,
    deserialize_environment_snapshot,
    deserialize_extension_field_set,
    deserialize_lineage_edge,
    deserialize_metric_payload,
    deserialize_metric_record,
    deserialize_operation_context,
    deserialize_project,
    deserialize_provenance_record,
    deserialize_record_envelope,
    deserialize_run,
    deserialize_sample_observation,
    deserialize_stable_ref,
    deserialize_stage_execution,
    deserialize_structured_event_payload,
    deserialize_structured_event_record,
    deserialize_trace_span_payload,
    deserialize_trace_span_record,
)
from contexta.contract.canonical_json import (  # noqa: F401 (1.0 names beyond __all__)
    ArtifactManifest,
    ExtensionFieldSet,
    LineageEdge,
    MetricPayload,
    ProvenanceRecord,
    SerializationError,
    StableRef,
    ValidationError,
    deserializer_for,
    to_json,
    to_payload,
    validator_for,
)

__all__ = ["deserializer_for", "to_json", "to_payload", "validator_for"]
