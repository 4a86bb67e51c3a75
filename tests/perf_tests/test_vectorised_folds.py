"""The fast paths of the projections equal the simple, one-row-at-a-time Python versions."""

from __future__ import annotations

import sys
import types
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta.workspace import group_rows
from ledger import EVENT_SCHEMA
from projections import ALL_PROJECTIONS, query
from projections.base import batch_kinds
from projections.query import first_per, latest_per, value_per

KINDS = [
    "project.put",
    "run.put",
    "stage.put",
    "record.metric",
    "record.event",
    "record.span",
    "record.degraded",
    "run.quarantine",
    "run.release",
    "artifact.put",
    "relation.put",
    "batch.put",
    "unknown.kind",
]
SETTINGS = settings(max_examples=40, deadline=None)


def batch_of(kinds: list[str], first_seq: int = 1) -> pa.RecordBatch:
    n = len(kinds)
    rows = {
        "seq": list(range(first_seq, first_seq + n)),
        "tx_time": [1_000 + i for i in range(n)],
        "kind": kinds,
        "ref": [f"ref:{i % 7}" for i in range(n)],
        "project_ref": ["project:p"] * n,
        "run_ref": [f"run:p.r{i % 3}" for i in range(n)],
        "stage_ref": [None if i % 4 == 0 else f"stage:p.r{i % 3}.s" for i in range(n)],
        "valid_time": [2_000 + i for i in range(n)],
        "key": [f"k{i % 5}" for i in range(n)],
        "value": [float(i) for i in range(n)],
        "step": [i for i in range(n)],
        "actor": ["t"] * n,
        "body": [f"b{i}".encode() for i in range(n)],
        "segment": [0] * n,
        "batch_offset": [0] * n,
        "row": list(range(n)),
    }
    fields = [
        *list(EVENT_SCHEMA),
        pa.field("segment", pa.int32(), nullable=False),
        pa.field("batch_offset", pa.int64(), nullable=False),
        pa.field("row", pa.int32(), nullable=False),
    ]
    return pa.RecordBatch.from_pydict(rows, schema=pa.schema(fields))


def simple_select(cls, batch: pa.RecordBatch) -> list[dict]:
    out = []
    for row in batch.to_pylist():
        kind = row["kind"]
        if kind in cls.kinds or any(kind.startswith(p) for p in cls.kind_prefixes):
            out.append({c: row[c] for c in cls.columns})
    return out


@SETTINGS
@given(st.lists(st.lists(st.sampled_from(KINDS), min_size=1, max_size=30), min_size=1, max_size=5))
def test_every_projection_selects_what_the_simple_fold_selects(batches: list[list[str]]) -> None:
    projections = [cls(EVENT_SCHEMA) for cls in ALL_PROJECTIONS]
    expected: dict[str, list[dict]] = {p.name: [] for p in projections}
    seq = 1
    for kinds in batches:
        batch = batch_of(kinds, seq)
        seq += len(kinds)
        for projection in projections:  # the same batch object for all, as the engine does
            projection.apply(batch)
            expected[projection.name] += simple_select(type(projection), batch)
    for projection in projections:
        assert projection.table().to_pylist() == expected[projection.name], projection.name
        assert projection.checkpoint == seq - 1


@SETTINGS
@given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=40))
def test_batch_kinds_are_the_distinct_kinds_in_first_seen_order(kinds: list[str]) -> None:
    batch = batch_of(kinds)
    assert batch_kinds(batch) == list(dict.fromkeys(kinds))
    other = batch_of(list(reversed(kinds)))  # a new batch is never answered from the cache
    assert batch_kinds(other) == list(dict.fromkeys(reversed(kinds)))


@SETTINGS
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "run:x", "é"])), max_size=60),
    st.integers(0, 5),
    st.integers(0, 100),
)
def test_group_rows_equals_the_plain_loop(values: list, cut: int, base: int) -> None:
    cut = min(cut, len(values))
    chunked = pa.chunked_array(
        [pa.array(values[:cut], pa.string()), pa.array(values[cut:], pa.string())]
    )
    got: dict = {"a": [-1]}  # extends what is there, after it
    group_rows(chunked, base, got)
    expected: dict = {"a": [-1]}
    for i, value in enumerate(values, start=base):
        expected.setdefault(value, []).append(i)
    assert got == expected


metric_rows = st.lists(
    st.tuples(
        st.sampled_from(["run:p.a", "run:p.b", "run:p.c"]),
        st.sampled_from(["ref:1", "ref:2", "ref:3", "ref:4"]),
        st.floats(-1e6, 1e6, allow_nan=False),
        st.integers(0, 5),
    ),
    max_size=30,
)


def metric_table(rows: list[tuple]) -> pa.Table:
    return pa.table(
        {
            "seq": pa.array(range(1, len(rows) + 1), pa.int64()),
            "run_ref": pa.array([r[0] for r in rows], pa.string()),
            "ref": pa.array([r[1] for r in rows], pa.string()),
            "value": pa.array([r[2] for r in rows], pa.float64()),
            "valid_time": pa.array([r[3] for r in rows], pa.timestamp("us", tz="UTC")),
        }
    )


@SETTINGS
@given(metric_rows, st.sampled_from(["latest", "max", "min", "mean"]))
def test_value_per_equals_the_python_selection(rows: list[tuple], mode: str) -> None:
    grouped: dict[str, list[tuple]] = {}
    for seq, (run, _ref, value, observed) in enumerate(rows, start=1):
        grouped.setdefault(run, []).append((observed, seq, value))
    expected = {}
    for run, items in grouped.items():
        values = [v for _, _, v in items]
        if mode == "max":
            expected[run] = max(values)
        elif mode == "min":
            expected[run] = min(values)
        elif mode == "mean":
            expected[run] = sum(values) / len(values)
        else:
            expected[run] = max(items)[2] if len({(o, s) for o, s, _ in items}) else None
    assert value_per(metric_table(rows), mode) == expected


@SETTINGS
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="ab\x00é", max_size=3)), max_size=40),
    st.booleans(),
    st.integers(1, 4),
)
def test_all_distinct_equals_a_set(values: list[str | None], ordered: bool, chunks: int) -> None:
    """Both ways (values in increasing order, checked by comparison; any order, hashed), on
    chunked columns too, with nulls counted as a value."""
    if ordered:
        values = sorted(set(values) - {None}) + [None] * min(values.count(None), 1)
    cut = [values[i::chunks] for i in range(chunks)] if ordered is False else [values]
    column = pa.chunked_array([pa.array(part, pa.string()) for part in cut], pa.string())
    flat = [v for part in cut for v in part]
    assert query.all_distinct(column) == (len(set(flat)) == len(flat))
    assert query.all_distinct(column.combine_chunks()) == (len(set(flat)) == len(flat))


def test_increasing_values_are_distinct_without_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    refs = pa.array([f"record:p.r{i:06d}" for i in range(1000)])
    monkeypatch.setattr(query.pc, "unique", None)  # would raise if called
    assert query.all_distinct(refs)
    monkeypatch.undo()
    assert not query.all_distinct(pa.concat_arrays([refs, refs.slice(999)]))  # a repeat at the end
    assert not query.all_distinct(pa.array(["b", "a", "b"]))
    assert query.all_distinct(pa.array(["b", "a", "c"]))  # not increasing: hashed


@SETTINGS
@given(metric_rows)
def test_first_and_latest_per_key(rows: list[tuple]) -> None:
    table = metric_table(rows)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for seq, (_run, ref, _v, _o) in enumerate(rows, start=1):
        first.setdefault(ref, seq)
        last[ref] = seq
    assert first_per(table, "ref").column("seq").to_pylist() == sorted(first.values())
    assert latest_per(table, "ref").column("seq").to_pylist() == sorted(last.values())


@SETTINGS
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e"])), max_size=60),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_seq_per_sorts_small_inputs_and_hashes_large_ones_alike(
    keys: list[str | None], rng: Any, last: bool
) -> None:
    """Both ways of picking each key's greatest or smallest seq (sorting up to
    ``SORT_GROUP_ROWS`` rows, Arrow's hash group-by above) give the reference's seqs, a null
    key counting as a key of its own, for seqs in any row order."""
    seqs = rng.sample(range(1, 10 * len(keys) + 2), len(keys))
    want: dict[str | None, int] = {}
    for key, seq in zip(keys, seqs, strict=True):
        if key not in want or (seq > want[key] if last else seq < want[key]):
            want[key] = seq
    key_array, seq_array = pa.array(keys, pa.string()), pa.array(seqs, pa.int64())
    for hashed in (True, False):
        with pytest.MonkeyPatch.context() as patch:  # hypothesis: no function-scoped fixture
            patch.setattr(query, "_hash_groups", lambda _rows, hashed=hashed: hashed)
            found = query.seq_per(key_array, seq_array, last=last)
        assert sorted(pa.chunked_array([found]).to_pylist()) == sorted(want.values())


def test_hash_groups_only_above_the_bound_once_acero_is_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Grouping by hash loads Acero, and with it ``pyarrow.dataset`` and pandas: a process
    that has not loaded it sorts instead, at any size."""
    monkeypatch.delitem(sys.modules, "pyarrow.acero", raising=False)
    assert not query._hash_groups(query.SORT_GROUP_ROWS + 1)
    monkeypatch.setitem(sys.modules, "pyarrow.acero", types.ModuleType("pyarrow.acero"))
    assert query._hash_groups(query.SORT_GROUP_ROWS + 1)
    assert not query._hash_groups(query.SORT_GROUP_ROWS)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["run:p.a", "run:p.b", None]),
            st.one_of(st.none(), st.floats(-10, 10, allow_nan=False)),
            st.integers(0, 3),
        ),
        max_size=40,
    )
)
def test_latest_value_per_key_skips_nulls_as_the_group_by_does(rows: list[tuple]) -> None:
    """The latest value of each key (greatest valid time, then seq) read by sorting equals
    Arrow's hash group-by "last" over the same order: a null value gives way to the key's last
    non-null one, and a key of null values only has a null."""
    table = pa.table(
        {
            "run_ref": pa.array([r[0] for r in rows], pa.string()),
            "value": pa.array([r[1] for r in rows], pa.float64()),
            "valid_time": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "seq": pa.array(range(1, len(rows) + 1), pa.int64()),
        }
    )
    keys, values = query.value_columns(table, "latest")
    got = dict(zip(keys.to_pylist(), values.to_pylist(), strict=True))
    ordered = table.sort_by(
        [("run_ref", "ascending"), ("valid_time", "ascending"), ("seq", "ascending")]
    )
    grouped = ordered.group_by("run_ref", use_threads=False).aggregate([("value", "last")])
    want = dict(zip(grouped.column(0).to_pylist(), grouped.column(1).to_pylist(), strict=True))
    assert got == want
    assert len(keys) == len(want)
