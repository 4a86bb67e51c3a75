"""Shared helpers: events that identify their writer, and reading a mirror back."""

from __future__ import annotations

from pathlib import Path

from ledger import LedgerReader, PendingEvent, verify


def event(writer: str, n: int) -> PendingEvent:
    """Event ``n`` of ``writer`` (its ref says which; the value and step carry ``n``)."""
    return PendingEvent(
        kind="record.metric",
        ref=f"{writer}:{n}",
        run_ref=f"run:{writer}",
        key="loss",
        value=float(n),
        step=n,
        actor=writer,
        body=f"{writer}:{n}".encode(),
    )


def mirror_refs(cache: Path) -> list[str]:
    """Every event ref of the mirror under ``cache``, in global seq order, after checking
    that the mirror verifies clean and its seqs are 1..N without a gap."""
    root = cache / "ledger"
    report = verify(root)
    assert report.ok, report
    table = LedgerReader(root).read_table()
    seqs = table.column("seq").to_pylist()
    assert seqs == list(range(1, len(seqs) + 1))
    return [str(ref) for ref in table.column("ref").to_pylist()]
