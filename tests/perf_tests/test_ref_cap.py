"""The ref-conflict check holds at most ``ref_cache_max`` refs in memory and stays exact.

Past the cap the store drops the refs of the runs appended to least recently and notes their
parents in a Bloom filter; a run appended to again is checked against the ledger. The answers
(a new ref accepted, an identical re-append a duplicate stored once, a changed one a
``record_ref_conflict``) are those of an unbounded check, for refs in an old segment, in the
active segment, and appended by another process after the store opened.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope
from contexta.store.record_store import _KnownRefs, _ParentFilter

AT = "2025-01-01T00:00:00Z"


def ctx_at(root: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=root))
    )


def record(run: str, key: str, value: float) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:p.{run}.{key}",
            record_type="metric",
            recorded_at=AT,
            observed_at=AT,
            producer_ref="test",
            run_ref=f"run:p.{run}",
        ),
        payload=MetricPayload(metric_key="loss", value=value, value_type="float64"),
    )


def outcome(ctx: Contexta, rec: MetricRecord) -> str:
    result = ctx.record_store.append(rec)
    if result.rejected:
        return result.rejected[0].code
    assert result.accepted_count == 1
    return "accepted"


def expected(stored: dict[str, float], rec: MetricRecord) -> str:
    ref = str(rec.envelope.record_ref)
    if ref not in stored:
        stored[ref] = rec.payload.value
        return "accepted"
    return "accepted" if stored[ref] == rec.payload.value else "record_ref_conflict"


def stored_copies(ctx: Contexta) -> dict[str, list[float]]:
    table = ctx._workspace.table("records")
    out: dict[str, list[float]] = {}
    for ref, value in zip(
        table.column("ref").to_pylist(), table.column("value").to_pylist(), strict=True
    ):
        out.setdefault(ref, []).append(value)
    return out


def capped(ctx: Contexta, cap: int) -> Contexta:
    ctx.record_store.ref_cache_max = cap
    return ctx


runs = st.sampled_from([f"r{i}" for i in range(8)])
appends = st.lists(
    st.tuples(runs, st.sampled_from(["a", "b", "c"]), st.sampled_from([1.0, 2.0])),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None)
@given(first=appends, second=appends, cap=st.integers(1, 6), roll=st.booleans())
def test_a_capped_store_classifies_appends_as_an_unbounded_one(
    tmp_path_factory: pytest.TempPathFactory, first: list, second: list, cap: int, roll: bool
) -> None:
    root = tmp_path_factory.mktemp("cap")
    stored: dict[str, float] = {}
    ctx = capped(ctx_at(root), cap)
    for run, key, value in first:
        rec = record(run, key, value)
        assert outcome(ctx, rec) == expected(stored, rec), (run, key, value)
    if roll:  # the first refs end up in a sealed segment
        ctx.flush()
        ws = ctx._workspace
        ws.ledger._roll(ws.ledger.head())
    for run, key, value in second:
        rec = record(run, key, value)
        assert outcome(ctx, rec) == expected(stored, rec), (run, key, value)
    assert stored_copies(ctx) == {ref: [value] for ref, value in stored.items()}
    ctx.close()


def test_memory_holds_to_the_cap_and_dropped_runs_are_read_back(tmp_path: Path) -> None:
    ctx = capped(ctx_at(tmp_path), 50)
    store = ctx.record_store
    for i in range(40):
        store.append_many([record(f"q{i}", f"m{j}", 1.0) for j in range(10)])
        known = store._digests
        assert isinstance(known, _KnownRefs)
        # the cap, plus at most the call that crossed it
        assert len(known) <= 50 + 10
    assert known.shrinks > 0
    reads = known.ledger_reads
    # q0 was dropped long ago: its refs are found again in the ledger, with their bodies
    assert outcome(ctx, record("q0", "m3", 1.0)) == "accepted"
    assert outcome(ctx, record("q0", "m4", 2.0)) == "record_ref_conflict"
    assert outcome(ctx, record("q0", "new", 2.0)) == "accepted"
    assert known.ledger_reads == reads + 1
    assert stored_copies(ctx)["record:p.q0.m3"] == [1.0]
    ctx.close()


def test_reading_dropped_runs_back_keeps_no_sealed_segment_mapped(tmp_path: Path) -> None:
    """The read-back is a one-off pass over everything appended since the store's view (an
    ingest's whole ledger): it lets go of each sealed segment's map as it leaves it, so their
    pages do not stay resident in the process (up to four 64 MiB segments before)."""
    ctx = capped(ctx_at(tmp_path), 50)
    store = ctx.record_store
    ledger = ctx._workspace.ledger
    for i in range(30):
        store.append_many([record(f"q{i}", f"m{j}", 1.0) for j in range(10)])
        if i % 5 == 4:
            ctx.flush()
            ledger._roll(ledger.head())  # seal a segment every five runs
    known = store._digests
    assert isinstance(known, _KnownRefs) and known.shrinks > 0
    ledger._sealed.clear()
    reads = known.ledger_reads
    assert outcome(ctx, record("q0", "m3", 2.0)) == "record_ref_conflict"
    assert known.ledger_reads == reads + 1
    assert ledger.head().segment >= 5
    assert len(ledger._sealed) == 0
    ctx.close()


def _append_in_child(root: str) -> None:
    ctx = ctx_at(Path(root))
    ctx.record_store.append_many([record("other", f"k{j}", 5.0) for j in range(20)])
    ctx.close()


def test_refs_another_process_appended_after_the_store_opened(tmp_path: Path) -> None:
    ctx = capped(ctx_at(tmp_path), 8)
    ctx.record_store.append_many([record("mine", f"k{j}", 1.0) for j in range(20)])
    ctx.flush()
    child = multiprocessing.get_context("spawn").Process(
        target=_append_in_child, args=(str(tmp_path),)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0
    # the store learns the other writer's refs at its next commit; with a cap of 8 most of
    # them are dropped again, and found in the ledger when its run is appended to
    ctx.record_store.append_many([record(f"fill{i}", "x", 1.0) for i in range(30)])
    ctx.flush()
    ctx.record_store.append_many([record(f"fill{i}", "y", 1.0) for i in range(30)])
    assert outcome(ctx, record("other", "k3", 5.0)) == "accepted"
    assert outcome(ctx, record("other", "k4", 6.0)) == "record_ref_conflict"
    assert outcome(ctx, record("mine", "k4", 2.0)) == "record_ref_conflict"
    copies = stored_copies(ctx)
    assert copies["record:p.other.k3"] == [5.0] and copies["record:p.mine.k4"] == [1.0]
    ctx.close()


def test_the_parent_filter_has_no_false_negatives() -> None:
    bloom = _ParentFilter(64)
    assert "record:p.x" not in bloom
    names = [f"record:p.run{i}" for i in range(2000)]
    for name in names[::2]:
        bloom.add(name)
    assert all(name in bloom for name in names[::2])
    # a 512-bit filter holding 1000 names says "maybe" to most others; a bigger one does not
    big = _ParentFilter(1 << 16)
    for name in names[::2]:
        big.add(name)
    assert sum(name in big for name in names[1::2]) < 10
