"""Step series for curves, reduced on the server without sampling.

A run's observations of one metric key come from the ``records`` projection (first copy of each
record, ordered by step, else by observation time). For a window of x (step, or time in
seconds) and a width in pixel buckets, :func:`reduce_window` keeps, per bucket, the first, the
lowest, the highest and the last point, each at its own x: every extreme survives, so a spike
one step wide is still drawn. When the window holds few enough points (at most
``EXACT_PER_BUCKET`` per bucket) every point is returned exactly (``exact: true``).

Wide windows of long series are reduced from a copy pre-reduced once per series the same way
(first/min/max/last of each block of ``BLOCK`` consecutive points): a bucket's extremes are
the extremes of its blocks, so nothing is lost; a block lying across a bucket boundary counts
in the bucket where it starts (less than one pixel away).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger import arrays
from projections.query import first_per

from ...events import METRIC
from .routes import BadRequest

__all__ = ["BLOCK", "EXACT_PER_BUCKET", "Series", "SeriesCache", "reduce_series", "reduce_window"]

#: a window with at most this many points per bucket is sent whole
EXACT_PER_BUCKET = 2
MAX_BUCKETS = 4000
#: points per block of the pre-reduced copy used for wide windows (first/min/max/last each)
BLOCK = 64


class _Axis:
    """One x axis of a series: x sorted, y in the same order, and (built on first use) the
    pre-reduced copy."""

    def __init__(self, x: pa.Array, y: pa.Array) -> None:
        self.x, self.y = x, y
        self._blocks: tuple[pa.Array, pa.Array] | None = None
        self._lock = threading.Lock()

    def blocks(self) -> tuple[pa.Array, pa.Array]:
        with self._lock:
            if self._blocks is None:
                slot = pc.divide(arrays.array(range(len(self.x)), pa.int64()), BLOCK)
                xs, ys = _extremes(self.x, self.y, slot)
                self._blocks = (arrays.array(xs, pa.float64()), arrays.array(ys, pa.float64()))
            return self._blocks


@dataclass
class Series:
    """One run's series of one key, on both x axes."""

    run_id: str
    key: str
    has_steps: bool
    step: _Axis
    time: _Axis

    def axis(self, name: str) -> _Axis:
        return self.step if name == "step" else self.time


class SeriesCache:
    """Series per (run, key, as-of), kept while the records table is the same object."""

    def __init__(self, size: int = 32) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._items: dict[tuple[str, str, int | None], tuple[Any, Series]] = {}

    def get(self, qs: Any, run_id: str, key: str) -> Series:
        run_ref = qs.resolve_run(run_id)
        table = qs.ws.table("records")
        cache_key = (run_ref, key, qs.as_of_us)
        with self._lock:
            hit = self._items.get(cache_key)
            if hit is not None and hit[0] is table:
                return hit[1]
        series = _load(qs, table, run_ref, key)
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[cache_key] = (table, series)
        return series


def _load(qs: Any, table: pa.Table, run_ref: str, key: str) -> Series:
    """The run's observations of ``key``: one vectorised filter over the records projection."""
    if table.num_rows == 0:
        rows = table
    else:
        mask = pc.and_(
            pc.and_(pc.equal(table.column("run_ref"), run_ref), pc.equal(table.column("key"), key)),
            pc.equal(table.column("kind"), METRIC),
        )
        if qs.as_of_us is not None:
            bound = arrays.scalar(qs.as_of_us, table.schema.field("tx_time").type)
            mask = pc.and_(mask, pc.less_equal(table.column("tx_time"), bound))
        rows = table.filter(pc.fill_null(mask, False))
    rows = first_per(rows, "ref")
    rows = rows.filter(pc.is_valid(rows.column("value")))
    time_s = pc.divide(pc.cast(pc.cast(rows.column("valid_time"), pa.int64()), pa.float64()), 1e6)
    work = pa.table(
        {
            "step": rows.column("step"),
            "time": time_s,
            "seq": rows.column("seq"),
            "y": pc.cast(rows.column("value"), pa.float64()),
        }
    )
    has_steps = work.num_rows > 0 and work.column("step").null_count == 0
    by_time = work.sort_by([("time", "ascending"), ("seq", "ascending")])
    time_axis = _Axis(
        arrays.contiguous(by_time.column("time")), arrays.contiguous(by_time.column("y"))
    )
    if has_steps:
        by_step = work.sort_by([("step", "ascending"), ("seq", "ascending")])
        step_axis = _Axis(
            arrays.contiguous(pc.cast(by_step.column("step"), pa.float64())),
            arrays.contiguous(by_step.column("y")),
        )
    else:  # no steps logged: the position in time order stands for the step
        step_axis = _Axis(arrays.array(range(1, work.num_rows + 1), pa.float64()), time_axis.y)
    return Series(run_ref, key, has_steps, step_axis, time_axis)


def _bisect(x: pa.Array, value: float, right: bool) -> int:
    """First index whose x is >= value (> value when ``right``), x sorted ascending."""
    lo, hi = 0, len(x)
    while lo < hi:
        mid = (lo + hi) // 2
        here = x[mid].as_py()
        if here < value or (right and here == value):
            lo = mid + 1
        else:
            hi = mid
    return lo


def _window(x: pa.Array, lo: float | None, hi: float | None) -> tuple[int, int]:
    start = 0 if lo is None else _bisect(x, lo, right=False)
    end = len(x) if hi is None else _bisect(x, hi, right=True)
    return start, max(start, end)


def reduce_series(
    series: Series, axis: str, lo: float | None, hi: float | None, buckets: int
) -> dict[str, Any]:
    """:func:`reduce_window` on one axis of ``series``, from the pre-reduced copy when the
    window holds at least ``BLOCK`` points per bucket."""
    line = series.axis(axis)
    start, end = _window(line.x, lo, hi)
    count = end - start
    if count >= buckets * BLOCK * 2:
        bx, by = line.blocks()
        b_start, b_end = _window(bx, lo, hi)
        answer = reduce_window(
            bx.slice(b_start, b_end - b_start), by.slice(b_start, b_end - b_start), lo, hi, buckets
        )
        answer.update(total=len(line.x), in_window=count, exact=False)
        return answer
    answer = reduce_window(line.x.slice(start, count), line.y.slice(start, count), lo, hi, buckets)
    answer["total"] = len(line.x)
    return answer


def reduce_window(
    x: pa.Array, y: pa.Array, lo: float | None, hi: float | None, buckets: int
) -> dict[str, Any]:
    """Points of a window (``x`` sorted, already cut to ``[lo, hi]``): all of them when there
    are few, else first/min/max/last of each of ``buckets`` equal slices of ``[lo, hi]``."""
    if buckets < 1 or buckets > MAX_BUCKETS:
        raise BadRequest(f"width must be between 1 and {MAX_BUCKETS}, got {buckets}.")
    count = len(x)
    info: dict[str, Any] = {"total": count, "in_window": count}
    if count <= buckets * EXACT_PER_BUCKET:
        return {**info, "exact": True, "x": x.to_pylist(), "y": y.to_pylist()}
    first_x = x[0].as_py() if lo is None else lo
    last_x = x[-1].as_py() if hi is None else hi
    span = (last_x - first_x) or 1.0
    slot = pc.cast(pc.floor(pc.multiply(pc.subtract(x, first_x), buckets / span)), pa.int64())
    slot = pc.max_element_wise(pc.min_element_wise(slot, buckets - 1), 0)
    xs, ys = _extremes(x, y, slot)
    return {**info, "exact": False, "buckets": buckets, "x": xs, "y": ys}


def _extremes(x: pa.Array, y: pa.Array, slot: pa.Array) -> tuple[list[float], list[float]]:
    """Per slot (slots ascending along x): its first, lowest, highest and last point, each at
    its own x, in x order, without repeats."""
    work = pa.table({"slot": slot, "x": x, "y": y})
    groups = work.group_by("slot", use_threads=False).aggregate(
        [("x", "first"), ("y", "first"), ("x", "last"), ("y", "last"), ("y", "min"), ("y", "max")]
    )
    member = pc.index_in(slot, value_set=groups.column("slot"))
    where = []
    for name in ("y_min", "y_max"):
        hit = pc.equal(y, pc.take(groups.column(name), member))
        found = work.filter(hit).group_by("slot", use_threads=False).aggregate([("x", "first")])
        where.append(
            dict(
                zip(
                    found.column("slot").to_pylist(),
                    found.column("x_first").to_pylist(),
                    strict=True,
                )
            )
        )
    columns = {
        name: groups.column(name).to_pylist()
        for name in ("slot", "x_first", "y_first", "x_last", "y_last", "y_min", "y_max")
    }
    xs: list[float] = []
    ys: list[float] = []
    for i, s in enumerate(columns["slot"]):
        for px, py in sorted(
            {
                (columns["x_first"][i], columns["y_first"][i]),
                (where[0][s], columns["y_min"][i]),
                (where[1][s], columns["y_max"][i]),
                (columns["x_last"][i], columns["y_last"][i]),
            }
        ):
            xs.append(px)
            ys.append(py)
    return xs, ys
