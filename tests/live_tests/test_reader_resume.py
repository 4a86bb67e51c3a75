"""A long-lived LedgerReader gives the same answers as a fresh one, whatever order its scans
come in (scans may resume where an earlier one ended; they must never skip or repeat)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger, LedgerReader, PendingEvent


def _seqs(reader: LedgerReader, after: int, stop_after: int | None = None) -> list[int]:
    out: list[int] = []
    frames = reader.frames(after_seq=after)
    for n, (_, frame) in enumerate(frames):
        first = max(frame.first_seq, after + 1)
        out += range(first, frame.first_seq + frame.count)
        if stop_after is not None and n + 1 >= stop_after:
            frames.close()  # an abandoned scan
            break
    return out


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 60), st.none() | st.integers(1, 3)),
        min_size=1,
        max_size=12,
    ),
    roll_bytes=st.sampled_from([900, 4000, 1 << 20]),
)
def test_scans_in_any_order_match_a_fresh_reader(
    tmp_path_factory: pytest.TempPathFactory, steps, roll_bytes: int
) -> None:
    root = tmp_path_factory.mktemp("resume") / "ledger"
    ledger = Ledger(root, roll_bytes=roll_bytes, buffer_max_events=10_000)
    reader = LedgerReader(root)  # long-lived, like a Projector's
    n = 0
    for commits, after, stop_after in steps:
        for _ in range(commits):
            ledger.append_many(
                PendingEvent("record.metric", f"r{n + i}", body=b"y" * 30) for i in range(1 + n % 3)
            )
            n += 1 + n % 3
            ledger.commit()
        head = reader.head().seq
        after = min(after, head)
        got = _seqs(reader, after, stop_after)
        want = _seqs(LedgerReader(root), after, stop_after)
        assert got == want
        if stop_after is None:
            assert got == list(range(after + 1, head + 1))
    ledger.close()
