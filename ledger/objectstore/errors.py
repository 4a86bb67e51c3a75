"""Typed errors of the object-store ledger (all :class:`~ledger.errors.LedgerError`)."""

from __future__ import annotations

from ..errors import LedgerError, LedgerIOError

__all__ = ["ObjectExistsError", "ObjectStoreError", "RemoteURLError", "WriterFencedError"]


class ObjectStoreError(LedgerIOError):
    """The object store refused or failed a request (unreachable, no such bucket, denied).

    ``details`` names the ``operation``, the ``key`` and the store's ``error`` code. Nothing the
    caller holds is lost: a writer keeps its events in its local outbox and syncs later."""

    code = "objectstore_unavailable"


class ObjectExistsError(LedgerError):
    """A conditional create (``If-None-Match: *``) found the key already there (HTTP 412).

    This is how a writer learns that another writer won a manifest number."""

    code = "objectstore_precondition_failed"


class WriterFencedError(LedgerError):
    """A newer instance of this writer id claimed a higher epoch: this instance is stale and may
    not commit. ``details``: ``writer``, this instance's ``epoch`` and the ``current`` one.
    Nothing was written to the store by the refused call."""

    code = "ledger_writer_fenced"


class RemoteURLError(LedgerError):
    """A workspace URL that is not ``s3://bucket[/prefix]`` (``details``: ``value``, ``field``)."""

    code = "objectstore_bad_url"
