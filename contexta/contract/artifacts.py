"""Artifact manifests (contract section 2.10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import force_setattr as _set

from .base import ContractModel
from .extensions import ExtensionFieldSet, check_extensions
from .field_validators import (
    DOTTED_KEBAB,
    SNAKE,
    fail,
    json_map,
    optional_str,
    required_str,
    timestamp,
    token,
)
from .records import check_scope
from .refs import StableRef, coerce_ref, optional_ref, starts_within

__all__ = ["ARTIFACT_KINDS", "ArtifactManifest"]

#: The canonical artifact kinds; any lower_snake token is accepted.
ARTIFACT_KINDS = (
    "dataset_snapshot",
    "feature_set",
    "checkpoint",
    "config_snapshot",
    "model_bundle",
    "report_bundle",
    "export_package",
    "evidence_bundle",
    "debug_bundle",
)


def _size_bytes(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(
            "artifact_invalid_size_bytes",
            "ArtifactManifest.size_bytes",
            value,
            "must be an integer number of bytes or None",
        )
    if value < 0:
        raise fail(
            "artifact_invalid_size_bytes", "ArtifactManifest.size_bytes", value, "must be >= 0"
        )
    return int(value)


class ArtifactManifest(ContractModel, frozen=True):
    """A stored artifact of a run and where it lives (contract 2.10)."""

    artifact_ref: StableRef | str
    artifact_kind: str
    created_at: str
    producer_ref: str
    run_ref: StableRef | str
    location_ref: str
    deployment_execution_ref: StableRef | str | None = None
    stage_execution_ref: StableRef | str | None = None
    batch_execution_ref: StableRef | str | None = None
    sample_observation_ref: StableRef | str | None = None
    operation_context_ref: StableRef | str | None = None
    hash_value: str | None = None
    size_bytes: int | None = None
    attributes: Mapping[str, Any] | None = None
    schema_version: str = "1.0.0"
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "ArtifactManifest"

    def __post_init__(self) -> None:
        m = "ArtifactManifest"
        artifact = coerce_ref(f"{m}.artifact_ref", self.artifact_ref, ("artifact",))
        run = coerce_ref(f"{m}.run_ref", self.run_ref, ("run",))
        if not starts_within(artifact, run):
            raise fail(
                "artifact_ref_prefix_mismatch",
                f"{m}.artifact_ref",
                str(artifact),
                f"must be run_ref's value plus one key ('artifact:{run.value}.<artifact-key>')",
                run_ref=str(run),
            )
        _set(self, "artifact_ref", artifact)
        _set(self, "run_ref", run)
        _set(
            self,
            "artifact_kind",
            token(
                f"{m}.artifact_kind",
                self.artifact_kind,
                SNAKE,
                "artifact_invalid_artifact_kind",
                f"Use a lower_snake token such as {', '.join(ARTIFACT_KINDS[:3])}.",
            ),
        )
        _set(self, "created_at", timestamp(f"{m}.created_at", self.created_at))
        _set(
            self,
            "producer_ref",
            token(
                f"{m}.producer_ref",
                self.producer_ref,
                DOTTED_KEBAB,
                "artifact_invalid_producer_ref",
                "Use dotted lower-kebab segments, each starting with a letter, e.g. 'my-trainer'.",
            ),
        )
        _set(self, "location_ref", required_str(f"{m}.location_ref", self.location_ref))
        deployment = optional_ref(
            f"{m}.deployment_execution_ref", self.deployment_execution_ref, ("deployment",)
        )
        stage = optional_ref(f"{m}.stage_execution_ref", self.stage_execution_ref, ("stage",))
        batch = optional_ref(f"{m}.batch_execution_ref", self.batch_execution_ref, ("batch",))
        sample = optional_ref(
            f"{m}.sample_observation_ref", self.sample_observation_ref, ("sample",)
        )
        op = optional_ref(f"{m}.operation_context_ref", self.operation_context_ref, ("op",))
        check_scope(
            m,
            run,
            stage,
            batch,
            sample,
            op,
            "artifact_ref_prefix_mismatch",
            "artifact_missing_stage_context",
        )
        _set(self, "deployment_execution_ref", deployment)
        _set(self, "stage_execution_ref", stage)
        _set(self, "batch_execution_ref", batch)
        _set(self, "sample_observation_ref", sample)
        _set(self, "operation_context_ref", op)
        _set(self, "hash_value", optional_str(f"{m}.hash_value", self.hash_value))
        _set(self, "size_bytes", _size_bytes(self.size_bytes))
        _set(self, "attributes", json_map(f"{m}.attributes", self.attributes))
        _set(self, "schema_version", required_str(f"{m}.schema_version", self.schema_version))
        _set(self, "extensions", check_extensions(m, self.extensions))
