"""The capture hot path copies validated templates instead of re-running the contract
constructors. Invariant: it builds exactly the record the constructors would, and every record
it builds survives an encode/decode round trip (decoding re-validates)."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from contexta.capture._build import RecordFactory
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    StableRef,
    StructuredEventPayload,
    StructuredEventRecord,
)
from contexta.contract.codec import decode, encode

RUN = StableRef("run", "proj.run-1")
STAGE = StableRef("stage", "proj.run-1.train")
BATCH = StableRef("batch", "proj.run-1.train.b0")

segment = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
keys = st.lists(segment, min_size=1, max_size=3).map(".".join)
values = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53))
units = st.one_of(st.none(), st.sampled_from(["ms", "nats", "%"]))
scopes = st.sampled_from(["step", "run", "stage", "slice"])
steps = st.one_of(st.none(), st.integers(-10, 10**9))


def factory(batch: bool) -> RecordFactory:
    return RecordFactory(
        run_ref=RUN,
        producer_ref="sdk.python.local",
        schema_version="1.0.0",
        counter=itertools.count(1),
        token="abcd1234",
        stage_ref=STAGE,
        batch_ref=BATCH if batch else None,
    )


def expected_metric(
    built: MetricRecord,
    key: str,
    value: object,
    unit: str | None,
    scope: str,
    step: int | None,
    subject: str,
) -> MetricRecord:
    env = built.envelope
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=str(env.record_ref),
            record_type="metric",
            recorded_at=env.recorded_at,
            observed_at=env.observed_at,
            producer_ref="sdk.python.local",
            run_ref=str(RUN),
            stage_execution_ref=str(STAGE),
            batch_execution_ref=env.batch_execution_ref,
        ),
        payload=MetricPayload(
            metric_key=key,
            value=value,
            value_type="int" if type(value) is int else "float",
            unit=unit,
            aggregation_scope=scope,
            subject_ref=subject,
            tags=None if step is None else {"step": str(step)},
            summary_basis="raw_observation",
        ),
    )


@settings(max_examples=100, deadline=None)
@given(key=keys, value=values, unit=units, scope=scopes, step=steps, batch=st.booleans())
def test_fast_metric_equals_the_validated_constructors(
    key: str, value: float, unit: str | None, scope: str, step: int | None, batch: bool
) -> None:
    f = factory(batch)
    subject = str(BATCH if batch else STAGE)
    for _ in range(2):  # first call validates through the constructors, the second is cached
        built = f.metric(key, value, unit, scope, None, "raw_observation", step)
        assert built == expected_metric(built, key, value, unit, scope, step, subject)
        assert decode(MetricRecord, encode(built)) == built
        assert not (isinstance(value, float) and math.isnan(built.payload.value))


@settings(max_examples=80, deadline=None)
@given(
    key=keys,
    message=st.text(min_size=1, max_size=20).filter(str.strip),
    level=st.sampled_from(["debug", "info", "warning", "error", "critical"]),
)
def test_fast_event_equals_the_validated_constructors(key: str, message: str, level: str) -> None:
    f = factory(False)
    for _ in range(2):
        built = f.event(key, message, level)
        env = built.envelope
        expected = StructuredEventRecord(
            envelope=RecordEnvelope(
                record_ref=str(env.record_ref),
                record_type="event",
                recorded_at=env.recorded_at,
                observed_at=env.observed_at,
                producer_ref="sdk.python.local",
                run_ref=str(RUN),
                stage_execution_ref=str(STAGE),
            ),
            payload=StructuredEventPayload(
                event_key=key, level=level, message=message, subject_ref=str(STAGE)
            ),
        )
        assert built == expected
        assert decode(StructuredEventRecord, encode(built)) == built


def test_record_refs_count_up_under_one_token() -> None:
    f = factory(False)
    refs = [str(f.metric("m", 1.0).envelope.record_ref) for _ in range(3)]
    assert refs == [f"record:proj.run-1.metric-abcd1234-{n}" for n in (1, 2, 3)]
