"""A reader keeps at most ``SEALED_MAPS`` sealed segments mapped between reads: one that walks
the whole ledger (a projection catch-up at close, a history scan) does not hold every segment
it read resident; reads after the maps were let go answer the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import Ledger, PendingEvent
from ledger import reader as reader_module


def event(i: int) -> PendingEvent:
    return PendingEvent(
        "record.metric", f"record:p.r.m{i}", "project:p", "run:p.r", None, 10 + i, "loss",
        0.5 * i, i, "me", b"body%d" % i,
    )  # fmt: skip


def mapped_segments() -> int:
    return sum(1 for line in Path("/proc/self/maps").read_text().splitlines() if "segment-" in line)


@pytest.mark.parametrize("keep", [1, 2, 4])
def test_a_whole_ledger_read_keeps_at_most_the_bound_of_sealed_maps(
    tmp_path: Path, keep: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader_module, "SEALED_MAPS", keep)
    ledger = Ledger(tmp_path / "l")
    ledger.roll_bytes = 1  # every commit seals its segment
    for i in range(9):
        ledger.append(event(i))
        ledger.commit()
    head = ledger.head()
    assert head.segment >= 8
    seqs = [
        seq for _, frame in ledger.frames(head) for seq in frame.batch.column("seq").to_pylist()
    ]
    assert seqs == list(range(1, 10))
    assert len(ledger._sealed) == keep
    assert list(ledger._sealed) == list(range(head.segment - keep, head.segment))
    before = mapped_segments()
    again = ledger.read_table().column("seq").to_pylist()  # maps let go are mapped again
    assert again == list(range(1, 10))
    assert len(ledger._sealed) <= keep
    if Path("/proc/self/maps").exists():
        assert mapped_segments() <= before + 1
    ledger.close()
