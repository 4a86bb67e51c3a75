"""A long-lived reader's queries reflect every commit made before them, folding only the
batches committed since its last query -- with no file events involved at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ledger.segment
from contexta import Contexta
from ledger import LedgerReader

from .builders import metric, seed_run

#: The ledger reader resumes scans where the previous one ended (see docs/live.md). Without
#: it, every catch-up re-decodes the active segment from its start.


def _queries(reader: Contexta) -> tuple[Any, ...]:
    runs = tuple(sorted(r.name for r in reader.list_runs("p")))
    snapshot = reader.get_run_snapshot("p.a")
    best = reader.select_best_run(["p.a", "p.b"], "acc", stage_name="train")
    return runs, len(snapshot.records), best


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """For each ledger scan (``LedgerReader.frames``), how many batches it decoded."""
    decoded = [0]
    out: list[int] = []
    read_frame = ledger.segment.read_frame
    frames = LedgerReader.frames

    def counting_read(*args: Any, **kwargs: Any) -> Any:
        decoded[0] += 1
        return read_frame(*args, **kwargs)

    def counting_frames(self: LedgerReader, *args: Any, **kwargs: Any) -> Iterator[Any]:
        before = decoded[0]
        yield from frames(self, *args, **kwargs)
        out.append(decoded[0] - before)

    monkeypatch.setattr(ledger.segment, "read_frame", counting_read)
    monkeypatch.setattr(LedgerReader, "frames", counting_frames)
    return out


def test_queries_reflect_every_commit_before_them(workspace: Path) -> None:
    writer = Contexta(workspace=workspace)
    seed_run(writer, "p", "a")
    seed_run(writer, "p", "b")
    writer.record_store.append(metric("p", "b", "acc", 0.5, "b1"))
    writer.flush()
    reader = Contexta(workspace=workspace)
    assert _queries(reader) == (("a", "b"), 0, "p.b")
    for i in range(1, 6):
        writer.record_store.append(metric("p", "a", "acc", 0.25 + 0.1 * i, f"a{i}"))
        writer.flush()  # no watcher, no file event: the query itself reads the new head
        best = "p.a" if i >= 3 else "p.b"  # a: 0.35, 0.45, 0.55, ... vs b: 0.5
        assert _queries(reader) == (("a", "b"), i, best)
    seed_run(writer, "p", "c")
    writer.flush()
    assert _queries(reader)[0] == ("a", "b", "c")


def test_a_query_folds_only_the_new_batches(workspace: Path, scans: list[int]) -> None:
    writer = Contexta(workspace=workspace)
    seed_run(writer, "p", "a")
    seed_run(writer, "p", "b")
    writer.flush()
    for i in range(100):  # 100 small batches in the active segment
        writer.record_store.append(metric("p", "b", "acc", 0.5, f"b{i}"))
        writer.flush()
    reader = Contexta(workspace=workspace)
    _queries(reader)  # loads and folds everything once
    for i in range(3):
        writer.record_store.append(metric("p", "a", "acc", 0.9, f"a{i}"))
        writer.flush()  # three new batches
    scans.clear()
    assert _queries(reader) == (("a", "b"), 3, "p.a")
    assert scans  # the queries did catch up ...
    assert max(scans) <= 3  # ... each scan decoding only the 3 new batches, not the 100 before
