"""Sections 2.10 and 2.11 (artifacts, lineage, provenance) and the extensions rules of 2.0."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from contexta.common.errors import ConflictError
from contexta.contract import ExtensionFieldSet, FrozenMap, StableRef

from .helpers import artifact, extension, lineage, provenance, raises_code, run

X = ExtensionFieldSet

RULES: list[tuple[str, Callable[[], Any], str]] = [
    # --- artifact manifest
    (
        "artifact outside run",
        lambda: artifact(artifact_ref="artifact:p.q.a"),
        "artifact_ref_prefix_mismatch",
    ),
    (
        "artifact 4 components",
        lambda: artifact(artifact_ref="artifact:p.r.a.b"),
        "stable_ref_invalid_shape",
    ),
    (
        "artifact_kind dash",
        lambda: artifact(artifact_kind="model-bundle"),
        "artifact_invalid_artifact_kind",
    ),
    (
        "artifact_kind upper",
        lambda: artifact(artifact_kind="Checkpoint"),
        "artifact_invalid_artifact_kind",
    ),
    ("producer upper", lambda: artifact(producer_ref="A"), "artifact_invalid_producer_ref"),
    ("location blank", lambda: artifact(location_ref=" "), "context_invalid_string"),
    ("size negative", lambda: artifact(size_bytes=-1), "artifact_invalid_size_bytes"),
    ("size bool", lambda: artifact(size_bytes=True), "artifact_invalid_size_bytes"),
    ("size float", lambda: artifact(size_bytes=1.0), "artifact_invalid_size_bytes"),
    (
        "stage under other run",
        lambda: artifact(stage_execution_ref="stage:p.q.s"),
        "artifact_ref_prefix_mismatch",
    ),
    (
        "batch without stage",
        lambda: artifact(batch_execution_ref="batch:p.r.s.b"),
        "artifact_missing_stage_context",
    ),
    (
        "sample under other stage",
        lambda: artifact(
            stage_execution_ref="stage:p.r.s", sample_observation_ref="sample:p.r.t.x"
        ),
        "artifact_ref_prefix_mismatch",
    ),
    ("hash blank", lambda: artifact(hash_value=" "), "context_invalid_string"),
    ("attributes blank key", lambda: artifact(attributes={" ": 1}), "record_invalid_mapping"),
    ("attributes NaN", lambda: artifact(attributes={"a": math.nan}), "extension_invalid_value"),
    ("run_ref not a ref", lambda: artifact(run_ref=1), "context_invalid_ref"),
    (
        "deployment wrong kind",
        lambda: artifact(deployment_execution_ref="run:p.r"),
        "stable_ref_kind_mismatch",
    ),
    # --- lineage edge
    ("relation wrong kind", lambda: lineage(relation_ref="run:p.r"), "stable_ref_kind_mismatch"),
    ("relation type", lambda: lineage(relation_type="x"), "record_invalid_marker"),
    ("source bad shape", lambda: lineage(source_ref="run:p"), "stable_ref_invalid_shape"),
    ("source not a ref", lambda: lineage(source_ref=1), "context_invalid_ref"),
    (
        "self relation",
        lambda: lineage(source_ref="run:p.r", target_ref=StableRef("run", "p.r")),
        "lineage_self_relation",
    ),
    (
        "origin from records",
        lambda: lineage(origin_marker="explicit_capture"),
        "record_invalid_marker",
    ),
    ("confidence", lambda: lineage(confidence_marker="x"), "record_invalid_marker"),
    (
        "operation wrong kind",
        lambda: lineage(operation_context_ref="stage:p.r.s"),
        "stable_ref_kind_mismatch",
    ),
    ("evidence not a ref", lambda: lineage(evidence_refs=["x"]), "stable_ref_invalid_text"),
    ("evidence int", lambda: lineage(evidence_refs=[1]), "record_invalid_ref"),
    # --- provenance
    (
        "provenance wrong kind",
        lambda: provenance(provenance_ref="relation:x"),
        "stable_ref_kind_mismatch",
    ),
    (
        "provenance relation wrong kind",
        lambda: provenance(relation_ref="provenance:x"),
        "stable_ref_kind_mismatch",
    ),
    ("assertion mode", lambda: provenance(assertion_mode="x"), "record_invalid_marker"),
    (
        "policy underscore upper",
        lambda: provenance(policy_ref="Policy_1"),
        "lineage_invalid_policy_ref",
    ),
    ("policy segment digit", lambda: provenance(policy_ref="a.1"), "lineage_invalid_policy_ref"),
    ("policy not str", lambda: provenance(policy_ref=1), "context_invalid_string"),
    ("policy blank", lambda: provenance(policy_ref=" "), "context_invalid_string"),
    (
        "evidence bundle not artifact",
        lambda: provenance(evidence_bundle_ref="run:p.r"),
        "stable_ref_kind_mismatch",
    ),
    ("evidence bundle not a ref", lambda: provenance(evidence_bundle_ref=1), "context_invalid_ref"),
    # --- extension field sets
    ("namespace one segment", lambda: X("org", {"a": 1}), "extension_invalid_namespace"),
    ("namespace upper", lambda: X("Org.team", {"a": 1}), "extension_invalid_namespace"),
    ("namespace underscore", lambda: X("a_b.c", {"a": 1}), "extension_invalid_namespace"),
    ("namespace padded", lambda: X(" org.team ", {"a": 1}), "extension_invalid_namespace"),
    ("namespace 129 chars", lambda: X("a." + "b" * 127, {"a": 1}), "extension_invalid_namespace"),
    ("namespace not str", lambda: X(1, {"a": 1}), "extension_invalid_namespace"),
    ("fields empty", lambda: X("org.team", {}), "extension_empty_fields"),
    ("fields not mapping", lambda: X("org.team", [1]), "extension_invalid_fields"),
    ("field key upper", lambda: X("org.team", {"A": 1}), "extension_invalid_field_key"),
    ("field key dash", lambda: X("org.team", {"a-b": 1}), "extension_invalid_field_key"),
    ("field key leading _", lambda: X("org.team", {"_a": 1}), "extension_invalid_field_key"),
    ("field key padded", lambda: X("org.team", {" a ": 1}), "extension_invalid_field_key"),
    ("field value NaN", lambda: X("org.team", {"a": math.nan}), "extension_invalid_value"),
    (
        "readonly unknown",
        lambda: X("org.team", {"a": 1}, ["b"]),
        "extension_invalid_readonly_fields",
    ),
    ("readonly not str", lambda: X("org.team", {"a": 1}, [1]), "extension_invalid_field_key"),
    (
        "readonly as one text",
        lambda: X("org.team", {"a": 1}, "a"),
        "extension_invalid_readonly_fields",
    ),
]


@pytest.mark.parametrize(("build", "code"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule(build: Callable[[], Any], code: str) -> None:
    with raises_code(code) as info:
        build()
    # every rule names the offending field and value in the details
    assert {"field", "value"} <= set(info.value.details or {})


def test_artifact_manifest() -> None:
    a = artifact(
        stage_execution_ref="stage:p.r.s",
        hash_value=" h ",
        size_bytes=0,
        attributes={"k": [1]},
        artifact_kind="banana",
    )
    assert (a.hash_value, a.size_bytes, a.artifact_kind) == ("h", 0, "banana")
    assert a.attributes == {"k": (1,)}
    assert a.location_ref == "vault://x"  # free text
    assert artifact().attributes == {} and artifact().size_bytes is None


def test_lineage_edge() -> None:
    edge = lineage(
        operation_context_ref="op:p.r.s.o",
        evidence_refs=["artifact:p.r.b", StableRef("run", "p.r")],
    )
    assert edge.evidence_refs == ("artifact:p.r.b", "run:p.r")  # texts
    assert edge.operation_context_ref == StableRef("op", "p.r.s.o")
    assert lineage(relation_ref="relation:x").relation_ref == StableRef("relation", "x")
    assert str(lineage(source_ref="my_kind:x").source_ref) == "my_kind:x"


def test_provenance_record() -> None:
    p = provenance(
        formation_context_ref="my_kind:x",
        policy_ref="policy.v1",
        evidence_bundle_ref=StableRef("artifact", "p.r.a"),
    )
    assert p.formation_context_ref == StableRef("my_kind", "x")  # any ref kind
    assert p.policy_ref == "policy.v1"
    assert p.evidence_bundle_ref == "artifact:p.r.a"  # stored as text (1.0)


def test_extension_field_set_normalisation() -> None:
    ext = X("org.team", {"b_1": 1, "a": [1, {"x": 2}]}, ["b_1", "a", "a"])
    assert list(ext.fields) == ["a", "b_1"]
    assert ext.fields["a"] == (1, FrozenMap({"x": 2}))
    assert ext.readonly_fields == ("a", "b_1")  # sorted, deduplicated
    assert X("org.team", {"a": None}).fields == {"a": None}
    assert X("a-.b", {"a": 1}).namespace == "a-.b"
    assert X("a." + "b" * 126, {"a": 1}).namespace.endswith("b")


def test_extensions_on_models() -> None:
    r = run(extensions=[extension("org.b"), extension("org.a")])
    assert [e.namespace for e in r.extensions] == ["org.a", "org.b"]  # sorted by namespace
    assert run(extensions=[]).extensions == ()


def test_duplicate_namespace_is_a_conflict() -> None:
    with raises_code("extension_duplicate_namespace", ConflictError) as info:
        run(extensions=[extension("org.b"), extension("org.b", b=1)])
    assert "org.b" in str(info.value)
