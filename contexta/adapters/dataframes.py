"""DataFrames of a workspace's tables (1.0's ``PandasAdapter`` / ``PolarsAdapter``; extra
``dataframes``). 1.0 read its DuckDB tables; here the tables are the projections (``runs``,
``stages``, ``records``, ...), handed over from Arrow without a copy where the library allows.
SQL text is not understood: ``query`` raises a typed error saying to use ``table``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..common.errors import ContextaError
from . import require

__all__ = ["FrameAdapterProtocol", "PandasAdapter", "PolarsAdapter"]


class FrameAdapterProtocol(Protocol):
    def query(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...
    def table(self, table_name: str) -> Any: ...


class _FrameAdapter:
    library = ""
    code = ""

    def __init__(self, source: Any) -> None:
        self.source = source

    def _arrow(self, table_name: str) -> Any:
        maintenance = getattr(self.source, "maintenance", None)  # a Contexta, or a Workspace
        workspace = self.source if maintenance is None else maintenance.workspace
        names = workspace.projector.names
        if table_name not in names:
            raise ContextaError(
                f"No table {table_name!r}; the workspace has {', '.join(names)}.",
                code="frame_adapter_unknown_table",
                details={"table": table_name, "known": list(names)},
            )
        return workspace.table(table_name)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        raise ContextaError(
            "The ledger has no SQL engine; load a projection with table(name) and filter the "
            "DataFrame instead.",
            code="frame_adapter_sql_unsupported",
            details={"sql": sql},
        )


class PandasAdapter(_FrameAdapter):
    """``PandasAdapter(ctx).table("runs")`` -> a pandas DataFrame."""

    def table(self, table_name: str) -> Any:
        require(
            "pandas",
            feature="PandasAdapter",
            extra="dataframes",
            code="metadata_pandas_adapter_not_ready",
        )
        return self._arrow(table_name).to_pandas()


class PolarsAdapter(_FrameAdapter):
    """``PolarsAdapter(ctx).table("runs")`` -> a polars DataFrame."""

    def table(self, table_name: str) -> Any:
        polars = require(
            "polars",
            feature="PolarsAdapter",
            extra="dataframes",
            code="metadata_polars_adapter_not_ready",
        )
        return polars.from_arrow(self._arrow(table_name))
