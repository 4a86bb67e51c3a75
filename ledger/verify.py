"""Full verification of the ledger: every CRC, every chain link, seq continuity, segment
framing and sealing, and the published head.

Verification only reads. Each finding names the segment file, the byte offset and, where it
applies, the seq at which the damage starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from . import arrays
from .errors import CorruptionError, LedgerIOError
from .findings import VerifyFinding
from .head import HEAD_NAME, Head, read_head
from .publish import published_findings
from .segment import (
    EOS,
    GENESIS_CHAIN,
    SCHEMA_MESSAGE,
    BatchFrame,
    is_partial_eos,
    read_frame,
    segment_name,
    verify_chain,
)
from .segment_files import list_segments, map_segment

__all__ = ["VerifyFinding", "VerifyReport", "verify"]


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


def _metadata_problem(frame: BatchFrame, previous_tx: int) -> str | None:
    """Disagreements between a batch's metadata and its rows (a CRC cannot catch a writer bug)."""
    batch = frame.batch
    expected = arrays.array(range(frame.first_seq, frame.first_seq + frame.count), pa.int64())
    if not batch.column(0).equals(expected):
        return f"seq column is not {frame.first_seq}..{frame.first_seq + frame.count - 1}"
    bounds = pc.min_max(batch.column(1).view(pa.int64())).as_py()
    if batch.num_rows and (bounds["min"] != frame.tx_time or bounds["max"] != frame.tx_time):
        return f"tx_time column differs from the batch's tx_time {frame.tx_time}"
    if frame.tx_time <= previous_tx:
        return f"tx_time {frame.tx_time} is not later than the previous batch's {previous_tx}"
    return None


def verify(root: Path | str) -> VerifyReport:
    """Check the whole ledger under ``root``; never raises for damage, reports it."""
    root = Path(root)
    report = VerifyReport()
    if root.exists() and not root.is_dir():
        report.findings.append(
            VerifyFinding(
                "ledger_not_a_directory",
                f"{root} is a file, not a ledger folder of segment files",
                str(root),
            )
        )
        return report
    published = read_head(root)
    report.head = published
    if (root / HEAD_NAME).exists() and published is None:
        report.findings.append(
            VerifyFinding("head_unreadable", "HEAD is damaged or unreadable", str(root / HEAD_NAME))
        )
    segments = list_segments(root)
    report.segments = len(segments)
    if published is None and segments and not (root / HEAD_NAME).exists():
        report.findings.append(
            VerifyFinding(
                "head_missing",
                "HEAD is missing; the next writer re-derives it from the active segment",
                str(root / HEAD_NAME),
                severity="warning",
            )
        )
    seq, chain, tx = 0, GENESIS_CHAIN, 0
    at_head: tuple[int, str] | None = None  # (seq, chain) of the log where HEAD points
    for pos, info in enumerate(segments):
        path = str(info.path)
        name = info.path.name
        is_active = pos == len(segments) - 1
        expected_index = segments[pos - 1].index + 1 if pos else 0
        if info.index != expected_index:
            missing = info.path.with_name(segment_name(expected_index))
            report.findings.append(
                VerifyFinding(
                    "segment_missing",
                    f"{missing.name} is missing: {name} is numbered {info.index} and the "
                    f"segment before it {expected_index - 1}; `contexta ledger repair` says "
                    "what to do",
                    str(missing),
                    0,
                    seq + 1,
                )
            )
        try:
            buf = map_segment(info.path)
        except (OSError, LedgerIOError) as exc:
            report.findings.append(VerifyFinding("segment_unreadable", str(exc), path, 0))
            continue
        report.bytes += buf.size
        if (
            buf.size < len(SCHEMA_MESSAGE)
            or bytes(memoryview(buf)[: len(SCHEMA_MESSAGE)]) != SCHEMA_MESSAGE
        ):
            report.findings.append(
                VerifyFinding(
                    "schema_mismatch", f"{name} does not start with the ledger schema", path, 0
                )
            )
            continue
        end = buf.size
        committed_end = end
        names_head = published is not None and published.segment == info.index
        if names_head and published is not None and published.offset == len(SCHEMA_MESSAGE):
            at_head = (seq, chain)
        if is_active and published is not None and published.segment == info.index:
            committed_end = min(published.offset, end)
        offset = len(SCHEMA_MESSAGE)
        sealed = False
        while offset < end:
            if not is_active and is_partial_eos(buf, offset, end):
                break  # reported below as a segment without its end marker
            try:
                frame = read_frame(buf, offset, end, path)
            except CorruptionError as exc:
                # Without a readable HEAD the committed end of the active segment is unknown:
                # damage there reads as a torn tail, which is what the next writer treats it as.
                beyond_head = is_active and (offset >= committed_end or published is None)
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
            if offset == len(SCHEMA_MESSAGE) and (frame.first_seq, frame.prev_chain) != (
                seq + 1,
                chain,
            ):
                report.findings.append(
                    VerifyFinding(
                        "unlinked_segment",
                        f"{name} does not continue the log before it (its first batch starts at "
                        f"seq {frame.first_seq}, the log before it ends at seq {seq}): a stray "
                        "copy or a file out of place; `contexta ledger repair` says what to do",
                        path,
                        offset,
                        seq + 1,
                    )
                )
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
            meta_problem = _metadata_problem(frame, tx)
            if meta_problem is not None:
                report.findings.append(
                    VerifyFinding("batch_metadata", meta_problem, path, offset, frame.first_seq)
                )
            if is_active and offset >= committed_end and published is not None:
                report.findings.append(
                    VerifyFinding(
                        "beyond_head",
                        "A whole batch past the published head (a commit whose head was not "
                        "published); the next writer adopts it",
                        path,
                        offset,
                        frame.first_seq,
                        "warning",
                    )
                )
            tx = max(tx, frame.tx_time)
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
            if names_head and published is not None and offset + frame.length == published.offset:
                at_head = (seq, chain)
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
    # derived Parquet copies must equal their segments
    report.findings += published_findings(root, segments[:-1])
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
        elif at_head is not None and at_head != (published.seq, published.chain):
            report.findings.append(
                VerifyFinding(
                    "head_mismatch",
                    f"HEAD names seq {published.seq} at offset {published.offset} of segment "
                    f"{published.segment}, but the log there is at seq {at_head[0]} with another "
                    "chain hash; the next writer re-derives it",
                    str(root / HEAD_NAME),
                    seq=published.seq,
                )
            )
    return report
