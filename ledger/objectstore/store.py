"""The object-store client: plain puts, conditional creates, gets and ordered listings.

:class:`S3Store` talks to S3 or any S3-compatible store through ``boto3`` (the optional extra
``s3``: ``pip install 'contexta[s3]'``), imported only when a store is opened. Credentials,
region and endpoint come the standard boto3 way (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``, profiles...).

``create`` is ``PutObject`` with ``If-None-Match: *``: it succeeds only when the key does not
exist yet, atomically, and otherwise raises :class:`ObjectExistsError` (HTTP 412). This is the
one primitive the commit protocol needs (``pyarrow.fs`` cannot write conditionally).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import ObjectExistsError, ObjectStoreError, RemoteURLError

__all__ = ["ObjectStore", "RemoteURL", "S3Store", "parse_url"]

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_PREFIX_PART_RE = re.compile(r"^[A-Za-z0-9._\-]+$")


@dataclass(frozen=True, slots=True)
class RemoteURL:
    """``s3://bucket/prefix``: the bucket and the key prefix (no leading or trailing slash)."""

    scheme: str
    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"{self.scheme}://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")


def is_remote(value: object) -> bool:
    """Whether ``value`` names an object-store workspace (``s3://...``)."""
    return isinstance(value, str) and value.lower().startswith("s3://")


def parse_url(value: str) -> RemoteURL:
    """Parse ``s3://bucket[/prefix]``; raises :class:`RemoteURLError` naming the value.

    Prefix parts are plain names (letters, digits, ``._-``; no ``..``, no empty parts), so a
    prefix can never reach keys outside itself."""
    if not is_remote(value):
        raise RemoteURLError(
            f"workspace {value!r} is not an object-store URL (expected s3://bucket/prefix).",
            field="workspace",
            value=value,
        )
    rest = value[5:]
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    if not _BUCKET_RE.match(bucket):
        raise RemoteURLError(
            f"workspace {value!r}: bucket {bucket!r} is not a valid bucket name "
            "(3 to 63 lowercase letters, digits, dots and dashes).",
            field="bucket",
            value=bucket,
        )
    parts = prefix.split("/") if prefix else []
    for part in parts:
        if not _PREFIX_PART_RE.match(part) or part in (".", ".."):
            raise RemoteURLError(
                f"workspace {value!r}: prefix part {part!r} must be a plain name "
                "(letters, digits, '.', '_', '-'; not '.' or '..').",
                field="prefix",
                value=part,
            )
    return RemoteURL("s3", bucket, "/".join(parts))


class ObjectStore(Protocol):
    """What the object ledger needs from a store (keys are full keys within the bucket)."""

    def put(self, key: str, data: bytes) -> None: ...

    def create(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def list(self, prefix: str, *, start_after: str = "") -> Iterator[str]: ...


class S3Store:
    """An :class:`ObjectStore` over one S3 bucket, through boto3."""

    def __init__(self, bucket: str, *, client: Any = None) -> None:
        self.bucket = bucket
        self.requests = 0  # requests sent (for benchmarks and the cost arithmetic)
        if client is None:
            client = _boto3_client()
        self._client = client

    def put(self, key: str, data: bytes) -> None:
        self._call("put", key, Bucket=self.bucket, Key=key, Body=data)

    def create(self, key: str, data: bytes) -> None:
        self._call("create", key, Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*")

    def get(self, key: str) -> bytes:
        response = self._call("get", key, Bucket=self.bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def list(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        """Keys under ``prefix`` after ``start_after``, in key order (S3 lists are strongly
        consistent and sorted by key)."""
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            elif start_after:
                kwargs["StartAfter"] = start_after
            page = self._call("list", prefix, **kwargs)
            for item in page.get("Contents", ()):
                yield str(item["Key"])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def create_bucket(self) -> None:
        """Create the bucket (tests and first use against a fresh store)."""
        self._call("create_bucket", "", Bucket=self.bucket)

    def _call(self, operation: str, key: str, **kwargs: Any) -> Any:
        method = {
            "put": "put_object",
            "create": "put_object",
            "get": "get_object",
            "list": "list_objects_v2",
            "create_bucket": "create_bucket",
        }[operation]
        self.requests += 1
        try:
            return getattr(self._client, method)(**kwargs)
        except Exception as exc:
            raise _translate(exc, operation, self.bucket, key) from exc


def _translate(exc: Exception, operation: str, bucket: str, key: str) -> Exception:
    response = getattr(exc, "response", None)
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    code = str(error.get("Code", "")) or type(exc).__name__
    status = (response or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    if operation == "create" and (code == "PreconditionFailed" or status == 412):
        return ObjectExistsError(
            f"s3://{bucket}/{key} already exists (conditional create refused, HTTP 412).",
            bucket=bucket,
            key=key,
        )
    if code in ("NoSuchKey", "404") and operation == "get":
        return ObjectStoreError(
            f"s3://{bucket}/{key} does not exist.",
            code="objectstore_missing_object",
            operation=operation,
            bucket=bucket,
            key=key,
            error=code,
        )
    return ObjectStoreError(
        f"Object store {operation} of s3://{bucket}/{key} failed ({code}: {exc}). Nothing is "
        "lost: events stay in the local outbox until a sync succeeds.",
        operation=operation,
        bucket=bucket,
        key=key,
        error=code,
    )


def _boto3_client() -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise ObjectStoreError(
            "An s3:// workspace needs boto3: pip install 'contexta[s3]'.",
            code="objectstore_client_missing",
            operation="import",
            error="ImportError",
        ) from exc
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5)
    return boto3.session.Session().client("s3", config=config)
