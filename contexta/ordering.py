"""Sort keys and Arrow scalars shared by the stores and the queries (1.0's orderings)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .contract.timestamps import timestamp_micros

__all__ = ["instant", "nulls_last", "stage_order", "string_scalar"]

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


def string_scalar(text: str) -> pa.Scalar:
    """A typed string scalar (an untyped one costs a failed optional import per call)."""
    return pa.scalar(text, pa.string())
