"""The published ledger: pyarrow.dataset, Polars, DuckDB and DataFusion read the Parquet copies
of sealed segments (without importing this package's readers) and count and sum the same
events as ``history()``; ``contexta.dataset`` adds the active segment; ``ledger verify`` checks
the copies against the segments; publishing never touches a segment."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import contexta
from contexta.cli.main import main
from ledger import verify
from ledger.publish import PUBLISHED_DIR, publish, published_path, wait_published
from ledger.segment import SCHEMA_MESSAGE

from .conftest import build, open_ctx

OPS = (
    [("run", i, i, i % 2 == 0, i % 4) for i in range(4)]
    + [
        (
            "metric",
            i % 4,
            ("loss", "acc")[i % 2],
            float(i) / 3,
            i,
            (None, "train", "eval")[i % 3],
            str(i),
        )
        for i in range(60)
    ]
    + [("quarantine", 1), ("event", 2, 5)]
)


def sealed_workspace(root: Path) -> tuple[contexta.Contexta, list]:
    """A workspace whose every commit rolls the segment: every committed event is in a sealed
    segment, so the published copies hold the whole history."""
    ctx = open_ctx(root)
    ctx._workspace.ledger.roll_bytes = 1
    build(ctx, OPS)
    ctx.flush()
    assert wait_published(root / "ledger")
    events = list(ctx.history())
    return ctx, events


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("published") / "ws"
    ctx, events = sealed_workspace(root)
    publish(root / "ledger")  # anything the background publisher has not written yet
    yield root, events
    ctx.close()


def expected(events: list) -> tuple[int, float, int]:
    values = [e.value for e in events if e.kind == "record.metric"]
    return len(events), math.fsum(values), sum(e.seq for e in events)


def folder(root: Path) -> Path:
    return root / "ledger" / PUBLISHED_DIR


def test_every_sealed_segment_is_published_at_seal(sealed) -> None:
    root, _events = sealed
    segments = sorted((root / "ledger").glob("segment-*.arrows"))
    copies = sorted(folder(root).glob("*.parquet"))
    assert len(segments) >= 3 and len(copies) == len(segments) - 1  # all but the active one
    assert [published_path(root / "ledger", s) for s in segments[:-1]] == copies
    meta = pq.read_schema(copies[0]).metadata
    assert meta[b"ledger.segment"] == segments[0].name.encode()


def test_pyarrow_dataset_reads_the_copies(sealed) -> None:
    import pyarrow.dataset as ds

    root, events = sealed
    data = ds.dataset(str(folder(root)), format="parquet")
    metrics = data.to_table(filter=pc.field("kind") == "record.metric", columns=["value"])
    assert data.count_rows() == len(events)
    assert math.isclose(pc.sum(metrics.column("value")).as_py(), expected(events)[1])
    assert pc.sum(data.to_table(columns=["seq"]).column("seq")).as_py() == expected(events)[2]


def test_polars_scans_the_copies(sealed) -> None:
    pl = pytest.importorskip("polars")
    root, events = sealed
    frame = pl.scan_parquet(str(folder(root) / "*.parquet"))
    count = frame.select(pl.len()).collect().item()
    total = frame.filter(pl.col("kind") == "record.metric").select(pl.col("value").sum())
    assert count == len(events)
    assert math.isclose(total.collect().item(), expected(events)[1])
    assert frame.select(pl.col("seq").sum()).collect().item() == expected(events)[2]


def test_duckdb_reads_the_copies(sealed) -> None:
    duckdb = pytest.importorskip("duckdb")
    root, events = sealed
    pattern = str(folder(root) / "*.parquet")
    con = duckdb.connect()
    count, total, seqs = con.execute(
        "SELECT count(*), sum(value) FILTER (WHERE kind = 'record.metric'), sum(seq) "
        "FROM read_parquet(?)",
        [pattern],
    ).fetchone()
    assert count == len(events) and seqs == expected(events)[2]
    assert math.isclose(total, expected(events)[1])


def test_datafusion_reads_the_copies(sealed) -> None:
    datafusion = pytest.importorskip("datafusion")
    root, events = sealed
    ctx = datafusion.SessionContext()
    ctx.register_parquet("events", str(folder(root)))
    batch = (
        ctx.sql(
            "SELECT count(*) AS n, sum(CASE WHEN kind = 'record.metric' THEN value END) AS v, "
            "sum(seq) AS s FROM events"
        )
        .to_arrow_table()
        .to_pylist()[0]
    )
    assert batch["n"] == len(events) and batch["s"] == expected(events)[2]
    assert math.isclose(batch["v"], expected(events)[1])


def test_contexta_dataset_includes_the_active_segment(tmp_path: Path) -> None:
    ctx = open_ctx(tmp_path / "ws")
    ctx._workspace.ledger.roll_bytes = 4096  # a few sealed segments and a non-empty active one
    build(ctx, OPS)
    ctx._workspace.ledger.roll_bytes = 1 << 30
    ctx.quarantine_runs(["run:q.r3"], reason="late")  # stays in the active segment
    wait_published(tmp_path / "ws" / "ledger")
    events = list(ctx.history())
    data = contexta.dataset(tmp_path / "ws")
    table = data.to_table()
    assert table.schema.names == [
        "seq",
        "tx_time",
        "kind",
        "ref",
        "project_ref",
        "run_ref",
        "stage_ref",
        "valid_time",
        "key",
        "value",
        "step",
        "actor",
        "body",
    ]
    assert sorted(table.column("seq").to_pylist()) == [e.seq for e in events]
    assert len(list(folder(tmp_path / "ws").glob("*.parquet"))) >= 1
    head = ctx._workspace.head()
    assert head.offset > len(SCHEMA_MESSAGE)  # the active segment holds events, read too
    metrics = data.to_table(filter=pc.field("kind") == "record.metric", columns=["value"])
    assert math.isclose(pc.sum(metrics.column("value")).as_py(), expected(events)[1])
    ctx.close()


def test_dataset_of_a_folder_without_a_ledger_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(contexta.ContextaError) as raised:
        contexta.dataset(tmp_path)
    assert raised.value.code == "dataset_no_ledger"


def _digests(root: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (root / "ledger").glob("segment-*")
    }


def test_publish_command_rebuilds_missing_copies_and_never_touches_segments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    ctx, _events = sealed_workspace(root)
    ctx.close()
    before = _digests(root)
    copies = sorted(folder(root).glob("*.parquet"))
    copies[2].unlink()
    copies[0].unlink()
    assert main(["--workspace", str(root), "ledger", "publish"]) == 0
    out = capsys.readouterr().out
    assert "2 written" in out
    assert sorted(folder(root).glob("*.parquet")) == copies
    assert main(["--workspace", str(root), "ledger", "publish", "--rebuild"]) == 0
    assert f"{len(copies)} written" in capsys.readouterr().out
    assert _digests(root) == before
    assert verify(root / "ledger").ok


def test_verify_reports_a_copy_that_differs_from_its_segment(tmp_path: Path, capsys) -> None:
    root = tmp_path / "ws"
    ctx, _ = sealed_workspace(root)
    ctx.close()
    publish(root / "ledger")
    assert main(["--workspace", str(root), "ledger", "verify"]) == 0
    capsys.readouterr()
    copy = sorted(folder(root).glob("*.parquet"))[1]
    table = pq.read_table(copy)
    changed = table.set_column(
        table.schema.get_field_index("value"),
        "value",
        pa.array([42.0] * table.num_rows, pa.float64()),
    )
    pq.write_table(changed.replace_schema_metadata(table.schema.metadata), copy)
    report = verify(root / "ledger")
    assert [f.code for f in report.findings] == ["published_mismatch"]
    assert report.findings[0].file == str(copy)
    assert main(["--workspace", str(root), "ledger", "verify"]) == 1
    assert "published_mismatch" in capsys.readouterr().out
    publish(root / "ledger", rebuild=True)
    assert verify(root / "ledger").ok and not verify(root / "ledger").findings


@pytest.mark.parametrize("group_rows", [1, 2, 5, 1 << 20])
def test_a_copy_is_written_a_row_group_at_a_time_with_the_same_rows_and_metadata(
    tmp_path: Path, group_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing streams a segment into row groups of about ``ROW_GROUP_ROWS`` rows (it holds
    one row group's events, not the segment's): any cut gives a copy with the segment's rows,
    its metadata, and one that ``ledger verify`` passes."""
    from ledger import publish as publishing

    root = tmp_path / "ws"
    ctx = open_ctx(root)
    build(ctx, OPS)
    ctx._workspace.ledger.roll_bytes = 1  # the next commit seals the segment holding all of OPS
    build(ctx, [("event", 3, 1)])
    ctx.flush()
    assert wait_published(root / "ledger")
    monkeypatch.setattr(publishing, "ROW_GROUP_ROWS", group_rows)
    publish(root / "ledger", rebuild=True)
    segment = sorted((root / "ledger").glob("segment-*.arrows"))[0]
    copy = published_path(root / "ledger", segment)
    found = publishing.read_segment(segment)
    assert found is not None
    table, meta = found
    assert table.num_rows > 5
    rows_per_group = [
        pq.ParquetFile(copy).metadata.row_group(i).num_rows
        for i in range(pq.ParquetFile(copy).num_row_groups)
    ]
    assert sum(rows_per_group) == table.num_rows
    assert len(rows_per_group) > 1 if group_rows < table.num_rows else len(rows_per_group) == 1
    published = pq.read_table(copy)
    assert published.equals(table, check_metadata=False)
    stored = published.schema.metadata
    assert {k: stored[k] for k in meta} == meta
    assert meta[b"ledger.events"] == str(table.num_rows).encode()
    assert meta[b"ledger.last_seq"] == str(table.column("seq")[-1].as_py()).encode()
    ctx.close()
    report = verify(root / "ledger")
    assert report.ok and not report.findings


def test_a_copy_holds_one_decoded_row_group_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the next row group is decoded, the one written before is gone (it is not kept
    alive by the loop that wrote it): the publish's memory is one row group's events."""
    import weakref

    from ledger import publish as publishing

    root = tmp_path / "ws"
    ctx = open_ctx(root)
    build(ctx, OPS)
    ctx._workspace.ledger.roll_bytes = 1
    build(ctx, [("event", 3, 1)])
    ctx.flush()
    assert wait_published(root / "ledger")
    real = publishing._groups
    alive: list[int] = []

    def groups(path: Path, buf: object) -> Iterator[pa.Table]:
        refs: list[weakref.ref[pa.Table]] = []
        for table in real(path, buf):  # type: ignore[arg-type]
            alive.append(sum(ref() is not None for ref in refs))
            refs.append(weakref.ref(table))
            yield table
            del table

    monkeypatch.setattr(publishing, "ROW_GROUP_ROWS", 2)
    monkeypatch.setattr(publishing, "_groups", groups)
    publish(root / "ledger", rebuild=True)
    assert len(alive) > 2
    assert alive == [0] * len(alive)
