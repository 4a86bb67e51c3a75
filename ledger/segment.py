"""Segments: Arrow IPC stream files, and the framing of one committed batch.

A segment starts with the schema message; each commit appends one record batch message as raw
bytes; a sealed segment ends with the 8-byte end-of-stream marker. Any segment, active or sealed,
opens with plain ``pyarrow.ipc.open_stream``.

Every batch carries in its custom metadata:

``ledger.first_seq``, ``ledger.count``, ``ledger.tx_time``
    the seq of its first row, its row count, and its transaction time (microseconds, UTC);
``ledger.prev``
    the chain hash of the batch before it (32 hex digits; zeros before the first batch);
``ledger.seal``
    ``crc32`` (8 hex) followed by ``chain`` (32 hex). Both are computed over the whole batch
    message (framing, flatbuffer metadata and body) with the seal value replaced by 40 ``?``;
    ``chain = blake2b(prev_chain || message, 16 bytes)``. So any single changed byte of the
    message, metadata included, fails the CRC, and the chain makes history tamper-evident.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .errors import CorruptionError
from .schema import EVENT_SCHEMA

__all__ = [
    "EOS",
    "GENESIS_CHAIN",
    "SCHEMA_MESSAGE",
    "BatchFrame",
    "encode_batch",
    "is_partial_eos",
    "iter_frames",
    "segment_index",
    "segment_name",
]

GENESIS_CHAIN = "0" * 32
EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"
_SEAL_PLACEHOLDER = "?" * 40
_SEAL_LEN = struct.pack("<I", 40)
_SEAL_PLACEHOLDER_BYTES = _SEAL_PLACEHOLDER.encode()
_CONT = 0xFFFFFFFF
_NAME_RE = re.compile(r"^segment-(\d{12})\.arrows$")

#: Batches of at least this many rows are zstd-compressed. Compression has a large fixed cost
#: per buffer (tens of microseconds), so small commits are written plain; large ones shrink
#: about 20x and decompress at well under a microsecond per row.
COMPRESS_MIN_ROWS = 4096
_PLAIN = pa.ipc.IpcWriteOptions()
_COMPRESSED = pa.ipc.IpcWriteOptions(compression="zstd")


def _schema_message() -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, EVENT_SCHEMA, options=_PLAIN):
        pass
    data: bytes = sink.getvalue().to_pybytes()
    if not data.endswith(EOS):  # pragma: no cover - pyarrow always writes the marker on close
        raise RuntimeError("pyarrow did not end the stream with the end-of-stream marker")
    return data[: -len(EOS)]


SCHEMA_MESSAGE = _schema_message()


def segment_name(index: int) -> str:
    """File name of segment ``index``; names sort in log order."""
    return f"segment-{index:012d}.arrows"


def segment_index(name: str) -> int | None:
    match = _NAME_RE.match(name)
    return int(match.group(1)) if match else None


def _seal_of(crc: int, chain: str) -> str:
    return f"{crc:08x}{chain}"


def _chain(prev_chain: str, message: bytes | bytearray) -> str:
    """Chain hash of a message whose seal holds the placeholder."""
    digest = hashlib.blake2b(bytes.fromhex(prev_chain), digest_size=16)
    digest.update(message)
    return digest.hexdigest()


def encode_batch(
    batch: pa.RecordBatch, *, first_seq: int, tx_time: int, prev_chain: str
) -> tuple[bytes, str]:
    """Serialise ``batch`` as one sealed stream message. Returns (message bytes, chain hash)."""
    metadata = {
        "ledger.first_seq": str(first_seq),
        "ledger.count": str(batch.num_rows),
        "ledger.tx_time": str(tx_time),
        "ledger.prev": prev_chain,
        "ledger.seal": _SEAL_PLACEHOLDER,
    }
    options = _COMPRESSED if batch.num_rows >= COMPRESS_MIN_ROWS else _PLAIN
    sink = pa.BufferOutputStream()
    writer = pa.ipc.new_stream(sink, EVENT_SCHEMA, options=options)
    writer.write_batch(batch, custom_metadata=metadata)
    writer.close()
    stream = sink.getvalue()
    message = bytearray(memoryview(stream)[len(SCHEMA_MESSAGE) : stream.size - len(EOS)])
    meta_len = struct.unpack_from("<i", message, 4)[0]
    at = message.find(_SEAL_LEN + _SEAL_PLACEHOLDER_BYTES, 8, 8 + meta_len)
    if at < 0:  # pragma: no cover - the placeholder is always in the flatbuffer
        raise RuntimeError("seal placeholder not found in the batch metadata")
    at += 4
    chain = _chain(prev_chain, message)
    message[at + 8 : at + 40] = chain.encode()
    message[at : at + 8] = f"{zlib.crc32(message):08x}".encode()
    return bytes(message), chain


@dataclass(frozen=True, slots=True)
class BatchFrame:
    """One committed batch as read back from a segment."""

    offset: int
    length: int
    first_seq: int
    count: int
    tx_time: int
    prev_chain: str
    chain: str
    seal_at: int
    batch: pa.RecordBatch


def _corrupt(path: str, offset: int, why: str, **details: Any) -> CorruptionError:
    return CorruptionError(
        f"{why} at `{path}` offset {offset}. Run `contexta ledger verify` to list damage.",
        file=path,
        offset=offset,
        **details,
    )


def read_frame(
    buf: pa.Buffer, offset: int, end: int, path: str, *, check_crc: bool = True
) -> BatchFrame | None:
    """Decode the batch message at ``offset``; None at an end-of-stream marker.

    Raises :class:`CorruptionError` when the bytes are not one whole, sealed batch.
    """
    if offset + 8 > end:
        raise _corrupt(path, offset, "Truncated message header", reason="truncated")
    cont, meta_len = struct.unpack_from("<Ii", buf, offset)
    if cont != _CONT:
        raise _corrupt(path, offset, "Bad message framing", reason="framing")
    if meta_len == 0:
        return None
    if meta_len < 0 or offset + 8 + meta_len > end:
        raise _corrupt(path, offset, "Truncated batch metadata", reason="truncated")
    view = memoryview(buf)
    try:
        custom = _custom_metadata(view[offset + 8 : offset + 8 + meta_len])
        seal, seal_at = custom["ledger.seal"]
        first_seq = int(custom["ledger.first_seq"][0])
        count = int(custom["ledger.count"][0])
        tx_time = int(custom["ledger.tx_time"][0])
        prev_chain = custom["ledger.prev"][0]
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise _corrupt(path, offset, f"Unreadable batch metadata ({exc})", reason="metadata") from exc
    if len(seal) != 40:
        raise _corrupt(path, offset, "Malformed seal", reason="metadata")
    try:
        message = pa.ipc.read_message(buf.slice(offset, end - offset))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _corrupt(path, offset, f"Unreadable batch message ({exc})", reason="framing") from exc
    if message.type != "record batch":
        raise _corrupt(path, offset, f"Unexpected {message.type} message", reason="framing")
    length = 8 + message.metadata.size + message.body.size
    if offset + length > end:
        raise _corrupt(path, offset, "Truncated batch body", reason="truncated")
    if check_crc:
        raw = bytearray(view[offset : offset + length])
        at = 8 + seal_at
        raw[at : at + 8] = _SEAL_PLACEHOLDER_BYTES[:8]
        if f"{zlib.crc32(raw):08x}" != seal[:8]:
            raise _corrupt(path, offset, "CRC mismatch", reason="crc", seq=first_seq)
    try:
        batch = pa.ipc.read_record_batch(message, EVENT_SCHEMA)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _corrupt(path, offset, f"Undecodable batch ({exc})", reason="decode") from exc
    if count != batch.num_rows:
        raise _corrupt(path, offset, "Row count disagrees with metadata", reason="metadata")
    return BatchFrame(
        offset, length, first_seq, count, tx_time, prev_chain, seal[8:], seal_at, batch
    )


def check_frame(buf: pa.Buffer, offset: int, end: int, path: str) -> tuple[int, int, int] | None:
    """CRC-check the batch message at ``offset`` without decoding it.

    Returns (length, first_seq, count), or None at an end-of-stream marker; raises
    :class:`CorruptionError` like :func:`read_frame`. About the cost of the CRC itself.
    """
    if offset + 8 > end:
        raise _corrupt(path, offset, "Truncated message header", reason="truncated")
    cont, meta_len = struct.unpack_from("<Ii", buf, offset)
    if cont != _CONT:
        raise _corrupt(path, offset, "Bad message framing", reason="framing")
    if meta_len == 0:
        return None
    if meta_len < 0 or offset + 8 + meta_len > end:
        raise _corrupt(path, offset, "Truncated batch metadata", reason="truncated")
    view = memoryview(buf)
    meta = bytes(view[offset + 8 : offset + 8 + meta_len])
    try:
        custom = _custom_metadata(meta)
        seal, seal_at = custom["ledger.seal"]
        first_seq = int(custom["ledger.first_seq"][0])
        count = int(custom["ledger.count"][0])
        body_length = _body_length(meta)
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise _corrupt(path, offset, f"Unreadable batch metadata ({exc})", reason="metadata") from exc
    length = 8 + meta_len + body_length
    if len(seal) != 40 or body_length < 0 or offset + length > end:
        raise _corrupt(path, offset, "Truncated batch body", reason="truncated")
    raw = bytearray(view[offset : offset + length])
    at = 8 + seal_at
    raw[at : at + 8] = _SEAL_PLACEHOLDER_BYTES[:8]
    if f"{zlib.crc32(raw):08x}" != seal[:8]:
        raise _corrupt(path, offset, "CRC mismatch", reason="crc", seq=first_seq)
    return length, first_seq, count


def _body_length(meta: bytes) -> int:
    """Message field 3 (``bodyLength: long``) of a message flatbuffer."""
    root = int.from_bytes(meta[0:4], "little")
    vtable = root - int.from_bytes(meta[root : root + 4], "little", signed=True)
    vt_size = int.from_bytes(meta[vtable : vtable + 2], "little")
    if vt_size < 4 + 2 * 3 + 2:
        return 0
    off = int.from_bytes(meta[vtable + 10 : vtable + 12], "little")
    if not off:
        return 0
    if root + off + 8 > len(meta):
        raise ValueError("bodyLength out of bounds")
    return int.from_bytes(meta[root + off : root + off + 8], "little", signed=True)


def verify_chain(frame: BatchFrame, buf: pa.Buffer) -> bool:
    """Recompute the chain hash of ``frame`` from its bytes."""
    raw = bytearray(memoryview(buf)[frame.offset : frame.offset + frame.length])
    at = 8 + frame.seal_at
    raw[at : at + 40] = _SEAL_PLACEHOLDER_BYTES
    return _chain(frame.prev_chain, raw) == frame.chain


def _custom_metadata(meta: bytes | memoryview) -> dict[str, tuple[str, int]]:
    """The custom metadata of an IPC ``Message`` flatbuffer: key -> (value, value offset).

    pyarrow's message API does not expose a batch's custom metadata, so the flatbuffer is
    walked here (Message field 4 is ``custom_metadata: [KeyValue]``). Every read is bounds
    checked; malformed bytes raise ``ValueError``.
    """
    data = bytes(meta)
    size = len(data)

    def u32(pos: int) -> int:
        if pos < 0 or pos + 4 > size:
            raise ValueError("offset out of bounds")
        return int.from_bytes(data[pos : pos + 4], "little")

    def field(table: int, index: int) -> int | None:
        vtable = table - int.from_bytes(data[table : table + 4], "little", signed=True)
        if vtable < 0 or vtable + 4 > size:
            raise ValueError("vtable out of bounds")
        vt_size = int.from_bytes(data[vtable : vtable + 2], "little")
        slot = 4 + 2 * index
        if slot + 2 > vt_size:
            return None
        off = int.from_bytes(data[vtable + slot : vtable + slot + 2], "little")
        return table + off if off else None

    def string(pos: int) -> tuple[str, int]:
        start = pos + u32(pos)
        length = u32(start)
        if start + 4 + length > size:
            raise ValueError("string out of bounds")
        return data[start + 4 : start + 4 + length].decode("utf-8"), start + 4

    root = u32(0)
    vec_field = field(root, 4)
    if vec_field is None:
        return {}
    vec = vec_field + u32(vec_field)
    count = u32(vec)
    if count > 64:
        raise ValueError("too many metadata entries")
    out: dict[str, tuple[str, int]] = {}
    for i in range(count):
        elem = vec + 4 + 4 * i
        kv = elem + u32(elem)
        key_field = field(kv, 0)
        value_field = field(kv, 1)
        if key_field is None or value_field is None:
            raise ValueError("incomplete key/value pair")
        out[string(key_field)[0]] = string(value_field)
    return out


def is_partial_eos(buf: pa.Buffer, offset: int, end: int) -> bool:
    """True when the bytes from ``offset`` to ``end`` are a cut-short end-of-stream marker
    (a seal whose write a power loss tore; the batches before it are whole)."""
    return 0 < end - offset < len(EOS) and bytes(memoryview(buf)[offset:end]) == EOS[: end - offset]


def iter_frames(
    buf: pa.Buffer, start: int, end: int, path: str, *, check_crc: bool = True,
    sealed: bool = False,
) -> Iterator[BatchFrame]:
    """Yield every batch between ``start`` and ``end``; stop at an end-of-stream marker.

    An end-of-stream marker is only valid as the last 8 bytes before ``end``: one anywhere else
    (for example a batch whose metadata length was zeroed) would silently hide the batches after
    it, so it raises :class:`CorruptionError`.
    """
    offset = start
    while offset < end:
        if sealed and is_partial_eos(buf, offset, end):
            return
        frame = read_frame(buf, offset, end, path, check_crc=check_crc)
        if frame is None:
            if offset + len(EOS) != end:
                raise _corrupt(
                    path, offset, "End-of-stream marker before the committed end", reason="early_eos"
                )
            return
        yield frame
        offset += frame.length
