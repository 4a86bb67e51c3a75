"""Run queries over the workspace's projections: listing, snapshots, comparison, best run.

:class:`QueryService` is the one query implementation the product uses (the facade, as-of views,
``ctx.repository``, the services). All queries take an optional transaction time
(``as_of_us``): only facts committed at or before it are seen, so an as-of view answers exactly
what the live workspace answered then.

Its hot paths are vectorised; ``tests/perf_tests/reference_queries.py`` holds the plain
row-at-a-time answers they stand for, and the property tests compare the two on generated
workspaces (quarantines and stage choices included):

``_run_refs``       the known run refs, cached per runs table (select-best over 10k ids resolves
                    each id in a dict, not a scan: linear, not quadratic);
``select_best_run`` one pass over the rows of the metric key (the workspace index by key): first
                    copy per record ref, the chosen stage per run (the stages projection, latest
                    versions), one value per run (``projections.query.value_columns``), cached per
                    (key, stage, selection) while those tables are unchanged; quarantined runs
                    from ``quarantine_state`` alone;
``run_model``       the run's rows through the workspace index by ``ref``;
``stages_of``       the run's stage rows through the workspace index by ``run_ref``;
``list_runs``       sorted by Arrow on the projection's columns, bodies decoded without
                    re-validation (:mod:`.body_decoding`), the answer kept while the runs table
                    and the project names are unchanged;
``observations``    bodies read per ledger batch and decoded without re-validation, each
                    observation kept by seq.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger import arrays
from projections.kinds import EVENT
from projections.query import (
    all_distinct,
    as_of,
    first_per,
    latest_per,
    take_rows,
    value_columns,
)

from ..common.errors import ValidationError
from ..contract import StableRef
from ..contract.base import plain
from ..contract.extensions import labels_of
from ..events import PROJECT_PUT, QUARANTINE, RELEASE, RUN_PUT, STAGE_PUT, span_duration_ms
from ..ordering import stage_order as _stage_order
from ..ordering import string_scalar as _s
from ..workspace import Workspace
from .body_decoding import decode_many, decode_one
from .entities import (
    EntityReader,
    artifact_origin,
    list_batches,
    list_deployments,
    list_samples,
    snapshot_extras,
)
from .errors import ComparisonError
from .results import (
    CompletenessNote,
    EvidenceLink,
    ObservationRecord,
    RunRecord,
    RunSnapshot,
    StageRecord,
)
from .run_lookup import RunLookup, _not_found

if TYPE_CHECKING:
    from .comparison_results import MultiRunComparison, ParamChange, RunComparison

# The comparisons' result types and provenance parts are imported by the methods that compare
# (a process that never compares does not build them: about 8 ms of its first query).

_INFINITIES = (float("inf"), float("-inf"))

#: observations kept by seq per query service (a few hundred runs' worth)
_OBSERVATIONS_KEPT = 50_000

__all__ = ["QueryService"]


@dataclass(frozen=True, slots=True)
class _Metric:
    """One metric observation used by compare/select: (stage ref, key, value, time, seq)."""

    stage_ref: str | None
    key: str
    value: float
    observed: int
    seq: int


#: the columns of the stage rows that select-best reads (not the bodies: a filter copies them)
_STAGE_COLUMNS = ["seq", "ref", "run_ref", "key"]
#: the columns of a metric key's rows that select-best reads
_VALUE_COLUMNS = ("seq", "tx_time", "ref", "run_ref", "stage_ref", "value", "valid_time")


class _RunValues:
    """One metric's selected value per run: aligned Arrow arrays (``refs``, ``values``), and
    the same as a dict when first asked (:attr:`mapping`)."""

    __slots__ = ("_mapping", "refs", "values")

    def __init__(self, refs: pa.Array, values: pa.Array) -> None:
        self.refs = refs
        self.values = values
        self._mapping: dict[str, float] | None = None

    @property
    def mapping(self) -> dict[str, float]:
        if self._mapping is None:
            self._mapping = dict(zip(self.refs.to_pylist(), self.values.to_pylist(), strict=True))
        return self._mapping


class QueryService(RunLookup):
    """Answers run queries from ``workspace`` as of ``as_of_us`` (None: now)."""

    def __new__(cls, source: Any = None, *args: Any, **kwargs: Any) -> QueryService:
        """``QueryService(workspace, config)`` reads a workspace; 1.0's ``QueryService(repository)``
        (any :class:`~.repositories.CompositeRepository`) gives a repository-backed service."""
        if cls is QueryService and source is not None and not isinstance(source, Workspace):
            from .repository_queries import RepositoryQueryService

            return object.__new__(RepositoryQueryService)
        return object.__new__(cls)

    def __init__(self, workspace: Workspace, config: Any, as_of_us: int | None = None) -> None:
        self.ws = workspace
        self.config = config
        self.as_of_us = as_of_us

    # ------------------------------------------------------------------ 1.0's service methods

    def get_run_snapshot(self, run_id: str) -> RunSnapshot:
        return self.snapshot(run_id)

    def list_deployments(
        self, project_name: str | None = None, run_id: str | None = None
    ) -> tuple[Any, ...]:
        return list_deployments(self, project_name, run_id)

    def list_batches(self, run_id: str, stage_id: str | None = None) -> tuple[Any, ...]:
        return list_batches(self, run_id, stage_id)

    def list_samples(
        self, run_id: str, stage_id: str | None = None, batch_id: str | None = None
    ) -> tuple[Any, ...]:
        return list_samples(self, run_id, stage_id, batch_id)

    def get_artifact_origin(self, artifact_ref: str) -> RunSnapshot | None:
        return artifact_origin(self, artifact_ref)

    # ------------------------------------------------------------------ entities

    def projects(self) -> list[Any]:
        return self.ws.models(self.ws.latest("projects", as_of_us=self.as_of_us), PROJECT_PUT)

    def runs(self) -> list[Any]:
        return self.ws.models(self.ws.latest("runs", as_of_us=self.as_of_us), RUN_PUT)

    def stages_of(self, run_ref: str) -> list[Any]:
        table, index = self.ws.index("stages", "run_ref")
        rows = index.get(run_ref)
        if not rows:
            return []
        picked = as_of(take_rows(table, rows), self.as_of_us)
        stages = self.ws.models(latest_per(picked), STAGE_PUT)
        return sorted(stages, key=_stage_order)

    def project_names(self) -> dict[str, str]:
        return {str(p.project_ref): p.name for p in self.projects()}

    def first_project_ref(self, project_name: str | None) -> str | None:
        """1.0's project lookup: the first project (by name, ref) whose display name or full
        ``project:`` text equals the stripped argument."""
        wanted = project_name.strip() if isinstance(project_name, str) else project_name
        for p in sorted(self.projects(), key=lambda p: (p.name, str(p.project_ref))):
            if p.name == wanted or str(p.project_ref) == wanted:
                return str(p.project_ref)
        return None

    def entities(self) -> EntityReader:
        """Deployments, batches, samples, environments, artifacts, relations and provenance
        as of this service's transaction time."""
        return EntityReader(self.ws, self.as_of_us, self.__dict__.setdefault("_entity_shared", {}))

    def list_projects(self) -> tuple[str, ...]:
        return tuple(
            p.name for p in sorted(self.projects(), key=lambda p: (p.name, str(p.project_ref)))
        )

    def run_model(self, run_ref: str) -> Any:
        """The run's latest version (as of), found through the workspace index by ref instead of a
        string comparison over every run row."""
        table, index = self.ws.index("runs", "ref")
        rows = index.get(run_ref)
        picked = as_of(take_rows(table, rows), self.as_of_us) if rows else None
        if picked is None or picked.num_rows == 0:
            raise _not_found(run_ref)
        return self.ws.models(picked.slice(picked.num_rows - 1), RUN_PUT)[0]

    def run_record(self, run: Any, names: dict[str, str] | None = None) -> RunRecord:
        names = names if names is not None else self.project_names()
        project = str(run.project_ref)
        tags = labels_of(run)[1] if run.extensions else None
        return RunRecord(
            run_id=str(run.run_ref),
            project_name=names.get(project, project.split(":", 1)[1]),
            name=run.name,
            status=run.status,
            started_at=run.started_at,
            ended_at=run.ended_at,
            **({"tags": MappingProxyType(tags)} if tags else {}),
        )

    # ------------------------------------------------------------------ list_runs

    def project_refs(self, project_name: str) -> set[str]:
        wanted = project_name.strip() if isinstance(project_name, str) else project_name
        return {
            str(p.project_ref)
            for p in self.projects()
            if p.name == wanted or str(p.project_ref) == wanted
        }

    def list_runs(self, project_name: str | None = None, *, query: Any = None) -> tuple[Any, ...]:
        """1.0's repository order: started_at then ref (grouped by project when unfiltered);
        ``query`` (a ``RunListQuery``) goes through 1.0's filters. The sort is done by Arrow on
        the runs projection's columns (``project_ref``, ``valid_time`` = started_at in
        microseconds, ``ref``: the same keys; UTF-8 byte order is code point order), so bodies
        are decoded already sorted (without re-validation, :mod:`.body_decoding`) and no
        timestamp is parsed per run.

        The answer is kept while the runs table is the same object (a projection hands out one
        table until it folds more rows; the cache keeps it alive, so identity is safe) and the
        project names are equal: a warm list costs a comparison, not a run record per run; after
        new runs, only theirs are built (:meth:`_run_records`)."""
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
                pc.is_in(table.column("project_ref"), value_set=arrays.strings(sorted(refs)))
            )
            keys = [("valid_time", "ascending"), ("ref", "ascending")]
        # the order alone (the bodies are taken block by block as they are decoded)
        order = pc.sort_indices(picked, sort_keys=keys) if picked.num_rows > 1 else None
        runs = tuple(self._run_records(picked, names, order))
        if cacheable:
            self.__dict__["_fast_list"] = (table, (project_name, names), runs)
        return runs

    def listed_run_ids(self, project_name: str | None = None) -> list[str]:
        """``[r.run_id for r in self.list_runs(project_name)]``, in the same order, from the runs
        projection's columns alone: no run body is decoded (a command that only needs the ids
        of every run pays a sort, not a decode per run)."""
        return self._listed_refs(project_name).to_pylist()  # type: ignore[no-any-return]

    def _listed_refs(self, project_name: str | None) -> pa.Array:
        """:meth:`listed_run_ids` as an Arrow string array."""
        table = self.ws.latest("runs", as_of_us=self.as_of_us)
        if project_name is None:
            keys = [("project_ref", "ascending"), ("valid_time", "ascending"), ("ref", "ascending")]
            picked = table
        else:
            refs = self.project_refs(project_name)
            picked = table.filter(
                pc.is_in(table.column("project_ref"), value_set=arrays.strings(sorted(refs)))
            )
            keys = [("valid_time", "ascending"), ("ref", "ascending")]
        picked = picked.select(["project_ref", "valid_time", "ref"])
        ordered = picked.sort_by(keys) if picked.num_rows > 1 else picked
        return arrays.contiguous(ordered.column("ref"))

    # ------------------------------------------------------------------ records

    def record_rows(self, run_ref: str) -> pa.Table:
        """The run's records (first copy of each record_ref), in append order."""
        table, index = self.ws.index("records", "run_ref")
        rows = index.get(run_ref)
        if not rows:
            return table.slice(0, 0)
        picked = take_rows(table, rows)
        if self.as_of_us is not None:
            picked = _as_of(picked, self.as_of_us)
        refs = picked.column("ref").to_pylist()
        if len(set(refs)) != len(refs):
            seen: set[str] = set()
            keep = []
            for i, ref in enumerate(refs):
                if ref not in seen:
                    seen.add(ref)
                    keep.append(i)
            picked = picked.take(arrays.array(keep, pa.int64()))
        return picked

    def observations(self, run_ref: str) -> tuple[Any, ...]:
        """The run's records as observations, from the stored bodies decoded without
        re-validation (:mod:`.body_decoding`), each kept by seq for every view of the workspace
        (a stored event never changes)."""
        rows = self.record_rows(run_ref)
        seqs = rows.column("seq").to_pylist()
        cache = self.ws.seq_cache("observations", _OBSERVATIONS_KEPT)
        out = [cache.get(seq) for seq in seqs]
        missing = [i for i, found in enumerate(out) if found is None]
        if missing:
            if len(missing) < len(seqs):
                rows = rows.take(arrays.array(missing, pa.int64()))
            kinds = rows.column("kind").to_pylist()
            for i, kind, body in zip(missing, kinds, self.ws.bodies(rows), strict=True):
                found = out[i] = observation(decode_one(kind, body))
                cache.put(seqs[i], found)
        return tuple(out)

    def metrics(self, run_ref: str) -> list[_Metric]:
        """The run's metric observations (first copy per record_ref), append order."""
        table, index = self.ws.index("stage_metrics", "run_ref")
        rows = index.get(run_ref)
        if not rows:
            return []
        picked = take_rows(table, rows)
        if self.as_of_us is not None:
            picked = _as_of(picked, self.as_of_us)
        out = []
        seen: set[str] = set()
        for ref, stage, key, value, observed, seq in zip(
            picked.column("ref").to_pylist(),
            picked.column("stage_ref").to_pylist(),
            picked.column("key").to_pylist(),
            picked.column("value").to_pylist(),
            picked.column("valid_time").cast(pa.int64()).to_pylist(),
            picked.column("seq").to_pylist(),
            strict=True,
        ):
            if ref in seen:
                continue
            seen.add(ref)
            out.append(_Metric(stage, key, value, observed, seq))
        return out

    # ------------------------------------------------------------------ snapshot

    def snapshot(self, run_id: str | StableRef) -> RunSnapshot:
        run_ref = self.resolve_run(run_id)
        run = self.run_model(run_ref)
        record = self.run_record(run)
        stages = self.stages_of(run_ref)
        stage_records = tuple(stage_record(s) for s in stages)
        observations = self.observations(run_ref)
        extra = self.snapshot_extras(run_ref, stages)
        links = [EvidenceLink("run", run_ref, run.name)]
        links += extra.get("lead_links", [])
        links += [EvidenceLink("stage", s.stage_id, s.name) for s in stage_records]
        links += extra.get("links", [])
        links += [EvidenceLink("record", o.record_id, o.key) for o in observations[:10]]
        notes = completeness_notes(stage_records, observations, extra)
        return RunSnapshot(
            run=record,
            deployments=tuple(extra.get("deployments", ())),
            stages=stage_records,
            batches=tuple(extra.get("batches", ())),
            samples=tuple(extra.get("samples", ())),
            artifacts=tuple(extra.get("artifacts", ())),
            relations=tuple(extra.get("relations", ())),
            records=observations,
            evidence_links=tuple(links),
            completeness_notes=notes,
            provenance=extra.get("provenance"),
            params=MappingProxyType(labels_of(run)[0]),
            tags=record.tags,
        )

    def snapshot_extras(self, run_ref: str, stages: Sequence[Any]) -> dict[str, Any]:
        """Deployments, batches, samples, artifacts, relations and provenance of a run, and
        their evidence links (``lead_links`` go right after the run's)."""
        return snapshot_extras(self, run_ref, stages)

    # ------------------------------------------------------------------ compare

    def _comparison(self) -> Any:
        """The comparison policy: one a ``CompareService`` set, else the config's (or None)."""
        policy = self.__dict__.get("comparison_policy")
        if policy is not None:
            return policy
        try:
            return self.config.interpretation.comparison
        except AttributeError:
            return None

    def _selection(self) -> str:
        return getattr(self._comparison(), "metric_selection", "latest")

    def _include_unchanged(self) -> bool:
        return bool(getattr(self._comparison(), "include_unchanged_metrics", False))

    def _missing_stage_severity(self) -> str:
        return getattr(self._comparison(), "missing_stage_severity", "warning")

    def compare_runs(self, left_id: str | StableRef, right_id: str | StableRef) -> RunComparison:
        from .comparison_results import MetricDelta, RunComparison, StageComparison

        left = self.snapshot(left_id)
        right = self.snapshot(right_id)
        left_metrics = self.metrics(left.run.run_id)
        right_metrics = self.metrics(right.run.run_id)
        left_stages = {s.name: s for s in left.stages}
        right_stages = {s.name: s for s in right.stages}
        rows = []
        delta_count = 0
        mode = self._selection()
        for name in sorted(set(left_stages) | set(right_stages)):
            ls, rs = left_stages.get(name), right_stages.get(name)
            lvals = _select(left_metrics, ls.stage_id if ls else None, mode)
            rvals = _select(right_metrics, rs.stage_id if rs else None, mode)
            deltas = []
            for key in sorted(set(lvals) | set(rvals)):
                lv, rv = lvals.get(key), rvals.get(key)
                if lv is not None and rv is not None and lv == rv and not self._include_unchanged():
                    continue
                sparse: tuple[CompletenessNote, ...] = ()
                if lv is None or rv is None:
                    sparse = (
                        _note(
                            "warning",
                            f"sparse_metric_capture:{name}:{key}",
                            left_value=lv,
                            right_value=rv,
                        ),
                    )
                deltas.append(
                    MetricDelta(
                        metric_key=key,
                        left_value=lv,
                        right_value=rv,
                        delta=(rv - lv) if lv is not None and rv is not None else None,
                        change_ratio=(rv / lv) if lv not in (None, 0) and rv is not None else None,
                        stage_name=name,
                        completeness_notes=sparse,
                    )
                )
            stage_notes: tuple[CompletenessNote, ...] = ()
            if ls is None or rs is None:
                stage_notes = (
                    _note(
                        self._missing_stage_severity(),
                        f"missing_stage:{name}",
                        left_present=ls is not None,
                        right_present=rs is not None,
                    ),
                )
            links = tuple(
                EvidenceLink("stage", s.stage_id, s.name) for s in (ls, rs) if s is not None
            )
            delta_count += len(deltas)
            rows.append(
                StageComparison(
                    stage_name=name,
                    left_stage_id=ls.stage_id if ls else None,
                    right_stage_id=rs.stage_id if rs else None,
                    left_status=ls.status if ls else None,
                    right_status=rs.status if rs else None,
                    metric_deltas=tuple(deltas),
                    completeness_notes=stage_notes,
                    evidence_links=links,
                )
            )
        artifact_changes = self.artifact_changes(left, right)
        notes: list[CompletenessNote] = []
        for side, snap in (("left", left), ("right", right)):
            notes += [
                _note("warning", f"{side}:{n}", run_id=snap.run.run_id)
                for n in snap.completeness_notes
            ]
        for row in rows:
            notes += list(row.completeness_notes)
        all_links = [*left.evidence_links, *right.evidence_links]
        all_links += [link for row in rows for link in row.evidence_links]
        all_links += [link for change in artifact_changes for link in change.evidence_links]
        summary = (
            f"Compared {left.run.name} and {right.run.name}: {len(rows)} stage rows, "
            f"{delta_count} metric deltas, {len(artifact_changes)} artifact changes."
        )
        return RunComparison(
            left_run_id=left.run.run_id,
            right_run_id=right.run.run_id,
            summary=summary,
            stage_comparisons=tuple(rows),
            artifact_changes=tuple(artifact_changes),
            completeness_notes=_dedupe_notes(notes),
            evidence_links=tuple(dict.fromkeys(all_links)),
            provenance_comparison=self.provenance_comparison(left, right),
            param_changes=param_changes(left.params, right.params),
        )

    def artifact_changes(self, left: RunSnapshot, right: RunSnapshot) -> list[Any]:
        """Artifact differences by kind: added, removed, ambiguous or changed."""
        from .provenance_audit import artifact_changes

        return artifact_changes(left.artifacts, right.artifacts)

    def provenance_comparison(self, left: RunSnapshot, right: RunSnapshot) -> Any:
        """What differs between the two runs' provenance (None when neither has any)."""
        from .provenance_audit import provenance_comparison

        return provenance_comparison(left, right)

    # ------------------------------------------------------------------ multi / best

    def metric_table(
        self, run_refs: Sequence[str]
    ) -> dict[tuple[str | None, str], list[float | None]]:
        """(stage name or None, key) -> value per run, by the configured selection."""
        mode = self._selection()
        table: dict[tuple[str | None, str], list[float | None]] = {}
        for position, run_ref in enumerate(run_refs):
            metrics = self.metrics(run_ref)
            stage_names = {
                str(s.stage_execution_ref): s.stage_name for s in self.stages_of(run_ref)
            }
            by_stage: dict[str | None, list[_Metric]] = {}
            for m in metrics:
                if m.stage_ref is None:
                    by_stage.setdefault(None, []).append(m)
                elif m.stage_ref in stage_names:
                    by_stage.setdefault(m.stage_ref, []).append(m)
            for stage_ref, items in by_stage.items():
                name = None if stage_ref is None else stage_names[stage_ref]
                for key, value in _select(items, stage_ref, mode).items():
                    column = table.setdefault((name, key), [None] * len(run_refs))
                    column[position] = value
        return table

    def compare_multiple_runs(self, run_ids: Sequence[str | StableRef]) -> MultiRunComparison:
        from .comparison_results import MultiRunComparison, MultiRunMetricRow

        ids = _distinct_ids(run_ids, "compare_multiple_runs")
        snapshots = [self.snapshot(i) for i in ids]
        refs = [s.run.run_id for s in snapshots]
        values = self.metric_table(refs)
        rows = []
        for stage_name, key in sorted(values, key=lambda k: (k[0] is not None, k[0] or "", k[1])):
            column = values[(stage_name, key)]
            best = None
            best_value = None
            for run_id, value in zip(ids, column, strict=True):
                if value is not None and (best_value is None or value > best_value):
                    best, best_value = run_id, value
            rows.append(MultiRunMetricRow(key, stage_name, tuple(column), best))
        artifact_rows = self.artifact_kind_counts(snapshots)
        notes = []
        for snap in snapshots:
            notes += [_note("warning", n, run_id=snap.run.run_id) for n in snap.completeness_notes]
        return MultiRunComparison(
            run_ids=tuple(ids),
            run_names=tuple(s.run.name for s in snapshots),
            metric_table=tuple(rows),
            artifact_kind_counts=tuple(artifact_rows),
            completeness_notes=_dedupe_notes(notes),
            evidence_links=tuple(
                dict.fromkeys(link for s in snapshots for link in s.evidence_links)
            ),
            summary=f"Compared {len(ids)} runs: {len(rows)} metric rows and "
            f"{len(artifact_rows)} artifact kind summaries.",
        )

    def artifact_kind_counts(self, snapshots: Sequence[RunSnapshot]) -> list[Any]:
        """Per artifact kind (sorted), how many artifacts each run has."""
        from .provenance_audit import artifact_kind_counts

        return artifact_kind_counts(snapshots)

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
        returned unless ``include_quarantined``; answered in one vectorised pass."""
        rules = (metric_key, stage_name, higher_is_better, include_quarantined)
        fast = self._best_of_given(run_ids, *rules)
        if fast is not None:
            return fast[0]
        return self._best(_distinct_ids(run_ids, "select_best_run"), *rules)

    def _best_of_given(
        self,
        run_ids: object,
        metric_key: str,
        stage_name: str | None,
        higher_is_better: bool,
        include_quarantined: bool,
    ) -> tuple[Any] | None:
        """(:meth:`select_best_run`'s answer,) when ``run_ids`` are distinct plain strings
        that each name a run (:meth:`_distinct_known_refs`), answered all in Arrow; None
        otherwise (the general path answers, with its errors)."""
        given = self._distinct_known_refs(run_ids)
        if given is None:
            return None
        ids, refs = given
        at = self._best_at(refs, metric_key, stage_name, higher_is_better, include_quarantined)
        return (None if at is None else ids[at],)

    def _distinct_known_refs(self, run_ids: object) -> tuple[list[str], pa.Array] | None:
        """(the ids, their run refs as an Arrow array) when ``run_ids`` is a list or tuple of
        at least two plain strings, no two alike, that are all known full run refs or all
        known ``<project>.<run>`` ids; else None (the general path dedupes and resolves them
        one by one, with its errors). Each check is one Arrow pass: for 100k ids about 25 ms,
        against 70-100 ms for the dedupe and the resolve through Python sets."""
        if not isinstance(run_ids, (list, tuple)) or len(run_ids) < 2 or not _all_str(run_ids):
            return None
        given = arrays.strings(list(run_ids))
        if not all_distinct(given):
            return None
        full = pc.starts_with(given, _RUN_PREFIX)
        if pc.all(full).as_py():
            refs = given  # known full refs are their own canonical text
        elif not pc.any(full).as_py():
            # '<project>.<run>': a run ref is 'run:' and the id (resolve_run's first rule for a
            # dotted id; an id that is not a known run this way takes the general path)
            refs = pc.binary_join_element_wise(_s(_RUN_PREFIX), given, _s(""))
        else:
            return None
        known = arrays.contiguous(self.ws.table("runs", as_of_us=self.as_of_us).column("ref"))
        if not (refs.equals(known) or pc.all(pc.is_in(refs, value_set=known)).as_py()):
            return None
        return list(run_ids), refs

    def _best(
        self,
        ids: list[Any],
        metric_key: str,
        stage_name: str | None,
        higher_is_better: bool,
        include_quarantined: bool,
    ) -> Any:
        """:meth:`select_best_run` of distinct ``ids``, in Arrow: each id's value looked up at
        once, the quarantined and the non-finite set aside, the first id with the best."""
        refs = self.resolve_many(ids)
        at = self._best_at(
            arrays.strings(refs), metric_key, stage_name, higher_is_better, include_quarantined
        )
        return None if at is None else ids[at]

    def best_listed(
        self,
        project_name: str | None,
        metric_key: str,
        *,
        stage_name: str | None = None,
        higher_is_better: bool = True,
        include_quarantined: bool = False,
    ) -> tuple[str | None, int]:
        """``best_of(listed_run_ids(project_name), ...)`` and the number of runs listed,
        without a Python list of every run id: the listed refs are distinct, known run refs,
        so there is nothing to deduplicate or resolve (``contexta best`` over a workspace)."""
        refs = self._listed_refs(project_name)
        if len(refs) < 2:  # one candidate takes best_of's own checks
            ids = refs.to_pylist()
            found = (
                self.best_of(
                    ids,
                    metric_key,
                    stage_name=stage_name,
                    higher_is_better=higher_is_better,
                    include_quarantined=include_quarantined,
                )
                if ids
                else None
            )
            return found, len(ids)
        at = self._best_at(refs, metric_key, stage_name, higher_is_better, include_quarantined)
        return (None if at is None else refs[at].as_py()), len(refs)

    def _best_at(
        self,
        ref_array: pa.Array,
        metric_key: str,
        stage_name: str | None,
        higher_is_better: bool,
        include_quarantined: bool,
    ) -> int | None:
        """The position in ``ref_array`` (distinct run refs) of the first run with the best
        value, or None when none has one."""
        found = self._values(metric_key, stage_name)
        if found is None:
            return None
        # each id's value (null when its run has none), then null for the quarantined ones;
        # no lookup when the ids are the runs that have a value, in the same order
        if ref_array.equals(found.refs):
            values = found.values
        else:
            values = found.values.take(pc.index_in(ref_array, value_set=found.refs))
        if not include_quarantined:
            quarantined = self.quarantined_refs()
            if quarantined:
                hidden = pc.is_in(ref_array, value_set=arrays.strings(list(quarantined)))
                values = pc.if_else(hidden, arrays.scalar(None, pa.float64()), values)
        # NaN and infinities are stored as logged, never picked as best
        values = pc.if_else(pc.is_finite(values), values, arrays.scalar(None, pa.float64()))
        best = (pc.max if higher_is_better else pc.min)(values)
        if not best.is_valid:
            return None
        return int(pc.index(values, best).as_py())  # the first id with it: ties go to it

    def best_of(
        self,
        run_ids: Sequence[Any],
        metric_key: str,
        *,
        stage_name: str | None = None,
        higher_is_better: bool = True,
        include_quarantined: bool = False,
    ) -> str | None:
        """``select_best_run`` over one run or more: a single candidate passes the same checks
        as any other (it must exist, must not be quarantined unless ``include_quarantined``,
        must have the metric); with two or more this is ``select_best_run`` itself."""
        ids = _dedupe_ids(check_run_ids(run_ids, "best_of"))
        if len(ids) != 1:
            return self.select_best_run(
                ids,
                metric_key,
                stage_name=stage_name,
                higher_is_better=higher_is_better,
                include_quarantined=include_quarantined,
            )
        found = self._candidates(ids, metric_key, stage_name, include_quarantined)
        return ids[0] if found else None

    def _candidates(
        self,
        ids: Sequence[Any],
        metric_key: str,
        stage_name: str | None,
        include_quarantined: bool,
    ) -> list[tuple[Any, float]]:
        """(id as given, selected value) of each of ``ids`` that is not quarantined (unless
        ``include_quarantined``) and has ``metric_key`` (at its first stage named
        ``stage_name``, or run level), in the order given; unknown ids raise."""
        refs = self.resolve_many(ids)
        if include_quarantined:
            quarantined: set[str] = set()
        else:
            quarantined = self.quarantined_refs()
        found = self._values(metric_key, stage_name)
        if found is None:
            return []
        values = found.mapping
        out = []
        for run_id, ref in zip(ids, refs, strict=True):
            value = values.get(ref)
            if value is not None and ref not in quarantined:
                out.append((run_id, value))
        return out

    def resolve_many(self, run_ids: Sequence[str | StableRef]) -> list[str]:
        """``[self.resolve_run(i) for i in run_ids]`` reading the known refs once: a full run ref
        that is known is its own canonical text; anything else takes ``resolve_run``."""
        known = self._run_refs()
        if isinstance(run_ids, (list, tuple)) and _all_str(run_ids):
            # checked in C, no loop here: every id a known full ref, or every id a known
            # '<project>.<run>' (the loop's two shortcuts, when they hold for every id)
            if all(map(known.__contains__, run_ids)):
                return list(run_ids)
            prefixed = list(map(_RUN_PREFIX.__add__, run_ids))
            if all(map(known.__contains__, prefixed)):
                return prefixed
        out = []
        for run_id in run_ids:
            if type(run_id) is str:
                if run_id in known:
                    out.append(run_id)
                    continue
                # '<project>.<run>' as resolve_run reads it (its first rule for a dotted id)
                if "." in run_id and ":" not in run_id and run_id == run_id.strip():
                    candidate = "run:" + run_id
                    if candidate in known:
                        out.append(candidate)
                        continue
            out.append(self.resolve_run(run_id))
        return out

    def _stage_choice(self, stage_name: str) -> dict[str, str]:
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
            candidates = [s for s in self.stages_of(run) if s.stage_name == stage_name]
            chosen[run] = str(sorted(candidates, key=_stage_order)[0].stage_execution_ref)
        return chosen

    def _stage_refs(self, stage_name: str) -> pa.Array:
        """The values of :meth:`_stage_choice`, in Arrow: when no run has two stages of that
        name (the contract's rule), they are every such stage's ref, with no Python per run
        (and only the stage rows of that name are looked at)."""
        # every version of a stage has its ref, and the ref is '<run>.<stage name>' (the
        # contract checks it on every put and decode): the versions named so are all of their
        # refs' versions, so their latest are the latest versions of the stages named so
        stages = self.ws.table("stages", as_of_us=self.as_of_us).select(_STAGE_COLUMNS)
        named = latest_per(stages.filter(pc.equal(stages.column("key"), _s(stage_name))))
        if all_distinct(named.column("run_ref")):
            return arrays.contiguous(named.column("ref"))
        return arrays.strings(list(self._stage_choice(stage_name).values()))

    def _values(self, metric_key: str, stage_name: str | None) -> _RunValues | None:
        """run ref -> the selected value of ``metric_key`` (at the run's first stage named
        ``stage_name``, or run level), for every run that has one; None when no run has the key.

        Cached per (key, stage name, selection) while the stage_metrics and stages tables are the
        same objects (a projection hands out one table until it folds more rows; the cache keeps
        them alive, so identity is safe): a warm select-best only loops over the ids.
        """
        table, _ = self.ws.index("stage_metrics", "key")
        stages = self.ws.table("stages", as_of_us=self.as_of_us) if stage_name is not None else None
        mode = self._selection()
        cache = self.__dict__.setdefault("_fast_values", {})
        key = (metric_key, stage_name, mode, self.as_of_us)
        hit = cache.get(key)
        if hit is not None and hit[0] is table and hit[1] is stages:
            return hit[2]
        found = self.ws.rows_of("stage_metrics", "key", metric_key, columns=_VALUE_COLUMNS)
        if not found.num_rows:
            return None
        # first copy of each record ref (as QueryService.metrics does), then the chosen stage
        picked = first_per(as_of(found, self.as_of_us), "ref")
        if stage_name is None:
            picked = picked.filter(pc.is_null(picked.column("stage_ref")))
        else:
            chosen = self._stage_refs(stage_name)
            # every chosen ref is '<run>.<stage name>' (the contract's rule for a stage ref):
            # the rows of other stages go first by their ref's end, a cheaper pass than the
            # lookup, which then sees only this stage name's rows
            picked = picked.filter(pc.ends_with(picked.column("stage_ref"), "." + stage_name))
            mine = arrays.contiguous(picked.column("stage_ref"))
            if not mine.equals(chosen):  # equal when both are in the order they were written
                picked = picked.filter(pc.is_in(mine, value_set=chosen))
        values = _RunValues(*value_columns(picked, mode))
        if stage_name is not None:
            del found, picked  # the copies of the key's rows: freed before the pool is trimmed
            self.ws.let_go("stages")  # every stage row's name was read, once
        if len(cache) > 64:
            cache.clear()
        cache[key] = (table, stages, values)
        return values

    def _run_records(
        self, rows: pa.Table, names: dict[str, str], order: pa.Array | None = None
    ) -> list[RunRecord]:
        """The run records of the runs projection's ``rows``, in ``order`` (row positions;
        None: as they are). Each is kept by seq (a stored run version never changes) while the
        project names are equal, so after a few new runs only those are decoded; only the
        versions of the latest answer are kept. Bodies are read and decoded a block at a time:
        at 100k runs, the whole column as Python bytes and its decoded runs at once took about
        100 MiB more at the peak than the records themselves."""
        kept = self.__dict__.get("_fast_run_records")
        by_seq: dict[int, RunRecord] = kept[1] if kept is not None and kept[0] == names else {}
        seq_column = rows.column("seq")
        seqs = (seq_column if order is None else seq_column.take(order)).to_pylist()
        found = [by_seq.get(seq) for seq in seqs]
        missing = [i for i, record in enumerate(found) if record is None]
        bodies = rows.column("body")
        for start in range(0, len(missing), _DECODE_BLOCK):
            block = missing[start : start + _DECODE_BLOCK]
            at = arrays.array(block, pa.int64())
            part = bodies.take(at if order is None else order.take(at))
            for i, run in zip(block, decode_many(RUN_PUT, part.to_pylist()), strict=True):
                found[i] = self.run_record(run, names)
        if len(missing) >= _DECODE_BLOCK:  # went over many bodies once: their pages may go
            self.ws.let_go("runs")
        out = [record for record in found if record is not None]
        if missing:
            by_seq = dict(zip(seqs, out, strict=True))
        self.__dict__["_fast_run_records"] = (names, by_seq)
        return out

    # ------------------------------------------------------------------ quarantine & tags

    def quarantine_state(self) -> dict[str, tuple[bool, str, int]]:
        """run_ref -> (quarantined, last reason, tx_time us) from quarantine/release events."""
        table = self.ws.table("event_keys", as_of_us=self.as_of_us)
        if table.num_rows == 0:
            return {}
        kinds = table.column("kind")
        mask = pc.or_(pc.equal(kinds, _s(QUARANTINE)), pc.equal(kinds, _s(RELEASE)))
        rows = table.filter(mask)
        state: dict[str, tuple[bool, str, int]] = {}
        for kind, run, reason, tx in zip(
            rows.column("kind").to_pylist(),
            rows.column("run_ref").to_pylist(),
            rows.column("key").to_pylist(),
            rows.column("tx_time").cast(pa.int64()).to_pylist(),
            strict=True,
        ):
            state[run] = (kind == QUARANTINE, reason, tx)
        return state

    def quarantined_runs(self, project_name: str | None = None) -> tuple[str, ...]:
        flagged = self.quarantined_refs()
        return tuple(r.run_id for r in self.list_runs(project_name) if r.run_id in flagged)

    def quarantined_refs(self) -> set[str]:
        """The refs of the runs quarantined now (as of), from :meth:`quarantine_state`."""
        return {run for run, (on, _, _) in self.quarantine_state().items() if on}

    def runs_with_event(self, event_key: str, project_name: str | None = None) -> tuple[str, ...]:
        table = self.ws.table("event_keys", as_of_us=self.as_of_us)
        if table.num_rows == 0:
            return ()
        rows = table.filter(
            pc.and_(
                pc.equal(table.column("kind"), _s(EVENT)),
                pc.equal(table.column("key"), _s(event_key)),
            )
        )
        carrying = set(rows.column("run_ref").to_pylist())
        return tuple(r.run_id for r in self.list_runs(project_name) if r.run_id in carrying)


# ---------------------------------------------------------------------- helpers


def _as_of(table: pa.Table, as_of_us: int) -> pa.Table:
    bound = arrays.scalar(as_of_us, table.schema.field("tx_time").type)
    return table.filter(pc.less_equal(table.column("tx_time"), bound))


def _latest(table: pa.Table) -> pa.Table:
    from projections import latest_per

    return latest_per(table)


def param_changes(left: Mapping[str, Any], right: Mapping[str, Any]) -> tuple[ParamChange, ...]:
    """The params whose values differ between two runs, by name."""
    from .comparison_results import ParamChange

    names = sorted(set(left) | set(right))
    return tuple(
        ParamChange(n, left.get(n), right.get(n))
        for n in names
        if left.get(n) != right.get(n) or (n in left) != (n in right)
    )


def check_run_ids(run_ids: object, method: str) -> Iterable[Any]:
    """``run_ids`` when it is a collection of run ids (or one id), else a typed error naming
    ``method``'s ``run_ids`` argument (code ``query_invalid_run_ids``)."""
    if (
        run_ids is None
        or isinstance(run_ids, (bytes, int, float))
        or not hasattr(run_ids, "__iter__")
    ):
        raise ValidationError(
            f"{method}(run_ids=...) takes a list of run ids, got {run_ids!r}.",
            code="query_invalid_run_ids",
            details={"field": "run_ids", "value": repr(run_ids)},
        )
    return run_ids  # type: ignore[return-value]


def _distinct_ids(run_ids: object, method: str) -> list[Any]:
    """The distinct ids of ``run_ids`` (first spelling kept, order kept): at least two, else
    ``compare_requires_multiple_runs``."""
    ids = _dedupe_ids(check_run_ids(run_ids, method))
    if len(ids) < 2:
        raise ComparisonError(
            f"{method} needs at least 2 distinct runs, got {len(ids)}.",
            code="compare_requires_multiple_runs",
            details={"run_ids": list(ids)},
        )
    return ids


_RUN_PREFIX = "run:"
#: Run bodies decoded at a time when run records are built (:meth:`QueryService._run_records`)
_DECODE_BLOCK = 4096


def best_candidate(candidates: Iterable[tuple[Any, float]], higher_is_better: bool) -> Any:
    """The id of the best of ``candidates`` ((id, value) in the caller's order): strict
    comparison, so ties go to the earliest; NaN and infinities are never picked."""
    best: Any = None
    best_value: float | None = None
    for run_id, value in candidates:
        if value != value or value in _INFINITIES:
            continue  # NaN and infinities are stored as logged, never picked as best
        if best_value is None or (value > best_value if higher_is_better else value < best_value):
            best, best_value = run_id, value
    return best


def _all_str(values: Sequence[Any]) -> bool:
    """Whether every one of ``values`` is a plain ``str`` (a subclass is not), checked in C."""
    return set(map(type, values)) <= {str}


def _dedupe_ids(run_ids: Iterable[Any]) -> list[Any]:
    """The ids of ``run_ids`` whose text was not seen before, in order (first spelling kept)."""
    if isinstance(run_ids, (str, StableRef)):
        run_ids = [run_ids]
    if isinstance(run_ids, (list, tuple)) and _all_str(run_ids):
        return list(dict.fromkeys(run_ids))  # plain strings are their own text
    out: list[Any] = []
    seen: set[str] = set()
    for run_id in run_ids:
        key = str(run_id)
        if key not in seen:
            seen.add(key)
            out.append(run_id)
    return out


def stage_record(stage: Any) -> StageRecord:
    return StageRecord(
        stage_id=str(stage.stage_execution_ref),
        run_id=str(stage.run_ref),
        name=stage.stage_name,
        status=stage.status,
        order=stage.order_index or 0,
        started_at=stage.started_at,
        ended_at=stage.ended_at,
    )


def _select(metrics: Iterable[_Metric], stage_ref: str | None, mode: str) -> dict[str, float]:
    """Per key, one value from the metrics recorded against ``stage_ref`` (None: run level)."""
    grouped: dict[str, list[_Metric]] = {}
    for m in metrics:
        if m.stage_ref == stage_ref:
            grouped.setdefault(m.key, []).append(m)
    out: dict[str, float] = {}
    for key, items in grouped.items():
        values = [float(i.value) for i in items]
        if mode == "max":
            out[key] = max(values)
        elif mode == "min":
            out[key] = min(values)
        elif mode == "mean":
            out[key] = sum(values) / len(values)
        else:
            latest = max(items, key=lambda i: (i.observed, i.seq))
            out[key] = float(latest.value)
    return out


def _note(severity: str, summary: str, **details: Any) -> CompletenessNote:
    return CompletenessNote(severity, summary, MappingProxyType(dict(sorted(details.items()))))


def _dedupe_notes(notes: Iterable[CompletenessNote]) -> tuple[CompletenessNote, ...]:
    seen: set[tuple[str, str]] = set()
    out = []
    for note in notes:
        key = (note.severity, note.summary)
        if key not in seen:
            seen.add(key)
            out.append(note)
    return tuple(out)


def observation(record: Any) -> ObservationRecord:
    env = record.envelope
    payload = record.payload
    rtype = env.record_type
    value: Any = None
    message = None
    unit = None
    if rtype == "metric":
        key, value, unit = payload.metric_key, payload.value, payload.unit
    elif rtype == "event":
        key, message = payload.event_key, payload.message
    elif rtype == "span":
        key = payload.span_name
        value = span_duration_ms(payload)
        unit = "ms"
    else:
        key, message = payload.issue_key, payload.summary
    corr = env.correlation_refs
    return ObservationRecord(
        record_id=str(env.record_ref),
        run_id=str(env.run_ref),
        stage_id=None if env.stage_execution_ref is None else str(env.stage_execution_ref),
        record_type=rtype,
        key=key,
        value=value,
        message=message,
        observed_at=env.observed_at,
        completeness_marker=env.completeness_marker,
        degradation_marker=env.degradation_marker,
        payload=_ReadOnly(_payload_dict(payload)),
        schema_version=env.schema_version,
        producer_ref=env.producer_ref,
        correlation_id=(corr.trace_id or corr.session_id) if corr is not None else None,
        unit=unit,
    )


def _payload_dict(payload: Any) -> dict[str, Any]:
    data = payload.to_dict() if hasattr(payload, "to_dict") else {k: plain(v) for k, v in payload}
    return dict(sorted(data.items()))


class _ReadOnly(dict):  # type: ignore[type-arg]
    """A dict that refuses changes (1.0 exposes payloads as read-only mappings)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("payload mappings are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)


def completeness_notes(
    stages: Sequence[StageRecord], records: Sequence[ObservationRecord], extra: dict[str, Any]
) -> tuple[str, ...]:
    notes: list[str] = []
    batches = extra.get("batches", ())
    samples = extra.get("samples", ())
    if not stages:
        notes.append("stage_list_empty")
    if not extra.get("deployments"):
        notes.append("deployment_list_empty")
    if stages and not batches:
        notes.append("batch_list_empty")
    if batches and not samples:
        notes.append("sample_list_empty")
    if not extra.get("artifacts"):
        notes.append("artifact_list_empty")
    if not extra.get("relations"):
        notes.append("relation_scope_empty")
    if not records:
        notes.append("record_scope_empty")
    if extra.get("provenance") is None:
        notes.append("provenance_missing")
    with_records = {r.stage_id for r in records}
    for stage in stages:
        if stage.stage_id not in with_records:
            notes.append(f"missing_stage_records:{stage.name}")
    return tuple(dict.fromkeys(notes))
