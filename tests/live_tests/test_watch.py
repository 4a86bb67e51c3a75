"""``ctx.watch``: filters, where it starts, when it ends, and that a missed file event only
delays (never loses) an event."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import contexta.live as live
from contexta import Contexta
from contexta.common.errors import ContextaError, IntegrityError, ValidationError
from contexta.contract import MetricRecord
from ledger import list_segments

from .builders import event, metric, seed_run


@pytest.fixture
def pair(workspace: Path) -> Iterator[tuple[Contexta, Contexta]]:
    """A writer and a reader on the same workspace (they share nothing but the files)."""
    writer = Contexta(workspace=workspace)
    seed_run(writer, "p", "a", stages=("train", "eval"))
    seed_run(writer, "p", "b")
    writer.flush()
    yield writer, Contexta(workspace=workspace)
    writer.close()


def _write(ctx: Contexta, *records: Any) -> None:
    ctx.record_store.append_many(records)
    ctx.flush()


def test_starts_after_the_current_head(pair: tuple[Contexta, Contexta]) -> None:
    writer, reader = pair
    _write(writer, metric("p", "a", "loss", 1.0, "m1"))
    events = reader.watch(timeout=0.5)
    _write(writer, metric("p", "a", "loss", 2.0, "m2"))
    got = list(events)
    assert [(e.kind, e.value) for e in got] == [("record.metric", 2.0)]
    assert isinstance(got[0].model, MetricRecord)
    assert got[0].seq == writer._workspace.ledger.head().seq


def test_after_seq_replays_from_there(pair: tuple[Contexta, Contexta]) -> None:
    writer, reader = pair
    _write(writer, *(metric("p", "a", "loss", float(i), f"m{i}") for i in range(5)))
    head = writer._workspace.ledger.head().seq
    seqs = [e.seq for e in reader.watch(after_seq=head - 3, timeout=0)]
    assert seqs == [head - 2, head - 1, head]
    everything = [e.seq for e in reader.watch(after_seq=0, timeout=0)]
    assert everything == list(range(1, head + 1))


def test_filters_by_run_kind_and_key(pair: tuple[Contexta, Contexta]) -> None:
    writer, reader = pair
    by_run = reader.watch("p.a", timeout=0.2)
    by_bare_name = reader.watch("b", timeout=0.2)
    by_kind = reader.watch(kinds="event", timeout=0.2)
    by_key = reader.watch(keys=["acc", "note"], kinds=("record.metric",), timeout=0.2)
    _write(
        writer,
        metric("p", "a", "loss", 1.0, "m1"),
        metric("p", "b", "acc", 0.5, "m2"),
        event("p", "a", "note", "hello", "e1"),
        metric("p", "a", "acc", 0.7, "m3", stage="eval"),
    )
    assert [e.ref for e in by_run] == ["record:p.a.m1", "record:p.a.e1", "record:p.a.m3"]
    assert [e.ref for e in by_bare_name] == ["record:p.b.m2"]
    assert [e.ref for e in by_kind] == ["record:p.a.e1"]
    assert [e.ref for e in by_key] == ["record:p.b.m2", "record:p.a.m3"]


def test_a_run_that_does_not_exist_yet_can_be_watched(workspace: Path) -> None:
    reader = Contexta(workspace=workspace)  # nothing written: no ledger directory yet
    events = reader.watch("run:q.later", timeout=1)
    writer = Contexta(workspace=workspace)

    def write() -> None:
        time.sleep(0.3)
        seed_run(writer, "q", "later")
        _write(writer, metric("q", "later", "loss", 3.0, "m1"))

    thread = threading.Thread(target=write)
    thread.start()
    got = [e.kind for e in events]
    thread.join()
    assert got == ["run.put", "stage.put", "record.metric"]


def test_unknown_bare_run_name_is_an_error(pair: tuple[Contexta, Contexta]) -> None:
    _, reader = pair
    with pytest.raises(ContextaError) as info:
        reader.watch("nope")
    assert "not_found" in info.value.code


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"timeout": -1}, "watch_invalid_timeout"),
        ({"timeout": "soon"}, "watch_invalid_timeout"),
        ({"after_seq": 1.5}, "watch_invalid_after_seq"),
        ({"kinds": [""]}, "watch_invalid_kind"),
        ({"keys": [3]}, "watch_invalid_key"),
    ],
)
def test_bad_arguments_fail_at_the_call(pair, kwargs: dict[str, Any], code: str) -> None:
    _, reader = pair
    with pytest.raises(ValidationError) as info:
        reader.watch(**kwargs)  # not deferred to the first next()
    assert info.value.code == code


def test_timeout_counts_waiting_without_matching_events(pair: tuple[Contexta, Contexta]) -> None:
    writer, reader = pair
    started = time.monotonic()
    assert list(reader.watch(timeout=0.2)) == []
    assert 0.2 <= time.monotonic() - started < 5
    events = reader.watch(keys="acc", timeout=0.4)
    stop = threading.Event()

    def noise() -> None:  # commits that match nothing do not keep the watch alive
        i = 0
        while not stop.is_set():
            i += 1
            _write(writer, metric("p", "a", "loss", 0.0, f"n{i}"))
            time.sleep(0.02)

    thread = threading.Thread(target=noise)
    thread.start()
    try:
        assert list(events) == []
    finally:
        stop.set()
        thread.join()


def test_close_stops_following(pair: tuple[Contexta, Contexta]) -> None:
    writer, reader = pair
    events = reader.watch()  # no timeout: runs until closed
    _write(writer, metric("p", "a", "loss", 1.0, "m1"))
    assert next(events).value == 1.0
    events.close()
    _write(writer, metric("p", "a", "loss", 2.0, "m2"))
    with pytest.raises(StopIteration):
        next(events)


def test_own_writes_are_seen_after_they_commit(pair: tuple[Contexta, Contexta]) -> None:
    writer, _ = pair
    events = writer.watch(timeout=0.3)
    writer.record_store.append(metric("p", "a", "loss", 4.0, "m1"))  # buffered ...
    writer.flush()  # ... committed
    assert [e.value for e in events] == [4.0]


def test_missed_file_events_only_delay(pair, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a file watcher that never reports a change, the HEAD poll still finds every
    event, in order, across segment rolls."""
    writer, reader = pair

    def deaf_watch(*args: Any, rust_timeout: int, **kwargs: Any) -> Iterator[set[Any]]:
        while True:
            time.sleep(rust_timeout / 1000)
            yield set()

    monkeypatch.setattr("watchfiles.watch", deaf_watch)
    writer._workspace.ledger.roll_bytes = 8_000
    events = reader.watch(timeout=1.0)

    def write() -> None:
        for burst in range(10):
            _write(
                writer,
                *(
                    metric("p", "a", "loss", float(burst * 20 + i), f"m{burst}-{i}")
                    for i in range(20)
                ),
            )
            time.sleep(0.03)

    thread = threading.Thread(target=write)
    thread.start()
    values = [e.value for e in events]
    thread.join()
    assert values == [float(i) for i in range(200)]
    assert len(list_segments(writer._workspace.ledger.root)) > 2


def test_damage_surfaces_as_an_integrity_error(pair: tuple[Contexta, Contexta]) -> None:
    writer, reader = pair
    events = reader.watch(timeout=1)
    offset = writer._workspace.ledger.head().offset
    _write(writer, metric("p", "a", "loss", 1.0, "m1"))
    path = list_segments(writer._workspace.ledger.root)[-1].path
    data = bytearray(path.read_bytes())
    data[offset + 100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        next(events)


def test_poll_interval_is_at_most_a_quarter_second() -> None:
    assert live.POLL_SECONDS <= 0.25
