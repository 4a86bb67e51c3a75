"""Following other processes' commits as they happen (``Contexta.watch``).

The ledger only grows, and readers trust only the committed head (``HEAD``, see
:meth:`ledger.LedgerReader.head`). So a live reader keeps its byte position in the ledger and,
on each wake, reads just the batches between that position and the head committed now -- never
past it, so a commit in flight is invisible until its head is published. Wakes come from the file system (:mod:`watchfiles` on ``<workspace>/ledger``) with a
fallback: ``HEAD`` is re-read at least every :data:`POLL_SECONDS` even if no file event
arrives, so a missed event costs at most that delay and never a skipped or stale answer.

- :class:`LedgerTail` -- batches committed after a seq, read incrementally across segment rolls;
- :class:`ChangeWaker` -- sleeps until the ledger directory changes or the poll interval ends;
- :func:`watch` -- what ``ctx.watch(...)`` returns: an iterator of
  :class:`~contexta.history.LedgerEvent`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import CorruptionError
from ledger.tail import LedgerTail  # the tail reads the ledger; it lives there

from .common.errors import ValidationError, close_matches
from .events import KINDS, RECORD_KINDS
from .history import LedgerEvent, batch_events

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["POLL_SECONDS", "ChangeWaker", "LedgerTail", "batch_events", "normalise_kinds", "watch"]

#: A waiting reader re-reads HEAD at least this often, file event or not.
POLL_SECONDS = 0.25
#: watchfiles checks for collected changes this often (ms); a wake costs about 1 to 2 steps.
WAKE_STEP_MS = 5
#: ... and yields at most this long (ms) after the first of a stream of changes.
WAKE_DEBOUNCE_MS = 20


class ChangeWaker:
    """Blocks until something in the ledger directory changes, or ``poll`` seconds pass.

    Changes are collected by watchfiles' notifier thread between waits, so a commit landing
    while the caller is busy wakes the next :meth:`wait` at once. Until the directory exists
    (a workspace nobody wrote to yet) it sleeps the poll interval.
    """

    def __init__(self, root: Path | str, *, poll: float = POLL_SECONDS) -> None:
        self.root = Path(root)
        self.poll = max(0.001, poll)
        self._changes: Iterator[Any] | None = None

    def wait(self) -> None:
        """Sleep until a file event (plus a few ms of debounce) or ``poll`` seconds."""
        if self._changes is None:
            if not self.root.is_dir():
                time.sleep(self.poll)
                return
            import watchfiles

            self._changes = watchfiles.watch(
                self.root,
                watch_filter=None,
                debounce=WAKE_DEBOUNCE_MS,
                step=WAKE_STEP_MS,
                rust_timeout=max(1, int(self.poll * 1000)),
                yield_on_timeout=True,
                recursive=False,
            )
        next(self._changes, None)

    def close(self) -> None:
        """Stop the notifier thread (safe to call twice)."""
        changes, self._changes = self._changes, None
        if changes is not None:
            changes.close()  # type: ignore[attr-defined]


def normalise_kinds(kinds: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """Event kinds as stored (``metric`` -> ``record.metric``); None for all kinds.

    A kind the ledger does not store is an error (code ``unknown_event_kind``) naming it, the
    closest known kinds and every known kind, never a filter that silently matches nothing."""
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = (kinds,)
    out = []
    for kind in kinds:
        if not isinstance(kind, str) or not kind.strip():
            raise ValidationError(
                f"An event kind must be a non-empty string such as 'record.metric', got {kind!r}.",
                code="watch_invalid_kind",
                details={"value": repr(kind)},
            )
        kind = kind.strip()
        stored = RECORD_KINDS.get(kind, kind)
        if stored not in KINDS:
            raise _unknown_kind(kind)
        out.append(stored)
    return tuple(out) or None


def _unknown_kind(kind: str) -> ValidationError:
    names = (*KINDS, *RECORD_KINDS)
    close = close_matches(kind, names)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ValidationError(
        f"Unknown event kind {kind!r}.{hint} Known kinds: {', '.join(KINDS)} (or the short "
        f"record names {', '.join(RECORD_KINDS)}).",
        code="unknown_event_kind",
        details={"value": kind, "close_matches": close, "known": list(KINDS)},
    )


def _keys(keys: Iterable[str] | str | None) -> tuple[str, ...] | None:
    if keys is None:
        return None
    if isinstance(keys, str):
        keys = (keys,)
    out = tuple(keys)
    for key in out:
        if not isinstance(key, str):
            raise ValidationError(
                f"A key filter must be a string, got {key!r}.",
                code="watch_invalid_key",
                details={"value": repr(key)},
            )
    return out or None


def _check_number(name: str, value: Any, *, integer: bool = False) -> None:
    if value is None:
        return
    bad = isinstance(value, bool) or not isinstance(value, int if integer else (int, float))
    if bad or value < 0 or value != value:
        kind = "integer" if integer else "number of seconds"
        raise ValidationError(
            f"watch({name}=...) must be None or a non-negative {kind}, got {value!r}.",
            code=f"watch_invalid_{name}",
            details={"value": repr(value)},
        )


def watch(
    workspace: Workspace,
    resolve_run: Callable[[str], str],
    run_id: str | None = None,
    *,
    kinds: Sequence[str] | str | None = None,
    keys: Sequence[str] | str | None = None,
    timeout: float | None = None,
    after_seq: int | None = None,
) -> Iterator[LedgerEvent]:
    """``Contexta.watch`` (see there) over ``workspace``; ``resolve_run`` names a bare run."""
    _check_number("timeout", timeout)
    _check_number("after_seq", after_seq, integer=True)
    run_ref = _watched_run(run_id, resolve_run) if run_id is not None else None
    kind_filter = normalise_kinds(kinds)
    key_filter = _keys(keys)
    if after_seq is None:
        head = workspace.head()
        tail = LedgerTail(workspace.ledger.root, after_seq=head.seq, head=head)
    else:
        tail = LedgerTail(workspace.ledger.root, after_seq=after_seq)
    return _follow(tail, run_ref, kind_filter, key_filter, timeout)


def _watched_run(run_id: object, resolve_run: Callable[[str], str]) -> str:
    """A run ref to watch: full refs and ``<project>.<run>`` need not exist yet."""
    from .contract import StableRef

    text = str(run_id).strip()
    if not text.startswith("run:") and "." in text:
        text = "run:" + text
    if text.startswith("run:"):
        ref = StableRef.parse(text)
        if ref.kind == "run":
            return str(ref)
    return str(resolve_run(run_id))  # type: ignore[arg-type]  # resolve_run names bad input


def _follow(
    tail: LedgerTail,
    run_ref: str | None,
    kinds: tuple[str, ...] | None,
    keys: tuple[str, ...] | None,
    timeout: float | None,
) -> Iterator[LedgerEvent]:
    from .workspace import translate

    poll = POLL_SECONDS if timeout is None else min(POLL_SECONDS, max(timeout, 0.001))
    waker = ChangeWaker(tail.root, poll=poll)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            try:
                batches = tail.read()
            except CorruptionError as exc:
                raise translate(exc) from exc
            for batch in batches:
                for event in batch_events(batch, run_ref=run_ref or None, kinds=kinds, keys=keys):
                    yield event
                    if timeout is not None:
                        deadline = time.monotonic() + timeout
            if batches:
                continue  # more may have landed while the consumer was busy
            if deadline is not None and time.monotonic() >= deadline:
                return
            waker.wait()
    finally:
        waker.close()
