"""Which run a run id names: the lookup every run query starts from, in a module of its own.

``history(run)`` and ``contexta audit replay --run`` need only this; importing it loads neither
the query service nor the result types (about 20 ms of a new process's first call).
"""

from __future__ import annotations

from collections.abc import Sequence

from projections.query import as_of, take_rows

from ..common.errors import InterpretationError
from ..contract import StableRef
from ..workspace import Workspace

__all__ = ["RunLookup"]


class RunLookup:
    """Resolves run ids against ``ws`` as of ``as_of_us`` (None: now); the caches live in the
    instance's ``__dict__`` (the query service is one)."""

    def __init__(self, workspace: Workspace, as_of_us: int | None = None) -> None:
        self.ws = workspace
        self.as_of_us = as_of_us

    # ------------------------------------------------------------------ run lookup

    def resolve_run(self, run_id: str | StableRef) -> str:
        """Canonical run ref text for a run id (full ref, ``<proj>.<run>`` or bare last
        component, unique workspace-wide); InterpretationError ``query_run_not_found``."""
        if isinstance(run_id, StableRef):
            run_id = str(run_id)
        if not isinstance(run_id, str):
            raise _not_found(run_id)
        text = run_id.strip()
        if text.startswith("run:"):
            ref = StableRef.parse(text)
            if ref.kind == "run" and self._is_run(str(ref)):
                return str(ref)
            raise _not_found(run_id)
        if ":" in text:
            raise _not_found(run_id)
        if "." in text:
            candidate = f"run:{text}"
            if self._is_run(candidate):
                return candidate
        known = self._run_refs()
        suffix = "." + text
        matches = [ref for ref in known if ref.endswith(suffix)]
        named = self._run_names().get(text, ())
        if len(named) > 1:  # several runs of one name (a script run twice): say which
            raise _ambiguous(run_id, named)
        if len(matches) == 1:
            return matches[0]
        if named:  # a run's name as given ('sgd-lr0.1' whose id is 'sgd-lr0-1')
            return named[0]
        raise _not_found(run_id)

    def runs_named(self, name: str) -> tuple[str, ...]:
        """The refs of the runs (latest version) whose name is ``name`` as given."""
        return self._run_names().get(name, ())

    def _run_names(self) -> dict[str, tuple[str, ...]]:
        """Run name -> the refs of the runs (latest version) of that name, in ref order; cached
        like :meth:`_run_refs`."""
        table = self.ws.table("runs", as_of_us=self.as_of_us)
        cached = self.__dict__.get("_run_names_cache")
        if cached is not None and cached[0] is table:
            return cached[1]  # type: ignore[no-any-return]
        latest: dict[str, str] = {}
        for ref, name in zip(
            table.column("ref").to_pylist(), table.column("key").to_pylist(), strict=True
        ):
            latest[ref] = name  # rows are in seq order: the last one is the latest version
        names: dict[str, list[str]] = {}
        for ref in sorted(latest):
            names.setdefault(latest[ref], []).append(ref)
        found = {name: tuple(refs) for name, refs in names.items()}
        self.__dict__["_run_names_cache"] = (table, found)
        return found

    def _is_run(self, ref: str) -> bool:
        """Whether ``ref`` is a known run ref (as of): in :meth:`_run_refs` when it is at hand,
        else through the runs index by ref (a new process looks up one run without listing
        every run ref)."""
        cached = self.__dict__.get("_fast_run_refs")
        if cached is not None and cached[0] is self.ws.table("runs", as_of_us=self.as_of_us):
            return ref in cached[1]
        table, index = self.ws.index("runs", "ref")
        rows = index.get(ref)
        if not rows:
            return False
        if self.as_of_us is None:
            return True
        return as_of(take_rows(table.select(["tx_time"]), rows), self.as_of_us).num_rows > 0

    def _run_refs(self) -> dict[str, None]:
        """Known run refs, cached while the runs table is the same object (the projection hands out
        one cached table until it folds more rows; the cache keeps it alive, so identity is safe)."""
        table = self.ws.table("runs", as_of_us=self.as_of_us)
        cached = self.__dict__.get("_fast_run_refs")
        if cached is not None and cached[0] is table:
            return cached[1]
        refs = dict.fromkeys(table.column("ref").to_pylist())
        self.__dict__["_fast_run_refs"] = (table, refs)
        return refs


def _not_found(run_id: object) -> InterpretationError:
    return InterpretationError(
        "Run anchor was not found.",
        code="query_run_not_found",
        details={"run_id": str(run_id)},
    )


def _ambiguous(run_id: object, refs: Sequence[str]) -> InterpretationError:
    listed = ", ".join(refs)
    return InterpretationError(
        f"Run name {str(run_id)!r} is shared by {len(refs)} runs: {listed}. Name one by its id.",
        code="query_run_ambiguous",
        details={"run_id": str(run_id), "candidates": list(refs)},
    )
