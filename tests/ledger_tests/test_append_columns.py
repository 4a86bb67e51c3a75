"""``Ledger.append_columns``: events given as Arrow columns commit after what was buffered,
read back equal to the same events appended as tuples, and a call that does not fit the event
row raises ``LedgerValidationError`` naming the column and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from ledger import Ledger, PendingEvent
from ledger.errors import LedgerValidationError
from ledger.schema import EVENT_SCHEMA

EVENTS = [
    PendingEvent(
        "record.metric",
        f"record:p.r.m{i}",
        "project:p",
        "run:p.r",
        None,
        10 + i,
        "loss",
        0.5 * i,
        i,
        "me",
        b"body%d" % i,
    )
    for i in range(7)
]


def columns(events: list[PendingEvent]) -> pa.Table:
    names = list(PendingEvent._fields)
    return pa.table(
        {
            name: pa.array([e[i] for e in events], EVENT_SCHEMA.field(name).type)
            for i, name in enumerate(names)
        }
    )


def rows(ledger: Ledger) -> list[tuple]:
    table = ledger.read_table()
    return [tuple(r.values())[2:] for r in table.to_pylist()]


def test_columns_commit_after_the_buffer_and_equal_tuple_appends(tmp_path: Path) -> None:
    by_tuples = Ledger(tmp_path / "a")
    by_tuples.append_many(EVENTS)
    by_tuples.flush()
    by_columns = Ledger(tmp_path / "b")
    by_columns.append_many(EVENTS[:2])  # buffered: committed before the columns
    by_columns.append_columns(columns(EVENTS[2:]), batch_rows=2)  # three commits
    by_columns.flush()
    assert rows(by_columns) == rows(by_tuples)
    assert by_columns.read_table().column("seq").to_pylist() == list(range(1, 8))
    by_tuples.close()
    by_columns.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: t.drop_columns(["body"]), "body"),
        (lambda t: t.set_column(7, "value", pa.array(["x"] * t.num_rows)), "value"),
        (lambda t: t.set_column(0, "kind", pa.array([None] * t.num_rows, pa.string())), "kind"),
        (lambda t: "not a table", "columns"),
    ],
)
def test_columns_that_do_not_fit_are_refused_and_nothing_is_written(
    tmp_path: Path, change: object, field: str
) -> None:
    ledger = Ledger(tmp_path / "l")
    ledger.append_many(EVENTS[:1])
    ledger.flush()
    with pytest.raises(LedgerValidationError) as info:
        ledger.append_columns(change(columns(EVENTS)))  # type: ignore[operator]
    assert info.value.details["field"] == field
    assert ledger.head().seq == 1
    ledger.close()


def many(n: int, start: int = 0) -> pa.Table:
    return pa.table(
        {
            "kind": pa.array(["record.metric"] * n),
            "ref": pa.array([f"record:p.r.n{start + i}" for i in range(n)]),
            "project_ref": pa.array(["project:p"] * n),
            "run_ref": pa.array(["run:p.r"] * n),
            "stage_ref": pa.array([None] * n, pa.string()),
            "valid_time": pa.array([5] * n, pa.timestamp("us", tz="UTC")),
            "key": pa.array(["loss"] * n),
            "value": pa.array([float(i) for i in range(n)]),
            "step": pa.array(list(range(start, start + n)), pa.int64()),
            "actor": pa.array(["me"] * n),
            "body": pa.array([b"b%d" % i for i in range(n)]),
        }
    )


@pytest.mark.parametrize("n", [1, 4096, 4097, 70_000])
def test_seq_is_contiguous_across_sizes_of_commit(tmp_path: Path, n: int) -> None:
    """Small commits number their rows one way, large ones another: both give each row the
    next seq, and a tuple append after them continues the count."""
    ledger = Ledger(tmp_path / "l")
    ledger.append_many(EVENTS[:2])
    ledger.append_columns(many(n))
    ledger.append_many(EVENTS[2:3])
    ledger.flush()
    assert ledger.read_table().column("seq").to_pylist() == list(range(1, n + 4))
    ledger.close()


def test_a_stream_of_tables_commits_each_in_order_after_the_buffer(tmp_path: Path) -> None:
    by_tuples = Ledger(tmp_path / "a")
    by_tuples.append_many(EVENTS)
    by_tuples.flush()
    streamed = Ledger(tmp_path / "b")
    streamed.append_many(EVENTS[:2])  # buffered: committed before the stream
    parts = [columns(EVENTS[2:4]), columns(EVENTS[4:4]), columns(EVENTS[4:7])]
    info = streamed.append_column_stream(iter(parts))
    assert info is not None and (info.first_seq, info.count) == (5, 3)
    assert streamed.commits == 3  # the buffer, then one commit per table with rows
    streamed.flush()
    assert rows(streamed) == rows(by_tuples)
    assert streamed.append_column_stream([]) is None
    streamed.close()
    by_tuples.close()


def test_a_stream_stops_at_a_table_that_does_not_fit(tmp_path: Path) -> None:
    """Each table is checked just before its commit: those before a bad one stand, nothing
    of the bad one or after it is written, and the writer goes on."""
    ledger = Ledger(tmp_path / "l")
    bad = columns(EVENTS[2:4]).drop_columns(["body"])
    with pytest.raises(LedgerValidationError) as info:
        ledger.append_column_stream([columns(EVENTS[:2]), bad, columns(EVENTS[4:])])
    assert info.value.details["field"] == "body"
    assert ledger.head().seq == 2
    ledger.append_columns(columns(EVENTS[2:]))
    ledger.flush()
    assert ledger.read_table().column("ref").to_pylist() == [e.ref for e in EVENTS]
    ledger.close()


def test_a_failing_producer_leaves_what_it_gave_committed_and_the_writer_usable(
    tmp_path: Path,
) -> None:
    def produce():  # type: ignore[no-untyped-def]
        yield columns(EVENTS[:3])
        raise MemoryError("the producer ran out")

    ledger = Ledger(tmp_path / "l")
    with pytest.raises(MemoryError):
        ledger.append_column_stream(produce())
    assert ledger.head().seq == 3
    ledger.append_many(EVENTS[3:])  # the commit lock was released
    ledger.flush()
    assert ledger.read_table().column("seq").to_pylist() == list(range(1, 8))
    ledger.close()
