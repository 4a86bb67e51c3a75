"""Every event kind the ledger stores, written down once.

Kinds are stable strings, never derived from class names, so renaming a class cannot orphan
history. The projection declarations, ``contexta.events`` (which writes them) and the CLI take
their kinds from here; a test ties the three together.
"""

from __future__ import annotations

__all__ = [
    "ALL_KINDS",
    "ARTIFACT_PUT",
    "BATCH_PUT",
    "DEGRADED",
    "DEPLOYMENT_PUT",
    "ENTITY_KINDS",
    "ENVIRONMENT_PUT",
    "EVENT",
    "METRIC",
    "PROJECT_PUT",
    "PROVENANCE_PUT",
    "QUALITY_KINDS",
    "QUARANTINE",
    "RECORD_KINDS",
    "RECORD_PREFIX",
    "RELATION_PUT",
    "RELEASE",
    "RUN_PUT",
    "SAMPLE_PUT",
    "SPAN",
    "STAGE_PUT",
]

# Metadata puts: one event per version of an entity.
PROJECT_PUT = "project.put"
RUN_PUT = "run.put"
STAGE_PUT = "stage.put"
DEPLOYMENT_PUT = "deployment.put"
BATCH_PUT = "batch.put"
SAMPLE_PUT = "sample.put"
ENVIRONMENT_PUT = "environment.put"
RELATION_PUT = "relation.put"
PROVENANCE_PUT = "provenance.put"
ARTIFACT_PUT = "artifact.put"

# Appended records: every record kind starts with this prefix.
RECORD_PREFIX = "record."
METRIC = RECORD_PREFIX + "metric"
EVENT = RECORD_PREFIX + "event"
SPAN = RECORD_PREFIX + "span"
DEGRADED = RECORD_PREFIX + "degraded"

# Data-quality decisions about runs (new events, never rewrites).
QUARANTINE = "run.quarantine"
RELEASE = "run.release"

ENTITY_KINDS: tuple[str, ...] = (
    PROJECT_PUT,
    RUN_PUT,
    STAGE_PUT,
    DEPLOYMENT_PUT,
    BATCH_PUT,
    SAMPLE_PUT,
    ENVIRONMENT_PUT,
    RELATION_PUT,
    PROVENANCE_PUT,
    ARTIFACT_PUT,
)
RECORD_KINDS: tuple[str, ...] = (METRIC, EVENT, SPAN, DEGRADED)
QUALITY_KINDS: tuple[str, ...] = (QUARANTINE, RELEASE)
#: every kind, in this order: entities, records, quality
ALL_KINDS: tuple[str, ...] = (*ENTITY_KINDS, *RECORD_KINDS, *QUALITY_KINDS)
