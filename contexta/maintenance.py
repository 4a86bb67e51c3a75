"""Upkeep of one workspace: rebuild and status of the projections, verify, repair and publish
the ledger, its head, and the follow-up work of ``watch`` and ``export``.

``Contexta(...).maintenance`` is the one public way in; the CLI, the HTTP surface and the
importers use it instead of reaching into the workspace object.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import Head, LedgerError, LedgerTail, RecoveryReport, VerifyReport, verify
from ledger.publish import PublishReport, publish, set_aside_stale
from ledger.recovery import repair_ledger
from projections import ProjectionStatus, RebuildStats

from .common.errors import IntegrityError, ValidationError
from .events import entity_event
from .history import run_locator
from .workspace import translate

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["Maintenance"]


class Maintenance:
    """Maintenance operations on the workspace a :class:`~contexta.Contexta` opened."""

    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    # ------------------------------------------------------------------ where and who

    @property
    def workspace(self) -> Workspace:
        """The workspace object itself, for the library's own layers (capture, adapters)."""
        return self._ws

    @property
    def root(self) -> Path:
        """The workspace folder."""
        return self._ws.root

    @property
    def ledger_root(self) -> Path:
        """The ledger folder (``<workspace>/ledger``)."""
        return Path(self._ws.ledger.root)

    @property
    def projections_root(self) -> Path:
        """The folder the projections are saved in (``<workspace>/projections``)."""
        return self._ws.root / "projections"

    @property
    def actor(self) -> str:
        """Who this process's events name as their actor."""
        return self._ws.actor

    # ------------------------------------------------------------------ the ledger

    def head(self) -> Head:
        """The committed head once this process's buffer is committed (read-your-writes)."""
        return self._ws.head()

    def committed_head(self) -> Head:
        """The committed head as other processes see it, without committing this process's
        buffer."""
        self._ws.reopen()
        try:
            return self._ws.ledger.head()
        except LedgerError as exc:
            raise translate(exc) from exc

    def verify(self) -> VerifyReport:
        """Commit what is buffered, then check every CRC, link and seq of the ledger."""
        self._ws.flush()
        return verify(self.ledger_root)

    def repair(self, *, dry_run: bool = True, salvage: bool = False) -> RecoveryReport:
        """Cut a torn tail (``salvage``: also the log at damage before the head), keeping the
        cut bytes in ``ledger/torn/``; with ``dry_run`` (the default) only say what would be
        done. A repair that changed the log also sets stale published copies aside. Raises the
        ledger's typed errors (:class:`ledger.LedgerError`) when the damage cannot be cut."""
        report = repair_ledger(self.ledger_root, dry_run=dry_run, salvage=salvage)
        if not report.dry_run and report.actions:
            for name in set_aside_stale(self.ledger_root):  # derived copies, kept in torn/
                report.actions.append(f"moved the stale published copy {name} to ledger/torn/")
        return report

    def publish(self, *, rebuild: bool = False) -> PublishReport:
        """Write the Parquet copy of every sealed segment that has none (``rebuild``: all); a
        damaged sealed segment is an :class:`~contexta.common.errors.IntegrityError`."""
        try:
            return publish(self.ledger_root, rebuild=rebuild)
        except LedgerError as exc:
            raise IntegrityError(
                exc.message, code=exc.code, details=exc.details, cause=exc
            ) from exc

    def tail(self, after_seq: int | None = None) -> LedgerTail:
        """A reader of the batches committed after ``after_seq`` (None: after the head now)."""
        if after_seq is None:
            head = self.head()
            return LedgerTail(self.ledger_root, after_seq=head.seq, head=head)
        return LedgerTail(self.ledger_root, after_seq=after_seq)

    def put_once(self, model: Any, *, projection: str) -> bool:
        """Write ``model`` as its put event unless ``projection`` already holds its ref;
        True when it was written."""
        event = entity_event(model, self._ws.actor)
        ref = event.ref
        assert ref is not None  # an entity event always carries its entity's ref
        if self._ws.exists(event.kind, projection, ref):
            return False
        self._ws.write((event,))
        self._ws.remember(event.kind, ref)
        return True

    def run_refs(self) -> list[str]:
        """Every run ref of the workspace (any project), sorted: what a "did you mean" names."""
        return sorted(set(self._ws.table("runs").column("ref").to_pylist()))

    # ------------------------------------------------------------------ the projections

    def rebuild(self, *, engine: str = "builtin") -> RebuildStats:
        """Fold every projection again from the first event and save it: with the built-in
        fold, or with ``engine`` (``duckdb``, ``datafusion``: the same tables, see
        ``projections/engines.py``); an engine that is unknown or not installed is a
        ``ValidationError`` naming it. The run locator (which batches hold each run's events:
        what ``history`` and ``audit replay --run`` read) is folded again and saved too, so
        the first history after a rebuild reads only the run's batches."""
        if engine == "builtin":
            stats = self._ws.projector.rebuild()
        else:
            from projections.engines import EngineError, rebuild_with

            try:
                stats = rebuild_with(self._ws.projector, engine)
            except EngineError as exc:
                raise ValidationError(
                    str(exc),
                    code=exc.code,
                    details={"field": "engine", "value": engine},
                    cause=exc,
                ) from exc
        run_locator(self._ws).rebuild()
        return stats

    def status(self) -> list[ProjectionStatus]:
        """Each projection's version, checkpoint, rows and how far behind the head it is."""
        self._ws.flush()
        return self._ws.projector.status()

    def fold(self, head: Head) -> tuple[int, list[str]]:
        """Catch every projection up to ``head`` and save the changed ones: the events folded
        and the names saved."""
        try:
            events = self._ws.projector.catch_up(head=head)
        except LedgerError as exc:
            raise translate(exc) from exc
        return events, self._ws.projector.save()
