"""The record hot paths equal their simple versions.

* ``stage.metric(...)`` (``RecordFactory.fresh_metric`` + ``RecordStore.append_fresh``) stores
  the event and body the plain path (the contract constructors, ``events.record_event``,
  ``codec.encode``) would, and the record it returns is the one stored.
* ``append_many`` accepts, deduplicates and rejects exactly like a simple model of its rules.
* Results whose receipts are built lazily equal results built eagerly.
"""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import MetricPayload, MetricRecord, Project, RecordEnvelope
from contexta.contract.codec import decode, encode
from contexta.contract.timestamps import timestamp_micros
from contexta.events import record_event
from contexta.store.record_store import AppendResult, DurabilityStatus, _canonical_micros, _receipt

BASE = datetime(2025, 1, 1, tzinfo=UTC)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

segment = st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True)
keys = st.lists(segment, min_size=1, max_size=3).map(".".join)
values = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53))
units = st.one_of(st.none(), st.sampled_from(["ms", "nats", "%"]))
scopes = st.sampled_from(["step", "run", "stage", "slice"])
steps = st.one_of(st.none(), st.integers(-10, 10**9))
tags = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["phase", "device"]), st.sampled_from(["warm", "gpu0"]), max_size=2
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)), st.booleans())
def test_canonical_micros_equals_timestamp_micros(when: datetime, whole: bool) -> None:
    if whole:
        when = when.replace(microsecond=0)
    text = when.isoformat() + "Z"  # canonical: six fraction digits, or none when zero
    assert _canonical_micros(text) == timestamp_micros(text)
    assert _canonical_micros(text) == timestamp_micros(text)  # the cached whole seconds too


def open_ctx(root: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=root))
    )


def spy_on_writes(ctx: Contexta) -> list[Any]:
    """Every event the ledger is asked to buffer, in order, by either of its append methods
    (the appends still happen)."""
    ledger = ctx._workspace.ledger
    written: list[Any] = []
    append_many, append_fitted = ledger.append_many, ledger.append_fitted

    def spy_many(events: Any) -> Any:
        events = list(events)
        written.extend(events)
        return append_many(events)

    def spy_fitted(events: Any) -> Any:
        events = list(events)
        written.extend(events)
        return append_fitted(events)

    ledger.append_many = spy_many  # type: ignore[method-assign]
    ledger.append_fitted = spy_fitted  # type: ignore[method-assign]
    return written


def plain_metric(
    built: MetricRecord,
    key: str,
    value: Any,
    unit: str | None,
    scope: str,
    tag_map: dict[str, str] | None,
    step: int | None,
) -> MetricRecord:
    """The record the contract constructors build for this emission (times and ref taken from
    ``built``, the only parts that depend on the clock and the counter)."""
    env = built.envelope
    merged = dict(tag_map or {})
    if step is not None:
        merged["step"] = str(step)
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=str(env.record_ref),
            record_type="metric",
            recorded_at=env.recorded_at,
            observed_at=env.observed_at,
            producer_ref=env.producer_ref,
            run_ref=str(env.run_ref),
            stage_execution_ref=str(env.stage_execution_ref),
        ),
        payload=MetricPayload(
            metric_key=key,
            value=value,
            value_type="int" if type(value) is int else "float",
            unit=unit,
            aggregation_scope=scope,
            subject_ref=str(env.stage_execution_ref),
            tags=merged or None,
            summary_basis="raw_observation",
        ),
    )


@SETTINGS
@given(
    emissions=st.lists(st.tuples(keys, values, units, scopes, tags, steps), min_size=1, max_size=6)
)
def test_scope_metric_stores_what_the_plain_path_would(
    tmp_path_factory: Any, emissions: list[Any]
) -> None:
    ctx = open_ctx(tmp_path_factory.mktemp("ws"))
    written = spy_on_writes(ctx)
    with ctx.run("fit") as run:
        stage = run.stage("train")
        for key, value, unit, scope, tag_map, step in emissions:
            before = len(written)
            result = stage.metric(
                key, value, unit=unit, aggregation_scope=scope, tags=tag_map, step=step
            )
            assert result.status.value == "SUCCESS"
            record = result.payload
            expected = plain_metric(record, key, value, unit, scope, tag_map, step)
            assert record == expected
            body = encode(expected)
            (event,) = written[before:]
            assert event == record_event(expected, ctx._workspace.actor, body)
            assert event.valid_time == timestamp_micros(record.envelope.observed_at)
            assert decode(MetricRecord, event.body) == expected
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
    stored = [s.record for s in ctx.record_store.scan()]
    assert len(stored) == len(emissions)
    ctx.close()


def test_scope_metrics_keep_the_append_rules(tmp_path: Path) -> None:
    """A captured record re-appended is a duplicate (no copy), a changed one under its ref a
    conflict, whether or not the store had read the stored refs before the capture."""
    for preload in (False, True):
        ctx = open_ctx(tmp_path / f"ws-{preload}")
        if preload:
            ctx.record_store._known_digests()
        with ctx.run("fit") as run:
            first = run.stage("train").metric("loss", 0.5, step=1).payload
        again = ctx.record_store.append(first)
        assert again.accepted_count == 1 and not again.rejected
        changed = MetricRecord(
            envelope=first.envelope,
            payload=MetricPayload(metric_key="loss", value=0.25, value_type="float"),
        )
        conflict = ctx.record_store.append(changed)
        assert [r.code for r in conflict.rejected] == ["record_ref_conflict"]
        assert [s.record for s in ctx.record_store.scan()] == [first]
        ctx.close()


def test_the_first_scope_metric_puts_the_workspace_on_disk(tmp_path: Path) -> None:
    """As the first ``append`` does (it reads the stored refs, which commits the buffer)."""
    ctx = open_ctx(tmp_path / "ws")
    with ctx.run("fit") as run:
        stage = run.stage("train")
        first = stage.metric("loss", 0.5)
        assert first.metadata["durability"] == DurabilityStatus.FLUSHED
        assert (tmp_path / "ws" / "ledger").is_dir()
        second = stage.metric("loss", 0.25)  # later ones are buffered
        assert second.metadata["durability"] == DurabilityStatus.ACCEPTED
    ctx.close()


def test_scope_metrics_survive_a_reopen(tmp_path: Path) -> None:
    ctx = open_ctx(tmp_path / "ws")
    with ctx.run("fit") as run:
        stage = run.stage("train")
        made = [stage.metric("loss", float(i), step=i).payload for i in range(50)]
    ctx.close()
    reopened = open_ctx(tmp_path / "ws")
    assert [s.record for s in reopened.record_store.scan()] == made
    reopened.close()


def record(n: int, value: float, *, run: str = "r1") -> MetricRecord:
    at = (BASE + timedelta(seconds=n)).replace(tzinfo=None).isoformat() + "Z"
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:p.{run}.m{n}",
            record_type="metric",
            recorded_at=at,
            observed_at=at,
            producer_ref="bench",
            run_ref=f"run:p.{run}",
        ),
        payload=MetricPayload(metric_key="loss", value=value, value_type="float64"),
    )


# a pool of records: some share a ref with different content, one is not a record at all
POOL: list[Any] = [record(n % 6, float(n // 6)) for n in range(12)] + ["not a record"]


def model_append(
    stored: dict[str, Any], batch: list[Any]
) -> tuple[list[str], list[tuple[int, str]]]:
    """The append rules, simply: (accepted refs, (index, code) of the rejected)."""
    accepted: list[str] = []
    written: list[str] = []
    rejected: list[tuple[int, str]] = []
    for index, item in enumerate(batch):
        if not isinstance(item, MetricRecord):
            rejected.append((index, "unsupported_record_type"))
            continue
        ref = str(item.envelope.record_ref)
        if ref in stored:
            if stored[ref] == item:
                accepted.append(ref)
            else:
                rejected.append((index, "record_ref_conflict"))
            continue
        stored[ref] = item
        written.append(ref)
    return written + accepted, rejected  # receipts: written records first, then duplicates


@SETTINGS
@given(
    batches=st.lists(st.lists(st.sampled_from(POOL), max_size=8), min_size=1, max_size=4),
    single=st.booleans(),
)
def test_append_many_follows_the_simple_rules(
    tmp_path_factory: Any, batches: list[list[Any]], single: bool
) -> None:
    ctx = open_ctx(tmp_path_factory.mktemp("ws"))
    ctx.metadata_store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    stored: dict[str, Any] = {}
    for batch in batches:
        want_accepted, want_rejected = model_append(stored, batch)
        if single and len(batch) == 1:
            result = ctx.record_store.append(batch[0])
        else:
            result = ctx.record_store.append_many(batch)
        assert result.accepted_count == len(want_accepted)
        assert [r.record_ref for r in result.accepted] == want_accepted
        assert [(r.index, r.code) for r in result.rejected] == want_rejected
    assert [s.record for s in ctx.record_store.scan()] == list(stored.values())
    ctx.close()


def test_lazy_receipts_equal_eager_ones(tmp_path: Path) -> None:
    ctx = open_ctx(tmp_path / "ws")
    records = [record(n, float(n)) for n in range(5)]
    ctx.record_store.append(records[0])
    result = ctx.record_store.append_many([*records, "not a record"])
    assert result.accepted_count == 5  # read before the receipts exist
    clone = copy.copy(result)
    revived = pickle.loads(pickle.dumps(result))
    eager = AppendResult(
        accepted=tuple(
            _receipt(
                r.sequence,
                r.segment_id,
                r.offset,
                r.record_ref,
                r.record_type,
                r.run_ref,
                r.durability_status,
            )
            for r in result.accepted
        ),
        rejected=result.rejected,
        durability_status=result.durability_status,
        durable_count=result.durable_count,
    )
    assert result == eager and repr(result) == repr(eager)
    assert clone == eager and revived == eager
    assert [r.record_ref for r in result.accepted] == [
        *(str(r.envelope.record_ref) for r in records[1:]),
        "record:p.r1.m0",
    ]
    assert result.accepted[-1].sequence is None  # the duplicate: nothing written
    ctx.close()


@SETTINGS
@given(
    emissions=st.lists(
        st.tuples(
            st.one_of(keys, st.text(min_size=1, max_size=8)),
            st.one_of(values, st.integers(-(2**63), 2**63 - 1)),
            st.one_of(tags, st.dictionaries(st.text(max_size=4), st.text(max_size=6), max_size=2)),
            st.one_of(steps, st.integers(-(2**63), 2**63 - 1)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_rows_the_store_builds_fit_the_ledger_row_unchecked(
    tmp_path_factory: Any, emissions: list[Any]
) -> None:
    """The record store hands the ledger the rows it builds (``fast_record_event`` of a record
    it has just encoded) through ``append_fitted``, which skips ``check_events``: every such
    row, whatever the key, tag text, int value or step the contract accepted, passes it."""
    from contexta.common.errors import ValidationError
    from contexta.contract.validation import logged_grammar
    from contexta.store.record_store import _ENCODE, fast_record_event
    from ledger.schema import check_events

    ctx = open_ctx(tmp_path_factory.mktemp("ws"))
    written = spy_on_writes(ctx)
    with ctx.run("fit") as run:
        stage = run.stage("train")
        for key, value, tag_map, step in emissions:
            try:
                with logged_grammar():
                    record = stage.metric(key, value, tags=tag_map, step=step).payload
            except ValidationError:
                continue  # refused before any row was built
            row = fast_record_event(
                record, "record:" + record.envelope.record_ref.value, "a", _ENCODE(record)
            )
            assert check_events([row]) == [row]
    assert (
        list(check_events(written)) == written
    )  # every row the capture wrote fits too (raises else)
    ctx.close()
