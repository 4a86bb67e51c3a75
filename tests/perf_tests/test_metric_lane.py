"""The plain metric lane (``contexta/capture/metric_lane.py``) stores, copies and reports what
the general way (``RuntimeSession.emit_metric``) does, and declines what it does not vouch for.

Each emission is checked against what the contract constructors would build (record, ledger
event, body), each line of the local capture copy against 1.0's line for the stored record, and
the lane's use is counted, so a lane that silently stopped running would fail here too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.capture import _build, metric_lane
from contexta.capture.builtin_sinks import LocalJsonlSink, _local_line
from contexta.capture.results import PayloadFamily, ResultStatus
from contexta.common.errors import ValidationError
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import MetricPayload, MetricRecord
from contexta.contract.codec import decode, encode
from contexta.contract.validation import logged_grammar
from contexta.events import record_event
from contexta.store.record_store import DurabilityStatus

from .test_record_fast_paths import plain_metric, spy_on_writes

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Scalar:
    """A numpy-like scalar: a real number through ``__float__``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return self.value


def open_ctx(root: Path, **kwargs: Any) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=root)),
        **kwargs,
    )


def count_lane_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """[lane calls, lane results]: every lane made from now on is counted."""
    counts = [0, 0]
    make = metric_lane.plain_metric_lane

    def counted(*args: Any) -> Any:
        lane = make(*args)
        if lane is None:
            return None

        def wrapped(key: Any, value: Any, step: Any) -> Any:
            counts[0] += 1
            result = lane(key, value, step)
            counts[1] += result is not None
            return result

        return wrapped

    monkeypatch.setattr("contexta.capture.session.plain_metric_lane", counted)
    return counts


def copy_lines(root: Path) -> list[str]:
    path = root / "cache" / "capture" / "record.jsonl"
    return path.read_text(encoding="utf-8").split("\n")[:-1] if path.exists() else []


def assert_copy_is_1_0s(root: Path, stored: dict[str, Any]) -> None:
    """Every line of the copy is 1.0's line for the stored record it names."""
    lines = copy_lines(root)
    assert len(lines) == len(stored)
    for line in lines:
        entry = json.loads(line)
        record = stored[entry["payload_ref"]]
        assert line == _local_line(
            entry["captured_at"], "local-jsonl", PayloadFamily.RECORD, record
        )


values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False).map(Scalar),
    st.integers(-(2**53), 2**53),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e-5, 1e16, -0.0]),
)
steps = st.one_of(st.none(), st.integers(0, 10**6), st.sampled_from([-1, 2**63 - 1, 2**63]))
extras = st.sampled_from([{}, {}, {}, {"unit": "nats"}, {"tags": {"split": "val"}}])
emission = st.tuples(st.sampled_from(["loss", "acc", "loss/val", "F1"]), values, steps, extras)


@SETTINGS
@given(emissions=st.lists(emission, min_size=1, max_size=25))
def test_lane_and_general_way_store_copy_and_report_the_same(
    tmp_path_factory: Any, monkeypatch: pytest.MonkeyPatch, emissions: list[Any]
) -> None:
    # the keys checked valid are remembered process-wide up to a bound, then forgotten at once
    # (a key not remembered is checked the long way, and the lane declines it): start each
    # example with none, so the count below does not depend on the examples run before
    _build._METRIC_KEYS.clear()
    with monkeypatch.context() as patch:
        counts = count_lane_calls(patch)
        root = tmp_path_factory.mktemp("ws")
        ctx = open_ctx(root)
        written = spy_on_writes(ctx)
        expected_lane = 0
        lane_made = False  # after the scope's first plain metric
        copied: set[str] = set()  # keys whose copy text the local copy has made
        with ctx.run("fit") as run:
            stage = run.stage("train")
            for key, value, step, extra in emissions:
                number = float(value) if isinstance(value, Scalar) else value
                plain = (  # the general way reads a numpy-like scalar as its float
                    not extra
                    and type(number) is float
                    and math.isfinite(number)
                    and (step is None or step < 2**63)
                )
                # the lane takes floats only, once the scope has one and knows the key
                expected_lane += plain and type(value) is float and lane_made and key in copied
                before = len(written)
                if step == 2**63:  # out of int64: a programming error, raised
                    with pytest.raises(ValidationError, match="step"):
                        stage.metric(key, value, step=step, **extra)
                    assert len(written) == before
                    continue
                result = stage.metric(key, value, step=step, **extra)
                assert result.status is ResultStatus.SUCCESS
                # the lane is made after the scope's first plain metric of a key already
                # checked valid (a key's first metric is checked the long way)
                lane_made = lane_made or (plain and key in copied)
                copied.add(key)
                record = result.payload
                with logged_grammar():  # NaN and infinities are kept as values
                    expected = plain_metric(
                        record, key, number, extra.get("unit"), "step", extra.get("tags"), step
                    )
                assert record == expected
                (event,) = written[before:]
                assert event == record_event(expected, ctx._workspace.actor, encode(expected))
                assert encode(decode(MetricRecord, event.body)) == encode(expected)  # NaN too
                assert result.deliveries and result.deliveries[0].status.value == "SUCCESS"
                metadata = dict(result.metadata)
                assert metadata.pop("durability") in (
                    DurabilityStatus.ACCEPTED,
                    DurabilityStatus.FLUSHED,
                )
                assert metadata == {
                    "service": "metric",
                    "record_ref": str(record.envelope.record_ref),
                    "record_type": "metric",
                }
        ctx.flush()
        stored = {s.record_ref: s.record for s in ctx.record_store.scan()}
        assert_copy_is_1_0s(root, stored)
        # a plain metric after the scope's first plain one takes the lane
        assert counts[1] == expected_lane
        ctx.close()


def test_the_lane_runs_and_declines_what_it_does_not_vouch_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = count_lane_calls(monkeypatch)
    # "loss" checked valid before (as by an earlier metric of that key in this process), and
    # "never.seen" not: the same whichever tests ran before in this process
    _build._METRIC_KEYS.clear()
    _build._METRIC_KEYS.add("loss")
    ctx = open_ctx(tmp_path / "ws")
    with ctx.run("fit") as run:
        stage = run.stage("train")
        stage.metric("loss", 0.5)  # the general way; makes the lane
        assert counts == [0, 0]
        stage.metric("loss", 0.25, step=3)
        assert counts == [1, 1]
        for value in (7, Scalar(0.5), math.nan, math.inf):
            stage.metric("loss", value)
        stage.metric("never.seen", 0.5)
        with pytest.raises(ValidationError, match="step"):
            stage.metric("loss", 0.5, step=2**63)
        assert counts == [7, 1]  # all declined, all taken the general way
        stage.metric("loss", 0.5, unit="nats")  # not plain: the scope does not ask the lane
        assert counts == [7, 1]
        stage.metric("never.seen", 0.75)  # the general way made the key known
        assert counts == [8, 2]
    ctx.close()
    stored = [s.record for s in open_ctx(tmp_path / "ws").record_store.scan()]
    assert [r.payload.metric_key for r in stored if isinstance(r, MetricRecord)] == [
        "loss",
        "loss",
        "loss",
        "loss",
        "loss",
        "loss",
        "never.seen",
        "loss",
        "never.seen",
    ]


def test_no_lane_with_sinks_or_a_read_only_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = count_lane_calls(monkeypatch)
    sink = LocalJsonlSink(tmp_path / "sink")
    ctx = open_ctx(tmp_path / "ws", sinks=[sink])
    with ctx.run("fit") as run:
        stage = run.stage("train")
        for step in range(5):
            stage.metric("loss", 0.5, step=step)
    assert counts == [0, 0]
    lines = (tmp_path / "sink" / "record.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["payload_type"] for line in lines].count("MetricRecord") == 5
    ctx.close()

    ctx = open_ctx(tmp_path / "ws2")
    with ctx.run("fit") as run:
        stage = run.stage("train")
        stage.metric("loss", 0.5)
        stage.metric("loss", 0.5)
        assert counts == [1, 1]
        ctx.record_store.read_only = True
        general = None
        try:
            stage.metric("loss", 0.5)
        except Exception as exc:  # the general way's answer to a read-only store
            general = type(exc)
        assert counts == [2, 1]  # declined: the general way answered
        ctx.record_store.read_only = False
    ctx.close()
    assert general is None or issubclass(general, Exception)


def test_lane_records_keep_the_append_rules(tmp_path: Path) -> None:
    """A record made by the lane re-appended is a duplicate, a changed one under its ref a
    conflict, whether the store had read the stored refs before the capture or not."""
    for preload in (False, True):
        ctx = open_ctx(tmp_path / f"ws-{preload}")
        if preload:
            ctx.record_store._known_digests()
        with ctx.run("fit") as run:
            stage = run.stage("train")
            made = [stage.metric("loss", 0.5, step=i).payload for i in range(4)]
        again = ctx.record_store.append(made[-1])
        assert again.accepted_count == 1 and not again.rejected
        changed = MetricRecord(
            envelope=made[-1].envelope,
            payload=MetricPayload(metric_key="loss", value=0.25, value_type="float"),
        )
        conflict = ctx.record_store.append(changed)
        assert [r.code for r in conflict.rejected] == ["record_ref_conflict"]
        assert [s.record for s in ctx.record_store.scan()] == made
        ctx.close()


def test_a_closed_ledger_fails_the_lane_as_it_fails_the_general_way(tmp_path: Path) -> None:
    ctx = open_ctx(tmp_path / "ws")
    run = ctx.run("fit").__enter__()
    stage = run.stage("train")
    stage.metric("loss", 0.5)
    stage.metric("loss", 0.5)
    assert stage._factory.lane
    ctx._workspace.ledger.close()
    errors = []
    for value in (0.5, 7):  # the lane's value, then one it declines (the general way)
        with pytest.raises(Exception) as caught:
            stage.metric("loss", value)
        errors.append((type(caught.value), getattr(caught.value, "code", None)))
    assert errors[0] == errors[1]
