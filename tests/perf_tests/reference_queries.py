"""The reference run queries: the plain, row-at-a-time answers the product's vectorised
:class:`~contexta.interpretation.workspace_queries.QueryService` must equal.

``ReferenceQueryService`` is the product's service with each vectorised method replaced by the
simple one it stands for (a string comparison over every row, a Python sort, bodies decoded
through the contract). The property tests in ``tests/perf_tests`` build both on generated
workspaces and compare every answer; nothing in the product uses this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow.compute as pc

from contexta.events import RUN_PUT, STAGE_PUT
from contexta.interpretation.errors import ComparisonError
from contexta.interpretation.results import ObservationRecord, RunRecord
from contexta.interpretation.workspace_queries import (
    _INFINITIES,
    QueryService,
    _dedupe_ids,
    _not_found,
    _select,
    observation,
)
from contexta.ordering import instant as _t
from contexta.ordering import stage_order as _stage_order
from contexta.ordering import string_scalar as _s
from projections import latest_per as _latest

__all__ = ["ReferenceQueryService"]


class ReferenceQueryService(QueryService):
    """``QueryService`` answering run lookup, stages, run lists, observations and best-run
    selection the plain way (the oracle of the vectorised methods)."""

    def _run_refs(self) -> dict[str, None]:
        """Known run refs, cached while the runs table is the same object (a projection hands
        out one cached table until it folds more rows), so resolving many ids is linear."""
        table = self.ws.table("runs", as_of_us=self.as_of_us)
        cached = self.__dict__.get("_run_refs_cache")
        if cached is not None and cached[0] is table:
            return cached[1]
        refs = dict.fromkeys(table.column("ref").to_pylist())
        self.__dict__["_run_refs_cache"] = (table, refs)
        return refs

    def run_model(self, run_ref: str) -> Any:
        table = self.ws.table("runs", as_of_us=self.as_of_us)
        rows = table.filter(pc.equal(table.column("ref"), _s(run_ref)))
        if rows.num_rows == 0:
            raise _not_found(run_ref)
        return self.ws.models(rows.slice(rows.num_rows - 1), RUN_PUT)[0]

    def stages_of(self, run_ref: str) -> list[Any]:
        table = self.ws.table("stages", as_of_us=self.as_of_us)
        if table.num_rows == 0:
            return []
        rows = table.filter(pc.equal(table.column("run_ref"), _s(run_ref)))
        stages = self.ws.models(_latest(rows), STAGE_PUT)
        return sorted(stages, key=_stage_order)

    def list_runs(
        self, project_name: str | None = None, *, query: Any = None
    ) -> tuple[RunRecord, ...]:
        """1.0's repository order: started_at then ref (grouped by project when unfiltered);
        ``query`` (a ``RunListQuery``) goes through 1.0's filters."""
        if query is not None:
            from contexta.interpretation.run_list import filtered_runs

            return filtered_runs(self, project_name, query=query)
        runs = self.runs()
        names = self.project_names()
        if project_name is None:
            runs.sort(key=lambda r: (str(r.project_ref), _t(r.started_at), str(r.run_ref)))
        else:
            refs = self.project_refs(project_name)
            runs = [r for r in runs if str(r.project_ref) in refs]
            runs.sort(key=lambda r: (_t(r.started_at), str(r.run_ref)))
        return tuple(self.run_record(r, names) for r in runs)

    def observations(self, run_ref: str) -> tuple[ObservationRecord, ...]:
        rows = self.record_rows(run_ref)
        return tuple(observation(m) for m in self.ws.fetch(rows))

    def select_best_run(
        self,
        run_ids: Sequence[Any],
        metric_key: str,
        *,
        stage_name: str | None = None,
        higher_is_better: bool = True,
        include_quarantined: bool = False,
    ) -> str | None:
        """1.0's rules (stage_name None = run-level metrics only; strict comparison so ties go
        to the earliest id; the caller's string is returned) and a quarantined run is never
        returned unless ``include_quarantined``."""
        ids = _dedupe_ids(run_ids)
        if len(ids) < 2:
            raise ComparisonError(
                f"select_best_run needs at least 2 distinct runs, got {len(ids)}.",
                code="compare_requires_multiple_runs",
                details={"run_ids": list(ids)},
            )
        refs = [self.resolve_run(i) for i in ids]
        quarantined = set() if include_quarantined else set(self.quarantined_runs())
        mode = self._selection()
        best: str | None = None
        best_value: float | None = None
        for run_id, ref in zip(ids, refs, strict=True):
            if ref in quarantined:
                continue
            value = self._metric_value(ref, metric_key, stage_name, mode)
            if value is None or value != value or value in _INFINITIES:
                continue  # NaN and infinities are stored as logged, never picked as best
            if best_value is None or (
                value > best_value if higher_is_better else value < best_value
            ):
                best, best_value = run_id, value
        return best

    def _metric_value(
        self, run_ref: str, key: str, stage_name: str | None, mode: str
    ) -> float | None:
        metrics = [m for m in self.metrics(run_ref) if m.key == key]
        if not metrics:
            return None
        if stage_name is None:
            values = _select(metrics, None, mode)
            return values.get(key)
        stage_refs = [
            str(s.stage_execution_ref)
            for s in self.stages_of(run_ref)
            if s.stage_name == stage_name
        ]
        if not stage_refs:
            return None
        return _select(metrics, stage_refs[0], mode).get(key)
