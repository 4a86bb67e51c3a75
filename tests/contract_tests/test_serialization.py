"""Section 2.12: to_payload, to_json, deserialize_<model>, validate_<model>; and to_dict shapes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import contexta.contract as c
from contexta.common.errors import ValidationError

from .helpers import (
    EXAMPLES,
    T0,
    artifact,
    envelope,
    event_payload,
    extension,
    lineage,
    metric_payload,
    metric_record,
    project,
    provenance,
    raises_code,
    run,
    span_payload,
)
from .strategies import MODELS

ROUND_TRIP = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


# --------------------------------------------------------------------------- to_dict shapes
def test_to_dict_shape_of_a_record() -> None:
    record = c.MetricRecord(
        envelope(stage_execution_ref="stage:p.r.s"), metric_payload(value=1, tags={"b": "1"})
    )
    assert record.to_dict() == {
        "envelope": {
            "record_ref": "record:p.r.x",
            "record_type": "metric",
            "recorded_at": T0,
            "observed_at": T0,
            "producer_ref": "prod",
            "run_ref": "run:p.r",
            "deployment_execution_ref": None,
            "stage_execution_ref": "stage:p.r.s",
            "batch_execution_ref": None,
            "sample_observation_ref": None,
            "operation_context_ref": None,
            "correlation_refs": {"trace_id": None, "session_id": None},
            "completeness_marker": "complete",
            "degradation_marker": "none",
            "schema_version": "1.0.0",
            "extensions": [],
        },
        "payload": {
            "metric_key": "loss",
            "value": 1,
            "value_type": "float64",
            "unit": None,
            "aggregation_scope": "step",
            "subject_ref": None,
            "slice_ref": None,
            "tags": {"b": "1"},
            "summary_basis": None,
        },
    }


def test_to_dict_thaws_everything() -> None:
    r = run(extensions=[c.ExtensionFieldSet("org.team", {"b_1": 1, "a": [1, {"x": 2}]}, ["a"])])
    d = r.to_dict()
    assert list(d) == [
        "run_ref",
        "project_ref",
        "name",
        "status",
        "started_at",
        "ended_at",
        "description",
        "schema_version",
        "extensions",
    ]
    assert d["extensions"] == [
        {
            "namespace": "org.team",
            "fields": {"a": [1, {"x": 2}], "b_1": 1},
            "readonly_fields": ["a"],
        }
    ]
    assert type(d["extensions"][0]["fields"]) is dict
    event = event_payload(attributes={"b": [1, 2], "a": {"z": 1, "y": None}}).to_dict()
    assert event["attributes"] == {"a": {"y": None, "z": 1}, "b": [1, 2]}
    assert type(event["attributes"]["b"]) is list
    span = span_payload(linked_refs=["run:p.r"]).to_dict()
    assert span["linked_refs"] == ["run:p.r"] and span["parent_span_id"] is None
    assert c.StableRef("run", "p.r").to_dict() == {"kind": "run", "value": "p.r"}
    assert provenance(evidence_bundle_ref="artifact:p.r.a").to_dict()["evidence_bundle_ref"] == (
        "artifact:p.r.a"
    )


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_to_dict_is_json_safe(name: str) -> None:
    d = EXAMPLES[name]().to_dict()
    assert json.loads(json.dumps(d)) == d


# --------------------------------------------------------------------------- to_payload / to_json
def test_to_payload_sorts_keys_and_omits_none() -> None:
    payload = c.to_payload(run())
    assert payload == {
        "extensions": [],
        "name": "r",
        "project_ref": "project:p",
        "run_ref": "run:p.r",
        "schema_version": "1.0.0",
        "started_at": T0,
        "status": "open",
    }
    assert list(payload) == sorted(payload)
    record = c.to_payload(metric_record())
    assert record["envelope"]["correlation_refs"] == {}
    assert "unit" not in record["payload"]


def test_to_payload_keeps_none_inside_user_json() -> None:
    # 1.0 also dropped None values nested in attributes, which broke the round trip.
    payload = c.to_payload(event_payload(attributes={"b": [1, None], "a": {"z": 1, "y": None}}))
    assert payload["attributes"] == {"a": {"y": None, "z": 1}, "b": [1, None]}
    assert list(payload["attributes"]["a"]) == ["y", "z"]


def test_to_payload_of_refs_and_plain_values() -> None:
    assert c.to_payload(c.StableRef("run", "p.r")) == "run:p.r"
    assert c.to_payload({"b": 1, "a": None}) == {"b": 1}
    assert c.to_payload([run()]) == [c.to_payload(run())]
    report = c.validate_run(run(schema_version="2.0"))
    assert c.to_payload(report)["issues"][0]["code"] == "schema.version_mismatch"


def test_to_json_is_compact_canonical() -> None:
    text = c.to_json(project(name="Ünï", tags={"b": "x", "a": "y"}))
    assert text == (
        '{"created_at":"2025-01-01T00:00:00Z","extensions":[],"name":"Ünï",'
        '"project_ref":"project:p","schema_version":"1.0.0","tags":{"a":"y","b":"x"}}'
    )
    assert c.to_json(metric_payload(value=1e20)) == (
        '{"aggregation_scope":"step","metric_key":"loss","tags":{},"value":1e+20,'
        '"value_type":"float64"}'
    )
    assert c.to_json(c.StableRef("run", "p.r")) == '"run:p.r"'


# --------------------------------------------------------------------------- deserialize_<model>
def _deserializer(model_type: type) -> Any:
    return getattr(c, f"deserialize_{_snake(model_type.__name__)}")


@pytest.mark.parametrize("model_type", c.MODEL_TYPES, ids=lambda t: t.__name__)
def test_deserialize_round_trips(model_type: type) -> None:
    deserialize = _deserializer(model_type)

    @ROUND_TRIP
    @given(MODELS[model_type])
    def check(model: Any) -> None:
        assert deserialize(c.to_json(model)) == model
        assert deserialize(c.to_json(model).encode()) == model
        assert deserialize(c.to_payload(model)) == model
        if hasattr(model, "to_dict") and not isinstance(model, c.StableRef):
            assert deserialize(model.to_dict()) == model

    check()


def test_deserialize_span_without_parent() -> None:
    # 1.0 BUG: a span with parent_span_id=None could not be read back.
    span = span_payload()
    assert "parent_span_id" not in c.to_payload(span)
    assert c.deserialize_trace_span_payload(c.to_json(span)) == span


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: c.deserialize_run({**c.to_payload(run()), "zzz": 1}), "deserialize_unknown_field"),
        (
            lambda: c.deserialize_metric_record(
                {
                    "envelope": c.to_payload(envelope()),
                    "payload": {**c.to_payload(metric_payload()), "zzz": 1},
                }
            ),
            "deserialize_unknown_field",
        ),
        (lambda: c.deserialize_run({"run_ref": "run:p.r"}), "deserialize_invalid_payload"),
        (lambda: c.deserialize_run("{bad"), "deserialize_invalid_json"),
        (lambda: c.deserialize_run("[1]"), "deserialize_invalid_shape"),
        (lambda: c.deserialize_run(5), "deserialize_invalid_shape"),
        (
            lambda: c.deserialize_metric_record({"envelope": "x", "payload": {}}),
            "deserialize_invalid_shape",
        ),
        (
            lambda: c.deserialize_run({**c.to_payload(run()), "extensions": "x"}),
            "deserialize_invalid_shape",
        ),
        (
            lambda: c.deserialize_run({**c.to_payload(run()), "status": "x"}),
            "context_invalid_status",
        ),  # model rules apply with their own codes
        (
            lambda: c.deserialize_stable_ref({"kind": "run", "value": "p.r"}),
            "deserialize_invalid_shape",
        ),
        (lambda: c.deserialize_stable_ref("run:P"), "stable_ref_invalid_value"),
    ],
)
def test_deserialize_rejects(call: Any, code: str) -> None:
    with raises_code(code) as info:
        call()
    assert isinstance(info.value, ValidationError)


def test_deserialize_unknown_field_is_named() -> None:
    with raises_code("deserialize_unknown_field") as info:
        c.deserialize_run({**c.to_payload(run()), "tags": {}})
    assert "tags" in str(info.value) and info.value.details["field"] == "tags"


def test_deserialize_stable_ref_forms() -> None:
    ref = c.StableRef("run", "p.r")
    assert c.deserialize_stable_ref("run:p.r") == ref
    assert c.deserialize_stable_ref('"run:p.r"') == ref
    assert c.deserialize_stable_ref(b"run:p.r") == ref


def test_deserialize_accepts_extensions() -> None:
    r = run(extensions=[extension("org.a"), extension("org.b", b=[1])])
    assert c.deserialize_run(c.to_json(r)) == r


# --------------------------------------------------------------------------- validate_<model>
def _codes(report: c.ValidationReport) -> list[tuple[str, str, str]]:
    return [(i.code, i.path, i.severity) for i in report.issues]


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (
            lambda: c.validate_metric_record(metric_record()),
            [("metric.unit_missing", "$.payload.unit", "warning")],
        ),
        (
            lambda: c.validate_metric_payload(metric_payload()),
            [("metric.unit_missing", "$.unit", "warning")],
        ),
        (
            lambda: c.validate_metric_record(c.MetricRecord(envelope(), metric_payload(unit="ms"))),
            [],
        ),
        (
            lambda: c.validate_artifact_manifest(artifact()),
            [
                ("artifact.hash_value_missing", "$.hash_value", "warning"),
                ("artifact.size_bytes_missing", "$.size_bytes", "warning"),
            ],
        ),
        (lambda: c.validate_artifact_manifest(artifact(hash_value="h", size_bytes=1)), []),
        (
            lambda: c.validate_lineage_edge(lineage()),
            [("lineage.evidence_refs_missing", "$.evidence_refs", "warning")],
        ),
        (
            lambda: c.validate_lineage_edge(lineage(confidence_marker="low")),
            [
                ("lineage.evidence_refs_missing", "$.evidence_refs", "warning"),
                ("lineage.low_confidence_without_provenance", "$.confidence_marker", "warning"),
            ],
        ),
        (lambda: c.validate_lineage_edge(lineage(evidence_refs=["run:p.q"])), []),
        (
            lambda: c.validate_provenance_record(provenance()),
            [
                ("provenance.policy_ref_missing", "$.policy_ref", "warning"),
                ("provenance.evidence_bundle_ref_missing", "$.evidence_bundle_ref", "warning"),
            ],
        ),
        (
            lambda: c.validate_run(run(schema_version="2.0")),
            [("schema.version_mismatch", "$.schema_version", "error")],
        ),
        (
            lambda: c.validate_metric_record(
                c.MetricRecord(envelope(schema_version="1.1"), metric_payload(unit="u"))
            ),
            [("schema.version_mismatch", "$.envelope.schema_version", "error")],
        ),
        (
            lambda: c.validate_run(run(extensions=[extension("org.b")])),
            [("extension.namespace_unregistered", "$.extensions[0].namespace", "error")],
        ),
        (lambda: c.validate_run("x"), [("validation.invalid_type", "$", "error")]),
        (lambda: c.validate_run({}), [("validation.invalid_type", "$", "error")]),
        (lambda: c.validate_run(metric_record()), [("validation.invalid_type", "$", "error")]),
        (lambda: c.validate_run(run()), []),
    ],
)
def test_validate(report: Any, expected: list[tuple[str, str, str]]) -> None:
    result = report()
    assert isinstance(result, c.ValidationReport)
    assert _codes(result) == expected
    assert result.valid == all(severity == "warning" for _, _, severity in expected)


def test_registry_accepts_listed_namespaces() -> None:
    r = run(extensions=[extension("org.b")])
    assert c.validate_run(r, registry={"org.b"}).valid
    assert not c.validate_run(r, registry=["org.c"]).valid


def test_every_model_has_helpers() -> None:
    for model_type in c.MODEL_TYPES:
        name = _snake(model_type.__name__)
        assert callable(getattr(c, f"deserialize_{name}"))
        assert callable(getattr(c, f"validate_{name}"))
        assert f"deserialize_{name}" in c.__all__ and f"validate_{name}" in c.__all__


def test_report_api() -> None:
    report = c.validate_artifact_manifest(artifact())
    assert report.valid and report.errors == () and len(report.warnings) == 2
    report.raise_for_errors()  # warnings never raise
    bad = c.validate_run(run(schema_version="2.0"))
    assert not bad.valid and [i.code for i in bad.errors] == ["schema.version_mismatch"]
    with raises_code("validation_failed") as info:
        bad.raise_for_errors()
    assert info.value.details["issues"][0]["code"] == "schema.version_mismatch"
    assert "schema_version" in str(info.value)
    merged = c.ValidationReport.merge(report, bad)
    assert not merged.valid and len(merged.issues) == 3
    assert c.ValidationReport.ok() == c.ValidationReport(True, ())
    assert bad.prefixed("$.runs[0]").issues[0].path == "$.runs[0].schema_version"
    assert bad.to_dict()["issues"][0]["severity"] == "error"
    assert c.VALIDATION_SEVERITIES == ("error", "warning")
    with raises_code("validation_invalid_severity"):
        c.ValidationIssue("x.y", "$", "m", "fatal")
