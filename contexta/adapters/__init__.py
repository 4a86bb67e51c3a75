"""Bridges to other tools, each behind an optional extra: ``mlflow`` (:class:`MLflowSink`),
``otel`` (:class:`OTelSink`), ``dataframes`` (pandas / polars) and ``notebook``. Importing an
adapter never imports its library; building one raises ``DependencyError`` naming the extra when
the library is absent."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ..common.errors import DependencyError

__all__ = ["require"]


def require(module: str, *, feature: str, extra: str, code: str) -> Any:
    """``import module``, or a ``DependencyError`` telling which extra to install."""
    try:
        return import_module(module)
    except ImportError as exc:
        raise DependencyError(
            f"{feature} needs the '{module.split('.')[0]}' package, which is not installed. "
            f"Install it with: pip install 'contexta[{extra}]'.",
            code=code,
            details={"module": module, "extra": extra},
            cause=exc,
        ) from exc
