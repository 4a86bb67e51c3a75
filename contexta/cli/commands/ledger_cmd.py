"""``contexta ledger verify|repair``."""

from __future__ import annotations

import argparse

from ..output import emit, emit_json
from .common import open_workspace


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("ledger", help="verify or repair the ledger files")
    sub = group.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    verify = sub.add_parser(
        "verify", help="check every CRC, the chain, seq continuity and segment metadata"
    )
    verify.set_defaults(handler=_verify)
    repair = sub.add_parser(
        "repair", help="move a torn tail aside (dry run unless --apply)"
    )
    mode = repair.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", dest="dry_run", action="store_true", default=True,
                      help="report what would be done (the default)")
    mode.add_argument("--apply", dest="dry_run", action="store_false",
                      help="do it: move torn bytes to ledger/torn/ and republish the head")
    repair.set_defaults(handler=_repair)


def _verify(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    report = ctx.verify_ledger()
    if args.format == "json":
        emit_json(report.to_dict())
    else:
        for f in report.findings:
            emit(f"{f.severity.upper()} {f.code}: {f.message} (file {f.file}, offset {f.offset}, seq {f.seq})")
        state = "OK" if report.ok else "DAMAGED"
        emit(f"{state}: {report.events} events, {report.batches} batches, {report.segments} segment(s), "
             f"last seq {report.last_seq}, {len(report.findings)} finding(s).")
    return 0 if report.ok else 1


def _repair(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    report = ctx._workspace.ledger.recover(dry_run=args.dry_run)
    if args.format == "json":
        emit_json({
            "dry_run": report.dry_run, "actions": report.actions, "torn_offset": report.torn_offset,
            "torn_bytes": report.torn_bytes, "torn_path": report.torn_path,
            "head_seq": report.head.seq if report.head else 0,
        })
        return 0
    if not report.actions:
        emit("Nothing to repair: the active segment ends at the committed head.")
        return 0
    verb = "Would" if report.dry_run else "Did"
    for action in report.actions:
        emit(f"{verb}: {action}")
    if report.dry_run:
        emit("Dry run: nothing was changed. Run `contexta ledger repair --apply` to do it.")
    return 0
