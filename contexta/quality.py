"""Data-quality facts added after the fact (the writes behind ``Contexta.tag_runs``,
``set_tags``, ``quarantine_runs`` and ``release_runs``), and the bound of a view of the past.

Tags and quarantines are new events: their transaction time is now, their valid time may lie in
the past (a tag is observed at the run's ``started_at``). History is never rewritten, so
``as_of(T)`` can answer exactly what the workspace answered at transaction time T.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from projections.kinds import EVENT

from .common.errors import ReadOnlyStoreError, ValidationError
from .contract import RecordEnvelope, StableRef, StructuredEventPayload, StructuredEventRecord
from .contract.extensions import with_labels
from .contract.timestamps import normalize_timestamp, timestamp_micros
from .events import QUARANTINE, project_of, quarantine_event
from .history import final_as_of
from .ordering import string_scalar
from .workspace import Workspace

if TYPE_CHECKING:
    from .config.models import UnifiedConfig
    from .facade import Contexta

__all__ = [
    "TAG_PRODUCER",
    "as_of_bound",
    "check_writable",
    "set_quarantine",
    "set_tags",
    "tag_record_ref",
    "tag_runs",
]

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


def tag_runs(
    ctx: Contexta,
    event_key: str,
    *,
    message: str,
    project_name: str | None = None,
    run_ids: Sequence[str] | str | None = None,
    started_after: datetime | str | None = None,
    started_before: datetime | str | None = None,
    level: str = "warning",
    attributes: Mapping[str, Any] | None = None,
) -> tuple[str, ...]:
    """``Contexta.tag_runs``: see there."""
    check_writable(ctx.config)
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
    qs = ctx.query_service
    workspace = ctx._workspace
    with workspace.snapshot():
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
        existing = _existing_event_refs(workspace)
    chosen = [
        r
        for r in candidates
        if (lower is None or timestamp_micros(r.started_at) >= lower)
        and (upper is None or timestamp_micros(r.started_at) <= upper)
    ]
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
        result = ctx.record_store.append_many(records)
        if result.rejected:
            first = result.rejected[0]
            raise ValidationError(
                f"Tag rejected: {first.message}",
                code=first.code,
                details={"record_ref": first.record_ref},
            )
    workspace.flush()  # a tag is recorded when the call returns, not later
    return tuple(r.run_id for r in chosen)


def _existing_event_refs(workspace: Workspace) -> set[str]:
    table = workspace.table("event_keys")
    if table.num_rows == 0:
        return set()
    rows = table.filter(pc.equal(table.column("kind"), string_scalar(EVENT)))
    return set(rows.column("ref").to_pylist())


def set_tags(ctx: Contexta, run_id: str, tags: Mapping[str, Any]) -> str:
    """``Contexta.set_tags``: see there."""
    check_writable(ctx.config)
    if not isinstance(tags, Mapping):
        raise ValidationError(
            f"set_tags takes a mapping of tag names to values, got {type(tags).__name__}.",
            code="quality_invalid_tags",
            details={"field": "tags", "value": repr(tags)[:200]},
        )
    with ctx._workspace.snapshot():
        ref = ctx.query_service.resolve_run(run_id)
    runs = ctx.metadata_store.runs
    runs.put_run(with_labels(runs.get_run(ref), tags=tags))
    ctx.session.relabelled.add(ref)  # an open scope keeps them
    ctx._workspace.flush()  # a deliberate fact: recorded when the call returns
    return ref


def set_quarantine(
    ctx: Contexta, run_ids: Iterable[str] | str, reason: str, kind: str
) -> tuple[str, ...]:
    """Quarantine (``kind`` QUARANTINE) or release runs; see ``Contexta.quarantine_runs``."""
    check_writable(ctx.config)
    text = _reason(reason)
    if isinstance(run_ids, (str, StableRef)):
        run_ids = [str(run_ids)]
    qs = ctx.query_service
    workspace = ctx._workspace
    with workspace.snapshot():
        refs = list(dict.fromkeys(qs.resolve_run(r) for r in run_ids))
        state = qs.quarantine_state()
    events = []
    for ref in refs:
        on = state.get(ref, (False, "", 0))[0]
        if (kind == QUARANTINE) != on:
            events.append(quarantine_event(kind, ref, text, workspace.actor))
    if events:
        workspace.write(events)
    workspace.flush()  # a quarantine is a deliberate fact: recorded when the call returns
    return tuple(refs)


def as_of_bound(workspace: Workspace, when: datetime | str) -> int:
    """The transaction time (us) ``Contexta.as_of(when)`` answers at (see
    :func:`~contexta.history.final_as_of`); a typed error for anything but a time."""
    bound = _bound(when, "when")
    if bound is None:
        raise ValidationError(
            "as_of needs a time: an ISO-8601 time with a zone or an aware datetime, got None.",
            code="quality_invalid_time",
            details={"field": "when", "value": "None"},
        )
    return final_as_of(workspace, bound)


def check_writable(config: UnifiedConfig) -> None:
    """A typed error when the record store is configured read-only."""
    if getattr(config.records, "read_only", False):
        raise ReadOnlyStoreError(
            "The record store is read-only (records.read_only is set).",
            code="record_store_read_only",
        )
