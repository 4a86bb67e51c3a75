"""Replay, export and integrity checks of the record store (1.0's recovery surface).

Replay reads records back from the ledger in seq order. ``STRICT`` replay raises on any damage;
``TOLERANT`` replay returns what the intact segments hold and names the gaps. Integrity checks
are the ledger's full verification (every CRC, the chain, seq continuity) in 1.0's shapes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import verify

from ..common.dataclass_methods import DataclassMethods
from ..common.errors import IntegrityError, RecordError
from ..contract import to_json

__all__ = [
    "IntegrityIssue",
    "IntegrityReport",
    "IntegrityState",
    "KnownGap",
    "RepairReport",
    "ReplayError",
    "ReplayMixin",
    "ReplayMode",
    "ReplayResult",
]


class ReplayMode(str, enum.Enum):  # noqa: UP042 - 1.0's str() of a member
    STRICT = "strict"
    TOLERANT = "tolerant"


class IntegrityState(str, enum.Enum):  # noqa: UP042 - 1.0's str() of a member
    HEALTHY = "HEALTHY"
    DEGRADED = "DEGRADED"
    CORRUPTED = "CORRUPTED"


class ReplayError(RecordError):
    """Strict replay met damaged records."""

    default_code = "record_replay_failed"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class KnownGap(DataclassMethods):
    code: str
    message: str
    segment_id: int
    line_number: int | None = None
    start_sequence: int | None = None
    end_sequence: int | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ReplayResult(DataclassMethods):
    records: tuple[Any, ...] = ()
    record_count: int = 0
    mode: ReplayMode = ReplayMode.STRICT
    warnings: tuple[str, ...] = ()
    known_gaps: tuple[KnownGap, ...] = ()
    integrity_state: IntegrityState = IntegrityState.HEALTHY


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class IntegrityIssue(DataclassMethods):
    severity: str
    code: str
    message: str
    segment_id: int | None = None
    line_number: int | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class IntegrityReport(DataclassMethods):
    healthy: bool
    issues: tuple[IntegrityIssue, ...] = ()
    segment_count: int = 0
    record_count: int = 0
    state: IntegrityState = IntegrityState.HEALTHY
    recommendations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RepairReport(DataclassMethods):
    success: bool
    repaired_segments: tuple[int, ...] = ()
    quarantined_paths: tuple[str, ...] = ()
    rebuilt_indexes: bool = False
    integrity_state: IntegrityState = IntegrityState.DEGRADED
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _segment_id(path: str | None) -> int | None:
    if not path:
        return None
    name = Path(path).name
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if name.startswith("segment-") and digits else None


def _mode(mode: Any) -> ReplayMode:
    return ReplayMode.STRICT if mode is None else ReplayMode(mode)


class ReplayMixin:
    """Mixed into ``RecordStore``; uses ``self._workspace`` and ``self.scan``."""

    _workspace: Any

    def check_integrity(self) -> IntegrityReport:
        """Full verification of the ledger the records live in."""
        self._workspace.flush()
        report = verify(self._workspace.ledger.root)
        issues = tuple(
            IntegrityIssue(f.severity, f.code, f.message, _segment_id(f.file), None)
            for f in report.findings
        )
        errors = any(i.severity == "error" for i in issues)
        state = (
            IntegrityState.CORRUPTED
            if errors
            else IntegrityState.DEGRADED
            if issues
            else IntegrityState.HEALTHY
        )
        advice: tuple[str, ...] = ()
        if errors:
            advice = (
                "Run `contexta ledger verify` for details; `contexta ledger repair --salvage` "
                "cuts the log at the first damage (keeping the cut bytes in ledger/torn/).",
            )
        elif issues:
            advice = ("Run `contexta ledger repair --apply` to move torn bytes aside.",)
        return IntegrityReport(not errors, issues, report.segments, report.events, state, advice)

    def iter_replay(self, scan_filter: Any = None, *, mode: Any = None) -> Iterator[Any]:
        """Stored records in seq order; ``STRICT`` raises :class:`ReplayError` on damage."""
        try:
            yield from self.scan(scan_filter)  # type: ignore[attr-defined]
        except IntegrityError as exc:
            if _mode(mode) is ReplayMode.STRICT:
                raise ReplayError(
                    f"Replay stopped at damaged ledger data: {exc.message}",
                    details=exc.details,
                    cause=exc,
                ) from exc

    def replay(self, scan_filter: Any = None, *, mode: Any = None) -> ReplayResult:
        """All stored records in seq order, with the integrity state they were read under."""
        chosen = _mode(mode)
        records: list[Any] = []
        warnings: list[str] = []
        gaps: list[KnownGap] = []
        try:
            records.extend(self.scan(scan_filter))  # type: ignore[attr-defined]
        except IntegrityError as exc:
            if chosen is ReplayMode.STRICT:
                raise ReplayError(
                    f"Replay stopped at damaged ledger data: {exc.message}",
                    details=exc.details,
                    cause=exc,
                ) from exc
            details = dict(exc.details or {})
            warnings.append(exc.message)
            gaps.append(
                KnownGap(
                    exc.code,
                    exc.message,
                    _segment_id(details.get("file")) or 0,
                    None,
                    details.get("seq"),
                    None,
                    details,
                )
            )
        state = IntegrityState.DEGRADED if gaps else IntegrityState.HEALTHY
        return ReplayResult(
            tuple(records), len(records), chosen, tuple(warnings), tuple(gaps), state
        )

    def export_jsonl(
        self, destination: str | Path, scan_filter: Any = None, *, mode: Any = None
    ) -> ReplayResult:
        """Write the replayed records as canonical JSON, one per line."""
        result = self.replay(scan_filter, mode=mode)
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8", newline="\n") as handle:
            for stored in result.records:
                handle.write(to_json(stored.record))
                handle.write("\n")
        return result

    def rebuild_indexes(self) -> RepairReport:
        """Rebuild every projection from the ledger."""
        self._workspace.flush()
        stats = self._workspace.projector.rebuild()
        state = self.check_integrity().state
        return RepairReport(
            True,
            (),
            (),
            True,
            state,
            (f"folded {stats.events} events into {len(stats.projections)} projections",),
        )

    def repair_truncated_tails(self) -> RepairReport:
        """Move a torn tail of the active segment aside (never touches committed batches)."""
        report = self._workspace.ledger.recover(dry_run=False)
        repaired = (_segment_id(report.segment),) if report.torn_bytes and report.segment else ()
        quarantined = (report.torn_path,) if report.torn_path else ()
        state = self.check_integrity().state
        return RepairReport(
            True,
            tuple(r for r in repaired if r is not None),
            quarantined,
            False,
            state,
            tuple(report.actions) or ("nothing to repair",),
        )
