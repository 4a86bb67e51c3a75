"""Text answers a person can read: a run's params, tags, final metrics, events and artifacts
(``run show``), values side by side with their change (``compare``, ``compare-multi``), and a
metric's step series (``series``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..output import escape, table
from .common import _run_forms, number, require_metric
from .compat_support import emit_result, facade

__all__ = [
    "compare_lines",
    "compare_many_lines",
    "register",
    "run_params",
    "run_tags",
    "show_lines",
]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("series",)

#: the event the capture scope writes with what the caller said about a run
_CONTEXT_EVENT = "run.context"


def register(commands: argparse._SubParsersAction) -> None:
    series = commands.add_parser(
        "series", help="a metric's step series in one run (step, value, observed_at)"
    )
    series.add_argument("run_id", metavar="RUN")
    series.add_argument("metric_key", metavar="METRIC")
    series.add_argument(
        "--stage",
        default=None,
        metavar="S",
        help="only this stage (default: every stage that has the metric)",
    )
    series.set_defaults(handler=_series)


# ---------------------------------------------------------------------- params and tags


def _context_attributes(snapshot: Any) -> Mapping[str, Any]:
    """The attributes of the run's latest ``run.context`` event (empty when there is none)."""
    found: Mapping[str, Any] = {}
    for record in snapshot.records:
        if record.record_type == "event" and record.key == _CONTEXT_EVENT:
            attributes = (record.payload or {}).get("attributes") or {}
            if isinstance(attributes, Mapping):
                found = attributes
    return found


def run_params(snapshot: Any) -> Mapping[str, Any]:
    """The run's parameters: first-class params when the snapshot has them, else the config
    snapshot given to ``ctx.run(..., config_snapshot=...)``."""
    run = snapshot.run
    params = (
        getattr(snapshot, "params", None)
        or getattr(run, "params", None)
        or (run.metadata or {}).get("params")
    )
    if isinstance(params, Mapping) and params:
        return params
    given = _context_attributes(snapshot).get("config_snapshot")
    return given if isinstance(given, Mapping) else {}


def run_tags(snapshot: Any) -> Mapping[str, Any]:
    """The run's tags: the snapshot's when it has them, else those given to ``ctx.run``."""
    if snapshot.run.tags:
        return snapshot.run.tags
    given = _context_attributes(snapshot).get("tags")
    return given if isinstance(given, Mapping) else {}


def _flat(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"opt": {"lr": 0.1}}`` as ``[("opt.lr", 0.1)]`` (sorted by key)."""
    out: list[tuple[str, Any]] = []
    for key in sorted(mapping, key=str):
        value = mapping[key]
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out += _flat(value, name + ".")
        else:
            out.append((name, value))
    return out


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple, Mapping)):
        return json.dumps(value, default=str, sort_keys=True)
    return number(value) if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------- run show


def _stage_names(snapshot: Any) -> dict[str | None, str]:
    names: dict[str | None, str] = {s.stage_id: s.name for s in snapshot.stages}
    names[None] = "(run)"
    return names


def _step(record: Any) -> str:
    tags = (record.payload or {}).get("tags") or {}
    step = tags.get("step") if isinstance(tags, Mapping) else None
    return "-" if step is None else str(step)


def final_metrics(snapshot: Any) -> list[tuple[str, str, Any, str, str]]:
    """(stage, key, last value, its step, observed_at) per stage and key, in first-seen order:
    the last value recorded (the records are in append order)."""
    names = _stage_names(snapshot)
    last: dict[tuple[str | None, str], Any] = {}
    for record in snapshot.records:
        if record.record_type == "metric":
            last.pop((record.stage_id, record.key), None)
            last[(record.stage_id, record.key)] = record
    order = {stage: i for i, stage in enumerate(names)}
    rows = sorted(last.items(), key=lambda item: order.get(item[0][0], len(order)))
    return [
        (names.get(stage, stage or ""), key, r.value, _step(r), r.observed_at)
        for (stage, key), r in rows
    ]


def show_lines(snapshot: Any, quarantine: tuple[bool, str, int] | None = None) -> list[str]:
    """1.0's summary lines, then the run's params, tags, final metrics, events, artifacts
    (``quarantine``: the run's (quarantined, reason, when) state, if it has one)."""
    run = snapshot.run
    lines = [
        f"Run: {escape(run.run_id)}",
        f"Project: {escape(run.project_name)}",
        f"Status: {escape(run.status)}",
        f"Stages: {len(snapshot.stages)}",
        f"Artifacts: {len(snapshot.artifacts)}",
        f"Records: {len(snapshot.records)}",
        f"Completeness notes: {len(snapshot.completeness_notes)}",
        f"Name: {escape(run.name)}",
        f"Started: {escape(run.started_at)}  Ended: {escape(run.ended_at or '-')}",
    ]
    if quarantine is not None and quarantine[0]:
        lines.append(f"Quarantined: yes ({escape(quarantine[1])})")
    params = _flat(run_params(snapshot))
    lines += ["", f"Params ({len(params)})"]
    lines += _indent(
        table([(k, _shown(v)) for k, v in params], ("param", "value")) if params else "(none)"
    )
    tags = _flat(run_tags(snapshot))
    lines += ["", f"Tags ({len(tags)})"]
    lines += _indent(
        table([(k, _shown(v)) for k, v in tags], ("tag", "value")) if tags else "(none)"
    )
    metrics = final_metrics(snapshot)
    lines += ["", "Final metrics (last value per stage and key)"]
    lines += _indent(
        table(
            [(s, k, number(v), step, at) for s, k, v, step, at in metrics],
            ("stage", "metric", "value", "step", "observed_at"),
        )
        if metrics
        else "(none)"
    )
    names = _stage_names(snapshot)
    events = [r for r in snapshot.records if r.record_type == "event" and r.key != _CONTEXT_EVENT]
    lines += ["", f"Events ({len(events)})"]
    lines += _indent(
        table(
            [
                (
                    r.observed_at,
                    names.get(r.stage_id, r.stage_id or ""),
                    r.key,
                    (r.payload or {}).get("level", ""),
                    r.message or "",
                )
                for r in events
            ],
            ("observed_at", "stage", "event", "level", "message"),
        )
        if events
        else "(none)"
    )
    lines += ["", f"Artifacts ({len(snapshot.artifacts)})"]
    lines += _indent(
        table(
            [
                (
                    a.artifact_ref,
                    a.kind,
                    names.get(a.stage_id, a.stage_id or ""),
                    "" if a.size_bytes is None else a.size_bytes,
                    a.location,
                )
                for a in snapshot.artifacts
            ],
            ("artifact", "kind", "stage", "bytes", "location"),
        )
        if snapshot.artifacts
        else "(none)"
    )
    return lines


def _indent(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()]


# ---------------------------------------------------------------------- compare


def run_labels(run_ids: Sequence[str]) -> list[str]:
    """Short column headers for runs: the bare run name, or ``<project>.<run>`` (or the full
    id) where the short form would be ambiguous."""
    for form in (2, 1, 0):
        labels = [_run_forms(r)[form] for r in run_ids]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{i + 1}:{r}" for i, r in enumerate(run_ids)]


def _change(left: Any, right: Any) -> str:
    """``right - left``, and relative to ``left`` in percent when that means something."""
    if left is None or right is None:
        return "n/a"
    delta = right - left
    text = f"{delta:+.6g}"
    if left and delta == delta and abs(left) != float("inf"):
        text += f" ({delta / abs(left) * 100:+.3g}%)"
    return text


def compare_lines(comparison: Any, left: Any = None, right: Any = None) -> list[str]:
    """The metric values of both runs side by side with the change (right minus left), then
    the params that differ (when both snapshots are given)."""
    labels = run_labels([comparison.left_run_id, comparison.right_run_id])
    rows = [
        (
            d.stage_name or "(run)",
            d.metric_key,
            number(d.left_value),
            number(d.right_value),
            _change(d.left_value, d.right_value),
        )
        for s in comparison.stage_comparisons
        for d in s.metric_deltas
    ]
    lines = ["", "Metrics"]
    lines += _indent(table(rows, ("stage", "metric", *labels, "change")) if rows else "(none)")
    if left is not None and right is not None:
        lines += params_diff(dict(_flat(run_params(left))), dict(_flat(run_params(right))), labels)
    changes = [c for c in comparison.artifact_changes if c.change != "unchanged"]
    if changes:
        lines += ["", "Artifacts"]
        lines += _indent(
            table(
                [
                    (c.artifact_kind, c.left_ref or "-", c.right_ref or "-", c.change)
                    for c in changes
                ],
                ("kind", *labels, "change"),
            )
        )
    return lines


def params_diff(
    left: Mapping[str, Any], right: Mapping[str, Any], labels: Sequence[str]
) -> list[str]:
    keys = sorted(set(left) | set(right))
    if not keys:
        return []
    differ = [
        (k, _shown(left[k]) if k in left else "-", _shown(right[k]) if k in right else "-")
        for k in keys
        if left.get(k, _MISSING) != right.get(k, _MISSING)
    ]
    same = len(keys) - len(differ)
    lines = ["", f"Params that differ ({len(differ)}; {same} equal)"]
    lines += _indent(table(differ, ("param", *labels)) if differ else "(none)")
    return lines


_MISSING = object()


def compare_many_lines(comparison: Any) -> list[str]:
    labels = run_labels(list(comparison.run_ids))
    best = dict(zip(comparison.run_ids, labels, strict=True))
    rows = [
        (
            r.stage_name or "(run)",
            r.metric_key,
            *(number(v) for v in r.values),
            best.get(r.best_run_id, r.best_run_id or "-") if r.best_run_id else "-",
        )
        for r in comparison.metric_table
    ]
    lines = ["", "Metrics (best: highest value)"]
    lines += _indent(table(rows, ("stage", "metric", *labels, "best")) if rows else "(none)")
    return lines


# ---------------------------------------------------------------------- series


def _series(args: argparse.Namespace) -> int:
    from ...interpretation.metric_series import (
        metric_observations,
        metric_payloads,
        recorded_step,
    )

    ctx = facade(args)
    qs = ctx.query_service
    run_ref = qs.resolve_run(args.run_id)
    stages = {str(s.stage_execution_ref): s.stage_name for s in qs.stages_of(run_ref)}
    observed = metric_observations(qs, run_ref, args.metric_key)
    if args.stage is not None:
        observed = [o for o in observed if stages.get(str(o.stage_ref)) == args.stage]
    if not observed:
        require_metric(
            qs,
            args.metric_key,
            args.stage,
            run_refs=[run_ref],
            any_stage=args.stage is None,
            scope=f"run {args.run_id!r}",
        )
    payloads = metric_payloads(qs, run_ref, observed)
    points = []
    position: dict[str | None, int] = {}
    for o, payload in zip(observed, payloads, strict=True):
        index = position.get(o.stage_ref, 0)
        position[o.stage_ref] = index + 1
        step = recorded_step(o, payload)
        points.append(
            {
                "stage": stages.get(o.stage_ref) if o.stage_ref else None,
                "step": index if step is None else step,
                "value": o.value,
                "observed_at": o.observed_at,
            }
        )
    unit = getattr(payloads[0], "unit", None) if payloads else None
    payload = {
        "run_id": run_ref,
        "metric_key": args.metric_key,
        "stage": args.stage,
        "unit": unit,
        "points": points,
    }
    several = len({p["stage"] for p in points}) > 1
    where = f" in stage {args.stage}" if args.stage else ""
    header = (
        f"Series: {escape(args.metric_key)} of {escape(run_ref)}{escape(where)} "
        f"({len(points)} point{'' if len(points) == 1 else 's'}{', unit ' + escape(unit) if unit else ''})"
    )
    columns = (
        ("stage", "step", "value", "observed_at") if several else ("step", "value", "observed_at")
    )
    rows = [
        ((p["stage"] or "(run)",) if several else ())
        + (p["step"], number(p["value"]), p["observed_at"])
        for p in points
    ]
    return emit_result(args, payload, header + "\n" + table(rows, columns))
