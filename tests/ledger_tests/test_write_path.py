"""The write path: appends beside a commit in progress, failed commits under concurrent appends,
the struct-built batch against the column-by-column one, and compressed (LZ4) and older
(zstd) batches read back and verified."""

from __future__ import annotations

import errno
import math
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import Ledger, LedgerIOError, PendingEvent, read_head, verify
from ledger import segment as segment_mod
from ledger.fs import FileSystem
from ledger.schema import EVENT_SCHEMA
from ledger.segment import GENESIS_CHAIN, encode_batch, iter_frames, verify_chain
from ledger.writer import _build_batch

LIVENESS_S = 60.0  # a thread that has not finished by then is deadlocked, not slow


def event(tag: str, i: int, size: int = 40) -> PendingEvent:
    return PendingEvent(
        "record.metric",
        f"record:p.r.{tag}{i}",
        "project:p",
        "run:p.r",
        None,
        1_000 + i,
        "loss",
        float(i),
        i,
        "tester",
        f"{tag}:{i}".encode().ljust(size, b"."),
    )


def bodies(root: Path) -> list[bytes]:
    return Ledger(root).read_table().column("body").to_pylist()


def body_tags(root: Path) -> list[str]:
    return [b.rstrip(b".").decode() for b in bodies(root)]


class GatedFS(FileSystem):
    """Holds every batch write to a segment until ``release`` is set (``entered`` tells that a
    commit is inside it), and fails the first ``fail`` of them with ENOSPC after the hold."""

    def __init__(self, fail: int = 0) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = fail
        self._segments: set[int] = set()

    def open(self, path: Path, flags: int, mode: int = 0o644) -> int:
        fd = super().open(path, flags, mode)
        if Path(path).name.startswith("segment-") and Path(path).suffix == ".arrows":
            self._segments.add(fd)
        else:
            self._segments.discard(fd)
        return fd

    def pwrite(self, fd: int, data: bytes, offset: int) -> int:
        if fd in self._segments:
            self.entered.set()
            assert self.release.wait(LIVENESS_S)
            if self.fail:
                self.fail -= 1
                raise OSError(errno.ENOSPC, "No space left on device")
        return super().pwrite(fd, data, offset)


def start(target, *args) -> tuple[threading.Thread, dict]:  # type: ignore[no-untyped-def]
    """Run ``target(*args)`` on a thread; the dict gets its result or error."""
    out: dict = {}

    def run() -> None:
        try:
            out["result"] = target(*args)
        except BaseException as exc:  # handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def finish(thread: threading.Thread, out: dict):  # type: ignore[no-untyped-def]
    thread.join(LIVENESS_S)
    assert not thread.is_alive(), "the call never returned"
    if "error" in out:
        raise out["error"]
    return out.get("result")


def test_an_append_does_not_wait_for_a_commit_in_progress(tmp_path: Path) -> None:
    fs = GatedFS()
    ledger = Ledger(tmp_path / "l", buffer_max_events=4, fs=fs)
    ledger.commit()  # nothing buffered: no write, nothing gated
    committing, out = start(ledger.append_many, [event("a", i) for i in range(4)])  # fills: commits
    assert fs.entered.wait(LIVENESS_S)
    appender, appended = start(ledger.append_many, [event("b", i) for i in range(3)])
    assert finish(appender, appended) is None  # returned while the commit is still held
    assert not fs.release.is_set() and committing.is_alive()
    assert ledger.buffered == 7  # the 4 being committed and the 3 buffered
    fs.release.set()
    info = finish(committing, out)
    assert (info.first_seq, info.count) == (1, 4)
    ledger.close()
    root = tmp_path / "l"
    assert body_tags(root) == [f"a:{i}" for i in range(4)] + [f"b:{i}" for i in range(3)]
    assert Ledger(root).read_table().column("seq").to_pylist() == list(range(1, 8))
    assert verify(root).ok


def test_a_filling_append_returns_the_commit_that_ends_with_its_events(tmp_path: Path) -> None:
    fs = GatedFS()
    ledger = Ledger(tmp_path / "l", buffer_max_events=4, fs=fs)
    first, first_out = start(ledger.append_many, [event("a", i) for i in range(4)])
    assert fs.entered.wait(LIVENESS_S)
    second, second_out = start(ledger.append_many, [event("b", i) for i in range(5)])  # fills too
    third, third_out = start(ledger.append_many, [event("c", i) for i in range(2)])
    assert finish(third, third_out) is None
    fs.release.set()
    a, b = finish(first, first_out), finish(second, second_out)
    ledger.close()
    table = Ledger(tmp_path / "l").read_table()
    tags = [x.rstrip(b".").decode() for x in table.column("body").to_pylist()]
    # each returned commit ends with the caller's own events (receipts count back from its end)
    assert tags[a.first_seq + a.count - 5 : a.first_seq + a.count - 1] == [
        f"a:{i}" for i in range(4)
    ]
    assert tags[b.first_seq + b.count - 6 : b.first_seq + b.count - 1] == [
        f"b:{i}" for i in range(5)
    ]
    assert sorted(tags) == sorted(
        [f"a:{i}" for i in range(4)] + [f"b:{i}" for i in range(5)] + [f"c:{i}" for i in range(2)]
    )
    assert table.column("seq").to_pylist() == list(range(1, 12))


def test_a_failed_commit_puts_its_events_back_in_front_of_later_appends(tmp_path: Path) -> None:
    fs = GatedFS(fail=1)
    ledger = Ledger(tmp_path / "l", buffer_max_events=4, fs=fs)
    failing, out = start(ledger.append_many, [event("a", i) for i in range(4)])
    assert fs.entered.wait(LIVENESS_S)
    assert ledger.append_many([event("b", i) for i in range(2)]) is None
    fs.release.set()
    with pytest.raises(LedgerIOError) as caught:
        finish(failing, out)
    assert not caught.value.details.get("committed")
    assert ledger.buffered == 6
    info = ledger.commit()  # the retry: the failed events first, then the later ones
    assert (info.first_seq, info.count) == (1, 6)
    ledger.close()
    assert body_tags(tmp_path / "l") == [f"a:{i}" for i in range(4)] + ["b:0", "b:1"]
    assert verify(tmp_path / "l").ok


def test_a_failed_commit_joins_the_next_cut_batch_which_still_commits(tmp_path: Path) -> None:
    fs = GatedFS(fail=1)
    ledger = Ledger(tmp_path / "l", buffer_max_events=4, fs=fs)
    failing, failing_out = start(ledger.append_many, [event("a", i) for i in range(4)])
    assert fs.entered.wait(LIVENESS_S)
    waiting, waiting_out = start(ledger.append_many, [event("b", i) for i in range(4)])  # fills
    while ledger.buffered < 8:  # until the second batch is cut and waits for the commit lock
        time.sleep(0.001)
    fs.release.set()
    with pytest.raises(LedgerIOError):
        finish(failing, failing_out)
    info = finish(waiting, waiting_out)
    assert (info.first_seq, info.count) == (1, 8)  # ends with b's events: a's went in front
    ledger.close()
    assert body_tags(tmp_path / "l") == [f"a:{i}" for i in range(4)] + [f"b:{i}" for i in range(4)]


@pytest.mark.parametrize("durability", ["flush", "fsync"])
def test_threads_appending_at_once_keep_every_event_once_in_call_order(
    tmp_path: Path, durability: str
) -> None:
    root = tmp_path / "l"
    ledger = Ledger(root, durability=durability, buffer_max_events=7, buffer_max_ms=1.0)
    results: dict[str, list] = {}

    def writer(tag: str) -> None:
        calls = []
        for call in range(30):
            events = [event(tag, call * 10 + j) for j in range(1 + call % 4)]
            calls.append((events, ledger.append_many(events)))
        results[tag] = calls

    threads = [start(writer, f"t{k}-") for k in range(4)]
    for thread, out in threads:
        finish(thread, out)
    ledger.close()
    table = Ledger(root).read_table()
    assert table.column("seq").to_pylist() == list(range(1, table.num_rows + 1))
    tags = [b.rstrip(b".").decode() for b in table.column("body").to_pylist()]
    for tag, calls in results.items():
        mine = [t for t in tags if t.startswith(tag)]
        assert mine == [e.body.rstrip(b".").decode() for events, _ in calls for e in events]
        for events, info in calls:
            if durability == "fsync":
                assert info is not None and info.durability == "FSYNCED"
            if info is None:
                continue
            end = info.first_seq + info.count - 1
            got = tags[end - len(events) : end]
            assert got == [e.body.rstrip(b".").decode() for e in events]
    assert verify(root).ok


def test_the_timer_restarts_after_close_and_reopen(tmp_path: Path) -> None:
    root = tmp_path / "l"
    ledger = Ledger(root, buffer_max_ms=1.0)
    for round_ in (1, 2):
        ledger.append(event("t", round_))
        deadline = time.monotonic() + LIVENESS_S
        while (head := read_head(root)) is None or head.seq < round_:
            assert time.monotonic() < deadline, "the background thread never committed"
            time.sleep(0.002)
        ledger.close()
        ledger.reopen()
    ledger.close()
    assert body_tags(root) == ["t:1", "t:2"]


# ---------------------------------------------------------------------------- batches and frames

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_EVENTS = st.lists(
    st.builds(
        PendingEvent,
        st.sampled_from(["record.metric", "run.put", "stage.put"]),
        st.none() | _TEXT,
        st.none() | st.sampled_from(["project:p", "project:q"]),
        st.none() | _TEXT,
        st.none() | _TEXT,
        st.none() | st.integers(-(2**62), 2**62),
        st.none() | _TEXT,
        st.none() | st.floats(allow_nan=True, allow_infinity=True),
        st.none() | st.integers(-(2**63), 2**63 - 1),
        st.none() | _TEXT,
        st.binary(max_size=80),
    ),
    min_size=1,
    max_size=70,
)


def _column_by_column(events: list[PendingEvent], first_seq: int, tx: int) -> pa.RecordBatch:
    """The simple path: one ``pa.array`` per column of the transposed tuples."""
    n = len(events)
    arrays = [
        pa.array(range(first_seq, first_seq + n), pa.int64()),
        pa.array([tx] * n, EVENT_SCHEMA.field("tx_time").type),
    ]
    for field, values in zip(tuple(EVENT_SCHEMA)[2:], zip(*events, strict=True), strict=True):
        arrays.append(pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=EVENT_SCHEMA)


def _rows(table: pa.Table) -> list[tuple]:
    def same(value: object) -> object:  # NaN == NaN for the comparison
        return "NaN" if isinstance(value, float) and math.isnan(value) else value

    columns = [
        table.column(name).cast(pa.int64()).to_pylist()
        if name == "valid_time"
        else table.column(name).to_pylist()
        for name in PendingEvent._fields
    ]
    return [tuple(same(v) for v in row) for row in zip(*columns, strict=True)]


@settings(max_examples=60, deadline=None)
@given(_EVENTS, st.integers(1, 2**40), st.integers(0, 2**52))
def test_the_batch_built_from_rows_equals_the_column_by_column_one(events, first_seq, tx) -> None:
    built = _build_batch(events, first_seq, tx)
    simple = _column_by_column(events, first_seq, tx)
    assert built.schema.equals(EVENT_SCHEMA, check_metadata=True)
    for name in ("seq", "tx_time"):
        assert built.column(name).equals(simple.column(name))
    assert _rows(pa.Table.from_batches([built])) == _rows(pa.Table.from_batches([simple]))
    if not any(e.value is not None and math.isnan(e.value) for e in events):
        assert built.equals(simple)


@settings(max_examples=25, deadline=None)
@given(st.lists(_EVENTS, min_size=1, max_size=4))
def test_commits_of_any_size_round_trip_and_verify(tmp_path_factory, commits) -> None:
    root = tmp_path_factory.mktemp("rt") / "ledger"
    ledger = Ledger(root, buffer_max_events=10_000)
    for events in commits:
        ledger.append_many(events)
        ledger.commit()
    ledger.close()
    expected = [e for events in commits for e in events]
    table = Ledger(root).read_table()
    assert _rows(table) == _rows(pa.Table.from_batches([_column_by_column(expected, 1, 0)]))
    assert table.column("seq").to_pylist() == list(range(1, len(expected) + 1))
    assert verify(root).ok


def _frame_of(message: memoryview | bytes) -> tuple[pa.Buffer, object]:
    buf = pa.py_buffer(segment_mod.SCHEMA_MESSAGE + bytes(message) + segment_mod.EOS)
    frames = list(iter_frames(buf, len(segment_mod.SCHEMA_MESSAGE), buf.size, "mem"))
    assert len(frames) == 1
    return buf, frames[0]


@pytest.mark.parametrize("rows", [1, 15, 16, 17, 300])
def test_encoded_batches_are_sealed_frames_compressed_from_the_threshold(
    rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [event("e", i, size=200) for i in range(rows)]
    batch = _build_batch(events, 5, 1_700_000_000_000_000)

    def encode() -> tuple[memoryview, str]:
        return encode_batch(
            batch, first_seq=5, tx_time=1_700_000_000_000_000, prev_chain=GENESIS_CHAIN
        )

    message, chain = encode()
    buf, frame = _frame_of(message)
    assert (frame.first_seq, frame.count, frame.chain) == (5, rows, chain)
    assert verify_chain(frame, buf)
    assert frame.batch.equals(batch)
    monkeypatch.setattr(segment_mod, "COMPRESS_MIN_ROWS", 1 << 60)
    plain, plain_chain = encode()
    assert _frame_of(plain)[1].batch.equals(batch)
    if rows >= 16:
        assert len(message) < len(plain) / 2  # compressed
    else:
        assert bytes(message) == bytes(plain) and chain == plain_chain


def test_a_ledger_mixing_plain_lz4_and_older_zstd_batches_reads_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "l"
    ledger = Ledger(root, buffer_max_events=10_000)
    sizes = []
    with monkeypatch.context() as patch:  # what earlier versions wrote: zstd batches
        patch.setattr(segment_mod, "_COMPRESSED", pa.ipc.IpcWriteOptions(compression="zstd"))
        ledger.append_many([event("z", i) for i in range(40)])
        sizes.append(ledger.commit().count)
    for tag, n in (("p", 3), ("l", 50), ("q", 1)):
        ledger.append_many([event(tag, i) for i in range(n)])
        sizes.append(ledger.commit().count)
    ledger.close()
    assert sizes == [40, 3, 50, 1]
    expected = (
        [f"z:{i}" for i in range(40)]
        + [f"p:{i}" for i in range(3)]
        + [f"l:{i}" for i in range(50)]
        + ["q:0"]
    )
    assert body_tags(root) == expected
    assert verify(root).ok


def test_append_fitted_buffers_and_commits_as_append_many_does(tmp_path: Path) -> None:
    """``append_fitted`` (rows built to fit, not checked again) keeps ``append_many``'s buffer,
    commit and order; a closed writer refuses it the same way."""
    from ledger import LedgerClosedError

    fitted, checked = tmp_path / "fitted", tmp_path / "checked"
    for root, append in ((fitted, "append_fitted"), (checked, "append_many")):
        ledger = Ledger(root, buffer_max_events=4)
        commits = [getattr(ledger, append)([event("e", i)]) for i in range(10)]
        # the 4th, 8th: the buffer filled, the call committed it and returned that commit
        assert [c is not None for c in commits] == [i % 4 == 3 for i in range(10)]
        ledger.close()
        with pytest.raises(LedgerClosedError):
            getattr(ledger, append)([event("late", 0)])
    assert bodies(fitted) == bodies(checked) and len(bodies(fitted)) == 10
    assert verify(fitted).ok
