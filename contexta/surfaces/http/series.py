"""Step series for curves, reduced on the server without sampling.

A run's observations of one metric key come from the ``records`` projection (first copy of each
record, ordered by step, else by observation time). For a window of x (step, or time in
seconds) and a width in pixel buckets, :func:`reduce_window` keeps, per bucket, the first, the
lowest, the highest and the last point, each at its own x: every extreme survives, so a spike
one step wide is still drawn. When the window holds few enough points (at most
``EXACT_PER_BUCKET`` per bucket) every point is returned exactly (``exact: true``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from projections.query import first_per, take_rows

from ...events import METRIC
from .routes import BadRequest

__all__ = ["EXACT_PER_BUCKET", "Series", "SeriesCache", "reduce_window"]

#: a window with at most this many points per bucket is sent whole
EXACT_PER_BUCKET = 2
MAX_BUCKETS = 4000


@dataclass(frozen=True)
class Series:
    """One run's series of one key, sorted by x (float64 arrays)."""

    run_id: str
    key: str
    x_step: pa.Array  # step (or position when a run logged no steps)
    x_time: pa.Array  # observation time, seconds since the epoch
    y: pa.Array
    has_steps: bool


class SeriesCache:
    """Series per (run, key), kept while the records projection's table is the same object."""

    def __init__(self, size: int = 32) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._items: dict[tuple[str, str, int | None], tuple[Any, Series]] = {}

    def get(self, qs: Any, run_id: str, key: str) -> Series:
        run_ref = qs.resolve_run(run_id)
        table, index = qs.ws.index("records", "run_ref")
        cache_key = (run_ref, key, qs.as_of_us)
        with self._lock:
            hit = self._items.get(cache_key)
            if hit is not None and hit[0] is table:
                return hit[1]
        series = _load(qs, table, index, run_ref, key)
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[cache_key] = (table, series)
        return series


def _load(qs: Any, table: pa.Table, index: dict[Any, list[int]], run_ref: str,
          key: str) -> Series:
    positions = index.get(run_ref) or []
    rows = take_rows(table, positions) if positions else table.slice(0, 0)
    mask = pc.and_(pc.equal(rows.column("kind"), METRIC), pc.equal(rows.column("key"), key))
    if qs.as_of_us is not None:
        bound = pa.scalar(qs.as_of_us, rows.schema.field("tx_time").type)
        mask = pc.and_(mask, pc.less_equal(rows.column("tx_time"), bound))
    rows = first_per(rows.filter(pc.fill_null(mask, False)), "ref")
    rows = rows.filter(pc.is_valid(rows.column("value")))
    time_s = pc.divide(pc.cast(pc.cast(rows.column("valid_time"), pa.int64()), pa.float64()), 1e6)
    work = pa.table({"step": rows.column("step"), "time": time_s, "seq": rows.column("seq"),
                     "y": pc.cast(rows.column("value"), pa.float64())})
    has_steps = work.num_rows > 0 and work.column("step").null_count == 0
    if has_steps:
        work = work.sort_by([("step", "ascending"), ("seq", "ascending")])
        x_step = pc.cast(work.column("step"), pa.float64())
    else:
        work = work.sort_by([("time", "ascending"), ("seq", "ascending")])
        x_step = pa.array(range(1, work.num_rows + 1), pa.float64())
    return Series(run_ref, key, _flat(x_step), _flat(work.column("time")), _flat(work.column("y")),
                  has_steps)


def _flat(column: Any) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def reduce_window(x: pa.Array, y: pa.Array, lo: float | None, hi: float | None,
                  buckets: int) -> dict[str, Any]:
    """Points of the window ``[lo, hi]`` of a series sorted by ``x``: all of them when there
    are few, else first/min/max/last of each of ``buckets`` equal slices of the window."""
    if buckets < 1 or buckets > MAX_BUCKETS:
        raise BadRequest(f"width must be between 1 and {MAX_BUCKETS}, got {buckets}.")
    total = len(x)
    if total and (lo is not None or hi is not None):
        mask = None
        if lo is not None:
            mask = pc.greater_equal(x, lo)
        if hi is not None:
            upper = pc.less_equal(x, hi)
            mask = upper if mask is None else pc.and_(mask, upper)
        x, y = x.filter(mask), y.filter(mask)
    count = len(x)
    info: dict[str, Any] = {"total": total, "in_window": count}
    if count <= buckets * EXACT_PER_BUCKET:
        return {**info, "exact": True, "x": x.to_pylist(), "y": y.to_pylist()}
    first_x = x[0].as_py() if lo is None else lo
    last_x = x[-1].as_py() if hi is None else hi
    span = (last_x - first_x) or 1.0
    slot = pc.cast(pc.floor(pc.multiply(pc.subtract(x, first_x), buckets / span)), pa.int64())
    slot = pc.min_element_wise(slot, buckets - 1)
    work = pa.table({"slot": slot, "x": x, "y": y})
    groups = work.group_by("slot", use_threads=False).aggregate(
        [("x", "first"), ("y", "first"), ("x", "last"), ("y", "last"), ("y", "min"), ("y", "max")])
    member = pc.index_in(slot, value_set=groups.column("slot"))
    extremes = []
    for name in ("y_min", "y_max"):
        at = pc.equal(y, pc.take(groups.column(name), member))
        hits = work.filter(at).group_by("slot", use_threads=False).aggregate([("x", "first")])
        where = dict(zip(hits.column("slot").to_pylist(), hits.column("x_first").to_pylist(),
                         strict=True))
        extremes.append(where)
    points: list[tuple[float, float]] = []
    columns = {name: groups.column(name).to_pylist()
               for name in ("slot", "x_first", "y_first", "x_last", "y_last", "y_min", "y_max")}
    for i, s in enumerate(columns["slot"]):
        candidates = {
            (columns["x_first"][i], columns["y_first"][i]),
            (extremes[0][s], columns["y_min"][i]),
            (extremes[1][s], columns["y_max"][i]),
            (columns["x_last"][i], columns["y_last"][i]),
        }
        points.extend(sorted(candidates))
    return {**info, "exact": False, "buckets": buckets,
            "x": [p[0] for p in points], "y": [p[1] for p in points]}
