"""A workspace ledger on object storage: the :class:`~ledger.writer.Ledger` interface over a
host cache, for code that reads and writes a ledger without knowing where it lives.

Appends are buffered and committed exactly like the local ledger's, but a commit lands in the
cache's outbox (a local ledger) and is then synced to the store; reads see the mirror, the
committed global log. When the store cannot be reached, commits still land in the outbox
(offline first): ``offline`` holds the error, and the next commit or flush syncs everything.

The cache folder holds ``remote.json`` (``{"url": "s3://bucket/prefix", "writer": id}``),
written when the workspace is first attached.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..errors import CorruptionError
from ..head import Head
from ..schema import PendingEvent
from ..writer import CommitInfo, Ledger
from .errors import ObjectStoreError
from .remote import ObjectLedger
from .store import S3Store, parse_url

__all__ = ["REMOTE_MARKER", "RemoteLedger", "read_marker"]

REMOTE_MARKER = "remote.json"


def read_marker(cache: Path) -> dict[str, Any]:
    path = cache / REMOTE_MARKER
    try:
        marker: dict[str, Any] = json.loads(path.read_text())
        parse_url(str(marker["url"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptionError(
            f"`{path}` is damaged ({exc}); attach the workspace URL again.",
            file=str(path),
            offset=0,
            reason="remote_marker",
        ) from exc
    return marker


class RemoteLedger(Ledger):
    """Reads the mirror under ``root``; commits go through the outbox to the store."""

    #: a flush with nothing to commit pulls other hosts' commits at most this often
    pull_interval_s = 1.0

    def __init__(self, root: Path | str, **options: Any) -> None:
        super().__init__(root, **options)
        cache = self.root.parent
        marker = read_marker(cache)
        url = parse_url(str(marker["url"]))
        outbox_options: dict[str, Any] = {
            k: options[k]
            for k in ("durability", "buffer_max_events", "buffer_max_ms")
            if k in options
        }
        self.remote = ObjectLedger(
            S3Store(url.bucket),
            url.prefix,
            cache,
            writer_id=marker.get("writer"),
            outbox_options=outbox_options,
        )
        self.offline: ObjectStoreError | None = None
        self._last_pull = 0.0
        self._sync()  # the committed log as of opening

    def _write(self, events: list[PendingEvent]) -> CommitInfo:
        guard = self.guard
        if guard is not None:  # checked against the committed log as this host last saw it
            events = guard.before_commit(self, events, self.head())
        outbox = self.remote.outbox
        local = None
        if events:
            outbox.append_many(events)
            local = outbox.commit()
        self._sync()
        head = self.head()
        durability = local.durability if local is not None else "FLUSHED"
        # count 0: the events' global positions are found by ref when asked (a commit may be
        # split across several global batches, or merged with other processes' outbox events)
        return CommitInfo(head.seq + 1, 0, "", head.offset, head.tx_time, durability)

    def commit(self) -> CommitInfo | None:
        info = super().commit()
        if info is None and time.monotonic() - self._last_pull >= self.pull_interval_s:
            self._sync()
        return info

    def settled_head(self) -> tuple[Head, int]:
        """The mirror's head after a sync, and its ``tx_time`` as the time up to which answers
        are final: transaction times grow strictly along the manifests, so every commit the
        mirror does not hold yet (another host's, not pulled; one this host cannot reach) is
        later than the head. (The local rule, "final up to now", does not hold here: a commit
        in another host's hands may carry a time before this host's clock.)"""
        with self._commit_lock:
            self._sync()
            head = self.head()
            return head, head.tx_time

    def _sync(self) -> None:
        if self.read_only:
            return self._pull()
        try:
            self.remote.sync()
            self.offline = None
        except ObjectStoreError as exc:
            self.offline = exc  # events are safe in the outbox; the next commit syncs them
        self._last_pull = time.monotonic()

    def _pull(self) -> None:
        try:
            self.remote.pull()
            self.offline = None
        except ObjectStoreError as exc:
            self.offline = exc
        self._last_pull = time.monotonic()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.remote.close()
