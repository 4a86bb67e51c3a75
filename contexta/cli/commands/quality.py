"""``contexta tag|quarantine|release|best``: data-quality facts added after the fact."""

from __future__ import annotations

import argparse

from ..output import emit, emit_json, escape
from .common import open_workspace, require_metric

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("tag", "quarantine", "release", "best")


def register(commands: argparse._SubParsersAction) -> None:
    tag = commands.add_parser(
        "tag",
        help="tag runs retroactively with a structured event (recorded now, observed "
        "at each run's start)",
    )
    tag.add_argument("event_key", metavar="EVENT_KEY", help="e.g. data.contamination-window")
    tag.add_argument("--message", required=True, metavar="M", help="what happened")
    tag.add_argument("--project", default=None, metavar="P", help="tag runs of this project")
    tag.add_argument(
        "--run",
        action="append",
        default=None,
        metavar="RUN",
        help="tag this run (repeatable); combine with --project to restrict",
    )
    tag.add_argument(
        "--started-after", default=None, metavar="T", help="inclusive lower bound on started_at"
    )
    tag.add_argument(
        "--started-before", default=None, metavar="T", help="inclusive upper bound on started_at"
    )
    tag.add_argument(
        "--level", default="warning", choices=("debug", "info", "warning", "error", "critical")
    )
    tag.set_defaults(handler=_tag)

    for name, verb in (("quarantine", "quarantine"), ("release", "release")):
        cmd = commands.add_parser(
            name,
            help=f"{verb} runs (a new event; select-best "
            + ("skips them unless asked)" if name == "quarantine" else "may pick them again)"),
        )
        cmd.add_argument("runs", nargs="+", metavar="RUN")
        cmd.add_argument("--reason", required=True, metavar="R")
        cmd.set_defaults(handler=_quarantine if name == "quarantine" else _release)

    best = commands.add_parser(
        "best", help="select the best run by a metric (quarantined runs excluded)"
    )
    best.add_argument("metric", metavar="METRIC")
    best.add_argument(
        "--stage", default=None, metavar="S", help="stage name (omit for run-level metrics)"
    )
    best.add_argument(
        "--project",
        default=None,
        metavar="P",
        help="candidates: this project's runs (default: all)",
    )
    best.add_argument(
        "--run", action="append", default=None, metavar="RUN", help="candidate run (repeatable)"
    )
    best.add_argument("--lower-is-better", action="store_true")
    best.add_argument("--include-quarantined", action="store_true")
    best.add_argument(
        "--as-of",
        default=None,
        metavar="T",
        help="answer as the workspace stood at transaction time T",
    )
    best.set_defaults(handler=_best)


def _tag(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    tagged = ctx.tag_runs(
        args.event_key,
        message=args.message,
        project_name=args.project,
        run_ids=args.run,
        started_after=args.started_after,
        started_before=args.started_before,
        level=args.level,
    )
    ctx.close()
    if args.format == "json":
        emit_json({"event_key": args.event_key, "tagged": list(tagged)})
    else:
        emit(
            f"Tagged {len(tagged)} run(s) with {escape(args.event_key)}:"
            if tagged
            else "No run matched."
        )
        for run in tagged:
            emit(f"  {escape(run)}")
    return 0


def _quarantine(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    runs = ctx.quarantine_runs(args.runs, reason=args.reason)
    ctx.close()
    if args.format == "json":
        emit_json({"quarantined": list(runs), "reason": args.reason})
    else:
        emit(f"Quarantined {len(runs)} run(s) ({escape(args.reason)}):")
        for run in runs:
            emit(f"  {escape(run)}")
    return 0


def _release(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    runs = ctx.release_runs(args.runs, reason=args.reason)
    ctx.close()
    if args.format == "json":
        emit_json({"released": list(runs), "reason": args.reason})
    else:
        emit(f"Released {len(runs)} run(s) ({escape(args.reason)}):")
        for run in runs:
            emit(f"  {escape(run)}")
    return 0


def _best(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    view = ctx.as_of(args.as_of) if args.as_of else ctx
    service = view.query_service
    rules = {
        "stage_name": args.stage,
        "higher_is_better": not args.lower_is_better,
        "include_quarantined": args.include_quarantined,
    }
    best = None
    if args.run:  # every named run must exist (as of --as-of), one as much as several
        candidates = list(args.run)
        refs = [service.resolve_run(run) for run in candidates]
        scope = "the given runs"
        count = len(candidates)
        if candidates:
            best = service.best_of(candidates, args.metric, **rules)
    else:
        # the runs of list_runs, in its order, without decoding every run
        best, count = service.best_listed(args.project, args.metric, **rules)
        scope = f"project {args.project!r}" if args.project else "the workspace"
    if best is None and count:
        # an answer has the metric; without one, say if the metric is unknown
        if not args.run:
            refs = service.listed_run_ids(args.project)
        require_metric(service, args.metric, args.stage, run_refs=refs, scope=scope)
    if args.format == "json":
        emit_json(
            {
                "metric": args.metric,
                "stage": args.stage,
                "best": best,
                "candidates": count,
                "as_of": args.as_of,
                "include_quarantined": args.include_quarantined,
            }
        )
    else:
        where = f" as of {args.as_of}" if args.as_of else ""
        stage = f"{args.stage}/" if args.stage else ""
        emit(f"Best by {escape(stage + args.metric + where)}: {escape(best or 'none')}")
    return 0
