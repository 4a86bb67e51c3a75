"""Folding the projections with an external engine (DuckDB or DataFusion).

Every projection is declarative (the event kinds it reads, by name or prefix, and the columns
it keeps, in seq order), so its fold is one SQL query over the committed events::

    SELECT <columns> FROM events WHERE kind IN (...) OR kind LIKE 'prefix%' ORDER BY seq

The events are handed to the engine as Arrow (no copy into the engine's own format): the
committed batches up to the head, each CRC-checked by the reader, with the locator columns
(segment, batch offset, row) the built-in fold adds. ``contexta projections rebuild --engine
duckdb`` folds this way and saves the same state the built-in rebuild saves; the tables are
equal, table by table (tested on a generated ledger).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from ledger import Head, LedgerReader, arrays

from .base import Projection
from .engine import _EVENTS_WITH_LOCATOR, ALL_PROJECTIONS, Projector, RebuildStats, _with_locator

__all__ = ["ENGINES", "EngineError", "engine_fold", "events_table", "fold_sql", "rebuild_with"]

ENGINES = ("duckdb", "datafusion")


class EngineError(ValueError):
    """An unknown engine, or one that is not installed (``code`` says which)."""

    def __init__(self, message: str, code: str, engine: str) -> None:
        super().__init__(message)
        self.code = code
        self.engine = engine


def events_table(
    reader: LedgerReader, head: Head
) -> tuple[pa.Table, tuple[int, int, str] | None, int]:
    """The committed events up to ``head`` with the locator columns, the position (segment,
    offset, chain) of the last batch (None for an empty ledger) and the number of batches."""
    batches = []
    position = None
    for segment, frame in reader.frames(head, keep_segments=False):
        batches.append(_with_locator(frame.batch, segment, frame.offset))
        position = (segment, frame.offset, frame.chain)
    return pa.Table.from_batches(batches, _EVENTS_WITH_LOCATOR), position, len(batches)


def fold_sql(cls: type[Projection], table: str = "events") -> str:
    """The SQL that folds projection ``cls`` from ``table``."""
    conditions = []
    if cls.kinds:
        conditions.append("kind IN (" + ", ".join(_literal(k) for k in cls.kinds) + ")")
    conditions += [f"starts_with(kind, {_literal(p)})" for p in cls.kind_prefixes]
    where = " OR ".join(conditions) or "FALSE"
    columns = ", ".join(f'"{c}"' for c in cls.columns)
    return f"SELECT {columns} FROM {table} WHERE {where} ORDER BY seq"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def engine_fold(
    events: pa.Table, engine: str, classes: Iterable[type[Projection]] = ALL_PROJECTIONS
) -> dict[str, pa.Table]:
    """Each projection's table folded by ``engine`` from ``events`` (see :func:`events_table`),
    in the projection's schema."""
    run = _runner(engine, events)
    out = {}
    for cls in classes:
        projection = cls(events.schema)
        result = run(fold_sql(cls))
        out[cls.name] = result.select(list(cls.columns)).cast(projection.schema)
    return out


def _runner(engine: str, events: pa.Table) -> Any:
    if engine not in ENGINES:
        raise EngineError(
            f"Unknown engine {engine!r}; expected one of {', '.join(ENGINES)}.",
            "projection_engine_unknown",
            engine,
        )
    try:
        if engine == "duckdb":
            import duckdb

            con = duckdb.connect()
            con.register("events", events)
            return lambda sql: con.sql(sql).to_arrow_table()
        import datafusion

        ctx = datafusion.SessionContext()
        # an empty ledger has no batches, and DataFusion needs one to learn the schema
        batches = events.to_batches() or [_empty_batch(events.schema)]
        ctx.register_record_batches("events", [batches])
        return lambda sql: pa.Table.from_batches(ctx.sql(sql).collect(), _schema_of(ctx, sql))
    except ImportError as exc:
        raise EngineError(
            f"The {engine} engine is not installed (pip install {engine}).",
            "projection_engine_missing",
            engine,
        ) from exc


def _schema_of(ctx: Any, sql: str) -> pa.Schema:
    schema: pa.Schema = ctx.sql(sql).schema()
    return schema


def rebuild_with(projector: Projector, engine: str) -> RebuildStats:
    """Throw the projections' state away, fold it with ``engine`` and save it (what
    ``contexta projections rebuild --engine ENGINE`` runs): the saved state and checkpoint are
    the ones the built-in rebuild saves."""
    started = time.perf_counter()
    head = projector.reader.head()
    events, position, batches = events_table(projector.reader, head)
    slots = projector._slots
    tables = engine_fold(events, engine, [type(slot.projection) for slot in slots.values()])
    for name, table in tables.items():
        slot = slots[name]
        slot.projection.load(table, head.seq if position is not None else 0)
        slot.loaded = True
        slot.chunks = []
        slot.saved = None
        slot.dirty_from = 0
        slot.position = position
        slot.load_note = f"rebuilt by {engine}"
    projector.save()
    return RebuildStats(events.num_rows, batches, time.perf_counter() - started, projector.names)


def _empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([arrays.array([], f.type) for f in schema], schema=schema)
