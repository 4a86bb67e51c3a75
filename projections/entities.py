"""The other metadata entities, one projection each: deployments, batches, samples,
environments, relations, provenance and artifact manifests. Every version of every entity is a
row; ``body`` holds the full object."""

from .base import Projection
from .kinds import (
    ARTIFACT_PUT,
    BATCH_PUT,
    DEPLOYMENT_PUT,
    ENVIRONMENT_PUT,
    PROVENANCE_PUT,
    RELATION_PUT,
    SAMPLE_PUT,
)

_COLUMNS = (
    "seq",
    "tx_time",
    "ref",
    "project_ref",
    "run_ref",
    "stage_ref",
    "key",
    "valid_time",
    "body",
)


class DeploymentsProjection(Projection):
    name = "deployments"
    version = 1
    kinds = (DEPLOYMENT_PUT,)
    columns = _COLUMNS


class BatchesProjection(Projection):
    name = "batches"
    version = 1
    kinds = (BATCH_PUT,)
    columns = _COLUMNS


class SamplesProjection(Projection):
    name = "samples"
    version = 1
    kinds = (SAMPLE_PUT,)
    columns = _COLUMNS


class EnvironmentsProjection(Projection):
    name = "environments"
    version = 1
    kinds = (ENVIRONMENT_PUT,)
    columns = _COLUMNS


class RelationsProjection(Projection):
    name = "relations"
    version = 1
    kinds = (RELATION_PUT,)
    columns = _COLUMNS


class ProvenanceProjection(Projection):
    name = "provenance"
    version = 1
    kinds = (PROVENANCE_PUT,)
    columns = _COLUMNS


class ArtifactsProjection(Projection):
    name = "artifacts"
    version = 1
    kinds = (ARTIFACT_PUT,)
    columns = _COLUMNS
