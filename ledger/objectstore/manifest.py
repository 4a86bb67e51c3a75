"""Manifests: the small objects whose numbers are the global order of an object-store ledger.

``<prefix>/manifest/<20-digit number>`` is created put-if-absent by the writer that wins that
number. A manifest is either a **commit** (one sealed batch, uploaded before it under
``<prefix>/writers/<writer id>/...``) or a **fence** (a writer id claims a new epoch: every
instance of that id holding an older epoch is stale from this number on and may not commit).

Each manifest names the global seq range of its batch, the previous chain hash and the new
one, the batch's key, size and CRC, the writer id and epoch, and which outbox (and local seq
range of it) the events came from: that pair is what makes a re-sync recognise a batch it
already committed. The JSON carries its own CRC-32.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import CorruptionError

__all__ = ["COMMIT", "FENCE", "Manifest", "manifest_key", "manifest_number"]

COMMIT = "commit"
FENCE = "fence"
_WIDTH = 20


def manifest_key(prefix: str, number: int) -> str:
    return f"{prefix}manifest/{number:0{_WIDTH}d}"


def manifest_number(prefix: str, key: str) -> int | None:
    tail = key[len(prefix) + len("manifest/") :]
    return int(tail) if len(tail) == _WIDTH and tail.isdigit() else None


@dataclass(frozen=True, slots=True)
class Manifest:
    """One manifest (see the module docstring). For a fence, ``count`` is 0 and ``chain``,
    ``tx_time`` repeat the previous manifest's."""

    number: int
    type: str
    writer: str
    epoch: int
    outbox: str
    first_seq: int
    count: int
    tx_time: int
    prev: str
    chain: str
    key: str = ""
    size: int = 0
    crc: str = ""
    local_first: int = 0
    local_last: int = 0
    nonce: str = ""

    @property
    def last_seq(self) -> int:
        return self.first_seq + self.count - 1

    def to_bytes(self) -> bytes:
        body = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return json.dumps(
            {"manifest": json.loads(body), "crc": zlib.crc32(body.encode())},
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Manifest:
        """Parse and CRC-check a manifest; :class:`CorruptionError` naming ``where`` if bad."""
        try:
            outer = json.loads(data)
            fields: dict[str, Any] = outer["manifest"]
            body = json.dumps(fields, sort_keys=True, separators=(",", ":"))
            if zlib.crc32(body.encode()) != outer["crc"]:
                raise ValueError("CRC mismatch")
            manifest = cls(**fields)
            if manifest.type not in (COMMIT, FENCE) or manifest.count < 0:
                raise ValueError(f"bad type or count: {manifest.type!r}, {manifest.count}")
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptionError(
                f"Manifest `{where}` is damaged ({exc}). Run `contexta ledger verify`.",
                file=where,
                offset=0,
                reason="manifest",
            ) from exc
        return manifest
