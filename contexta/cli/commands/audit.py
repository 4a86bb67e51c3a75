"""``contexta audit replay``: history in ledger order, optionally verified."""

from __future__ import annotations

import argparse
from typing import Any

from projections.kinds import (
    ALL_KINDS,
    DEGRADED,
    EVENT,
    METRIC,
    PROJECT_PUT,
    QUALITY_KINDS,
    RUN_PUT,
    SPAN,
    STAGE_PUT,
)

from ...history import LedgerEvent
from ..output import emit, emit_json_line, table
from .common import iso, open_workspace

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("audit",)


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("audit", help="replay and verify history")
    sub = group.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    replay = sub.add_parser(
        "replay", help="every event in ledger order: seq, when recorded, kind, ref, detail"
    )
    replay.add_argument("--run", default=None, metavar="RUN", help="only events of this run")
    replay.add_argument(
        "--kind",
        action="append",
        default=None,
        metavar="KIND",
        help=f"only events of this kind ({', '.join(ALL_KINDS)}); repeatable",
    )
    replay.add_argument(
        "--as-of",
        default=None,
        metavar="T",
        help="only events recorded at or before transaction time T (ISO-8601 with zone)",
    )
    replay.add_argument(
        "--verify",
        action="store_true",
        help="first check every CRC, the hash chain and seq continuity; exit 1 on damage",
    )
    replay.set_defaults(handler=_replay)


def describe(event: LedgerEvent) -> str:
    """One line of detail: the key/value, event key, name or reason of an event."""
    model: Any = event.model
    kind = event.kind
    if kind == METRIC:
        return f"{event.key}={model.payload.value!r} observed_at={model.envelope.observed_at}"
    if kind == EVENT:
        payload = model.payload
        return f"{payload.event_key} [{payload.level}] observed_at={model.envelope.observed_at}: {payload.message}"
    if kind == SPAN:
        return f"{event.key} {event.value} ms"
    if kind == DEGRADED:
        return f"{event.key} [{model.payload.severity}]: {model.payload.summary}"
    if kind in QUALITY_KINDS:
        return f"reason: {model.reason}"
    if kind == PROJECT_PUT:
        return f"name={model.name}"
    if kind == RUN_PUT:
        return f"name={model.name} status={model.status} started_at={model.started_at}"
    if kind == STAGE_PUT:
        return f"stage={model.stage_name} status={model.status}"
    return event.key or ""


def _replay(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    if args.verify:
        report = ctx.verify_ledger()
        if args.format == "json":
            emit_json_line({"verify": report.to_dict()})
        elif report.ok:
            emit(
                f"Verified {report.events} events in {report.batches} batches across "
                f"{report.segments} segment(s): every CRC matches, the hash chain is intact "
                f"(head {report.chain}), seq 1..{report.last_seq} is gap-free."
            )
        else:
            for finding in report.findings:
                emit(
                    f"{finding.severity.upper()} {finding.code}: {finding.message} "
                    f"(file {finding.file}, offset {finding.offset}, seq {finding.seq})"
                )
        if not report.ok:
            if args.format != "json":
                emit("Verification FAILED: the ledger is damaged; history was not replayed.")
            return 1
    as_of_us = None
    if args.as_of is not None:
        from ...contract.timestamps import timestamp_micros

        as_of_us = timestamp_micros(args.as_of)
    events = ctx.history(args.run, kinds=args.kind)
    rows = []
    for event in events:
        if as_of_us is not None and int(event.tx_time.timestamp() * 1_000_000) > as_of_us:
            break
        if args.format == "json":
            emit_json_line(dict(event.to_dict(), detail=describe(event)))
        else:
            rows.append(
                (event.seq, iso(event.tx_time), event.kind, event.ref or "", describe(event))
            )
    if args.format != "json":
        emit(table(rows, ("seq", "recorded_at", "kind", "ref", "detail")) if rows else "No events.")
    return 0
