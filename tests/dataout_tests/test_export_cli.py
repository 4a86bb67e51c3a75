"""``contexta export parquet|csv|arrow runs|metrics|events``: what is written equals the
tables, for every format, filter and moment; 1.0's ``export csv runs`` is unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from contexta import tables
from contexta.cli.main import main
from contexta.progress import Progress

from .conftest import build, open_ctx

OPS = [
    ("run", 0, 3, True, 3),
    ("run", 1, 1, False, 2),
    ("run", 2, 2, False, 0),
    ("metric", 0, "loss", 0.5, 1, None, "1"),
    ("metric", 0, "acc", 0.9, 1, "eval", None),
    ("moment",),
    ("quarantine", 1),
    ("event", 0, 3),
    ("metric", 1, "loss", 3.0, 2, "train", "4"),
    ("metric", 2, "val.loss", 1.5, 0, None, None),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("export") / "ws"
    built = build(open_ctx(root), OPS)
    moments = built.moments
    built.ctx.close()
    return root, moments


def read(fmt: str, path: Path, schema: pa.Schema) -> pa.Table:
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "arrow":
        with pa.memory_map(str(path)) as source:
            return pa.ipc.open_file(source).read_all()
    options = pacsv.ConvertOptions(
        column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    return pacsv.read_csv(path, convert_options=options)


def export(ws: Path, out: Path, *args: str) -> int:
    return main(["--workspace", str(ws), "export", *args, "-o", str(out)])


@pytest.mark.parametrize("fmt", ["parquet", "arrow", "csv"])
@pytest.mark.parametrize("what", ["runs", "metrics", "events"])
def test_every_export_equals_its_table(ws, tmp_path: Path, fmt: str, what: str) -> None:
    root, moments = ws
    ctx = open_ctx(root)
    for when in (None, moments[0]):
        view = ctx if when is None else ctx.as_of(when)
        expected = getattr(view, f"{what}_table")()
        out = tmp_path / f"{what}.{fmt}"
        extra = ["--table"] if (fmt, what) == ("csv", "runs") else []
        extra += [] if when is None else ["--as-of", when.isoformat()]
        assert export(root, out, fmt, what, *extra) == 0
        got = read(fmt, out, expected.schema)
        assert got.num_rows == expected.num_rows
        assert got.to_pylist() == expected.to_pylist(), (fmt, what, when)
    ctx.close()


def test_filters_select_what_the_table_methods_select(ws, tmp_path: Path) -> None:
    root, _ = ws
    ctx = open_ctx(root)
    out = tmp_path / "x.parquet"
    assert export(root, out, "parquet", "metrics", "--run", "r0", "--key", "loss") == 0
    assert pq.read_table(out).to_pylist() == ctx.metrics_table(["r0"], ["loss"]).to_pylist()
    assert export(root, out, "parquet", "metrics", "--project", "q-name") == 0
    assert pq.read_table(out).column("run_id").to_pylist() == ["run:q.r1"]
    assert export(root, out, "parquet", "events", "--kind", "run.quarantine") == 0
    assert pq.read_table(out).to_pylist() == ctx.events_table("run.quarantine").to_pylist()
    assert export(root, out, "parquet", "events", "--run", "r1", "--project", "p-name") == 0
    assert pq.read_table(out).num_rows == 0  # r1 is in project q
    assert export(root, out, "parquet", "runs", "--project", "p-name") == 0
    assert pq.read_table(out).to_pylist() == ctx.runs_table("p-name").to_pylist()
    ctx.close()


def test_csv_runs_keeps_the_1_0_form(ws, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = ws
    assert main(["--workspace", str(root), "export", "csv", "runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "run_id,name,project_name,status,started_at,ended_at"
    assert len(lines) == 4


@pytest.mark.parametrize(
    "args, code",
    [
        (["csv", "runs", "--table", "--status", "open"], "export_invalid_options"),
        (["parquet", "metrics", "--run", "nope"], "query_run_not_found"),
        (["parquet", "runs", "--as-of", "yesterday"], "quality_invalid_time"),
    ],
)
def test_bad_options_are_typed_errors(ws, tmp_path: Path, capsys, args, code) -> None:
    root, _ = ws
    out = tmp_path / "bad.parquet"
    assert export(root, out, *args) == 2
    assert f"error [{code}]" in capsys.readouterr().err
    assert not out.exists()


def test_output_must_be_a_file_in_an_existing_folder(ws, tmp_path: Path, capsys) -> None:
    root, _ = ws
    assert export(root, tmp_path, "parquet", "runs") == 2
    assert "export_output_is_directory" in capsys.readouterr().err
    assert export(root, tmp_path / "no" / "x.parquet", "parquet", "runs") == 2
    assert "export_output_folder_missing" in capsys.readouterr().err


def test_a_failed_export_leaves_no_file(ws, tmp_path: Path, monkeypatch) -> None:
    root, _ = ws
    out = tmp_path / "events.parquet"
    out.write_bytes(b"old")

    def broken(*args, **kwargs):
        yield from ()
        raise OSError("disk full")

    monkeypatch.setattr(tables, "event_batches", broken)
    assert export(root, out, "parquet", "events") != 0  # a typed error, no traceback
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["events.parquet"]


def test_exports_stream_batch_by_batch(ws) -> None:
    root, _ = ws
    ctx = open_ctx(root)
    qs = ctx.query_service
    parts = list(tables.metric_batches(qs, batch_rows=2))
    assert [p.num_rows for p in parts] == [2, 2]
    assert pa.Table.from_batches(parts).to_pylist() == ctx.metrics_table().to_pylist()
    seen: list[int] = []
    events = list(tables.event_batches(qs, scanned=seen.append))
    assert len(events) > 1 and sum(seen) == ctx._workspace.head().seq
    ctx.close()


def test_progress_draws_on_a_terminal_only() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped, tty = io.StringIO(), Tty()
    for stream in (piped, tty):
        with Progress("export", 10, stream=stream) as bar:
            bar.advance(5)
    assert piped.getvalue() == ""
    assert "export [" in tty.getvalue() and "5/10 events" in tty.getvalue()
    assert tty.getvalue().endswith("\r\x1b[K")
