"""``contexta watch``: a live tail of the ledger; ``contexta projections watch``: keep the saved
projections folded as the ledger grows. Both run until Ctrl-C (or ``--timeout``)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import Any

from projections.kinds import (
    ALL_KINDS,
    DEGRADED,
    EVENT,
    METRIC,
    QUALITY_KINDS,
    RECORD_PREFIX,
    SPAN,
    STAGE_PUT,
)

from ...history import LedgerEvent
from ..output import emit_json_line, escape
from .common import guard_os, open_workspace

__all__ = ["add_follow_options", "follow_projections", "format_event", "register"]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("watch",)


def register(commands: argparse._SubParsersAction) -> None:
    watch = commands.add_parser(
        "watch",
        help="print events as they are committed (a live tail; Ctrl-C stops)",
        description="Print one line per event as any process commits it: time, seq, run, "
        "stage, kind, key, and the value or message. --format json prints JSON lines.",
    )
    watch.add_argument(
        "--run",
        default=None,
        metavar="RUN",
        help="only this run (run ref, <project>.<run>, or a known run name)",
    )
    watch.add_argument(
        "--key",
        dest="keys",
        action="extend",
        nargs="+",
        default=None,
        metavar="KEY",
        help="only these metric/event keys",
    )
    watch.add_argument(
        "--kind",
        dest="kinds",
        action="extend",
        nargs="+",
        default=None,
        metavar="KIND",
        help="only these kinds ("
        + ", ".join(kind.removeprefix(RECORD_PREFIX) for kind in ALL_KINDS)
        + ")",
    )
    add_follow_options(watch, after_seq=True)
    watch.set_defaults(handler=_watch)


def add_follow_options(parser: argparse.ArgumentParser, *, after_seq: bool = False) -> None:
    """``--timeout`` (and ``--after-seq``) for the commands that follow the ledger."""
    if after_seq:
        parser.add_argument(
            "--after-seq",
            type=int,
            default=None,
            metavar="SEQ",
            help="start after this seq instead of the current head",
        )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds without new events",
    )


# ---------------------------------------------------------------------- contexta watch


def _watch(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    events = ctx.watch(
        args.run, kinds=args.kinds, keys=args.keys, timeout=args.timeout, after_seq=args.after_seq
    )
    count, last = 0, None
    widths = [0, 6, 12, 5, 9, 10]
    sys.stderr.write(f"watching {escape(_shown(ctx.maintenance.ledger_root))} (Ctrl-C stops)\n")
    try:
        for event in events:
            count, last = count + 1, event.seq
            if args.format == "json":
                emit_json_line(event.to_dict())
            else:
                sys.stdout.write(format_event(event, widths) + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        _after_ctrl_c()
    except BrokenPipeError:  # e.g. `contexta watch | head`
        _silence_stdout()
        return 0
    finally:
        if isinstance(events, Generator):  # stop the tail now, not when it is collected
            events.close()
    sys.stderr.write(
        f"stopped after {count} events" + (f" (last seq {last})" if last else "") + "\n"
    )
    return 0


def format_event(event: LedgerEvent, widths: list[int] | None = None) -> str:
    """One line: time (UTC), seq, run, stage, kind, key, value or message.

    With ``widths`` (one per column but the last, updated in place) columns are padded to the
    widest value seen so far, so a stream of lines stays aligned."""
    when = event.tx_time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    run = (event.run_ref or "-").removeprefix("run:")
    kind = event.kind.removeprefix(RECORD_PREFIX)
    fields = [
        escape(field)
        for field in (
            when,
            f"#{event.seq}",
            run,
            _stage(event) or "-",
            kind,
            event.key or "-",
            _what(event),
        )
    ]
    if widths is not None:
        for i, value in enumerate(fields[:-1]):
            widths[i] = max(widths[i], len(value))
            fields[i] = value.ljust(widths[i])
    return "  ".join(fields).rstrip()


def _stage(event: LedgerEvent) -> str | None:
    model = event.model
    if event.kind == STAGE_PUT:
        return str(model.stage_name)
    envelope = getattr(model, "envelope", None)
    ref = getattr(envelope, "stage_execution_ref", None) or getattr(
        model, "stage_execution_ref", None
    )
    return None if ref is None else str(ref).rsplit(".", 1)[-1]


def _what(event: LedgerEvent) -> str:
    model, kind = event.model, event.kind
    payload: Any = getattr(model, "payload", None)
    if payload is None and kind in (METRIC, EVENT, SPAN, DEGRADED):
        return event.ref or ""
    if kind == METRIC:
        unit = f" {payload.unit}" if payload.unit else ""
        return f"{payload.value:.6g}{unit}"
    if kind == EVENT:
        return f"[{payload.level}] {payload.message}"
    if kind == SPAN:
        return f"{event.value:.1f} ms {payload.status}"
    if kind == DEGRADED:
        return f"[{payload.severity}] {payload.summary}"
    if kind in QUALITY_KINDS:
        return str(model.reason)
    status = getattr(model, "status", None)
    return str(status) if status is not None else (event.ref or "")


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def _after_ctrl_c() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")  # the terminal echoed ^C without a newline


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


# ---------------------------------------------------------------------- projections watch


class _DeferInterrupt:
    """Holds Ctrl-C back while a fold or save runs, so one is never cut in half; the
    interrupt is raised when the block ends."""

    def __enter__(self) -> _DeferInterrupt:
        self.hit = False
        try:
            self._old: Any = signal.signal(signal.SIGINT, self._note)
        except ValueError:  # not the main thread: nothing to defer
            self._old = None
        return self

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.hit = True

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        if self.hit:
            raise KeyboardInterrupt


def follow_projections(args: argparse.Namespace) -> int:
    """``contexta projections watch``: fold and save every projection on each wake."""
    from ...live import ChangeWaker

    maintenance = open_workspace(args).maintenance
    waker = ChangeWaker(maintenance.ledger_root)
    folded_to: int | None = None
    idle_since = time.monotonic()
    rounds = 0
    sys.stderr.write(
        f"keeping {escape(_shown(maintenance.projections_root))} folded (Ctrl-C stops)\n"
    )
    try:
        while True:
            head = maintenance.committed_head()
            if folded_to is None or head.seq > folded_to:
                started = time.perf_counter()
                with (
                    _DeferInterrupt(),
                    guard_os("saving the projections", maintenance.projections_root),
                ):
                    events, saved = maintenance.fold(head)
                millis = (time.perf_counter() - started) * 1000
                folded_to = head.seq
                if saved:
                    rounds += 1
                    _report_save(args, head.seq, events, saved, millis)
                idle_since = time.monotonic()
                pause = args.interval - millis / 1000
                if pause > 0:
                    time.sleep(pause)  # let commits gather: at most one save per interval
                continue
            if args.timeout is not None and time.monotonic() - idle_since >= args.timeout:
                break
            waker.wait()
    except KeyboardInterrupt:
        _after_ctrl_c()
    finally:
        waker.close()
    sys.stderr.write(f"stopped at seq {folded_to} after {rounds} saves\n")
    return 0


def _report_save(
    args: argparse.Namespace, seq: int, events: int, saved: list[str], millis: float
) -> None:
    if args.format == "json":
        emit_json_line({"seq": seq, "events": events, "saved": saved, "ms": round(millis, 1)})
    else:
        sys.stdout.write(
            f"seq {seq}  folded {events} events  saved {len(saved)} projections  {millis:.1f} ms\n"
        )
    sys.stdout.flush()
