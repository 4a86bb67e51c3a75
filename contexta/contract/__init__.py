"""The Contexta contract: frozen, validated models and their serialization.

``from contexta.contract import Run, MetricRecord, StableRef, to_json, ...`` -- see the 1.0
contract, sections 1 and 2. Models are frozen msgspec Structs; constructors validate and
normalise (refs become :class:`StableRef`, timestamps canonical UTC text, maps read-only).
"""

from __future__ import annotations

from .artifacts import ARTIFACT_KINDS, ArtifactManifest
from .base import ContractModel
from .canonical_json import deserializer_for, to_json, to_payload, validator_for
from .codec import MODEL_TYPES, decode, encode
from .execution_context import (
    BatchExecution,
    DeploymentExecution,
    EnvironmentSnapshot,
    OperationContext,
    Project,
    Run,
    SampleObservation,
    StageExecution,
)
from .extensions import ExtensionFieldSet
from .frozen import FrozenMap
from .lineage import LineageEdge, ProvenanceRecord
from .payloads import DegradedPayload, MetricPayload, StructuredEventPayload, TraceSpanPayload
from .records import (
    CorrelationRefs,
    DegradedRecord,
    MetricRecord,
    RecordEnvelope,
    StructuredEventRecord,
    TraceSpanRecord,
)
from .refs import StableRef
from .report import VALIDATION_SEVERITIES, ValidationIssue, ValidationReport
from .timestamps import normalize_timestamp, parse_timestamp, timestamp_micros

deserialize_stable_ref = deserializer_for(StableRef)
deserialize_project = deserializer_for(Project)
deserialize_run = deserializer_for(Run)
deserialize_stage_execution = deserializer_for(StageExecution)
deserialize_deployment_execution = deserializer_for(DeploymentExecution)
deserialize_batch_execution = deserializer_for(BatchExecution)
deserialize_sample_observation = deserializer_for(SampleObservation)
deserialize_operation_context = deserializer_for(OperationContext)
deserialize_environment_snapshot = deserializer_for(EnvironmentSnapshot)
deserialize_correlation_refs = deserializer_for(CorrelationRefs)
deserialize_record_envelope = deserializer_for(RecordEnvelope)
deserialize_metric_payload = deserializer_for(MetricPayload)
deserialize_metric_record = deserializer_for(MetricRecord)
deserialize_structured_event_payload = deserializer_for(StructuredEventPayload)
deserialize_structured_event_record = deserializer_for(StructuredEventRecord)
deserialize_trace_span_payload = deserializer_for(TraceSpanPayload)
deserialize_trace_span_record = deserializer_for(TraceSpanRecord)
deserialize_degraded_payload = deserializer_for(DegradedPayload)
deserialize_degraded_record = deserializer_for(DegradedRecord)
deserialize_artifact_manifest = deserializer_for(ArtifactManifest)
deserialize_lineage_edge = deserializer_for(LineageEdge)
deserialize_provenance_record = deserializer_for(ProvenanceRecord)
deserialize_extension_field_set = deserializer_for(ExtensionFieldSet)

validate_stable_ref = validator_for(StableRef)
validate_project = validator_for(Project)
validate_run = validator_for(Run)
validate_stage_execution = validator_for(StageExecution)
validate_deployment_execution = validator_for(DeploymentExecution)
validate_batch_execution = validator_for(BatchExecution)
validate_sample_observation = validator_for(SampleObservation)
validate_operation_context = validator_for(OperationContext)
validate_environment_snapshot = validator_for(EnvironmentSnapshot)
validate_correlation_refs = validator_for(CorrelationRefs)
validate_record_envelope = validator_for(RecordEnvelope)
validate_metric_payload = validator_for(MetricPayload)
validate_metric_record = validator_for(MetricRecord)
validate_structured_event_payload = validator_for(StructuredEventPayload)
validate_structured_event_record = validator_for(StructuredEventRecord)
validate_trace_span_payload = validator_for(TraceSpanPayload)
validate_trace_span_record = validator_for(TraceSpanRecord)
validate_degraded_payload = validator_for(DegradedPayload)
validate_degraded_record = validator_for(DegradedRecord)
validate_artifact_manifest = validator_for(ArtifactManifest)
validate_lineage_edge = validator_for(LineageEdge)
validate_provenance_record = validator_for(ProvenanceRecord)
validate_extension_field_set = validator_for(ExtensionFieldSet)

__all__ = [
    "ARTIFACT_KINDS",
    "MODEL_TYPES",
    "VALIDATION_SEVERITIES",
    "ArtifactManifest",
    "BatchExecution",
    "ContractModel",
    "CorrelationRefs",
    "DegradedPayload",
    "DegradedRecord",
    "DeploymentExecution",
    "EnvironmentSnapshot",
    "ExtensionFieldSet",
    "FrozenMap",
    "LineageEdge",
    "MetricPayload",
    "MetricRecord",
    "OperationContext",
    "Project",
    "ProvenanceRecord",
    "RecordEnvelope",
    "Run",
    "SampleObservation",
    "StableRef",
    "StageExecution",
    "StructuredEventPayload",
    "StructuredEventRecord",
    "TraceSpanPayload",
    "TraceSpanRecord",
    "ValidationIssue",
    "ValidationReport",
    "decode",
    "deserialize_artifact_manifest",
    "deserialize_batch_execution",
    "deserialize_correlation_refs",
    "deserialize_degraded_payload",
    "deserialize_degraded_record",
    "deserialize_deployment_execution",
    "deserialize_environment_snapshot",
    "deserialize_extension_field_set",
    "deserialize_lineage_edge",
    "deserialize_metric_payload",
    "deserialize_metric_record",
    "deserialize_operation_context",
    "deserialize_project",
    "deserialize_provenance_record",
    "deserialize_record_envelope",
    "deserialize_run",
    "deserialize_sample_observation",
    "deserialize_stable_ref",
    "deserialize_stage_execution",
    "deserialize_structured_event_payload",
    "deserialize_structured_event_record",
    "deserialize_trace_span_payload",
    "deserialize_trace_span_record",
    "encode",
    "normalize_timestamp",
    "parse_timestamp",
    "timestamp_micros",
    "to_json",
    "to_payload",
    "validate_artifact_manifest",
    "validate_batch_execution",
    "validate_correlation_refs",
    "validate_degraded_payload",
    "validate_degraded_record",
    "validate_deployment_execution",
    "validate_environment_snapshot",
    "validate_extension_field_set",
    "validate_lineage_edge",
    "validate_metric_payload",
    "validate_metric_record",
    "validate_operation_context",
    "validate_project",
    "validate_provenance_record",
    "validate_record_envelope",
    "validate_run",
    "validate_sample_observation",
    "validate_stable_ref",
    "validate_stage_execution",
    "validate_structured_event_payload",
    "validate_structured_event_record",
    "validate_trace_span_payload",
    "validate_trace_span_record",
]
