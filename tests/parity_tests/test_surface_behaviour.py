"""Public calls whose answers differed from 1.0: validation blanks, canonical payloads, lineage
policy defaults, result-model defaults, buffered receipts and ``runs`` JSON, each compared with
1.0's recorded outcome."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import contexta.common.errors as errors
from contexta import Contexta
from contexta.common.errors import ContextaError
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StableRef,
    ValidationIssue,
    to_json,
    to_payload,
)
from contexta.interpretation import ArtifactRecord, LineagePolicy, ObservationRecord, RunRecord
from tests.conftest import run_cli
from tests.parity_tests._surface_c10 import (
    C10_OUTCOMES,
    C10_RESULT_FIELDS,
    C10_RESULT_MINIMAL,
)


def _refs(name: str) -> Any:
    """A 1.0 ref validator, looked up at call time (so each probe fails alone when absent)."""
    import contexta.contract.refs as refs

    return getattr(refs, name)


def validate_core_stable_ref(ref: StableRef) -> Any:
    return _refs("validate_core_stable_ref")(ref)


def validate_stable_ref_kind(ref: StableRef, kind: Any, **kwargs: Any) -> Any:
    return _refs("validate_stable_ref_kind")(ref, kind, **kwargs)


def validate_stable_ref_field(ref: StableRef, field: str) -> Any:
    return _refs("validate_stable_ref_field")(ref, field)


PROBES: dict[str, Callable[[], Any]] = {
    "issue_blank_code": lambda: ValidationIssue(code="", path="p", message="m"),
    "issue_blank_path": lambda: ValidationIssue(code="c", path=" ", message="m"),
    "issue_blank_message": lambda: ValidationIssue(code="c", path="p", message=""),
    "ref_blank_kind": lambda: StableRef("", "x"),
    "ref_blank_value": lambda: StableRef("run", ""),
    "payload_inf": lambda: to_payload({"value": math.inf}),
    "payload_neg_inf": lambda: to_payload({"value": -math.inf}),
    "payload_nan": lambda: to_payload({"value": math.nan}),
    "payload_int_key": lambda: to_payload({1: "value"}),
    "payload_nested_key": lambda: to_payload({"a": {None: 1}}),
    "payload_set": lambda: to_payload({"a": {1, 2}}),
    "payload_bytes": lambda: to_payload({"a": b"x"}),
    "json_inf": lambda: to_json({"value": math.inf}),
    "payload_ok": lambda: to_payload({"b": [1, 2.5, True, None], "a": {"x": "y"}}),
    "lineage_sideways": lambda: LineagePolicy(default_direction="sideways"),
    "lineage_blank": lambda: LineagePolicy(default_direction=""),
    "lineage_depth": lambda: LineagePolicy(default_max_depth=-1),
    "core_ref_ok": lambda: str(validate_core_stable_ref(StableRef("stage", "p.r.s"))),
    "core_ref_custom": lambda: str(validate_core_stable_ref(StableRef("custom", "a"))),
    "core_ref_bad": lambda: validate_core_stable_ref(StableRef("stage", "a.b")),
    "core_ref_sample5": lambda: str(validate_core_stable_ref(StableRef("sample", "p.r.s.b.x"))),
    "ref_kind_ok": lambda: str(validate_stable_ref_kind(StableRef("run", "p.r"), ("run", "stage"))),
    "ref_kind_bad": lambda: validate_stable_ref_kind(
        StableRef("run", "p.r"), "stage", field_name="stage_ref"
    ),
    "ref_field_ok": lambda: str(validate_stable_ref_field(StableRef("run", "p.r"), "subject_ref")),
    "ref_field_unknown": lambda: validate_stable_ref_field(StableRef("run", "p.r"), "nope"),
    "ref_field_shape": lambda: validate_stable_ref_field(StableRef("run", "p"), "run_ref"),
    "ref_field_kind": lambda: validate_stable_ref_field(StableRef("run", "p.r"), "artifact_ref"),
}


def test_every_recorded_probe_is_run_here() -> None:
    assert sorted(PROBES) == sorted(C10_OUTCOMES)


@pytest.mark.parametrize("name", sorted(C10_OUTCOMES))
def test_outcome_matches_1_0(name: str) -> None:
    expected = C10_OUTCOMES[name]
    if expected[0] == "ok":
        assert PROBES[name]() == expected[1]
        return
    error_class = getattr(errors, expected[0], None)
    assert error_class is not None, f"contexta.common.errors has no {expected[0]}"
    with pytest.raises(error_class) as caught:
        PROBES[name]()
    assert caught.value.code == expected[1]


@pytest.mark.parametrize("field", ["code", "path", "message"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_validation_issue_blank_field_names_the_field(field: str, blank: str) -> None:
    kwargs = {"code": "c", "path": "$.x", "message": "m", field: blank}
    with pytest.raises(errors.ValidationError, match=f"ValidationIssue.{field} must not be blank"):
        ValidationIssue(**kwargs)


@pytest.mark.parametrize("kind", ["", " ", "\t"])
def test_blank_ref_kind_message_says_blank(kind: str) -> None:
    with pytest.raises(errors.ValidationError, match="blank") as caught:
        StableRef(kind, "x")
    assert caught.value.code == "stable_ref_invalid_kind"


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize(
    "wrap",
    [
        lambda v: {"value": v},
        lambda v: [1.0, v],
        lambda v: {"a": {"b": [v]}},
        lambda v: v,
    ],
)
def test_non_finite_floats_anywhere_raise_serialization_error(
    value: float, wrap: Callable[[float], Any]
) -> None:
    for convert in (to_payload, to_json):
        with pytest.raises(getattr(errors, "SerializationError", ())) as caught:
            convert(wrap(value))
        assert caught.value.code == "serialization_invalid_float"
        assert isinstance(caught.value, ContextaError)


@pytest.mark.parametrize("key", [1, 2.5, None, True, ("a",)])
def test_non_string_keys_raise_serialization_error_naming_the_key(key: Any) -> None:
    with pytest.raises(getattr(errors, "SerializationError", ())) as caught:
        to_payload({"ok": 1, "nested": {key: "value"}})
    assert caught.value.code == "serialization_invalid_mapping_key"
    assert caught.value.details["key"] == key


def test_lineage_policy_error_is_both_validation_and_lineage_error() -> None:
    from contexta.interpretation import LineageError

    with pytest.raises(errors.ValidationError) as caught:
        LineagePolicy(default_direction="sideways")
    assert isinstance(caught.value, LineageError)
    assert "sideways" in str(caught.value)
    # the deliberate difference stays: upstream/downstream are accepted
    assert LineagePolicy(default_direction="upstream").default_direction == "upstream"


@pytest.mark.parametrize("model", [RunRecord, ObservationRecord, ArtifactRecord])
def test_result_model_fields_and_defaults_are_1_0s(model: type) -> None:
    ours = []
    for f in dataclasses.fields(model):
        if f.default is not dataclasses.MISSING:
            default: str | None = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = "factory"
        else:
            default = None
        ours.append((f.name, default))
    expected = [
        (name, "factory" if (d or "").startswith("mappingproxy") else d)
        for name, d in C10_RESULT_FIELDS[model.__name__]
    ]
    assert ours == expected


def test_result_models_built_from_required_fields_equal_1_0s() -> None:
    built = {
        "RunRecord": RunRecord("run:p.r", "p", "r", "open"),
        "ObservationRecord": ObservationRecord(
            "record:p.r.x", "run:p.r", None, "metric", "acc", "2025-01-01T00:00:00Z"
        ),
        "ArtifactRecord": ArtifactRecord("artifact:p.r.m", "run:p.r", None, "checkpoint"),
    }
    for name, obj in built.items():
        flat = {
            f.name: dict(getattr(obj, f.name))
            if f.name in ("payload", "tags", "metadata", "attributes")
            else getattr(obj, f.name)
            for f in dataclasses.fields(obj)
        }
        assert flat == C10_RESULT_MINIMAL[name], name


# ---------------------------------------------------------------- buffered receipts


def _metric(i: int) -> MetricRecord:
    at = "2025-01-01T00:00:01Z"
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:p.r.m{i}",
            record_type="metric",
            recorded_at=at,
            observed_at=at,
            producer_ref="tests",
            run_ref="run:p.r",
            completeness_marker="complete",
            degradation_marker="none",
        ),
        payload=MetricPayload(metric_key="acc", value=float(i), value_type="float64"),
    )


@pytest.fixture()
def ctx(tmp_path: Path) -> Any:
    ctx = Contexta(
        config=UnifiedConfig(
            project_name="p", workspace=WorkspaceConfig(root_path=str(tmp_path / ".contexta"))
        )
    )
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    store.runs.put_run(
        Run(
            run_ref="run:p.r",
            project_ref="project:p",
            name="r",
            status="open",
            started_at="2025-01-01T00:00:00Z",
        )
    )
    yield ctx
    ctx.close()


def test_buffered_append_receipts_carry_the_event_sequence(ctx: Any) -> None:
    rs = ctx.record_store
    one = rs.append(_metric(1))
    two = rs.append(_metric(2))
    many = rs.append_many([_metric(3), _metric(4)])
    assert str(one.durability_status) == "ACCEPTED"  # still buffered when it returned
    got = [r.sequence for result in (one, two, many) for r in result.accepted]
    stored = {str(s.record.envelope.record_ref): s for s in rs.scan()}
    expected = [stored[f"record:p.r.m{i}"].sequence for i in (1, 2, 3, 4)]
    assert got == expected
    assert all(isinstance(seq, int) for seq in got) and got == sorted(set(got))
    receipt = one.accepted[0]
    assert receipt.segment_id == stored["record:p.r.m1"].segment_id
    assert receipt.offset == stored["record:p.r.m1"].offset


def test_reading_a_receipt_sequence_commits_nothing_twice(ctx: Any) -> None:
    rs = ctx.record_store
    first = rs.append(_metric(1)).accepted[0]
    seq = first.sequence
    assert first.sequence == seq  # resolved once, then a plain attribute
    assert rs.append(_metric(1)).accepted[0].sequence is None  # identical re-append: no event
    assert len(list(rs.scan())) == 1


# ---------------------------------------------------------------- CLI runs JSON


def test_cli_runs_json_is_an_object_with_runs(ctx: Any, tmp_path: Path) -> None:
    ctx.flush()
    for args in (("runs",), ("runs", "--project", "p"), ("runs", "--status", "open")):
        out = json.loads(run_cli(tmp_path, "--format", "json", *args).stdout)
        assert list(out) == ["runs"], args
        assert [r["run_id"] for r in out["runs"]] == ["run:p.r"]
        assert out["runs"][0]["name"] == "r" and out["runs"][0]["status"] == "open"
