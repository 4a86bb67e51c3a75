"""Section 2.9: record envelope, payloads and record wrappers -- one row per rule."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from contexta.contract import (
    CorrelationRefs,
    DegradedRecord,
    MetricRecord,
    StableRef,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
)

from .helpers import (
    STAGE,
    T0,
    T1,
    degraded_payload,
    envelope,
    event_payload,
    metric_payload,
    raises_code,
    span_payload,
)

RULES: list[tuple[str, Callable[[], Any], str]] = [
    # --- envelope
    (
        "record ref outside run",
        lambda: envelope(record_ref="record:p.q.x"),
        "record_ref_prefix_mismatch",
    ),
    (
        "record ref 2 components",
        lambda: envelope(record_ref="record:p.r"),
        "stable_ref_invalid_shape",
    ),
    ("record_type case", lambda: envelope(record_type="Metric"), "record_invalid_marker"),
    ("record_type not str", lambda: envelope(record_type=1), "context_invalid_string"),
    (
        "recorded before observed",
        lambda: envelope(recorded_at=T0, observed_at=T1),
        "record_invalid_time_order",
    ),
    (
        "recorded_at naive",
        lambda: envelope(recorded_at="2025-01-01T00:00:00"),
        "context_invalid_timestamp",
    ),
    ("producer upper", lambda: envelope(producer_ref="My"), "record_invalid_producer_ref"),
    ("producer underscore", lambda: envelope(producer_ref="a_b"), "record_invalid_producer_ref"),
    (
        "producer segment digit",
        lambda: envelope(producer_ref="a.1b"),
        "record_invalid_producer_ref",
    ),
    ("producer not str", lambda: envelope(producer_ref=1), "context_invalid_string"),
    ("producer blank", lambda: envelope(producer_ref=" "), "context_invalid_string"),
    ("run_ref not a ref", lambda: envelope(run_ref=5), "context_invalid_ref"),
    ("stage not a ref", lambda: envelope(stage_execution_ref=5), "context_invalid_ref"),
    (
        "deployment wrong kind",
        lambda: envelope(deployment_execution_ref="run:p.r"),
        "stable_ref_kind_mismatch",
    ),
    (
        "stage under other run",
        lambda: envelope(stage_execution_ref="stage:p.q.s"),
        "record_ref_prefix_mismatch",
    ),
    (
        "batch without stage",
        lambda: envelope(batch_execution_ref="batch:p.r.s.b"),
        "record_missing_stage_context",
    ),
    (
        "batch under other stage",
        lambda: envelope(stage_execution_ref=STAGE, batch_execution_ref="batch:p.r.t.b"),
        "record_ref_prefix_mismatch",
    ),
    (
        "sample without stage",
        lambda: envelope(sample_observation_ref="sample:p.r.s.x"),
        "record_missing_stage_context",
    ),
    (
        "sample under other stage",
        lambda: envelope(stage_execution_ref=STAGE, sample_observation_ref="sample:p.r.t.x"),
        "record_ref_prefix_mismatch",
    ),
    (
        "sample not under the batch",
        lambda: envelope(
            stage_execution_ref=STAGE,
            batch_execution_ref="batch:p.r.s.b",
            sample_observation_ref="sample:p.r.s.x",
        ),
        "record_ref_prefix_mismatch",
    ),
    (
        "op without stage",
        lambda: envelope(operation_context_ref="op:p.r.s.o"),
        "record_missing_stage_context",
    ),
    (
        "op under other stage",
        lambda: envelope(stage_execution_ref=STAGE, operation_context_ref="op:p.r.t.o"),
        "record_ref_prefix_mismatch",
    ),
    (
        "correlation as dict",
        lambda: envelope(correlation_refs={"trace_id": "x"}),
        "record_invalid_correlation_refs",
    ),
    (
        "correlation None",
        lambda: envelope(correlation_refs=None),
        "record_invalid_correlation_refs",
    ),
    ("correlation blank trace", lambda: CorrelationRefs(" "), "context_invalid_string"),
    ("correlation int session", lambda: CorrelationRefs(session_id=1), "context_invalid_string"),
    ("completeness unknown", lambda: envelope(completeness_marker="x"), "record_invalid_marker"),
    ("degradation unknown", lambda: envelope(degradation_marker="x"), "record_invalid_marker"),
    ("completeness not str", lambda: envelope(completeness_marker=1), "context_invalid_string"),
    # --- metric payload
    (
        "metric key underscore",
        lambda: metric_payload(metric_key="a_b"),
        "record_invalid_metric_key",
    ),
    ("metric key upper", lambda: metric_payload(metric_key="Acc"), "record_invalid_metric_key"),
    (
        "metric key segment digit",
        lambda: metric_payload(metric_key="a.1"),
        "record_invalid_metric_key",
    ),
    (
        "metric key empty segment",
        lambda: metric_payload(metric_key="a..b"),
        "record_invalid_metric_key",
    ),
    ("metric key not str", lambda: metric_payload(metric_key=1), "context_invalid_string"),
    ("metric key blank", lambda: metric_payload(metric_key=""), "context_invalid_string"),
    ("value NaN", lambda: metric_payload(value=math.nan), "record_invalid_metric_value"),
    ("value +inf", lambda: metric_payload(value=math.inf), "record_invalid_metric_value"),
    ("value -inf", lambda: metric_payload(value=-math.inf), "record_invalid_metric_value"),
    ("value bool", lambda: metric_payload(value=True), "record_invalid_metric_value"),
    ("value str", lambda: metric_payload(value="1"), "record_invalid_metric_value"),
    ("value None", lambda: metric_payload(value=None), "record_invalid_metric_value"),
    ("value Decimal", lambda: metric_payload(value=Decimal("1.5")), "record_invalid_metric_value"),
    ("value_type upper", lambda: metric_payload(value_type="Float"), "record_invalid_value_type"),
    ("value_type dotted", lambda: metric_payload(value_type="a.b_"), "record_invalid_value_type"),
    ("value_type dash", lambda: metric_payload(value_type="a-b"), "record_invalid_value_type"),
    ("unit blank", lambda: metric_payload(unit=" "), "context_invalid_string"),
    ("unit not str", lambda: metric_payload(unit=1), "context_invalid_string"),
    ("aggregation scope", lambda: metric_payload(aggregation_scope="x"), "record_invalid_marker"),
    ("subject not a ref", lambda: metric_payload(subject_ref="p.r"), "stable_ref_invalid_text"),
    ("subject blank", lambda: metric_payload(subject_ref=" "), "stable_ref_invalid_text"),
    ("subject padded", lambda: metric_payload(subject_ref=" run:p.r "), "stable_ref_invalid_kind"),
    ("subject int", lambda: metric_payload(subject_ref=1), "record_invalid_ref"),
    ("slice_ref dash", lambda: metric_payload(slice_ref="a-b"), "record_invalid_slice_ref"),
    ("slice_ref leading _", lambda: metric_payload(slice_ref="_a"), "record_invalid_slice_ref"),
    (
        "summary_basis dotted",
        lambda: metric_payload(summary_basis="a.b"),
        "record_invalid_summary_basis",
    ),
    ("metric tags int", lambda: metric_payload(tags={"b": 1}), "context_invalid_mapping"),
    # --- event payload
    ("event key underscore", lambda: event_payload(event_key="a_b"), "record_invalid_event_key"),
    ("event level case", lambda: event_payload(level="INFO"), "record_invalid_marker"),
    ("event message blank", lambda: event_payload(message=""), "context_invalid_string"),
    ("event origin", lambda: event_payload(origin_marker="explicit"), "record_invalid_marker"),
    (
        "attributes NaN",
        lambda: event_payload(attributes={"x": math.nan}),
        "extension_invalid_value",
    ),
    (
        "attributes nested inf",
        lambda: event_payload(attributes={"x": [1, math.inf]}),
        "extension_invalid_value",
    ),
    (
        "attributes object",
        lambda: event_payload(attributes={"x": object()}),
        "extension_invalid_value",
    ),
    ("attributes set", lambda: event_payload(attributes={"a": {1, 2}}), "extension_invalid_value"),
    ("attributes bytes", lambda: event_payload(attributes={"a": b"x"}), "extension_invalid_value"),
    (
        "attributes nested int key",
        lambda: event_payload(attributes={"a": {1: 1}}),
        "extension_invalid_value",
    ),
    ("attributes blank key", lambda: event_payload(attributes={" ": 1}), "record_invalid_mapping"),
    ("attributes int key", lambda: event_payload(attributes={1: 1}), "record_invalid_mapping"),
    ("attributes not a mapping", lambda: event_payload(attributes=[1]), "record_invalid_mapping"),
    # --- span payload
    ("span parent blank", lambda: span_payload(parent_span_id=" "), "context_invalid_string"),
    ("span parent int", lambda: span_payload(parent_span_id=1), "context_invalid_string"),
    ("span id blank", lambda: span_payload(span_id=" "), "context_invalid_string"),
    ("trace id int", lambda: span_payload(trace_id=1), "context_invalid_string"),
    ("span name blank", lambda: span_payload(span_name=" "), "context_invalid_string"),
    (
        "span ends before start",
        lambda: span_payload(started_at=T1, ended_at=T0),
        "record_invalid_time_order",
    ),
    ("span status case", lambda: span_payload(status="OK"), "record_invalid_marker"),
    ("span kind", lambda: span_payload(span_kind="x"), "record_invalid_marker"),
    ("span started_at garbage", lambda: span_payload(started_at="x"), "context_invalid_timestamp"),
    ("linked ref not a ref", lambda: span_payload(linked_refs=["x"]), "stable_ref_invalid_text"),
    ("linked ref int", lambda: span_payload(linked_refs=[1]), "record_invalid_ref"),
    (
        "linked ref bad shape",
        lambda: span_payload(linked_refs=["run:p"]),
        "stable_ref_invalid_shape",
    ),
    ("linked refs as one text", lambda: span_payload(linked_refs="run:p.r"), "record_invalid_ref"),
    # --- degraded payload
    ("issue key dash", lambda: degraded_payload(issue_key="a-b"), "record_invalid_issue_key"),
    (
        "issue key segment digit",
        lambda: degraded_payload(issue_key="a.1"),
        "record_invalid_issue_key",
    ),
    ("degraded category", lambda: degraded_payload(category="x"), "record_invalid_marker"),
    ("degraded severity info", lambda: degraded_payload(severity="info"), "record_invalid_marker"),
    ("degraded origin", lambda: degraded_payload(origin_marker="x"), "record_invalid_marker"),
    ("degraded summary blank", lambda: degraded_payload(summary=" "), "context_invalid_string"),
    # --- wrappers
    (
        "metric record with event envelope",
        lambda: MetricRecord(envelope(record_type="event"), metric_payload()),
        "record_type_mismatch",
    ),
    (
        "event record with metric envelope",
        lambda: StructuredEventRecord(envelope(), event_payload()),
        "record_type_mismatch",
    ),
    (
        "metric record absent",
        lambda: MetricRecord(envelope(completeness_marker="absent"), metric_payload()),
        "record_absent_not_allowed",
    ),
    (
        "event record absent",
        lambda: StructuredEventRecord(
            envelope(record_type="event", completeness_marker="absent"), event_payload()
        ),
        "record_absent_not_allowed",
    ),
    (
        "span record absent",
        lambda: TraceSpanRecord(
            envelope(record_type="span", completeness_marker="absent"), span_payload()
        ),
        "record_absent_not_allowed",
    ),
    ("envelope as dict", lambda: MetricRecord({}, metric_payload()), "record_invalid_envelope"),
    ("payload as dict", lambda: MetricRecord(envelope(), {}), "record_invalid_payload"),
    (
        "payload of other family",
        lambda: MetricRecord(envelope(), event_payload()),
        "record_invalid_payload",
    ),
    (
        "degraded without gap",
        lambda: DegradedRecord(envelope(record_type="degraded"), degraded_payload()),
        "record_degraded_requires_gap",
    ),
]


@pytest.mark.parametrize(("build", "code"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule(build: Callable[[], Any], code: str) -> None:
    with raises_code(code) as info:
        build()
    # every rule names the offending field and value in the details
    assert {"field", "value"} <= set(info.value.details or {})


def test_full_envelope() -> None:
    env = envelope(
        deployment_execution_ref="deployment:q.d",  # no prefix check for deployments
        stage_execution_ref=STAGE,
        batch_execution_ref="batch:p.r.s.b",
        sample_observation_ref="sample:p.r.s.b.x",
        operation_context_ref="op:p.r.s.b.o",
        correlation_refs=CorrelationRefs(" t ", "s"),
        record_type=" metric ",
        producer_ref=" a.b ",
    )
    assert env.record_type == "metric" and env.producer_ref == "a.b"
    assert env.correlation_refs == CorrelationRefs("t", "s")
    assert env.operation_context_ref == StableRef("op", "p.r.s.b.o")
    assert (env.completeness_marker, env.degradation_marker) == ("complete", "none")


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("a-", True),
        ("a--b", True),
        ("a.b-", True),
        ("a1", True),
        ("ab.c-d.e", True),
        ("train.loss", True),
        ("a.1", False),
        ("1a", False),
        ("-a", False),
        ("a_b", False),
    ],
)
def test_dotted_kebab_tokens(key: str, ok: bool) -> None:
    builders = [
        (lambda: metric_payload(metric_key=key).metric_key, "record_invalid_metric_key"),
        (lambda: event_payload(event_key=key).event_key, "record_invalid_event_key"),
        (lambda: envelope(producer_ref=key).producer_ref, "record_invalid_producer_ref"),
    ]
    for build, code in builders:
        if ok:
            assert build() == key
        else:
            with raises_code(code):
                build()


@pytest.mark.parametrize("token", ["a_", "a__b", "float64", "banana"])
def test_snake_tokens_accepted(token: str) -> None:
    p = metric_payload(value_type=token, summary_basis=token, slice_ref=f"{token}.x")
    assert (p.value_type, p.summary_basis, p.slice_ref) == (token, token, f"{token}.x")
    assert degraded_payload(issue_key=f"{token}.{token}").issue_key == f"{token}.{token}"


def test_metric_payload_normalisation() -> None:
    p = metric_payload(metric_key=" a.b ", value=3, unit=" ms ", tags={"b": "1", "a": "2"})
    assert p.metric_key == "a.b" and p.unit == "ms"
    assert type(p.value) is int and p.value == 3  # ints stay ints
    assert list(p.tags) == ["a", "b"]
    assert type(metric_payload(value=10**30).value) is int
    assert metric_payload(value=-0.0).value == 0.0
    assert p.aggregation_scope == "step"


def test_subject_ref_stored_as_text() -> None:
    assert metric_payload(subject_ref=StableRef("run", "p.r")).subject_ref == "run:p.r"
    assert type(metric_payload(subject_ref="stage:p.r.s").subject_ref) is str
    assert event_payload(subject_ref=StableRef("my_kind", "x")).subject_ref == "my_kind:x"
    assert degraded_payload(subject_ref="run:p.r").subject_ref == "run:p.r"


def test_event_payload_attributes_frozen_and_sorted() -> None:
    p = StructuredEventPayload(
        "a.b-c", " info ", " hi ", attributes={"b": [1, 2], " a ": {"z": 1, "y": None}}
    )
    assert (p.level, p.message) == ("info", "hi")
    assert list(p.attributes) == ["a", "b"]  # top-level keys stripped and sorted
    assert list(p.attributes["a"]) == ["y", "z"]  # nested keys sorted
    assert p.attributes["b"] == (1, 2)  # lists frozen to tuples
    with pytest.raises(TypeError):
        p.attributes["a"]["q"] = 1  # type: ignore[index]
    nested = event_payload(attributes={"a": {" b ": 1, "": 2}}).attributes["a"]
    assert dict(nested) == {"": 2, " b ": 1}  # nested keys are kept verbatim (1.0)


def test_span_record() -> None:
    payload = TraceSpanPayload(
        "s1",
        "t1",
        None,
        "Load Data!",
        T0,
        T1,
        "ok",
        "io",
        attributes={"a": 1},
        linked_refs=["run:p.r", StableRef("stage", "p.r.s")],
    )
    assert payload.linked_refs == ("run:p.r", "stage:p.r.s")  # texts, like evidence_refs
    assert payload.span_name == "Load Data!"  # free text
    record = TraceSpanRecord(envelope(record_type="span"), payload)
    assert record.payload.parent_span_id is None
    assert span_payload(linked_refs=None).linked_refs == ()
    with pytest.raises(TypeError):
        TraceSpanPayload("s", "t", "n", T0, T1, "ok", "io")  # type: ignore[call-arg]


def test_degraded_record_may_be_absent() -> None:
    record = DegradedRecord(
        envelope(
            record_type="degraded", degradation_marker="capture_gap", completeness_marker="absent"
        ),
        degraded_payload(summary=" gap ", attributes={"x": [1, {"y": 2}]}),
    )
    assert record.payload.summary == "gap"
    assert record.payload.attributes["x"][1]["y"] == 2
