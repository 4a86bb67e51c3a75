"""The object-store client against a loopback S3: conditional create, typed errors, URLs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ledger.objectstore import (
    ObjectExistsError,
    ObjectStoreError,
    RemoteURLError,
    S3Store,
    parse_url,
)


def test_second_create_of_a_key_is_a_typed_precondition_error(bucket: str) -> None:
    store = S3Store(bucket)
    store.create("p/manifest/1", b"first")
    with pytest.raises(ObjectExistsError) as caught:
        store.create("p/manifest/1", b"second")
    assert caught.value.code == "objectstore_precondition_failed"
    assert caught.value.details["key"] == "p/manifest/1"
    assert store.get("p/manifest/1") == b"first"  # the loser changed nothing


def test_plain_put_get_and_ordered_listing(bucket: str) -> None:
    store = S3Store(bucket)
    for name in ("b", "a", "c"):
        store.put(f"x/{name}", name.encode())
    assert list(store.list("x/")) == ["x/a", "x/b", "x/c"]
    assert list(store.list("x/", start_after="x/a")) == ["x/b", "x/c"]
    assert store.get("x/b") == b"b"


def test_missing_object_and_missing_bucket_are_typed(bucket: str) -> None:
    with pytest.raises(ObjectStoreError) as missing:
        S3Store(bucket).get("nope")
    assert missing.value.code == "objectstore_missing_object"
    with pytest.raises(ObjectStoreError) as no_bucket:
        S3Store("no-such-bucket-here").put("k", b"v")
    assert no_bucket.value.details["error"] == "NoSuchBucket"


def test_unreachable_store_is_a_typed_error(s3_env: dict[str, str], monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(ObjectStoreError) as caught:
        S3Store("any-bucket").put("k", b"v")
    assert caught.value.code == "objectstore_unavailable"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("s3://", "bucket"),
        ("s3://Bad_Bucket/p", "bucket"),
        ("s3://bucket/../x", "prefix"),
        ("s3://bucket/a//b/./c", "prefix"),
        ("s3://bucket/a b", "prefix"),
        ("/local/path", "workspace"),
    ],
)
def test_bad_urls_name_the_field(url: str, field: str) -> None:
    with pytest.raises(RemoteURLError) as caught:
        parse_url(url)
    assert caught.value.details["field"] == field


def test_urls_parse() -> None:
    parsed = parse_url("s3://my-bucket/team/ws/")
    assert (parsed.bucket, parsed.prefix, str(parsed)) == (
        "my-bucket",
        "team/ws",
        "s3://my-bucket/team/ws",
    )
    assert parse_url("S3://bucket").prefix == ""


def test_importing_contexta_does_not_import_the_client() -> None:
    code = (
        "import sys, contexta, ledger, projections; "
        "print(any(m.split('.')[0] in ('boto3', 'botocore', 'ledger.objectstore') "
        "or m.startswith('ledger.objectstore') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
