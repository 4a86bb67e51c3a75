"""Contexta 1.0's import path; see :mod:`contexta.contract.execution_context`."""

from contexta.contract.artifacts import (  # noqa: F401 (1.0 names beyond __all__)
    ARTIFACT_KINDS,
    ArtifactManifest,
)
from contexta.contract.execution_context import (  # noqa: F401 (1.0 names beyond __all__)
    DEFAULT_CONTRACT_SCHEMA_VERSION,
    BatchExecution,
    DeploymentExecution,
    EnvironmentSnapshot,
    ExtensionFieldSet,
    OperationContext,
    Project,
    Run,
    SampleObservation,
    StableRef,
    StageExecution,
)
from contexta.contract.lineage import (  # noqa: F401 (1.0 names beyond __all__)
    ASSERTION_MODES,
    CONFIDENCE_MARKERS,
    LINEAGE_ORIGIN_MARKERS,
    RELATION_TYPES,
    LineageEdge,
    ProvenanceRecord,
)
from contexta.contract.payloads import (  # noqa: F401 (1.0 names beyond __all__)
    DEGRADED_CATEGORIES,
    DEGRADED_SEVERITIES,
    EVENT_LEVELS,
    METRIC_AGGREGATION_SCOPES,
    ORIGIN_MARKERS,
    TRACE_SPAN_KINDS,
    TRACE_SPAN_STATUSES,
)
from contexta.contract.records import (  # noqa: F401 (1.0 names beyond __all__)
    COMPLETENESS_MARKERS,
    DEGRADATION_MARKERS,
    PRODUCER_REF_PATTERN,
    RECORD_TYPES,
    CorrelationRefs,
    DegradedPayload,
    DegradedRecord,
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
)

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
