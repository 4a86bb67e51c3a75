"""Outbox replay. Captures here are ledger appends made in the caller's process, so there is no
outbox of failed sink deliveries to replay: :func:`replay_outbox` says so truthfully. A 1.0
outbox file left in the workspace is counted as pending, never silently dropped."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ReplayError
from .models import ReplayBatchResult

__all__ = ["replay_outbox"]


def replay_outbox(config: Any, *, target: str | None = None, limit: int | None = None,
                  acknowledge_successes: bool = True,
                  dead_letter_after_failures: int | None = None,
                  sinks: Sequence[Any] | None = None) -> ReplayBatchResult:
    """An empty batch (status SUCCESS, note ``outbox_empty``) unless a 1.0 outbox file exists,
    whose entries are reported as pending (status DEGRADED)."""
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ReplayError(f"limit must be a non-negative integer, got {limit!r}.",
                          code="recovery_invalid_limit")
    root = config.recovery.outbox_root
    legacy = Path(root) / "failed_deliveries.jsonl" if root is not None else None
    pending = 0
    if legacy is not None and legacy.is_file():
        pending = sum(1 for line in legacy.read_text(encoding="utf-8").splitlines() if line.strip())
    if pending:
        return ReplayBatchResult(
            status="DEGRADED", pending_count=pending,
            warnings=(f"{pending} Contexta 1.0 outbox entries in {legacy} were not replayed: "
                      "their sinks are not part of this workspace.",),
            notes=("legacy_outbox_pending",), details={"outbox": str(legacy)})
    return ReplayBatchResult(
        status="SUCCESS", notes=("outbox_empty", "captures_write_to_the_ledger_directly"),
        details={"outbox_root": None if root is None else str(root), "target": target})
