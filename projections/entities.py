"""The other metadata entities, one projection each: deployments, batches, samples,
environments, relations, provenance and artifact manifests. Every version of every entity is a
row; ``body`` holds the full object."""

from .base import Projection

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
    kinds = ("deployment.put",)
    columns = _COLUMNS


class BatchesProjection(Projection):
    name = "batches"
    version = 1
    kinds = ("batch.put",)
    columns = _COLUMNS


class SamplesProjection(Projection):
    name = "samples"
    version = 1
    kinds = ("sample.put",)
    columns = _COLUMNS


class EnvironmentsProjection(Projection):
    name = "environments"
    version = 1
    kinds = ("environment.put",)
    columns = _COLUMNS


class RelationsProjection(Projection):
    name = "relations"
    version = 1
    kinds = ("relation.put",)
    columns = _COLUMNS


class ProvenanceProjection(Projection):
    name = "provenance"
    version = 1
    kinds = ("provenance.put",)
    columns = _COLUMNS


class ArtifactsProjection(Projection):
    name = "artifacts"
    version = 1
    kinds = ("artifact.put",)
    columns = _COLUMNS
