"""Metric observations of runs, shared by trends, alerts, aggregation and anomaly detection:
which runs (``list_runs(project_name, query=query)``), each run's observations of a metric in
time order (read from the ``records`` projection), one representative value per run, and the
population statistics of 1.0 (population standard deviation, linearly interpolated
percentiles).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from math import sqrt
from statistics import mean
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from ledger import arrays
from projections.query import take_rows

from ..common.errors import ValidationError
from ..events import METRIC
from ..ordering import string_scalar
from .results import RunRecord

__all__ = [
    "AGGREGATIONS",
    "Observation",
    "RunLister",
    "check_aggregation",
    "format_micros",
    "in_stage",
    "metric_by_run",
    "metric_observations",
    "metric_payloads",
    "observations_by_run",
    "percentile",
    "population_std",
    "recorded_step",
    "representative",
    "run_observations",
    "select_runs",
]

#: How one run's observations of a metric become one value (``trend.metric_aggregation``).
AGGREGATIONS = ("latest", "mean", "max", "min")

#: ``list_runs(project_name, query=query)`` (the facade's method has this shape).
RunLister = Callable[..., Sequence[RunRecord]]


def check_aggregation(name: Any) -> str:
    """Return ``name`` if it is a known metric aggregation, else raise
    ``trend_invalid_metric_aggregation``."""
    if name not in AGGREGATIONS:
        raise ValidationError(
            f"metric_aggregation must be one of {', '.join(AGGREGATIONS)}, got {name!r}.",
            code="trend_invalid_metric_aggregation",
            details={"metric_aggregation": name},
        )
    return str(name)


def select_runs(
    query_service: Any, project_name: str | None, query: Any, list_runs: RunLister | None = None
) -> tuple[RunRecord, ...]:
    """The runs ``list_runs(project_name, query=query)`` returns on the facade (``list_runs``
    when given, else the same selection made from ``query_service``)."""
    if list_runs is not None:
        return tuple(list_runs(project_name, query=query))
    if query is None:
        return tuple(query_service.list_runs(project_name))
    from .run_list import filtered_runs

    return tuple(filtered_runs(query_service, project_name, query=query))


class Observation(NamedTuple):
    """One metric observation read from the ``records`` projection (a named tuple: these are
    made by the ten thousand)."""

    ref: str
    key: str
    stage_ref: str | None
    value: float
    observed_us: int
    seq: int
    step: int | None

    @property
    def observed_at(self) -> str:
        """Canonical UTC text of the observation instant."""
        return format_micros(self.observed_us)

    @property
    def stage_bucket(self) -> str | None:
        """Last component of the stage ref (the stage name), None at run level."""
        return None if self.stage_ref is None else self.stage_ref.rsplit(".", 1)[-1]


_METRIC_KIND = string_scalar(METRIC)


def _metric_rows(query_service: Any, run_refs: Sequence[str], metric_key: str | None) -> pa.Table:
    """``records`` rows of metrics of ``run_refs`` (of one key when given), append order, as of
    the query service's transaction time. Few runs: gathered through the run index; many: one
    vectorised filter over the whole projection."""
    ws = query_service.ws
    table, index = ws.index("records", "run_ref")
    if table.num_rows == 0 or not run_refs:
        return table.slice(0, 0)
    positions = [i for ref in run_refs for i in index.get(ref, ())]
    if len(positions) * 4 < table.num_rows:
        positions.sort()
        rows = take_rows(table, positions)
        mask = pc.equal(rows.column("kind"), _METRIC_KIND)
    else:
        rows = table
        wanted = arrays.strings(list(run_refs))
        mask = pc.and_(
            pc.equal(rows.column("kind"), _METRIC_KIND),
            pc.is_in(rows.column("run_ref"), value_set=wanted),
        )
    if metric_key is not None:
        mask = pc.and_(mask, pc.equal(rows.column("key"), string_scalar(metric_key)))
    as_of_us = getattr(query_service, "as_of_us", None)
    if as_of_us is not None:
        bound = arrays.scalar(as_of_us, rows.schema.field("tx_time").type)
        mask = pc.and_(mask, pc.less_equal(rows.column("tx_time"), bound))
    return rows.filter(mask)


def observations_by_run(
    query_service: Any, run_refs: Sequence[str], metric_key: str | None = None
) -> dict[str, list[Observation]]:
    """Per canonical run ref: its metric observations (of one key when given; first copy of
    each record ref), in time order (ties: append order)."""
    wanted = list(dict.fromkeys(run_refs))
    out: dict[str, list[Observation]] = {ref: [] for ref in wanted}
    rows = _metric_rows(query_service, wanted, metric_key)
    seen: set[str] = set()
    for ref, run, key, stage, value, observed, seq, step in zip(
        rows.column("ref").to_pylist(),
        rows.column("run_ref").to_pylist(),
        rows.column("key").to_pylist(),
        rows.column("stage_ref").to_pylist(),
        rows.column("value").to_pylist(),
        rows.column("valid_time").cast(pa.int64()).to_pylist(),
        rows.column("seq").to_pylist(),
        rows.column("step").to_pylist(),
        strict=True,
    ):
        if ref in seen or value is None:
            continue
        seen.add(ref)
        out[run].append(Observation(ref, key, stage, float(value), observed, seq, step))
    order = _time_order
    for items in out.values():
        items.sort(key=order)
    return out


def _time_order(o: Observation) -> tuple[int, int]:
    return (o.observed_us, o.seq)


def run_observations(
    query_service: Any, run_ref: str, metric_key: str | None = None
) -> list[Observation]:
    """One run's metric observations (see :func:`observations_by_run`)."""
    return observations_by_run(query_service, [run_ref], metric_key)[run_ref]


def in_stage(
    observations: Sequence[Observation],
    stage_name: str | None = None,
    stage_id: str | None = None,
) -> list[Observation]:
    """Observations whose stage ref ends with ``.<stage_name>`` / equals ``stage_id`` (each
    filter only when given)."""
    suffix = None if stage_name is None else f".{stage_name}"
    return [
        o
        for o in observations
        if (stage_id is None or o.stage_ref == stage_id)
        and (suffix is None or (o.stage_ref is not None and o.stage_ref.endswith(suffix)))
    ]


def metric_observations(
    query_service: Any,
    run_ref: str,
    metric_key: str,
    stage_name: str | None = None,
    *,
    stage_id: str | None = None,
) -> list[Observation]:
    """A run's (canonical ``run_ref``) observations of ``metric_key`` in time order;
    ``stage_name`` keeps those whose stage ref ends with ``.<stage_name>``, ``stage_id`` those of
    exactly that stage."""
    return in_stage(run_observations(query_service, run_ref, metric_key), stage_name, stage_id)


def metric_by_run(
    query_service: Any,
    run_refs: Sequence[str],
    metric_key: str,
    stage_name: str | None = None,
) -> dict[str, list[Observation]]:
    """:func:`metric_observations` for many runs at once."""
    found = observations_by_run(query_service, run_refs, metric_key)
    return {ref: in_stage(items, stage_name) for ref, items in found.items()}


def metric_payloads(
    query_service: Any, run_ref: str, observations: Sequence[Observation]
) -> list[Any]:
    """The ``MetricPayload`` behind each observation (bodies read from the ledger)."""
    if not observations:
        return []
    rows = query_service.record_rows(run_ref)
    wanted = arrays.strings([o.ref for o in observations])
    rows = rows.filter(pc.is_in(rows.column("ref"), value_set=wanted))
    by_ref = {
        str(record.envelope.record_ref): record.payload for record in query_service.ws.fetch(rows)
    }
    return [by_ref.get(o.ref) for o in observations]


def recorded_step(observation: Observation, payload: Any) -> int | None:
    """The training step of an observation: the event's ``step`` column, else an integer
    ``step`` tag on the payload (where runtime capture keeps it), else None."""
    if observation.step is not None:
        return observation.step
    tags = getattr(payload, "tags", None) or {}
    text = tags.get("step") if hasattr(tags, "get") else None
    if isinstance(text, str) and text.strip().lstrip("-").isdigit():
        return int(text)
    return None


def representative(values: Sequence[float], aggregation: str) -> float | None:
    """One value for a run: the last (``latest``), ``max``, ``min`` or ``mean``."""
    if not values:
        return None
    if aggregation == "max":
        return max(values)
    if aggregation == "min":
        return min(values)
    if aggregation == "mean":
        return mean(values)
    return values[-1]


def population_std(values: Sequence[float]) -> float:
    """Standard deviation over the whole population (divides by n); 0.0 below two values."""
    if len(values) < 2:
        return 0.0
    centre = mean(values)
    return sqrt(sum((v - centre) ** 2 for v in values) / len(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1), linearly interpolated between closest ranks; 0.0 when empty."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * q
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


_EPOCH = datetime(1970, 1, 1)


def format_micros(micros: int) -> str:
    """Canonical UTC text (``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``) of microseconds since the epoch."""
    return (_EPOCH + timedelta(microseconds=micros)).isoformat() + "Z"
