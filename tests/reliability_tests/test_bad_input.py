"""Matrix row 7: invalid models raise ValidationError with the documented code and write
nothing; fuzzed segment bytes and projection files never crash a reader."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.common.errors import ValidationError
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
)
from ledger import CorruptionError, LedgerError, LedgerReader, list_segments, read_head, verify
from projections import Projector
from projections.records import RecordsProjection

from .matrix import build_ledger

TS = "2025-03-01T00:00:00Z"
LATER = "2025-03-01T01:00:00Z"


def _project(**kw: Any) -> Project:
    return Project(**{"project_ref": "project:p", "name": "P", "created_at": TS, **kw})


def _run(**kw: Any) -> Run:
    base = {
        "run_ref": "run:p.r",
        "project_ref": "project:p",
        "name": "r",
        "status": "completed",
        "started_at": TS,
        "ended_at": LATER,
    }
    return Run(**{**base, **kw})


def _stage(**kw: Any) -> StageExecution:
    base = {
        "stage_execution_ref": "stage:p.r.train",
        "run_ref": "run:p.r",
        "stage_name": "train",
        "status": "open",
        "started_at": TS,
    }
    return StageExecution(**{**base, **kw})


def _envelope(**kw: Any) -> RecordEnvelope:
    base = {
        "record_ref": "record:p.r.x1",
        "record_type": "metric",
        "recorded_at": TS,
        "observed_at": TS,
        "producer_ref": "contexta.test",
        "run_ref": "run:p.r",
    }
    return RecordEnvelope(**{**base, **kw})


def _metric(**kw: Any) -> MetricPayload:
    return MetricPayload(
        **{"metric_key": "train.loss", "value": 0.5, "value_type": "float64", **kw}
    )


blank = st.sampled_from(["", " ", "\t\n"])
not_str = st.one_of(st.integers(), st.floats(allow_nan=False), st.just(None), st.binary(max_size=3))
with_underscore = st.from_regex(r"\A[a-z]{1,5}_[a-z]{1,5}\Z")
upper = st.from_regex(r"\A[A-Z][a-z]{0,6}\Z")
bad_status = st.text(min_size=1, max_size=8).filter(
    lambda s: s.strip() and s.strip() not in ("open", "completed", "failed", "cancelled")
)
naive_ts = st.sampled_from(
    ["2025-03-01T00:00:00", "2025-03-01", "yesterday", "", "2025-13-01T00:00:00Z"]
)
bad_number = st.one_of(
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(float("-inf")),
    st.booleans(),
    st.text(max_size=4),
)

#: (builder, field, strategy of invalid values, documented code) - contract sections 2.0-2.9
RULES: list[tuple[Any, str, Any, str]] = [
    (_project, "name", blank, "context_invalid_string"),
    (_project, "name", not_str.filter(lambda v: v is not None), "context_invalid_string"),
    (_project, "created_at", naive_ts, "context_invalid_timestamp"),
    (_project, "tags", st.just({"": "x"}), "context_invalid_mapping"),
    (_project, "tags", st.just({"k": " "}), "context_invalid_mapping"),
    (_run, "status", bad_status, "context_invalid_status"),
    (_run, "project_ref", st.just("project:other"), "context_ref_prefix_mismatch"),
    (_run, "ended_at", st.just("2025-02-01T00:00:00Z"), "context_invalid_time_order"),
    (_stage, "stage_name", st.one_of(with_underscore, upper), "context_invalid_component"),
    (_stage, "order_index", st.integers(max_value=-1), "context_invalid_order_index"),
    (_stage, "ended_at", st.just(LATER), "context_invalid_status_transition"),
    (
        _envelope,
        "record_type",
        st.sampled_from(["Metric", "metrics", "log", "Span"]),
        "record_invalid_marker",
    ),
    (_envelope, "producer_ref", st.one_of(with_underscore, upper), "record_invalid_producer_ref"),
    (_envelope, "observed_at", st.just(LATER), "record_invalid_time_order"),
    (
        _envelope,
        "completeness_marker",
        st.sampled_from(["full", "Complete"]),
        "record_invalid_marker",
    ),
    (_metric, "metric_key", st.one_of(with_underscore, upper), "record_invalid_metric_key"),
    (_metric, "value", bad_number, "record_invalid_metric_value"),
    (
        _metric,
        "value_type",
        st.sampled_from(["Float64", "float-64", "1x"]),
        "record_invalid_value_type",
    ),
]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Contexta:
    ctx = Contexta(workspace=str(tmp_path_factory.mktemp("bad-input") / ".contexta"))
    ctx.metadata_store.projects.put_project(_project())
    ctx.metadata_store.runs.put_run(_run())
    ctx.flush()
    return ctx


@pytest.mark.parametrize(
    ("build", "field", "values", "code"),
    RULES,
    ids=[f"{b.__name__[1:]}.{f}->{c}" for b, f, _, c in RULES],
)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_invalid_field_raises_the_documented_code_and_writes_nothing(
    ctx: Contexta, build: Any, field: str, values: Any, code: str, data: st.DataObject
) -> None:
    value = data.draw(values)
    before = ctx._workspace.head().seq
    with pytest.raises(ValidationError) as info:
        model = build(**{field: value})
        if isinstance(model, MetricPayload):
            ctx.record_store.append(MetricRecord(envelope=_envelope(), payload=model))
        elif isinstance(model, RecordEnvelope):
            ctx.record_store.append(MetricRecord(envelope=model, payload=_metric()))
    assert info.value.code == code, (field, value, info.value.message)
    assert ctx._workspace.head().seq == before


def test_invalid_records_are_rejected_in_the_result_and_not_written(ctx: Contexta) -> None:
    before = ctx._workspace.head().seq
    result = ctx.record_store.append_many(["not a record", 42, None])
    ctx.flush()
    assert [r.code for r in result.rejected] == ["unsupported_record_type"] * 3
    assert result.accepted == ()
    assert ctx._workspace.head().seq == before


# ---------------------------------------------------------------------------- fuzzed bytes

_MUTATION = st.lists(
    st.tuples(
        st.sampled_from(["flip", "cut", "insert", "zero"]),
        st.floats(0, 1),
        st.binary(min_size=1, max_size=16),
    ),
    min_size=1,
    max_size=4,
)


def _mutate(data: bytes, ops: list[tuple[str, float, bytes]]) -> bytes:
    out = bytearray(data)
    for op, where, payload in ops:
        at = int(where * max(len(out) - 1, 0))
        if op == "flip" and out:
            out[at] ^= payload[0] or 0xFF
        elif op == "cut":
            del out[at:]
        elif op == "insert":
            out[at:at] = payload
        elif op == "zero":
            out[at : at + len(payload)] = bytes(len(out[at : at + len(payload)]))
    return bytes(out)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding ``ledger/`` (three segments) and ``big.arrows`` (a compressed batch)."""
    root = tmp_path_factory.mktemp("fuzz-src") / "ledger"
    build_ledger(root, batches=5, per_batch=3, roll_bytes=2500, size=20)
    big = root.parent / "big"
    from ledger import Ledger

    from .faults import make_event

    writer = Ledger(big)  # one compressed batch
    writer.append_many([make_event("z", i) for i in range(4100)])
    writer.close()
    shutil.copy(list_segments(big)[0].path, root.parent / "big.arrows")
    return root.parent


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(which=st.integers(0, 10), ops=_MUTATION)
def test_fuzzed_segments_never_crash_the_reader(
    tmp_path_factory: pytest.TempPathFactory, pristine: Path, which: int, ops: list
) -> None:
    root = tmp_path_factory.mktemp("fuzz") / "ledger"
    shutil.copytree(pristine / "ledger", root)
    names = sorted(p.name for p in root.glob("segment-*"))
    target = names[which % len(names)] if which < 9 else None
    if target is None:  # the compressed segment alone
        for name in names:
            (root / name).unlink()
        (root / "HEAD").unlink()
        target = names[0]
        shutil.copy(pristine / "big.arrows", root / target)
    path = root / target
    path.write_bytes(_mutate(path.read_bytes(), ops))
    allocated = pa.total_allocated_bytes()
    with contextlib.suppress(CorruptionError):
        LedgerReader(root).read_table()
    report = verify(root)
    assert isinstance(report.ok, bool)
    assert pa.total_allocated_bytes() - allocated < 64 << 20
    with contextlib.suppress(LedgerError):  # a writer either recovers or raises a typed error
        from ledger import Ledger

        from .faults import NoSyncFS, make_event

        writer = Ledger(root, fs=NoSyncFS())
        writer.append(make_event("after", 0))
        writer.close()
        if target == names[-1]:  # a writer checks the active segment only (sealed: `verify`)
            assert verify(root).ok


@pytest.fixture(scope="module")
def saved_projection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("proj-src")
    build_ledger(base / "ledger", batches=4, per_batch=5)
    projector = Projector(
        LedgerReader(base / "ledger"), base / "proj", classes=(RecordsProjection,)
    )
    projector.catch_up()
    projector.save()
    return base


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(manifest=st.booleans(), ops=_MUTATION)
def test_fuzzed_projection_files_are_rebuilt_not_trusted(
    tmp_path_factory: pytest.TempPathFactory, saved_projection: Path, manifest: bool, ops: list
) -> None:
    base = tmp_path_factory.mktemp("proj-fuzz")
    shutil.copytree(saved_projection / "ledger", base / "ledger")
    shutil.copytree(saved_projection / "proj", base / "proj")
    folder = base / "proj" / "records"
    target = folder / "MANIFEST.json" if manifest else next(folder.glob("chunk-*.arrow"))
    target.write_bytes(_mutate(target.read_bytes(), ops))
    reader = LedgerReader(base / "ledger")
    loaded = Projector(reader, base / "proj", classes=(RecordsProjection,)).get("records")
    fresh = Projector(reader, base / "none", persist=False, classes=(RecordsProjection,)).get(
        "records"
    )
    assert loaded.table().equals(fresh.table())
    assert loaded.checkpoint == (read_head(base / "ledger") or object()).seq
    with contextlib.suppress(ValueError):
        json.loads((folder / "MANIFEST.json").read_bytes())
