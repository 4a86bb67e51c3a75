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
