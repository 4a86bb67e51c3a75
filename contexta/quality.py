"""Data-quality facts added after the fact, and views of the past.

Tags and quarantines are new events: their transaction time is now, their valid time may lie in
the past (a tag is observed at the run's ``started_at``). History is never rewritten, so
``as_of(T)`` can answer exactly what the workspace answered at transaction time T.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from .common.errors import ReadOnlyStoreError, ValidationError
from .contract import RecordEnvelope, StableRef, StructuredEventPayload, StructuredEventRecord
from .contract.extensions import with_labels
from .contract.timestamps import normalize_timestamp, timestamp_micros
from .events import QUARANTINE, RELEASE, project_of, quarantine_event
from .history import LedgerEvent, final_as_of, iter_history
from .parity.entities_mixin import EntityQueriesMixin
from .parity.reports_mixin import ReportsMixin

if TYPE_CHECKING:
    from .interpretation.queries import QueryService
    from .interpretation.results import MultiRunComparison, RunComparison, RunRecord, RunSnapshot

__all__ = ["TAG_PRODUCER", "AsOfView", "QualityMixin"]

TAG_PRODUCER = "contexta.quality"


def _now_text() -> str:
    return normalize_timestamp(datetime.now(UTC))


def _bound(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return timestamp_micros(value)
    except ValidationError as exc:
        raise ValidationError(
            f"{name} must be an ISO-8601 time with a zone (or an aware datetime), got {value!r}.",
            code="quality_invalid_time",
            details={"field": name, "value": str(value)},
        ) from exc


def _reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(
            f"reason must be a non-blank string, got {reason!r}.",
            code="quality_missing_reason",
            details={"field": "reason", "value": repr(reason)},
        )
    return _utf8(reason.strip(), "reason")


def _utf8(text: Any, name: str) -> Any:
    """``text`` when it is not a string or is one the ledger can store (valid UTF-8: no lone
    surrogates); else a ValidationError naming ``name``."""
    if isinstance(text, str) and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            shown = repr(text) if len(text) <= 60 else repr(text[:57]) + "..."
            raise ValidationError(
                f"{name} must be valid UTF-8 text (no lone surrogates), got {shown}.",
                code="quality_invalid_text",
                details={"field": name, "value": shown},
            ) from exc
    return text


def tag_record_ref(run_ref: str, event_key: str, message: str) -> str:
    """The record ref of a tag: the same key and message on the same run give the same ref,
    so tagging twice adds nothing."""
    digest = hashlib.blake2b(f"{event_key}\0{message}".encode(), digest_size=6).hexdigest()
    return f"record:{run_ref[4:]}.tag-{digest}"


class QualityMixin:
    """Retroactive tags, quarantine and as-of views (mixed into ``Contexta``)."""

    _workspace: Any
    config: Any
    query_service: QueryService

    def tag_runs(
        self,
        event_key: str,
        *,
        message: str,
        project_name: str | None = None,
        run_ids: Sequence[str] | None = None,
        started_after: Any = None,
        started_before: Any = None,
        level: str = "warning",
        attributes: Mapping[str, Any] | None = None,
    ) -> tuple[str, ...]:
        """Tag every run of ``project_name`` (or of ``run_ids``) whose ``started_at`` lies in
        the inclusive bounds with a StructuredEventRecord carrying ``event_key``, observed at
        the run's ``started_at`` and recorded now. Returns the tagged runs' canonical ids in
        ``list_runs`` order (runs already carrying this exact tag included; nothing is added
        for them)."""
        self._check_writable()
        if project_name is None and run_ids is None:
            raise ValidationError(
                "tag_runs needs project_name or run_ids to choose the runs.",
                code="quality_no_runs_selected",
                details={"field": "project_name"},
            )
        _utf8(event_key, "event_key")
        _utf8(message, "message")
        lower = _bound(started_after, "started_after")
        upper = _bound(started_before, "started_before")
        qs = self.query_service
        if run_ids is not None:
            if isinstance(run_ids, str):
                run_ids = [run_ids]
            wanted = {qs.resolve_run(r) for r in run_ids}
            candidates = [r for r in qs.list_runs(None) if r.run_id in wanted]
            if project_name is not None:
                refs = qs.project_refs(project_name)
                candidates = [r for r in candidates if project_of(r.run_id) in refs]
        else:
            candidates = list(qs.list_runs(project_name))
        chosen = [
            r
            for r in candidates
            if (lower is None or timestamp_micros(r.started_at) >= lower)
            and (upper is None or timestamp_micros(r.started_at) <= upper)
        ]
        existing = self._existing_event_refs()
        now = _now_text()
        records = []
        for run in chosen:
            ref = tag_record_ref(run.run_id, event_key, message)
            if ref in existing:
                continue
            recorded = (
                now if timestamp_micros(now) >= timestamp_micros(run.started_at) else run.started_at
            )
            records.append(
                StructuredEventRecord(
                    envelope=RecordEnvelope(
                        record_ref=ref,
                        record_type="event",
                        recorded_at=recorded,
                        observed_at=run.started_at,
                        producer_ref=TAG_PRODUCER,
                        run_ref=run.run_id,
                    ),
                    payload=StructuredEventPayload(
                        event_key=event_key,
                        level=level,
                        message=message,
                        attributes=dict(attributes or {}),
                        origin_marker="inferred",
                    ),
                )
            )
        if records:
            result = self.record_store.append_many(records)  # type: ignore[attr-defined]
            if result.rejected:
                first = result.rejected[0]
                raise ValidationError(
                    f"Tag rejected: {first.message}",
                    code=first.code,
                    details={"record_ref": first.record_ref},
                )
        self._workspace.flush()  # a tag is recorded when the call returns, not later
        return tuple(r.run_id for r in chosen)

    def _existing_event_refs(self) -> set[str]:
        table = self._workspace.table("event_keys")
        if table.num_rows == 0:
            return set()
        rows = table.filter(pc.equal(table.column("kind"), "record.event"))
        return set(rows.column("ref").to_pylist())

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> str:
        """Set key/value tags of a stored run after the fact (``{"team": "growth"}``): a new
        version of the run, so history keeps the old one and ``as_of`` still answers with it;
        ``list_runs(tags=...)``, snapshots and ``runs`` show them. Returns the canonical id."""
        self._check_writable()
        if not isinstance(tags, Mapping):
            raise ValidationError(
                f"set_tags takes a mapping of tag names to values, got {type(tags).__name__}.",
                code="quality_invalid_tags",
                details={"field": "tags", "value": repr(tags)[:200]},
            )
        ref = self.query_service.resolve_run(run_id)
        runs = self.metadata_store.runs  # type: ignore[attr-defined]
        runs.put_run(with_labels(runs.get_run(ref), tags=tags))
        self.session.relabelled.add(ref)  # type: ignore[attr-defined]  # an open scope keeps them
        self._workspace.flush()  # a deliberate fact: recorded when the call returns
        return ref

    def quarantine_runs(self, run_ids: Iterable[str] | str, *, reason: str) -> tuple[str, ...]:
        """Quarantine runs: ``select_best_run`` never returns them unless asked. Returns the
        canonical ids (runs already quarantined get no second event)."""
        return self._set_quarantine(run_ids, reason, QUARANTINE)

    def release_runs(self, run_ids: Iterable[str] | str, *, reason: str) -> tuple[str, ...]:
        """Lift a quarantine (the quarantine stays in history). Returns the canonical ids."""
        return self._set_quarantine(run_ids, reason, RELEASE)

    def _set_quarantine(
        self, run_ids: Iterable[str] | str, reason: str, kind: str
    ) -> tuple[str, ...]:
        self._check_writable()
        text = _reason(reason)
        if isinstance(run_ids, (str, StableRef)):
            run_ids = [run_ids]  # type: ignore[list-item]
        qs = self.query_service
        refs = list(dict.fromkeys(qs.resolve_run(r) for r in run_ids))
        state = qs.quarantine_state()
        events = []
        for ref in refs:
            on = state.get(ref, (False, "", 0))[0]
            if (kind == QUARANTINE) != on:
                events.append(quarantine_event(kind, ref, text, self._workspace.actor))
        if events:
            self._workspace.write(events)
        self._workspace.flush()  # a quarantine is a deliberate fact: recorded when the call returns
        return tuple(refs)

    def quarantined_runs(self, project_name: str | None = None) -> tuple[str, ...]:
        """Runs quarantined now, in ``list_runs`` order."""
        return self.query_service.quarantined_runs(project_name)

    def runs_with_event(self, event_key: str, project_name: str | None = None) -> tuple[str, ...]:
        """Runs carrying a structured event with ``event_key`` (the event-key index)."""
        return self.query_service.runs_with_event(event_key, project_name)

    def as_of(self, when: Any) -> AsOfView:
        """A read-only view of the workspace as it stood at transaction time ``when``.

        Its answers never change later (see :func:`~contexta.history.final_as_of`): a
        ``when`` in the future is taken as now, and ``view.when`` tells the time used."""
        bound = _bound(when, "when")
        if bound is None:
            raise ValidationError(
                "as_of needs a time: an ISO-8601 time with a zone or an aware datetime, got None.",
                code="quality_invalid_time",
                details={"field": "when", "value": "None"},
            )
        return AsOfView(self, final_as_of(self._workspace, bound))

    def _check_writable(self) -> None:
        if getattr(self.config.records, "read_only", False):
            raise ReadOnlyStoreError(
                "The record store is read-only (records.read_only is set).",
                code="record_store_read_only",
            )


class AsOfView(EntityQueriesMixin, ReportsMixin):
    """The workspace as it stood at one transaction time: every read of the live facade
    (runs, snapshots, comparisons, entities, diagnostics, lineage, trends, alerts, reports),
    answered from the facts committed at or before it. Read only: writes raise
    :class:`ReadOnlyStoreError` (code ``as_of_view_read_only``)."""

    def __init__(self, ctx: Any, as_of_us: int) -> None:
        from .interpretation.fast_paths import FastQueryService

        self._ctx = ctx
        self.as_of_us = as_of_us
        self.query_service = FastQueryService(ctx._workspace, ctx.config, as_of_us)

    @property
    def _workspace(self) -> Any:
        return self._ctx._workspace

    @property
    def config(self) -> Any:
        return self._ctx.config

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.as_of_us / 1_000_000, UTC)

    def __repr__(self) -> str:
        return f"AsOfView({self.when.isoformat()})"

    def list_projects(self) -> tuple[str, ...]:
        return self.query_service.list_projects()

    def list_runs(self, project_name: str | None = None, **options: Any) -> tuple[RunRecord, ...]:
        """As ``Contexta.list_runs`` (same options, same ordering rules)."""
        from .interpretation.run_list import list_runs

        return list_runs(self.query_service, project_name, **options)

    def get_run_snapshot(self, run_id: str) -> RunSnapshot:
        return self.query_service.snapshot(run_id)

    def compare_runs(self, left_run_id: str, right_run_id: str) -> RunComparison:
        return self.query_service.compare_runs(left_run_id, right_run_id)

    def compare_multiple_runs(self, run_ids: Sequence[str]) -> MultiRunComparison:
        return self.query_service.compare_multiple_runs(run_ids)

    def select_best_run(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        stage_name: str | None = None,
        higher_is_better: bool = True,
        include_quarantined: bool = False,
    ) -> str | None:
        return self.query_service.select_best_run(
            run_ids,
            metric_key,
            stage_name=stage_name,
            higher_is_better=higher_is_better,
            include_quarantined=include_quarantined,
        )

    def quarantined_runs(self, project_name: str | None = None) -> tuple[str, ...]:
        return self.query_service.quarantined_runs(project_name)

    def runs_with_event(self, event_key: str, project_name: str | None = None) -> tuple[str, ...]:
        return self.query_service.runs_with_event(event_key, project_name)

    def history(
        self, run_id: str | None = None, *, kinds: Sequence[str] | str | None = None
    ) -> Iterator[LedgerEvent]:
        from .live import normalise_kinds

        run_ref = self.query_service.resolve_run(run_id) if run_id is not None else None
        return iter_history(
            self._ctx._workspace,
            run_ref=run_ref,
            kinds=normalise_kinds(kinds),
            upto_us=self.as_of_us,
        )

    # ------------------------------------------------------------------ tables

    def runs_table(self, project: str | None = None) -> Any:
        """One row per run as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import runs_table

        return runs_table(self.query_service, project)

    def metrics_table(self, run_ids: Any = None, keys: Any = None, stages: Any = None) -> Any:
        """Every metric point, long form, as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import metrics_table

        return metrics_table(self.query_service, run_ids, keys, stages)

    def events_table(self, kinds: Any = None, run_id: Any = None) -> Any:
        """The ledger's events as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import events_table

        return events_table(self.query_service, kinds, run_id)

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise ReadOnlyStoreError(
            f"{self!r} is a view of the past and cannot be written to; write through the live "
            "Contexta instead.",
            code="as_of_view_read_only",
        )

    tag_runs = quarantine_runs = release_runs = _read_only

    @property
    def metadata_store(self) -> Any:
        return _ReadOnlyStore(self)

    @property
    def record_store(self) -> Any:
        return _ReadOnlyStore(self)


class _ReadOnlyStore:
    """Stands in for a store on an as-of view: every attribute access is refused."""

    def __init__(self, view: AsOfView) -> None:
        self._view = view

    def __getattr__(self, name: str) -> Any:
        return self._view._read_only()
