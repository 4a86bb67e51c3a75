"""Sort keys and Arrow scalars shared by the stores and the queries (1.0's orderings)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ledger import arrays

from .contract.timestamps import timestamp_micros

__all__ = [
    "batch_order",
    "deployment_order",
    "instant",
    "nulls_last",
    "relation_order",
    "sample_batch_order",
    "sample_order",
    "stage_order",
    "string_scalar",
]

_BEFORE_ALL = -(2**62)


def instant(value: str | None) -> int:
    """Sort key of an optional timestamp: its instant in microseconds, None first."""
    return timestamp_micros(value) if value else _BEFORE_ALL


def nulls_last(value: Any) -> tuple[bool, Any]:
    """Sort key of an optional value with ``None`` after every value (SQL ``NULLS LAST``)."""
    return (value is None, value if value is not None else 0)


def stage_order(stage: Any) -> tuple[Any, ...]:
    """1.0's stage order: order_index (NULLS LAST), started_at, ref."""
    return (
        *nulls_last(stage.order_index),
        instant(stage.started_at),
        str(stage.stage_execution_ref),
    )


def deployment_order(d: Any) -> tuple[Any, ...]:
    """1.0's deployment order: order_index (NULLS LAST), started_at, ref."""
    return (nulls_last(d.order_index), instant(d.started_at), str(d.deployment_execution_ref))


def batch_order(b: Any) -> tuple[Any, ...]:
    """1.0's batch order: order_index (NULLS LAST), started_at, ref."""
    return (nulls_last(b.order_index), instant(b.started_at), str(b.batch_execution_ref))


def sample_order(s: Any) -> tuple[Any, ...]:
    """1.0's sample order: observed_at, ref."""
    return (instant(s.observed_at), str(s.sample_observation_ref))


def sample_batch_order(s: Any) -> tuple[Any, ...]:
    """Samples grouped by batch (samples of no batch last), then in sample order."""
    batch = None if s.batch_execution_ref is None else str(s.batch_execution_ref)
    return (nulls_last(batch), *sample_order(s))


def relation_order(edge: Any) -> tuple[Any, ...]:
    """1.0's lineage edge order: recorded_at, ref."""
    return (instant(edge.recorded_at), str(edge.relation_ref))


def string_scalar(text: str) -> pa.Scalar:
    """A typed string scalar (an untyped one costs a failed optional import per call)."""
    return arrays.scalar(text, pa.string())
