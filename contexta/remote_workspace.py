"""``s3://bucket/prefix`` workspaces: the local cache folder that stands for one.

``Contexta(workspace="s3://bucket/prefix")`` (and ``--workspace s3://...``) works on a host
cache, ``$XDG_CACHE_HOME/contexta/remote/<bucket>/<prefix>`` (``~/.cache`` when unset),
holding the outbox, the mirror of the committed log and the projections; its ledger is a
:class:`ledger.objectstore.workspace_ledger.RemoteLedger`. The writer id is the URL's fragment
when given (``s3://bucket/prefix#job-7``: a job that may restart on another host keeps its id,
and its restart fences the old instance), else one made for the cache. Credentials and the
endpoint come the standard boto3 way (``AWS_*`` variables, ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .common.errors import ValidationError, WorkspaceError

__all__ = ["attach", "is_remote_url", "remote_ledger_class"]

MARKER = "remote.json"


def is_remote_url(value: object) -> bool:
    return isinstance(value, str) and value[:5].lower() == "s3://"


def attach(url: str) -> str:
    """The local cache root standing for ``url`` (created, with its marker, when new)."""
    from ledger.errors import LedgerError
    from ledger.objectstore.store import parse_url

    address, _, writer = url.partition("#")
    try:
        parsed = parse_url(address)
    except LedgerError as exc:
        raise ValidationError(exc.message, code=exc.code, details=exc.details, cause=exc) from exc
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "contexta/remote"
    cache = (base / parsed.bucket / (parsed.prefix or "_")).resolve()
    marker = cache / MARKER
    wanted: dict[str, Any] = {"url": str(parsed)}
    if writer:
        wanted["writer"] = writer
    try:
        cache.mkdir(parents=True, exist_ok=True)
        current = json.loads(marker.read_text()) if marker.exists() else None
        if current is not None and current.get("url") != wanted["url"]:
            raise WorkspaceError(
                f"The cache {cache} belongs to {current.get('url')!r}, not {url!r}.",
                code="workspace_cache_mismatch",
                details={"path": str(cache), "value": url},
            )
        if current != wanted and (current is None or "writer" in wanted):
            tmp = marker.with_name(f"{MARKER}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(wanted))
            os.replace(tmp, marker)
    except (OSError, ValueError) as exc:
        raise WorkspaceError(
            f"Cannot prepare the cache {cache} of {url!r}: {exc}",
            code="workspace_cache_unusable",
            details={"path": str(cache), "value": url},
            cause=exc,
        ) from exc
    return str(cache)


def remote_ledger_class(root: Path) -> Any:
    """The ledger class for the workspace at ``root``: ``RemoteLedger`` for a remote cache,
    None for an ordinary workspace (the marker is the only difference)."""
    if not (root / MARKER).is_file():
        return None
    from ledger.objectstore.workspace_ledger import RemoteLedger

    return RemoteLedger
