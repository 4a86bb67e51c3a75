"""Vectorised fast paths of :class:`~contexta.interpretation.queries.QueryService`.

:class:`FastQueryService` is what the facade and as-of views use. Each method here answers
exactly like the simple method of the same name on ``QueryService``, which stays as the
reference implementation (``tests/perf_tests/test_fast_paths.py`` checks them against each
other on generated workspaces, quarantines and stage choices included).

What they change:

``_run_refs``       the dict of known run refs is cached per (projection epoch, row count, as-of)
                    instead of rebuilt on every ``resolve_run`` (select-best over 10k ids called
                    it 10k times: O(P^2));
``select_best_run`` ids resolved against one dict of known runs; one vectorised pass: rows of
                    the metric key (the workspace index by key), first copy per record ref, the
                    chosen stage per run (the stages projection, latest versions), one value per
                    run (``projections.query.value_per``), cached per (key, stage, selection)
                    while those tables are unchanged; quarantined runs from
                    ``quarantine_state`` alone (no ``list_runs``);
``run_model``       the run's rows through the workspace index by ``ref``;
``stages_of``       rows of the run through the workspace index by ``run_ref`` instead of a
                    string comparison over every stage row;
``list_runs``       sorted by Arrow on the projection's columns, not by a Python key that parses
                    each run's started_at; bodies decoded without re-validation; the answer
                    kept while the runs table and the project names are unchanged;
``observations``    (snapshots, comparisons) bodies read per ledger batch and decoded without
                    re-validation (:mod:`.stored`: anything not well formed goes through the
                    contract as before), each observation kept by seq.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from contexta.events import RUN_PUT, STAGE_PUT
from contexta.interpretation.queries import _not_found, observation
from contexta.interpretation.stored import decode_many, decode_one
from contexta.ordering import stage_order
from contexta.workspace import LRU
from projections.query import as_of, first_per, latest_per, take_rows, value_per

_INFINITIES = (float("inf"), float("-inf"))

__all__ = [
    "FastQueryService",
    "install",
    "list_runs",
    "observations",
    "resolve_many",
    "run_model",
    "select_best_run",
    "stages_of",
]

#: observations kept by seq per query service (a few hundred runs' worth)
_OBSERVATIONS_KEPT = 50_000


def _run_refs(self: Any) -> dict[str, None]:
    """Known run refs, cached while the runs table is the same object (the projection hands out
    one cached table until it folds more rows; the cache keeps it alive, so identity is safe)."""
    table = self.ws.table("runs", as_of_us=self.as_of_us)
    cached = self.__dict__.get("_fast_run_refs")
    if cached is not None and cached[0] is table:
        return cached[1]
    refs = dict.fromkeys(table.column("ref").to_pylist())
    self.__dict__["_fast_run_refs"] = (table, refs)
    return refs


def resolve_many(self: Any, run_ids: Sequence[Any]) -> list[str]:
    """``[self.resolve_run(i) for i in run_ids]`` reading the known refs once: a full run ref
    that is known is its own canonical text; anything else takes ``resolve_run``."""
    known = self._run_refs()
    out = []
    for run_id in run_ids:
        if type(run_id) is str and run_id in known:
            out.append(run_id)
        else:
            out.append(self.resolve_run(run_id))
    return out


def run_model(self: Any, run_ref: str) -> Any:
    """The run's latest version (as of), found through the workspace index by ref instead of a
    string comparison over every run row."""
    table, index = self.ws.index("runs", "ref")
    rows = index.get(run_ref)
    picked = as_of(take_rows(table, rows), self.as_of_us) if rows else None
    if picked is None or picked.num_rows == 0:
        raise _not_found(run_ref)
    return self.ws.models(picked.slice(picked.num_rows - 1), RUN_PUT)[0]


def stages_of(self: Any, run_ref: str) -> list[Any]:
    table, index = self.ws.index("stages", "run_ref")
    rows = index.get(run_ref)
    if not rows:
        return []
    picked = as_of(take_rows(table, rows), self.as_of_us)
    stages = self.ws.models(latest_per(picked), STAGE_PUT)
    return sorted(stages, key=stage_order)


def _stage_choice(self: Any, stage_name: str) -> dict[str, str]:
    """run ref -> the ref of its first stage (1.0's stage order) named ``stage_name``. (The
    contract makes a stage's ref ``<run>.<stage name>``, so a run has at most one; the loop over
    ``several`` keeps the answer right should that rule ever be relaxed.)"""
    stages = latest_per(self.ws.table("stages", as_of_us=self.as_of_us))
    named = stages.filter(pc.equal(stages.column("key"), stage_name))
    run_refs = named.column("run_ref").to_pylist()
    refs = named.column("ref").to_pylist()
    chosen: dict[str, str] = {}
    several: set[str] = set()
    for run, ref in zip(run_refs, refs, strict=True):
        if run in chosen:
            several.add(run)
        chosen[run] = ref
    for run in several:  # rare: more than one stage of that name in a run
        candidates = [s for s in stages_of(self, run) if s.stage_name == stage_name]
        chosen[run] = str(sorted(candidates, key=stage_order)[0].stage_execution_ref)
    return chosen


def select_best_run(
    self: Any,
    run_ids: Sequence[Any],
    metric_key: str,
    *,
    stage_name: str | None = None,
    higher_is_better: bool = True,
    include_quarantined: bool = False,
) -> str | None:
    """``QueryService.select_best_run`` in one vectorised pass (same rules, same answer)."""
    from contexta.interpretation.errors import ComparisonError
    from contexta.interpretation.queries import _dedupe_ids

    ids = _dedupe_ids(run_ids)
    if len(ids) < 2:
        raise ComparisonError(
            f"select_best_run needs at least 2 distinct runs, got {len(ids)}.",
            code="compare_requires_multiple_runs",
            details={"run_ids": list(ids)},
        )
    refs = resolve_many(self, ids)
    if include_quarantined:
        quarantined: set[str] = set()
    else:
        quarantined = {run for run, (on, _, _) in self.quarantine_state().items() if on}
    values = _values(self, metric_key, stage_name)
    if values is None:
        return None
    best: str | None = None
    best_value: float | None = None
    for run_id, ref in zip(ids, refs, strict=True):
        if ref in quarantined:
            continue
        value = values.get(ref)
        if value is None or value != value or value in _INFINITIES:
            continue  # NaN and infinities are stored as logged, never picked as best
        if best_value is None or (value > best_value if higher_is_better else value < best_value):
            best, best_value = run_id, value
    return best


def list_runs(self: Any, project_name: str | None = None, *, query: Any = None) -> tuple[Any, ...]:
    """``QueryService.list_runs`` (``query``: a ``RunListQuery``, through 1.0's filters) with the sort done by Arrow on the runs projection's columns
    (``project_ref``, ``valid_time`` = started_at in microseconds, ``ref``: the same keys as
    1.0's order; UTF-8 byte order is code point order), so bodies are decoded already sorted
    (without re-validation, :mod:`.stored`) and no timestamp is parsed per run.

    The answer is kept while the runs table is the same object (a projection hands out one
    table until it folds more rows; the cache keeps it alive, so identity is safe) and the
    project names are equal: a warm list costs a comparison, not a run record per run; after
    new runs, only theirs are built (:func:`_run_records`)."""
    if query is not None:
        from .run_list import filtered_runs

        return filtered_runs(self, project_name, query=query)
    table = self.ws.latest("runs", as_of_us=self.as_of_us)
    names = self.project_names()
    cacheable = project_name is None or type(project_name) is str
    cached = self.__dict__.get("_fast_list")
    if (
        cacheable
        and cached is not None
        and cached[0] is table
        and cached[1] == (project_name, names)
    ):
        return cached[2]  # type: ignore[no-any-return]
    if project_name is None:
        keys = [("project_ref", "ascending"), ("valid_time", "ascending"), ("ref", "ascending")]
        picked = table
    else:
        refs = self.project_refs(project_name)
        picked = table.filter(
            pc.is_in(table.column("project_ref"), value_set=pa.array(sorted(refs), pa.string()))
        )
        keys = [("valid_time", "ascending"), ("ref", "ascending")]
    ordered = picked.sort_by(keys) if picked.num_rows > 1 else picked
    runs = tuple(_run_records(self, ordered, names))
    if cacheable:
        self.__dict__["_fast_list"] = (table, (project_name, names), runs)
    return runs


def _run_records(self: Any, rows: pa.Table, names: dict[str, str]) -> list[Any]:
    """The run records of the runs projection's ``rows``, in order. Each is kept by seq (a
    stored run version never changes) while the project names are equal, so after a few new
    runs only those are decoded; only the versions of the latest answer are kept."""
    kept = self.__dict__.get("_fast_run_records")
    if kept is None or kept[0] != names:
        kept = (names, {})
    by_seq = kept[1]
    seqs = rows.column("seq").to_pylist()
    out = [by_seq.get(seq) for seq in seqs]
    missing = [i for i, found in enumerate(out) if found is None]
    if missing:
        bodies = rows.column("body")
        if len(missing) < len(seqs):
            bodies = bodies.take(pa.array(missing, pa.int64()))
        record = self.run_record
        for i, run in zip(missing, decode_many(RUN_PUT, bodies.to_pylist()), strict=True):
            out[i] = record(run, names)
        by_seq = dict(zip(seqs, out, strict=True))
    self.__dict__["_fast_run_records"] = (names, by_seq)
    return out


def observations(self: Any, run_ref: str) -> tuple[Any, ...]:
    """``QueryService.observations`` from the stored bodies decoded without re-validation
    (:mod:`.stored`), each observation kept by seq (a stored event never changes)."""
    rows = self.record_rows(run_ref)
    seqs = rows.column("seq").to_pylist()
    cache = self.__dict__.get("_fast_observations")
    if cache is None:
        cache = self.__dict__["_fast_observations"] = LRU(_OBSERVATIONS_KEPT)
    out = [cache.get(seq) for seq in seqs]
    missing = [i for i, found in enumerate(out) if found is None]
    if missing:
        if len(missing) < len(seqs):
            rows = rows.take(pa.array(missing, pa.int64()))
        kinds = rows.column("kind").to_pylist()
        for i, kind, body in zip(missing, kinds, self.ws.bodies(rows), strict=True):
            found = out[i] = observation(decode_one(kind, body))
            cache.put(seqs[i], found)
    return tuple(out)


def _values(self: Any, metric_key: str, stage_name: str | None) -> dict[str, float] | None:
    """run ref -> the selected value of ``metric_key`` (at the run's first stage named
    ``stage_name``, or run level), for every run that has one; None when no run has the key.

    Cached per (key, stage name, selection) while the stage_metrics and stages tables are the
    same objects (a projection hands out one table until it folds more rows; the cache keeps
    them alive, so identity is safe): a warm select-best only loops over the ids.
    """
    table, index = self.ws.index("stage_metrics", "key")
    stages = self.ws.table("stages", as_of_us=self.as_of_us) if stage_name is not None else None
    mode = self._selection()
    cache = self.__dict__.setdefault("_fast_values", {})
    key = (metric_key, stage_name, mode, self.as_of_us)
    hit = cache.get(key)
    if hit is not None and hit[0] is table and hit[1] is stages:
        return hit[2]
    rows = index.get(metric_key)
    if not rows:
        return None
    # first copy of each record ref (as QueryService.metrics does), then the chosen stage
    picked = first_per(as_of(take_rows(table, rows), self.as_of_us), "ref")
    if stage_name is None:
        picked = picked.filter(pc.is_null(picked.column("stage_ref")))
    else:
        chosen = _stage_choice(self, stage_name)
        picked = picked.filter(
            pc.is_in(
                picked.column("stage_ref"), value_set=pa.array(list(chosen.values()), pa.string())
            )
        )
    values = value_per(picked, mode)
    if len(cache) > 64:
        cache.clear()
    cache[key] = (table, stages, values)
    return values


def install(cls: type | None = None) -> type:
    """Patch the fast paths onto ``QueryService`` (or ``cls``); returns the class."""
    if cls is None:
        from contexta.interpretation.queries import QueryService as cls
    cls._run_refs = _run_refs  # type: ignore[attr-defined]
    cls.run_model = run_model  # type: ignore[attr-defined]
    cls.stages_of = stages_of  # type: ignore[attr-defined]
    cls.select_best_run = select_best_run  # type: ignore[attr-defined]
    cls.list_runs = list_runs  # type: ignore[attr-defined]
    cls.observations = observations  # type: ignore[attr-defined]
    return cls


def _make() -> type:
    from contexta.interpretation.queries import QueryService

    return install(type("FastQueryService", (QueryService,), {"__doc__": QueryService.__doc__}))


FastQueryService = _make()
