"""Queries over the projections and their result types."""

from .errors import ComparisonError, LineageError
from .queries import QueryService
from .results import *  # noqa: F403
from .results import __all__ as _results

__all__ = ["ComparisonError", "LineageError", "QueryService", *_results]
