"""Outbox replay, as 1.0: deliveries that failed under ``capture.dispatch_failure_mode =
"outbox"`` wait in ``<recovery.outbox_root>/failed_deliveries.jsonl`` (one JSON object a line);
:func:`replay_outbox` hands each entry's payload to a target sink, acknowledges (removes) the
ones delivered, keeps the others pending with their attempt count raised, and moves entries that
failed ``dead_letter_after_failures`` times to ``dead_letter.jsonl``.

The captures themselves are never at risk here: the ledger holds every record already; the
outbox only tracks copies owed to other sinks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..capture.dispatch import OUTBOX_FILE, OUTBOX_LOCK, outbox_line
from ..capture.sinks import LocalJsonlSink
from ..contract.timestamps import iso_utc_now
from .errors import ReplayError
from .models import ReplayBatchResult, ReplayEntryResult

__all__ = ["replay_outbox"]

DEAD_LETTER_FILE = "dead_letter.jsonl"


def replay_outbox(
    config: Any,
    *,
    target: str | None = None,
    limit: int | None = None,
    acknowledge_successes: bool = True,
    dead_letter_after_failures: int | None = None,
    sinks: Sequence[Any] | None = None,
) -> ReplayBatchResult:
    """Deliver up to ``limit`` outbox entries (all by default) to ``target``: the sink of that
    name among ``sinks``, the first of ``sinks``, or (no sinks given) a JSON-lines sink under
    ``<exports>/replayed``. Status SUCCESS when every entry tried was delivered, FAILURE when
    none was, DEGRADED otherwise."""
    _check_count("limit", limit)
    _check_count("dead_letter_after_failures", dead_letter_after_failures)
    root = config.recovery.outbox_root
    if root is None:
        raise ReplayError(
            "Recovery outbox_root is not configured.", code="recovery_outbox_root_missing"
        )
    path = Path(root) / OUTBOX_FILE
    if not path.is_file():
        return ReplayBatchResult(status="SUCCESS", notes=("outbox_empty",))
    with OUTBOX_LOCK:
        return _replay(
            path, config, target, limit, acknowledge_successes, dead_letter_after_failures, sinks
        )


def _replay(
    path: Path,
    config: Any,
    target: str | None,
    limit: int | None,
    acknowledge: bool,
    dead_after: int | None,
    sinks: Sequence[Any] | None,
) -> ReplayBatchResult:
    entries = _load(path)
    active = entries[: len(entries) if limit is None else limit]
    pending: list[dict[str, Any]] = list(entries[len(active) :])
    sink = _target_sink(config, target, sinks)
    results: list[ReplayEntryResult] = []
    dead: list[dict[str, Any]] = []
    acknowledged = 0
    for entry in active:
        outcome = _replay_one(entry, sink, target)
        results.append(outcome)
        if outcome.status == "FAILURE":
            updated = {
                **entry,
                "attempts": outcome.attempts,
                "last_replayed_at": iso_utc_now(),
                "last_error": outcome.detail,
            }
            (dead if dead_after is not None and outcome.attempts >= dead_after else pending).append(
                updated
            )
        elif outcome.status == "SKIPPED" or not acknowledge:
            pending.append(entry)
        else:
            acknowledged += 1
    _rewrite(path, pending)
    if dead:
        with (path.parent / DEAD_LETTER_FILE).open("a", encoding="utf-8", newline="\n") as out:
            out.write("".join(outbox_line(entry) for entry in dead))
    return ReplayBatchResult(
        status=_status(results),
        entries=tuple(results),
        acknowledged_count=acknowledged,
        pending_count=len(pending),
        dead_lettered_count=len(dead),
        warnings=tuple(
            f"{r.replay_ref or '(no replay_ref)'}: {r.detail}"
            for r in results
            if r.status == "SKIPPED" and r.detail.startswith("not an outbox entry")
        ),
        notes=(f"dead_lettered:{len(dead)}",) if dead else (),
    )


def _replay_one(entry: dict[str, Any], sink: Any, target: str | None) -> ReplayEntryResult:
    ref = str(entry.get("replay_ref", ""))
    family = str(entry.get("family", ""))
    attempts = _attempts(entry)
    if "family" not in entry or "payload" not in entry:
        return ReplayEntryResult(
            ref,
            family,
            sink.name,
            "SKIPPED",
            "not an outbox entry (no family or payload); kept pending",
            attempts,
        )
    if target is not None and entry.get("sink_name") != target and target != sink.name:
        return ReplayEntryResult(
            ref, family, target, "SKIPPED", "entry target does not match selected target", attempts
        )
    try:
        receipt = sink.capture(family=family.upper(), payload=entry["payload"])
    except Exception as exc:  # the entry stays in the outbox, with the error
        return ReplayEntryResult(ref, family, sink.name, "FAILURE", str(exc), attempts + 1)
    status = getattr(receipt.status, "value", receipt.status)
    return ReplayEntryResult(ref, family, sink.name, str(status), receipt.detail, attempts)


def _status(results: Sequence[ReplayEntryResult]) -> str:
    failures = sum(1 for r in results if r.status == "FAILURE")
    if results and failures == len(results):
        return "FAILURE"
    return "DEGRADED" if any(r.status in ("FAILURE", "SKIPPED") for r in results) else "SUCCESS"


def _target_sink(config: Any, target: str | None, sinks: Sequence[Any] | None) -> Any:
    if sinks:
        if target is None:
            return sinks[0]
        for sink in sinks:
            if getattr(sink, "name", None) == target:
                return sink
        raise ReplayError(
            f"Replay target sink {target!r} is not among the sinks given.",
            code="recovery_replay_target_missing",
            details={"target": target},
        )
    root = Path(config.workspace.exports_path) / "replayed"
    return LocalJsonlSink(root, name=target or "local-jsonl-replay")


def _load(path: Path) -> list[dict[str, Any]]:
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise ReplayError(
                f"Outbox line {number} of {path} is not JSON: {exc}.",
                code="recovery_invalid_outbox_entry",
                details={"path": str(path), "line": number},
            ) from None
        if not isinstance(entry, dict):
            raise ReplayError(
                f"Outbox line {number} of {path} must be a JSON object.",
                code="recovery_invalid_outbox_entry",
                details={"path": str(path), "line": number},
            )
        entries.append(entry)
    return entries


def _rewrite(path: Path, entries: Sequence[dict[str, Any]]) -> None:
    """The outbox replaced in one rename: a crash leaves the old file or the new, never half."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("".join(outbox_line(entry) for entry in entries))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _attempts(entry: dict[str, Any]) -> int:
    value = entry.get("attempts", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _check_count(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ReplayError(
            f"{name} must be a non-negative integer, got {value!r}.",
            code="recovery_invalid_limit" if name == "limit" else "recovery_invalid_count",
            details={"field": name, "value": value},
        )
