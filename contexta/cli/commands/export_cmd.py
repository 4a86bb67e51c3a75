"""``contexta export parquet|csv|arrow runs|metrics|events``: whole tables, streamed.

Metric points and events are written batch by batch (events one ledger batch at a time), so
memory stays bounded by a batch plus the projections, whatever the ledger's size. ``export csv
runs`` keeps 1.0's six columns unless ``--table`` (or an option 1.0 did not have: ``--as-of``,
``--run``) asks for the runs table with its ``params.*``, ``tags.*`` and ``metrics.*`` columns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from projections.kinds import ALL_KINDS

from ...common.errors import ValidationError
from ...progress import Progress
from .common import open_workspace

__all__ = ["FORMATS", "TABLES", "extend", "write_batches"]

FORMATS = ("parquet", "csv", "arrow")
TABLES = ("runs", "metrics", "events")


def extend(
    formats: argparse._SubParsersAction,
    csv_tables: argparse._SubParsersAction,
    csv_runs: argparse.ArgumentParser,
) -> None:
    """Add the table exports under ``export``: ``parquet`` and ``arrow`` with every table,
    ``csv metrics|events``, and the table options on 1.0's ``csv runs``."""
    for fmt in ("parquet", "arrow"):
        parser = formats.add_parser(fmt, help=f"whole tables as {_DESCRIBE[fmt]}")
        tables = parser.add_subparsers(dest="table", metavar="TABLE")
        tables.required = True
        for table in TABLES:
            _table_parser(tables, fmt, table)
    for table in ("metrics", "events"):
        _table_parser(csv_tables, "csv", table)
    _add_table_options(csv_runs, "runs", output=False)
    csv_runs.add_argument(
        "--table",
        action="store_true",
        help="the runs table (params.*, tags.*, metrics.* columns), not 1.0's six columns",
    )
    compat = csv_runs.get_default("handler")
    csv_runs.set_defaults(handler=lambda args: _csv_runs(args, compat), fmt="csv", what="runs")


_DESCRIBE = {"parquet": "Parquet", "arrow": "an Arrow IPC file", "csv": "CSV"}
_HELP = {
    "runs": "one row per run: params.*, tags.*, latest metrics.*",
    "metrics": "every metric point: run, stage, key, step, value, times, seq",
    "events": "the ledger's events with their decoded objects",
}


def _table_parser(tables: argparse._SubParsersAction, fmt: str, table: str) -> None:
    parser = tables.add_parser(table, help=_HELP[table])
    _add_table_options(parser, table, output=True)
    parser.set_defaults(handler=_export, fmt=fmt, what=table)


def _add_table_options(parser: argparse.ArgumentParser, table: str, *, output: bool) -> None:
    if output:
        parser.add_argument(
            "-o",
            "--output",
            default=None,
            metavar="PATH",
            help="write here (default: standard output)",
        )
        parser.add_argument(
            "--project", default=None, metavar="NAME", help="only runs of this project"
        )
    else:
        parser.add_argument(
            "-o", dest="output", default=None, metavar="PATH", help="write here (same as --output)"
        )
    parser.add_argument(
        "--run",
        action="append",
        dest="runs",
        default=None,
        metavar="RUN",
        help="only this run (repeatable)",
    )
    parser.add_argument(
        "--as-of",
        default=None,
        metavar="T",
        help="as the workspace stood at transaction time T (ISO-8601 with zone)",
    )
    if table == "metrics":
        parser.add_argument(
            "--key",
            action="append",
            dest="keys",
            default=None,
            help="only this metric key (repeatable)",
        )
        parser.add_argument(
            "--stage",
            action="append",
            dest="stages",
            default=None,
            help="only this stage (repeatable)",
        )
    if table == "events":
        parser.add_argument(
            "--kind",
            action="append",
            dest="kinds",
            default=None,
            help=f"only events of this kind ({', '.join(ALL_KINDS)}); repeatable",
        )


def _csv_runs(args: argparse.Namespace, compat: Callable[[argparse.Namespace], int]) -> int:
    if not (args.table or args.as_of or args.runs):
        return compat(args)
    for option in ("status", "after", "before", "limit"):
        if getattr(args, option, None) is not None:
            raise ValidationError(
                f"--{option} filters 1.0's run list; it cannot be combined with --table, --as-of "
                "or --run.",
                code="export_invalid_options",
                details={"option": option},
            )
    return _export(args)


def _export(args: argparse.Namespace) -> int:
    from ... import tables

    ctx = open_workspace(args)
    view = ctx.as_of(args.as_of) if args.as_of else ctx
    qs = view.query_service
    run_ids = _selected_runs(view, args)
    if args.what == "runs":
        table = tables.runs_table(qs, getattr(args, "project", None), run_ids)
        return _write(args, table.schema, iter(table.to_batches()), table.num_rows, "runs")
    if args.what == "metrics":
        batches = tables.metric_batches(qs, run_ids, args.keys, args.stages)
        return _write(args, tables.METRICS_SCHEMA, batches, None, "points")
    progress = _progress(args, ctx.maintenance.head().seq, "events")
    batches = tables.event_batches(qs, args.kinds, run_ids=run_ids, scanned=progress.advance)
    return _write(args, tables.EVENTS_SCHEMA, batches, None, "events", progress)


def _selected_runs(view: Any, args: argparse.Namespace) -> list[str] | None:
    """The run refs named by ``--run`` and ``--project`` (both: the runs named in the
    project), or None for every run."""
    chosen: list[str] | None = None
    if args.runs:
        chosen = [view.query_service.resolve_run(r) for r in args.runs]
    project = getattr(args, "project", None)
    if project is not None and args.what != "runs":
        members = [r.run_id for r in view.list_runs(project)]
        chosen = members if chosen is None else [r for r in chosen if r in set(members)]
    return chosen


def _progress(args: argparse.Namespace, total: int | None, unit: str) -> Progress:
    return Progress(f"export {args.fmt} {args.what}", total, unit=unit)


def _write(
    args: argparse.Namespace,
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    total: int | None,
    unit: str,
    progress: Progress | None = None,
) -> int:
    bar = progress or _progress(args, total, unit)
    if args.output is None and args.fmt != "csv" and sys.stdout.isatty():
        raise ValidationError(
            f"export {args.fmt} writes binary data; give -o PATH or pipe the output.",
            code="export_needs_output",
            details={"format": args.fmt},
        )
    path = None if args.output is None else Path(args.output).expanduser().resolve()
    with bar:
        if path is None:
            rows = write_batches(
                args.fmt, sys.stdout.buffer, schema, batches, None if progress else bar.advance
            )
        else:
            rows = _write_file(args.fmt, path, schema, batches, None if progress else bar.advance)
    if path is not None:
        sys.stderr.write(f"wrote {rows:,} rows to {path}\n")
    return 0


def _write_file(
    fmt: str,
    path: Path,
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    advance: Callable[[int], None] | None,
) -> int:
    """Write to ``path`` through a temporary file renamed at the end: a failed export never
    leaves a half-written file under the name asked for."""
    if path.is_dir():
        raise ValidationError(
            f"--output {str(path)!r} is a directory; name a file.",
            code="export_output_is_directory",
            details={"output": str(path)},
        )
    if not path.parent.is_dir():
        raise ValidationError(
            f"--output {str(path)!r}: folder {str(path.parent)!r} does not exist.",
            code="export_output_folder_missing",
            details={"output": str(path)},
        )
    temp = path.with_name(f".{path.name}.partial")
    try:
        with open(temp, "wb") as sink:
            rows = write_batches(fmt, sink, schema, batches, advance)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return rows


def write_batches(
    fmt: str,
    sink: BinaryIO,
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    advance: Callable[[int], None] | None = None,
) -> int:
    """Write ``batches`` to ``sink`` as ``fmt`` one at a time; returns the rows written."""
    writer = _writer(fmt, sink, schema)
    rows = 0
    try:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
            if advance is not None:
                advance(batch.num_rows)
    finally:
        writer.close()
    return rows


def _writer(fmt: str, sink: BinaryIO, schema: pa.Schema) -> Any:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(sink, schema)
    if fmt == "csv":
        import pyarrow.csv as pacsv

        return pacsv.CSVWriter(sink, schema)
    return pa.ipc.new_file(sink, schema)
