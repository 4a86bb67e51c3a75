"""Full verification of the ledger: every CRC, every chain link, seq continuity, segment
framing and sealing, and the published head.

Verification only reads. Each finding names the segment file, the byte offset and, where it
applies, the seq at which the damage starts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import CorruptionError, LedgerIOError
from .head import HEAD_NAME, Head, read_head
from .reader import _map, list_segments
from .segment import EOS, GENESIS_CHAIN, SCHEMA_MESSAGE, read_frame, verify_chain

__all__ = ["VerifyFinding", "VerifyReport", "verify"]


@dataclass(frozen=True, slots=True)
class VerifyFinding:
    code: str
    message: str
    file: str
    offset: int | None = None
    seq: int | None = None
    severity: str = "error"  # "error" (damage) or "warning" (e.g. an uncommitted torn tail)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class VerifyReport:
    segments: int = 0
    batches: int = 0
    events: int = 0
    bytes: int = 0
    last_seq: int = 0
    chain: str = GENESIS_CHAIN
    head: Head | None = None
    findings: list[VerifyFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "segments": self.segments,
            "batches": self.batches,
            "events": self.events,
            "bytes": self.bytes,
            "last_seq": self.last_seq,
            "chain": self.chain,
            "findings": [f.to_dict() for f in self.findings],
        }


def verify(root: Path | str) -> VerifyReport:
    """Check the whole ledger under ``root``; never raises for damage, reports it."""
    root = Path(root)
    report = VerifyReport()
    published = read_head(root)
    report.head = published
    if (root / HEAD_NAME).exists() and published is None:
        report.findings.append(
            VerifyFinding("head_unreadable", "HEAD is damaged or unreadable", str(root / HEAD_NAME))
        )
    segments = list_segments(root)
    report.segments = len(segments)
    seq, chain = 0, GENESIS_CHAIN
    for pos, info in enumerate(segments):
        path = str(info.path)
        name = info.path.name
        is_active = pos == len(segments) - 1
        try:
            buf = _map(info.path)
        except (OSError, LedgerIOError) as exc:
            report.findings.append(VerifyFinding("segment_unreadable", str(exc), path, 0))
            continue
        report.bytes += buf.size
        if buf.size < len(SCHEMA_MESSAGE) or bytes(memoryview(buf)[: len(SCHEMA_MESSAGE)]) != SCHEMA_MESSAGE:
            report.findings.append(
                VerifyFinding("schema_mismatch", f"{name} does not start with the ledger schema", path, 0)
            )
            continue
        end = buf.size
        committed_end = end
        if is_active and published is not None and published.segment == info.index:
            committed_end = min(published.offset, end)
        offset = len(SCHEMA_MESSAGE)
        sealed = False
        while offset < end:
            try:
                frame = read_frame(buf, offset, end, path)
            except CorruptionError as exc:
                beyond_head = is_active and offset >= committed_end
                report.findings.append(
                    VerifyFinding(
                        "torn_tail" if beyond_head else str(exc.details.get("reason", "corrupt")),
                        (
                            f"{end - offset} uncommitted bytes past the head (a torn tail); "
                            "`contexta ledger repair` moves them aside"
                        )
                        if beyond_head
                        else exc.message,
                        path,
                        offset,
                        seq + 1,
                        "warning" if beyond_head else "error",
                    )
                )
                break
            if frame is None:
                sealed = True
                if offset + len(EOS) != end:
                    report.findings.append(
                        VerifyFinding(
                            "bytes_after_seal",
                            f"{end - offset - len(EOS)} bytes follow the end-of-stream marker",
                            path,
                            offset + len(EOS),
                            seq + 1,
                        )
                    )
                break
            if frame.first_seq != seq + 1:
                report.findings.append(
                    VerifyFinding(
                        "seq_gap",
                        f"Expected seq {seq + 1}, got {frame.first_seq}",
                        path,
                        offset,
                        seq + 1,
                    )
                )
            if frame.prev_chain != chain:
                report.findings.append(
                    VerifyFinding(
                        "chain_link",
                        "The batch's prev hash does not match the chain of the batch before",
                        path,
                        offset,
                        frame.first_seq,
                    )
                )
            if not verify_chain(frame, buf):
                report.findings.append(
                    VerifyFinding(
                        "chain_hash",
                        "The batch's chain hash does not match its bytes",
                        path,
                        offset,
                        frame.first_seq,
                    )
                )
            seq = frame.first_seq + frame.count - 1
            chain = frame.chain
            report.batches += 1
            report.events += frame.count
            offset += frame.length
        if not is_active and not sealed:
            report.findings.append(
                VerifyFinding(
                    "segment_not_sealed",
                    f"{name} is followed by another segment but has no end-of-stream marker",
                    path,
                    offset,
                    severity="warning",
                )
            )
    report.last_seq = seq
    report.chain = chain
    if published is not None:
        if published.seq > seq:
            report.findings.append(
                VerifyFinding(
                    "head_ahead",
                    f"HEAD names seq {published.seq} but the segments end at seq {seq}",
                    str(root / HEAD_NAME),
                    seq=seq + 1,
                )
            )
        elif published.seq == seq and published.chain != chain:
            report.findings.append(
                VerifyFinding(
                    "head_chain",
                    "HEAD's chain hash differs from the last batch's",
                    str(root / HEAD_NAME),
                    seq=seq,
                )
            )
    return report
