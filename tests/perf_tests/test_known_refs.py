"""Ref-conflict checks in a new process look up the runs they append to, not every stored ref.

The first append of a process used to read every stored record ref into memory (13.5M refs,
GBs, at 100k runs); now stored refs are found run by run through the records projection's
saved run index (a record's ref lies within its run's ref). The answers are those of the old
whole-set check: an identical re-append is a duplicate, a different record under a stored ref
is a ``record_ref_conflict``, a new ref is accepted (runs whose names share a text prefix,
``p.r1`` and ``p.r10``, included).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope
from contexta.store.record_store import _KnownRefs

RUNS = ("p.r1", "p.r2", "p.r10", "q.r1")
AT = "2025-01-01T00:00:00Z"


def ctx_at(root: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=root))
    )


def record(run: str, key: str, value: float) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{run}.{key}",
            record_type="metric",
            recorded_at=AT,
            observed_at=AT,
            producer_ref="bench",
            run_ref=f"run:{run}",
        ),
        payload=MetricPayload(metric_key="loss", value=value, value_type="float64"),
    )


def outcome(ctx: Contexta, rec: MetricRecord) -> str:
    """``accepted`` (a new record or an identical re-append) or the rejection's code."""
    result = ctx.record_store.append(rec)
    if result.rejected:
        return result.rejected[0].code
    assert len(result.accepted) == 1
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
    refs, values = table.column("ref").to_pylist(), table.column("value").to_pylist()
    for ref, value in zip(refs, values, strict=True):
        out.setdefault(ref, []).append(value)
    return out


keys = st.sampled_from(["a", "b", "c", "a0"])
appends = st.lists(
    st.tuples(st.sampled_from(RUNS), keys, st.sampled_from([1.0, 2.0])), min_size=1, max_size=12
)


@settings(max_examples=20, deadline=None)
@given(first=appends, second=appends, save=st.booleans())
def test_a_new_process_classifies_appends_as_the_whole_set_check_did(
    tmp_path_factory: pytest.TempPathFactory, first: list, second: list, save: bool
) -> None:
    root = tmp_path_factory.mktemp("refs")
    stored: dict[str, float] = {}
    ctx = ctx_at(root)
    for run, key, value in first:
        rec = record(run, key, value)
        assert outcome(ctx, rec) == expected(stored, rec)
    if save:
        ctx.close()  # projections saved: the next process looks refs up in the saved index
    else:
        ctx.flush()  # committed only: the next process folds them itself
    again = ctx_at(root)
    for run, key, value in second:
        rec = record(run, key, value)
        assert outcome(again, rec) == expected(stored, rec), (run, key, value)
    # one copy of each ref, holding the value first stored (no second copy, nothing replaced)
    assert stored_copies(again) == {ref: [value] for ref, value in stored.items()}
    again.close()
    if not save:
        ctx.close()


def test_the_first_append_reads_only_the_runs_it_touches(tmp_path: Path) -> None:
    ctx = ctx_at(tmp_path)
    for i in range(40):
        ctx.record_store.append_many([record(f"p.q{i}", f"m{j}", 1.0) for j in range(5)])
    ctx.close()
    again = ctx_at(tmp_path)
    assert outcome(again, record("p.q3", "new", 1.0)) == "accepted"
    assert outcome(again, record("p.q3", "m1", 1.0)) == "accepted"  # identical: stored once
    assert outcome(again, record("p.q7", "m2", 2.0)) == "record_ref_conflict"
    known = again.record_store._digests
    assert isinstance(known, _KnownRefs)
    # the refs held in memory: the ones appended or compared here, not the 200 stored
    assert set(dict(known)) == {"record:p.q3.new", "record:p.q3.m1", "record:p.q7.m2"}
    again.close()
