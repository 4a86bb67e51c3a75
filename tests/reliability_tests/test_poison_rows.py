"""Poison rows: every field a user controls is checked against the ledger row before it is
buffered. An out-of-range value (a step beyond int64, an int no encoding holds, a string with a
lone surrogate) through any public write path gets a typed answer, writes nothing, and the
writer goes on committing the next good event: it can never be wedged by one bad row."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.capture.results import CaptureResult
from contexta.common.errors import ContextaError, ValidationError
from contexta.contract import MetricPayload, MetricRecord, Project, RecordEnvelope, Run
from ledger import Ledger, LedgerValidationError, PendingEvent, verify

TS = "2025-03-01T00:00:00Z"
LATER = "2025-03-01T01:00:00Z"

#: ints that no int64 column (step, valid_time) and no 64-bit encoding can hold
HUGE = st.integers(min_value=2**64) | st.integers(max_value=-(2**63) - 1)
#: ints just outside the step's int64 range (2**63 still encodes as an unsigned int)
OUT_OF_INT64 = HUGE | st.just(2**63)
#: text with a lone surrogate: not valid UTF-8
BAD_TEXT = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.text("abc", max_size=4),
    st.characters(categories=("Cs",)),
    st.text("xyz", max_size=4),
)


def _metric(i: int, *, tags: dict[str, str] | None = None, value: Any = 0.5) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:p.r.m{i}",
            record_type="metric",
            recorded_at=TS,
            observed_at=TS,
            producer_ref="contexta.test",
            run_ref="run:p.r",
        ),
        payload=MetricPayload(
            metric_key="train.loss", value=value, value_type="float64", tags=tags
        ),
    )


def _seed(ctx: Contexta) -> None:
    ms = ctx.metadata_store
    ms.projects.put_project(Project(project_ref="project:p", name="p", created_at=TS))
    ms.runs.put_run(
        Run(
            run_ref="run:p.r",
            project_ref="project:p",
            name="r",
            status="completed",
            started_at=TS,
            ended_at=LATER,
        )
    )
    ctx.flush()


def _seq(ctx: Contexta) -> int:
    return ctx._workspace.head().seq  # commits this process's buffer first


def _typed(outcome: Any) -> str:
    """The code of a typed refusal: a ContextaError raised, an AppendResult with rejections or
    a failed CaptureResult. Fails the test for anything else (an accepted bad row, a raw error)."""
    if isinstance(outcome, ContextaError):
        assert outcome.code and str(outcome)
        return outcome.code
    rejected = getattr(outcome, "rejected", None)
    if rejected:
        assert all(r.code and r.message for r in rejected)
        return rejected[0].code
    if isinstance(outcome, CaptureResult) and outcome.failure is not None:
        return outcome.failure.code
    raise AssertionError(f"a bad row was accepted: {outcome!r}")


def _call(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except ContextaError as exc:  # any other exception fails the test: it is not typed
        return exc


_counter = iter(range(10**9))


def _good_metric(ctx: Contexta) -> None:
    result = ctx.record_store.append(_metric(100_000_000 + next(_counter)))
    assert result.success


@contextlib.contextmanager
def _workspace(tmp_path: Path) -> Iterator[Contexta]:
    ctx = Contexta(workspace=str(tmp_path / f"ws{next(_counter)}"))
    try:
        _seed(ctx)
        yield ctx
        report = ctx.verify_ledger()
        assert report.ok, report
    finally:
        ctx.close()


def _check_path(ctx: Contexta, bad_call: Callable[[], Any], *, written: int = 0) -> str:
    """Run ``bad_call``; it must be refused with a typed answer, write ``written`` events (the
    good rows of its call) and leave the writer committing the next good event."""
    before = _seq(ctx)
    code = _typed(_call(bad_call))
    assert _seq(ctx) == before + written, "the bad row (or part of it) was written"
    _good_metric(ctx)
    ctx.flush()
    assert _seq(ctx) == before + written + 1, "the next good event was not committed"
    assert [r.run_id for r in ctx.list_runs("p")] == ["run:p.r"]
    return code


# ---------------------------------------------------------------------- the reported case


def test_capture_step_beyond_int64_is_refused_and_later_events_commit(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ctx, ctx.run("train") as run:
        run.metric("loss", 0.1, step=1)
        with pytest.raises(ValidationError) as caught:
            run.metric("loss", 0.2, step=2**63)
        assert caught.value.code == "capture_model_invalid_step"
        assert str(2**63) in str(caught.value)
        run.metric("loss", 0.3, step=3)
        ctx.flush()
        steps = [
            e.model.payload.tags["step"]
            for e in ctx.history(kinds="record.metric")
            if e.run_ref == str(run.ref)
        ]
        assert steps == ["1", "3"]


def test_record_store_step_tag_of_twenty_nines_is_rejected_alone(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ctx:
        rs = ctx.record_store
        result = rs.append_many([_metric(1), _metric(2, tags={"step": "9" * 20}), _metric(3)])
        assert [(r.index, r.code) for r in result.rejected] == [(1, "record_invalid_step")]
        assert "tags['step']" in result.rejected[0].message
        assert "9" * 20 in result.rejected[0].message
        single = rs.append(_metric(4, tags={"step": "9" * 20}))
        assert [r.code for r in single.rejected] == ["record_invalid_step"]
        assert rs.append(_metric(5, tags={"step": "7"})).success
        rs.flush()
        assert ctx.list_runs("p")
        assert sorted(s.record_ref for s in rs.scan()) == [
            "record:p.r.m1",
            "record:p.r.m3",
            "record:p.r.m5",
        ]


# ---------------------------------------------------------------------- every write path


@settings(max_examples=12, deadline=None)
@given(step=OUT_OF_INT64, text=BAD_TEXT, huge=HUGE)
def test_every_public_write_path_refuses_poison_and_keeps_committing(
    tmp_path_factory: pytest.TempPathFactory, step: int, text: str, huge: int
) -> None:
    tmp = tmp_path_factory.mktemp("poison")
    with _workspace(tmp) as ctx:
        rs, ms = ctx.record_store, ctx.metadata_store
        n = next(_counter)
        # 1.0 record store: the bad record is rejected alone; the good ones of its call commit
        _check_path(ctx, lambda: rs.append(_metric(n, tags={"step": str(step)})))
        _check_path(ctx, lambda: rs.append(_metric(n + 1, value=huge)))
        _check_path(
            ctx,
            lambda: rs.append_many(
                [_metric(n + 2), _metric(n + 3, tags={"step": str(step)}), _metric(n + 4)]
            ),
            written=2,
        )
        _check_path(ctx, lambda: rs.append_many([_metric(n + 5, value=huge)]))
        # metadata store puts
        _check_path(
            ctx,
            lambda: ms.projects.put_project(
                Project(project_ref="project:q", name=text, created_at=TS)
            ),
        )
        _check_path(
            ctx,
            lambda: ms.runs.put_run(
                Run(
                    run_ref="run:p.bad",
                    project_ref="project:p",
                    name=text,
                    status="completed",
                    started_at=TS,
                    ended_at=LATER,
                )
            ),
        )
        # quality writes
        _check_path(ctx, lambda: ctx.tag_runs("data.bad", message=text, run_ids=["run:p.r"]))
        _check_path(ctx, lambda: ctx.quarantine_runs(["run:p.r"], reason=text))
        _check_path(ctx, lambda: ctx.release_runs(["run:p.r"], reason=text))


@settings(max_examples=12, deadline=None)
@given(step=OUT_OF_INT64, text=BAD_TEXT, huge=HUGE)
def test_capture_scopes_and_facade_refuse_poison_and_keep_committing(
    tmp_path_factory: pytest.TempPathFactory, step: int, text: str, huge: int
) -> None:
    tmp = tmp_path_factory.mktemp("poison-capture")
    with _workspace(tmp) as ctx, ctx.run("cap") as run, run.stage("fit") as stage:
        ctx.flush()
        for scope in (run, stage):
            _check_path(ctx, lambda s=scope: s.metric("loss", 0.5, step=step))
            _check_path(ctx, lambda s=scope: s.metric("loss", 0.5, tags={"step": str(step)}))
            # a value that is not a number is refused with its code and recorded as a degraded
            # record (one good row) instead of raising into the training loop
            _check_path(ctx, lambda s=scope: s.metric("loss", huge), written=1)
            _check_path(ctx, lambda s=scope: s.event("note", message=text))
            _check_path(ctx, lambda s=scope: s.event("note", message="m", attributes={"n": huge}))
            _check_path(
                ctx, lambda s=scope: s.emit_metrics([{"key": "loss", "value": 1.0, "step": step}])
            )
        # the facade's capture calls go to the innermost open scope
        _check_path(ctx, lambda: ctx.metric("loss", 0.5, step=step))
        _check_path(ctx, lambda: ctx.event("note", message=text))


# ---------------------------------------------------------------------- the ledger itself

_GOOD = PendingEvent(
    "record.metric",
    "record:p.r.a",
    "project:p",
    "run:p.r",
    None,
    1_700_000_000_000_000,
    "loss",
    0.5,
    3,
    "me@host:1",
    b"body",
)
_POISON = {
    "step": OUT_OF_INT64,
    "valid_time": OUT_OF_INT64,
    "value": HUGE | st.text(max_size=3) | st.just(2**53 + 1),
    "kind": BAD_TEXT | st.none() | st.integers(),
    "ref": BAD_TEXT | st.binary(min_size=1, max_size=3),
    "run_ref": BAD_TEXT,
    "key": BAD_TEXT,
    "actor": BAD_TEXT,
    "body": st.none() | st.text(max_size=3),
}


@st.composite
def _poisoned(draw: st.DrawFn) -> tuple[str, PendingEvent]:
    field = draw(st.sampled_from(sorted(_POISON)))
    return field, _GOOD._replace(**{field: draw(_POISON[field])})


@settings(max_examples=60, deadline=None)
@given(case=_poisoned(), before=st.integers(0, 3), durability=st.sampled_from(["flush", "fsync"]))
def test_ledger_refuses_a_poisoned_row_and_buffers_nothing(
    tmp_path_factory: pytest.TempPathFactory,
    case: tuple[str, PendingEvent],
    before: int,
    durability: str,
) -> None:
    field, bad = case
    root = tmp_path_factory.mktemp("ledger")
    ledger = Ledger(root, durability=durability)
    try:
        ledger.append_many([_GOOD] * before)
        buffered = ledger.buffered
        with pytest.raises(LedgerValidationError) as caught:
            ledger.append_many([_GOOD, bad, _GOOD])
        assert caught.value.code == "ledger_invalid_event"
        assert caught.value.details["field"] == field
        assert caught.value.details["index"] == 1
        assert ledger.buffered == buffered  # nothing of the refused call
        ledger.append(_GOOD)
        ledger.flush()
        assert ledger.head().seq == before + 1
    finally:
        ledger.close()
    assert verify(root).ok
