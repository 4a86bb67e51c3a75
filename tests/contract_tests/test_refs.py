"""Contract section 1: ref syntax, the StableRef object, shapes and kinds in model fields."""

from __future__ import annotations

import copy
import pickle

import pytest

from contexta.common.errors import ContextaError, ValidationError
from contexta.contract import StableRef

from .helpers import artifact, deployment, environment, lineage, metric_payload, raises_code, run

LONG = ".".join(["a" * 50] * 5)

PARSE_ERRORS = [
    # (text, code) -- one row per rule of section 1.1
    ("run: a.b", "stable_ref_invalid_value"),  # whitespace after ':'
    ("run:p.r ", "stable_ref_invalid_value"),  # trailing whitespace
    ("run:a.b\n", "stable_ref_invalid_value"),
    (" run:p.r", "stable_ref_invalid_kind"),  # leading whitespace lands in the kind
    ("Run:p.r", "stable_ref_invalid_kind"),
    ("9k:x", "stable_ref_invalid_kind"),
    (":a", "stable_ref_invalid_kind"),
    (":", "stable_ref_invalid_kind"),
    ("run:", "stable_ref_invalid_value"),
    ("run:a_b", "stable_ref_invalid_value"),
    ("run:a/b", "stable_ref_invalid_value"),
    ("run:a b", "stable_ref_invalid_value"),
    ("run:a..b", "stable_ref_invalid_value"),
    ("run:.a", "stable_ref_invalid_value"),
    ("run:a.", "stable_ref_invalid_value"),
    ("run:A", "stable_ref_invalid_value"),
    ("run:-a", "stable_ref_invalid_value"),
    ("run:a-", "stable_ref_invalid_value"),
    ("run:a--b", "stable_ref_invalid_value"),
    ("run:" + "a" * 64, "stable_ref_invalid_value"),  # component > 63 chars
    ("k:" + LONG, "stable_ref_too_long"),  # whole text > 255 chars
    ("a:b:c", "stable_ref_invalid_text"),
    ("my-proj.run-01", "stable_ref_invalid_text"),
    ("", "stable_ref_invalid_text"),
    ("x", "stable_ref_invalid_text"),
]


@pytest.mark.parametrize(("text", "code"), PARSE_ERRORS)
def test_parse_rejects_with_code(text: str, code: str) -> None:
    with raises_code(code):
        StableRef.parse(text)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("run:p.r", "run", "p.r"),
        ("my_kind:x", "my_kind", "x"),  # any kind name is syntactically legal
        ("run:1a", "run", "1a"),  # components may start with a digit
        ("run:" + "a" * 63, "run", "a" * 63),  # exactly 63 is fine
        ("run:a", "run", "a"),  # parse itself does not check shapes
        ("sample:a.b.c.d.e.f", "sample", "a.b.c.d.e.f"),
        ("relation:my-proj.x-1.y2", "relation", "my-proj.x-1.y2"),
    ],
)
def test_parse_accepts(text: str, kind: str, value: str) -> None:
    ref = StableRef.parse(text)
    assert (ref.kind, ref.value) == (kind, value)
    assert ref.text == text == str(ref)


@pytest.mark.parametrize("value", [5, None, b"run:p.r", StableRef("run", "p.r")])
def test_parse_requires_text(value: object) -> None:
    with raises_code("stable_ref_invalid_text"):
        StableRef.parse(value)


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        (5, "p", "stable_ref_invalid_kind"),
        (" run", "p.r", "stable_ref_invalid_kind"),
        ("run", 5, "stable_ref_invalid_value"),
        ("run", "P", "stable_ref_invalid_value"),
    ],
)
def test_constructor_validates(kind: object, value: object, code: str) -> None:
    with raises_code(code):
        StableRef(kind, value)  # type: ignore[arg-type]


def test_stable_ref_object_semantics() -> None:
    ref = StableRef("run", "p.r")
    assert ref == StableRef.parse("run:p.r")
    assert hash(ref) == hash(StableRef.parse("run:p.r"))
    assert ref != "run:p.r"  # never equal to its text
    assert {ref: 1}[StableRef("run", "p.r")] == 1
    assert ref.components == ("p", "r")
    assert ref.to_dict() == {"kind": "run", "value": "p.r"}
    assert repr(ref) == "StableRef(kind='run', value='p.r')"
    with pytest.raises(AttributeError):
        ref.kind = "stage"  # type: ignore[misc]


def test_stable_ref_pickles_and_copies() -> None:
    ref = StableRef("stage", "p.r.s")
    assert pickle.loads(pickle.dumps(ref)) == ref
    assert copy.deepcopy(ref) == ref


def test_errors_are_contexta_errors_with_details() -> None:
    with pytest.raises(ValidationError) as info:
        StableRef.parse("run:a_b")
    error = info.value
    assert isinstance(error, ContextaError)
    assert not isinstance(error, ValueError)
    assert "a_b" in str(error)
    assert error.details is not None and error.details["value"] == "a_b"


# --------------------------------------------------------------------------- refs inside models
def test_model_field_holds_stable_ref() -> None:
    r = run()
    assert isinstance(r.run_ref, StableRef)
    assert r.run_ref == StableRef("run", "p.r")
    assert r.run_ref != "run:p.r"  # QUIRK kept from 1.0: compare with str(run.run_ref)
    assert str(r.run_ref) == "run:p.r"
    assert run(run_ref=StableRef("run", "p.r")) == r


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: run(run_ref="run:p"), "stable_ref_invalid_shape"),
        (lambda: run(run_ref="run:p.r.x"), "stable_ref_invalid_shape"),
        (lambda: run(run_ref=StableRef("run", "p")), "stable_ref_invalid_shape"),
        (lambda: run(run_ref="stage:p.r"), "stable_ref_invalid_shape"),  # shape before kind
        (lambda: run(project_ref="project:p.x"), "stable_ref_invalid_shape"),
        (lambda: artifact(artifact_ref="artifact:p.r.a.b"), "stable_ref_invalid_shape"),
        (lambda: run(run_ref="stage:p.r.s"), "stable_ref_kind_mismatch"),
        (lambda: run(run_ref="my_kind:p.r"), "stable_ref_kind_mismatch"),
        (lambda: run(project_ref="run:p.q"), "stable_ref_kind_mismatch"),
        (lambda: environment(environment_snapshot_ref="env:p.r.e"), "stable_ref_kind_mismatch"),
        (lambda: deployment(artifact_ref="run:p.r"), "stable_ref_kind_mismatch"),
        (lambda: run(run_ref=5), "context_invalid_ref"),
        (lambda: run(run_ref=None), "context_invalid_ref"),
        (lambda: run(run_ref={"kind": "run", "value": "p.r"}), "context_invalid_ref"),
        (lambda: run(run_ref="p.r"), "stable_ref_invalid_text"),  # parse code re-raised
        (lambda: run(run_ref="run:P.r"), "stable_ref_invalid_value"),
        (lambda: lineage(source_ref="run:p"), "stable_ref_invalid_shape"),  # free refs too
        (lambda: metric_payload(subject_ref="run:p"), "stable_ref_invalid_shape"),
    ],
)
def test_model_ref_rules(build: object, code: str) -> None:
    with raises_code(code):
        build()  # type: ignore[operator]


def test_model_ref_error_names_field_and_value() -> None:
    with pytest.raises(ValidationError) as info:
        run(run_ref="p.r")
    assert "Run.run_ref" in str(info.value)
    assert info.value.details is not None
    assert info.value.details["field"] == "run_ref"
    assert info.value.details["value"] == "p.r"


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        ("project", 1),
        ("run", 2),
        ("deployment", 2),
        ("stage", 3),
        ("batch", 4),
        ("record", 3),
        ("artifact", 3),
    ],
)
def test_core_shapes_through_free_ref_fields(kind: str, count: int) -> None:
    good = f"{kind}:" + ".".join(["a"] * count)
    assert lineage(source_ref=good).source_ref == StableRef.parse(good)
    bad = f"{kind}:" + ".".join(["a"] * (count + 1))
    with raises_code("stable_ref_invalid_shape"):
        lineage(source_ref=bad)


@pytest.mark.parametrize("kind", ["sample", "op"])
def test_sample_and_op_refs_take_four_or_five_components(kind: str) -> None:
    for count in (4, 5):
        lineage(source_ref=f"{kind}:" + ".".join(["a"] * count))
    for count in (3, 6):
        with raises_code("stable_ref_invalid_shape"):
            lineage(source_ref=f"{kind}:" + ".".join(["a"] * count))


def test_non_core_kinds_are_not_shape_checked() -> None:
    edge = lineage(source_ref="my_kind:x", target_ref="relation:a.b.c.d.e.f.g")
    assert str(edge.source_ref) == "my_kind:x"
