"""Lineage edges and provenance records (contract section 2.11)."""

from __future__ import annotations

from msgspec.structs import force_setattr as _set

from .base import ContractModel
from .extensions import ExtensionFieldSet, check_extensions
from .field_validators import (
    DOTTED_KEBAB,
    enum_str,
    fail,
    optional_token,
    required_str,
    timestamp,
)
from .refs import StableRef, coerce_ref, optional_ref, ref_texts

__all__ = [
    "ASSERTION_MODES",
    "CONFIDENCE_MARKERS",
    "LINEAGE_ORIGIN_MARKERS",
    "RELATION_TYPES",
    "LineageEdge",
    "ProvenanceRecord",
]

RELATION_TYPES = (
    "generated_from",
    "consumed_by",
    "produced_by",
    "packaged_from",
    "reported_by",
    "evaluated_on",
    "deployed_from",
    "used",
    "derived_from",
    "observed_in",
)
LINEAGE_ORIGIN_MARKERS = ("explicit", "imported", "inferred", "replayed")
ASSERTION_MODES = LINEAGE_ORIGIN_MARKERS
CONFIDENCE_MARKERS = ("high", "medium", "low", "unknown")


class LineageEdge(ContractModel, frozen=True):
    """A typed relation between two refs (contract 2.11)."""

    relation_ref: StableRef | str
    relation_type: str
    source_ref: StableRef | str
    target_ref: StableRef | str
    recorded_at: str
    origin_marker: str
    confidence_marker: str
    operation_context_ref: StableRef | str | None = None
    evidence_refs: tuple[str, ...] = ()
    schema_version: str = "1.0.0"
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "LineageEdge"

    def __post_init__(self) -> None:
        m = "LineageEdge"
        _set(
            self, "relation_ref", coerce_ref(f"{m}.relation_ref", self.relation_ref, ("relation",))
        )
        _set(
            self,
            "relation_type",
            enum_str(f"{m}.relation_type", self.relation_type, RELATION_TYPES),
        )
        source = coerce_ref(f"{m}.source_ref", self.source_ref)
        target = coerce_ref(f"{m}.target_ref", self.target_ref)
        if source == target:
            raise fail(
                "lineage_self_relation",
                f"{m}.target_ref",
                str(target),
                "must differ from source_ref (an edge cannot link a ref to itself)",
                source_ref=str(source),
            )
        _set(self, "source_ref", source)
        _set(self, "target_ref", target)
        _set(self, "recorded_at", timestamp(f"{m}.recorded_at", self.recorded_at))
        _set(
            self,
            "origin_marker",
            enum_str(f"{m}.origin_marker", self.origin_marker, LINEAGE_ORIGIN_MARKERS),
        )
        _set(
            self,
            "confidence_marker",
            enum_str(f"{m}.confidence_marker", self.confidence_marker, CONFIDENCE_MARKERS),
        )
        _set(
            self,
            "operation_context_ref",
            optional_ref(f"{m}.operation_context_ref", self.operation_context_ref, ("op",)),
        )
        _set(self, "evidence_refs", ref_texts(f"{m}.evidence_refs", self.evidence_refs))
        _set(self, "schema_version", required_str(f"{m}.schema_version", self.schema_version))
        _set(self, "extensions", check_extensions(m, self.extensions))


class ProvenanceRecord(ContractModel, frozen=True):
    """How a lineage relation was asserted (contract 2.11)."""

    provenance_ref: StableRef | str
    relation_ref: StableRef | str
    assertion_mode: str
    asserted_at: str
    formation_context_ref: StableRef | str | None = None
    policy_ref: str | None = None
    evidence_bundle_ref: str | None = None
    schema_version: str = "1.0.0"
    extensions: tuple[ExtensionFieldSet, ...] = ()

    model_name = "ProvenanceRecord"

    def __post_init__(self) -> None:
        m = "ProvenanceRecord"
        _set(
            self,
            "provenance_ref",
            coerce_ref(f"{m}.provenance_ref", self.provenance_ref, ("provenance",)),
        )
        _set(
            self, "relation_ref", coerce_ref(f"{m}.relation_ref", self.relation_ref, ("relation",))
        )
        _set(
            self,
            "assertion_mode",
            enum_str(f"{m}.assertion_mode", self.assertion_mode, ASSERTION_MODES),
        )
        _set(self, "asserted_at", timestamp(f"{m}.asserted_at", self.asserted_at))
        _set(
            self,
            "formation_context_ref",
            optional_ref(f"{m}.formation_context_ref", self.formation_context_ref),
        )
        _set(
            self,
            "policy_ref",
            optional_token(
                f"{m}.policy_ref",
                self.policy_ref,
                DOTTED_KEBAB,
                "lineage_invalid_policy_ref",
                "Use dotted lower-kebab segments, each starting with a letter, e.g. 'policy.v1'.",
            ),
        )
        if self.evidence_bundle_ref is not None:
            bundle = coerce_ref(f"{m}.evidence_bundle_ref", self.evidence_bundle_ref, ("artifact",))
            _set(self, "evidence_bundle_ref", str(bundle))
        _set(self, "schema_version", required_str(f"{m}.schema_version", self.schema_version))
        _set(self, "extensions", check_extensions(m, self.extensions))
