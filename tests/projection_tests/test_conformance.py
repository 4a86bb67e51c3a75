"""The shared conformance suite, run against every projection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import EVENT_SCHEMA, Ledger, PendingEvent
from projections import ALL_PROJECTIONS, Projector
from projections.engine import _with_locator

KINDS = [
    "project.put",
    "run.put",
    "stage.put",
    "record.metric",
    "record.event",
    "record.span",
    "run.quarantine",
    "run.release",
    "deployment.put",
    "artifact.put",
    "relation.put",
]


def events(n: int, seed: int = 0) -> list[PendingEvent]:
    out = []
    for i in range(n):
        kind = KINDS[(i * 7 + seed) % len(KINDS)]
        out.append(
            PendingEvent(
                kind,
                f"ref:{i % 13}",
                "project:p",
                f"run:p.r{i % 5}",
                f"stage:p.r{i % 5}.s{i % 2}",
                1000 + i,
                f"k{i % 4}",
                float(i),
                i,
                "tester",
                f"b{i}".encode(),
            )
        )
    return out


def write(root: Path, batches: list[int], seed: int = 0) -> Ledger:
    ledger = Ledger(root)
    offset = 0
    for size in batches:
        ledger.append_many(events(offset + size, seed)[offset:])
        ledger.commit()
        offset += size
    return ledger


@pytest.mark.parametrize("cls", ALL_PROJECTIONS, ids=lambda c: c.name)
def test_empty_log_gives_empty_table_with_declared_schema(cls, tmp_path: Path) -> None:
    projector = Projector(Ledger(tmp_path / "l"), tmp_path / "p", classes=[cls])
    projection = projector.get(cls.name)
    table = projection.table()
    assert table.num_rows == 0
    assert table.schema.equals(projection.schema)
    assert projection.checkpoint == 0
    assert {"seq", "tx_time"} <= set(projection.schema.names)


@pytest.mark.parametrize("cls", ALL_PROJECTIONS, ids=lambda c: c.name)
def test_reapplying_an_applied_batch_changes_nothing(cls, tmp_path: Path) -> None:
    ledger = write(tmp_path / "l", [30, 30])
    projection = cls(EVENT_SCHEMA)
    frames = list(ledger.frames())
    for segment, frame in frames:
        projection.apply(_with_locator(frame.batch, segment, frame.offset))
    before = projection.table()
    for segment, frame in frames:
        assert projection.apply(_with_locator(frame.batch, segment, frame.offset)) == 0
    assert projection.table().equals(before)
    assert projection.checkpoint == 60


def reference_fold(cls, ledger: Ledger) -> pa.Table:
    """The simple fold: one event at a time, in Python."""
    projection = cls(EVENT_SCHEMA)
    rows = []
    for segment, frame in ledger.frames():
        batch = _with_locator(frame.batch, segment, frame.offset)
        for row in batch.to_pylist():
            kind = row["kind"]
            if kind in cls.kinds or any(kind.startswith(p) for p in cls.kind_prefixes):
                rows.append({c: row[c] for c in cls.columns})
    return pa.Table.from_pylist(rows, schema=projection.schema)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 25), min_size=1, max_size=6), st.integers(0, 10), st.data())
def test_incremental_equals_rebuild_for_any_split(tmp_path_factory, sizes, seed, data) -> None:
    root = tmp_path_factory.mktemp("w")
    ledger = Ledger(root / "l")
    total = sum(sizes)
    stream = events(total, seed)
    projector = Projector(ledger, root / "p")
    offset = 0
    for size in sizes:
        ledger.append_many(stream[offset : offset + size])
        ledger.commit()
        offset += size
        if data.draw(st.booleans()):
            projector.catch_up()
        if data.draw(st.booleans()):
            projector.save()
            projector = Projector(ledger, root / "p")  # interrupted and resumed from disk
    projector.catch_up()
    fresh = Projector(ledger, root / "fresh", persist=False)
    fresh.rebuild(save=False)
    for cls in ALL_PROJECTIONS:
        incremental = projector.get(cls.name).table()
        rebuilt = fresh.get(cls.name).table()
        assert incremental.equals(rebuilt), cls.name
        assert rebuilt.equals(reference_fold(cls, ledger)), cls.name


def test_checkpoint_and_version_persist_and_a_changed_version_rebuilds(tmp_path: Path) -> None:
    ledger = write(tmp_path / "l", [40])
    projector = Projector(ledger, tmp_path / "p")
    projector.catch_up()
    projector.save()
    again = Projector(ledger, tmp_path / "p")
    status = {s.name: s for s in again.status()}
    assert status["runs"].saved_checkpoint == 40 and status["runs"].note == "loaded"
    assert again.get("runs").table().equals(projector.get("runs").table())

    from projections.runs import RunsProjection

    class RunsV2(RunsProjection):
        version = RunsProjection.version + 1

    bumped = Projector(ledger, tmp_path / "p", classes=[RunsV2])
    runs = bumped.get("runs")
    assert bumped.status()[0].note.startswith("rebuilt (saved version")
    assert runs.table().equals(projector.get("runs").table())


def test_a_deleted_projection_folder_is_rebuilt_without_being_asked(tmp_path: Path) -> None:
    ledger = write(tmp_path / "l", [25, 25])
    projector = Projector(ledger, tmp_path / "p")
    projector.catch_up()
    projector.save()
    expected = projector.get("stage_metrics").table()
    shutil.rmtree(tmp_path / "p" / "stage_metrics")
    again = Projector(ledger, tmp_path / "p")
    assert again.get("stage_metrics").table().equals(expected)
    assert next(s.note for s in again.status() if s.name == "stage_metrics").startswith("rebuilt")
