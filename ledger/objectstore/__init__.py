"""The ledger on object storage (S3 and compatibles): per-writer batches, a global order of
manifests created put-if-absent, epochs that fence stale writers, and a local outbox and mirror
on each host. See :mod:`ledger.objectstore.remote` for the protocol.

Nothing here imports the store client until a store is opened (:func:`open_store`)."""

from __future__ import annotations

from .errors import ObjectExistsError, ObjectStoreError, RemoteURLError, WriterFencedError
from .manifest import Manifest
from .mirror import Mirror
from .remote import ObjectLedger, RemoteState, SyncReport
from .store import ObjectStore, RemoteURL, S3Store, is_remote, parse_url

__all__ = [
    "Manifest",
    "Mirror",
    "ObjectExistsError",
    "ObjectLedger",
    "ObjectStore",
    "ObjectStoreError",
    "RemoteState",
    "RemoteURL",
    "RemoteURLError",
    "S3Store",
    "SyncReport",
    "WriterFencedError",
    "is_remote",
    "open_store",
    "parse_url",
]


def open_store(url: str | RemoteURL) -> tuple[S3Store, str]:
    """The store and key prefix named by ``s3://bucket/prefix`` (client configured the standard
    boto3 way: AWS_* environment variables, AWS_ENDPOINT_URL, profiles)."""
    parsed = parse_url(url) if isinstance(url, str) else url
    return S3Store(parsed.bucket), parsed.prefix
