"""Report builders (contract 4.10): documents from already computed results.

Titles, section lists and body line formats are 1.0's. One deliberate difference (decision
8.7): completeness notes are listed once (1.0 printed the snapshot report's notes twice).
Builders also attach chart data for the HTML page: metric curves (snapshot), relative metric
deltas (run comparison), the metric table (multi-run) and the series (trend).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from ...contract.timestamps import timestamp_micros
from ..results import CompletenessNote, RunRecord
from .direction import lower_is_better
from .document import ChartSeries, ReportChart, ReportDocument, ReportSection
from .svg import fmt, percent

__all__ = ["FEATURE_NOTES", "MAX_CHARTS", "ReportBuilder", "features_used", "render_notes"]

#: completeness notes (without a ``left:``/``right:`` prefix) that only say a run has none of
#: a feature: name of the feature (as in ``features_used``) and how the page calls it
FEATURE_NOTES: dict[str, tuple[str, str]] = {
    "deployment_list_empty": ("deployments", "deployments"),
    "batch_list_empty": ("batches", "batches"),
    "sample_list_empty": ("samples", "samples"),
    "artifact_list_empty": ("artifacts", "artifacts"),
    "relation_scope_empty": ("relations", "lineage"),
    "provenance_missing": ("provenance", "provenance"),
    "environment_snapshot_missing": ("environments", "environments"),
    "left_environment_snapshot_missing": ("environments", "environments"),
    "right_environment_snapshot_missing": ("environments", "environments"),
}

#: At most this many small charts per section (metric curves, multi-run metrics).
MAX_CHARTS = 24


def render_notes(notes: Iterable[CompletenessNote]) -> str:
    """``<severity>: <summary>`` per distinct note, or ``No completeness notes.``"""
    seen: dict[tuple[str, str], None] = {}
    for note in notes:
        seen.setdefault((note.severity, note.summary), None)
    if not seen:
        return "No completeness notes."
    return "\n".join(f"{severity}: {summary}" for severity, summary in seen)


def features_used(query_service: Any) -> frozenset[str]:
    """The features of :data:`FEATURE_NOTES` that at least one entity of the workspace (as
    of the query service's moment) records."""
    names = {feature for feature, _ in FEATURE_NOTES.values()}
    as_of_us = getattr(query_service, "as_of_us", None)
    return frozenset(
        name for name in names if query_service.ws.table(name, as_of_us=as_of_us).num_rows
    )


def notes_section(
    notes: Iterable[CompletenessNote], features_used: Collection[str] | None
) -> ReportSection:
    """The Completeness Notes section; with ``features_used`` (the features any run of the
    workspace has recorded), the notes about a feature outside it are quiet on the page."""
    notes = tuple(notes)
    body = render_notes(notes)
    if features_used is None:
        return ReportSection("Completeness Notes", body)
    quiet: dict[str, str] = {}
    for note in notes:
        feature = FEATURE_NOTES.get(note.summary.split(":", 1)[-1])
        if feature is not None and feature[0] not in features_used:
            quiet[f"{note.severity}: {note.summary}"] = feature[1]
    if not quiet:
        return ReportSection("Completeness Notes", body)
    unused = ", ".join(dict.fromkeys(sorted(quiet.values())))
    hint = (
        f"Greyed notes concern features this workspace has never used ({unused}); "
        "they are not problems."
    )
    return ReportSection("Completeness Notes", body, note=hint, quiet=frozenset(quiet))


def _issues(diagnostics: Any) -> str:
    return (
        "\n".join(f"{issue.severity}:{issue.code}: {issue.summary}" for issue in diagnostics.issues)
        or "No diagnostics issues."
    )


def _links(snapshot: Any, *kinds: str) -> tuple[Any, ...]:
    return tuple(link for link in snapshot.evidence_links if link.kind in kinds)


class ReportBuilder:
    """Builds :class:`ReportDocument` objects; stateless."""

    def build_snapshot_report(
        self, snapshot: Any, diagnostics: Any, *, features_used: Collection[str] | None = None
    ) -> ReportDocument:
        """Run Summary, Stages, Artifacts, Batches, Deployments, Samples, Diagnostics,
        Completeness Notes (always present), then Provenance when the run has one.

        ``features_used`` (page only): see :func:`notes_section`."""
        run = snapshot.run
        samples = "\n".join(
            f"{s.name}: observed_at={s.observed_at}"
            + (f", retention={s.retention_class}" if s.retention_class else "")
            + (f", redaction={s.redaction_profile}" if s.redaction_profile else "")
            for s in snapshot.samples[:20]
        )
        if len(snapshot.samples) > 20:
            samples += f"\n... and {len(snapshot.samples) - 20} more."
        sections = [
            ReportSection(
                "Run Summary",
                f"run_id: {run.run_id}\nname: {run.name}\nstatus: {run.status}\n"
                f"project: {run.project_name}" + _labels(snapshot),
                _links(snapshot, "run"),
            ),
            ReportSection(
                "Stages",
                "\n".join(
                    f"{s.name}: status={s.status}, stage_id={s.stage_id}" for s in snapshot.stages
                )
                or "No stages.",
                _links(snapshot, "stage"),
                metric_curves(snapshot),
            ),
            ReportSection(
                "Artifacts",
                "\n".join(
                    f"{a.kind}: ref={a.artifact_ref}, location={a.location}"
                    for a in snapshot.artifacts
                )
                or "No artifacts.",
                _links(snapshot, "artifact"),
            ),
            ReportSection(
                "Batches",
                "\n".join(
                    f"{b.name}: stage={b.stage_id.split('.')[-1] if b.stage_id else '?'}, "
                    f"status={b.status}, order={b.order}"
                    for b in snapshot.batches
                )
                or "No batches.",
                _links(snapshot, "batch"),
            ),
            ReportSection(
                "Deployments",
                "\n".join(
                    f"{d.name}: status={d.status}"
                    + (f", run_id={d.run_id}" if d.run_id else "")
                    + (f", artifact_ref={d.artifact_ref}" if d.artifact_ref else "")
                    for d in snapshot.deployments
                )
                or "No deployments.",
                _links(snapshot, "deployment"),
            ),
            ReportSection("Samples", samples or "No samples.", _links(snapshot, "sample")),
            ReportSection("Diagnostics", _issues(diagnostics), tuple(diagnostics.evidence_links)),
            notes_section(
                [CompletenessNote("warning", n) for n in snapshot.completeness_notes]
                + list(diagnostics.completeness_notes),
                features_used,
            ),
        ]
        provenance = snapshot.provenance
        if provenance is not None:
            sections.append(
                ReportSection(
                    "Provenance",
                    f"provenance_ref: {provenance.provenance_ref}\n"
                    f"relation_ref: {provenance.relation_ref}\n"
                    f"assertion_mode: {provenance.assertion_mode}\n"
                    f"asserted_at: {provenance.asserted_at}",
                    _links(snapshot, "run", "artifact"),
                )
            )
        return ReportDocument(f"Run Snapshot Report: {run.run_id}", tuple(sections))

    def build_run_report(
        self,
        comparison: Any,
        diagnostics: Any,
        *,
        snapshots: Sequence[Any] = (),
        features_used: Collection[str] | None = None,
    ) -> ReportDocument:
        """Summary, Metric Deltas, Artifact Changes, Diagnostics (of the left run),
        Completeness Notes, then Provenance when either run has provenance.

        Page only: ``snapshots`` (of the two runs) give the metric curves of both runs
        overlaid; ``features_used``: see :func:`notes_section`."""
        deltas = [(s.stage_name, d) for s in comparison.stage_comparisons for d in s.metric_deltas]
        sections = [
            ReportSection("Summary", comparison.summary, tuple(comparison.evidence_links)),
            ReportSection(
                "Metric Deltas",
                "\n".join(
                    f"{stage}/{d.metric_key}: left={d.left_value}, right={d.right_value}, "
                    f"delta={d.delta}"
                    for stage, d in deltas
                )
                or "No metric deltas.",
                charts=delta_chart(comparison, deltas) + overlay_curves(snapshots),
            ),
            *_param_section(comparison),
            ReportSection(
                "Artifact Changes",
                "\n".join(
                    f"{c.artifact_kind}: {c.change} ({c.left_ref} -> {c.right_ref})"
                    for c in comparison.artifact_changes
                )
                or "No artifact changes.",
            ),
            ReportSection("Diagnostics", _issues(diagnostics), tuple(diagnostics.evidence_links)),
            notes_section(
                list(comparison.completeness_notes) + list(diagnostics.completeness_notes),
                features_used,
            ),
        ]
        provenance = comparison.provenance_comparison
        if provenance is not None:
            sections.append(
                ReportSection(
                    "Provenance",
                    f"code_revision_changed: {provenance.code_revision_changed}\n"
                    f"config_hash_changed: {provenance.config_hash_changed}\n"
                    f"environment_changed: {provenance.environment_changed}\n"
                    f"dataset_refs_changed: {provenance.dataset_refs_changed}",
                )
            )
        title = f"Run Comparison Report: {comparison.left_run_id} vs {comparison.right_run_id}"
        return ReportDocument(title, tuple(sections))

    def build_multi_run_report(
        self,
        comparison: Any,
        *,
        snapshots: Sequence[Any] = (),
        features_used: Collection[str] | None = None,
    ) -> ReportDocument:
        """Summary, Run IDs (as given), Metric Table (``<stage or run>/<key>: <values>``),
        Completeness Notes.

        Page only: ``snapshots`` (of the runs) give their metric curves overlaid;
        ``features_used``: see :func:`notes_section`."""
        return ReportDocument(
            f"Multi Run Report: {len(comparison.run_ids)} runs",
            (
                ReportSection("Summary", comparison.summary, tuple(comparison.evidence_links)),
                ReportSection("Run IDs", "\n".join(str(i) for i in comparison.run_ids)),
                ReportSection(
                    "Metric Table",
                    "\n".join(
                        f"{row.stage_name or 'run'}/{row.metric_key}: {row.values}"
                        for row in comparison.metric_table
                    )
                    or "No metric rows.",
                    charts=metric_table_charts(comparison) + overlay_curves(snapshots),
                ),
                notes_section(comparison.completeness_notes, features_used),
            ),
        )

    def build_project_summary_report(
        self,
        project_name: str,
        *,
        runs: Sequence[RunRecord] = (),
        notes: Sequence[CompletenessNote] = (),
    ) -> ReportDocument:
        """Runs (``<run_id>: name=…, status=…, started_at=…``), Completeness Notes."""
        return ReportDocument(
            f"Project Summary Report: {project_name}",
            (
                ReportSection(
                    "Runs",
                    "\n".join(
                        f"{r.run_id}: name={r.name}, status={r.status}, started_at={r.started_at}"
                        for r in runs
                    )
                    or "No runs.",
                ),
                ReportSection("Completeness Notes", render_notes(notes)),
            ),
        )

    def build_trend_report(
        self, trend: Any, *, runs_total: int | None = None, window: int | None = None
    ) -> ReportDocument:
        """Series (``<run_id>: value=…, captured_at=…``), Completeness Notes.

        Page only: ``runs_total`` (runs selected before the trend window) and ``window`` (the
        window size) let the page say when only the last runs were kept."""
        points = trend.points
        charts: tuple[ReportChart, ...] = ()
        kept = len(points) + sum(
            n.summary.startswith("missing_metric_for_run:") for n in trend.completeness_notes
        )
        note = None
        if runs_total is not None and runs_total > kept:
            note = f"Only the last {kept} of {runs_total} runs are kept" + (
                f" (trend window: {window} runs, set by interpretation.trend.default_window_runs)."
                if window is not None
                else "."
            )
        if points:
            stage = points[0].stage_name
            caption = f"{len(points)} run{'s' if len(points) != 1 else ''} with a value"
            if trend.completeness_notes:
                missing = len(trend.completeness_notes)
                caption += f"; {missing} without it (see Completeness Notes)"
            caption += (
                "; lower is better" if lower_is_better(trend.metric_key) else ("; higher is better")
            )
            charts = (
                ReportChart(
                    "line",
                    f"{trend.metric_key} over runs" + (f" (stage {stage})" if stage else ""),
                    tuple(p.run_name for p in points),
                    (ChartSeries(trend.metric_key, tuple(p.value for p in points)),),
                    tuple(f"{p.run_id} at {p.captured_at}" for p in points),
                    caption + ".",
                ),
            )
        return ReportDocument(
            f"Trend Report: {trend.metric_key}",
            (
                ReportSection(
                    "Series",
                    "\n".join(
                        f"{p.run_id}: value={p.value}, captured_at={p.captured_at}" for p in points
                    )
                    or "No series points.",
                    charts=charts,
                    note=note,
                ),
                ReportSection("Completeness Notes", render_notes(trend.completeness_notes)),
            ),
        )

    def build_alert_report(self, results: Iterable[Any]) -> ReportDocument:
        """Triggered, Passed (``<run_id>: <rule_name> actual=… threshold=…``)."""
        results = tuple(results)

        def lines(items: Iterable[Any]) -> str:
            return "\n".join(
                f"{r.run_id}: {r.rule_name} actual={r.actual_value} threshold={r.threshold}"
                for r in items
            )

        return ReportDocument(
            "Alert Report",
            (
                ReportSection(
                    "Triggered", lines(r for r in results if r.triggered) or "No triggered alerts."
                ),
                ReportSection(
                    "Passed", lines(r for r in results if not r.triggered) or "No passing alerts."
                ),
            ),
        )


# ---------------------------------------------------------------------- chart data


def _labels(snapshot: Any) -> str:
    """The run's params and tags as summary lines (none when it has neither, as in 1.0)."""
    lines = ""
    for label, values in (
        ("params", getattr(snapshot, "params", None)),
        ("tags", getattr(snapshot, "tags", None)),
    ):
        if values:
            lines += f"\n{label}: " + ", ".join(f"{k}={values[k]}" for k in sorted(values))
    return lines


def _param_section(comparison: Any) -> tuple[ReportSection, ...]:
    """A "Param Changes" section when the two runs' params differ (none otherwise, as in 1.0)."""
    changes = getattr(comparison, "param_changes", ())
    if not changes:
        return ()
    return (
        ReportSection(
            "Param Changes",
            "\n".join(f"{c.name}: left={c.left_value}, right={c.right_value}" for c in changes),
        ),
    )


def _metric_groups(snapshot: Any) -> dict[tuple[str, str], list[Any]]:
    """The run's metric records with a value by (stage name or ``run``, key), each list in
    observation order (ties: recorded order)."""
    stage_names = {s.stage_id: s.name for s in snapshot.stages}
    groups: dict[tuple[str, str], list[tuple[int, int, Any]]] = {}
    for position, record in enumerate(snapshot.records):
        if record.record_type != "metric" or record.value is None:
            continue
        stage = stage_names.get(record.stage_id, "run") if record.stage_id else "run"
        groups.setdefault((stage, record.key), []).append(
            (timestamp_micros(record.observed_at), position, record)
        )
    return {
        group: [item[2] for item in sorted(items, key=lambda item: (item[0], item[1]))]
        for group, items in groups.items()
    }


def metric_curves(snapshot: Any) -> tuple[ReportChart, ...]:
    """One line chart per (stage, metric key) observed at least twice in the run, over the
    observations in time order (labelled by their recorded steps when every one has one)."""
    charts: list[ReportChart] = []
    for (stage, key), records in _metric_groups(snapshot).items():
        if len(records) < 2 or len(charts) >= MAX_CHARTS:
            continue
        steps = [_tagged_step(r) for r in records]
        by_step = all(step is not None for step in steps)
        labels = [str(step) if by_step else str(i) for i, step in enumerate(steps)]
        charts.append(
            ReportChart(
                "line",
                f"{stage}/{key} by {'step' if by_step else 'observation'}",
                tuple(labels),
                (ChartSeries(key, tuple(_plotted(r.value) for r in records)),),
                tuple(
                    f"step {x} at {r.observed_at}" + _not_plotted(r.value)
                    for x, r in zip(labels, records, strict=True)
                ),
            )
        )
    return tuple(charts)


def overlay_curves(snapshots: Sequence[Any]) -> tuple[ReportChart, ...]:
    """One line chart per (stage, metric key) that some run observed at least twice, with
    one line per run that has it, overlaid on a shared x axis: the recorded steps when every
    observation of every run has one (each run drawn through the steps it skipped), else the
    observation number."""
    if len(snapshots) < 2:
        return ()
    names = [str(s.run.name or s.run.run_id) for s in snapshots]
    if len(set(names)) < len(names):  # runs sharing a name are told apart by their ids
        names = [str(s.run.run_id) for s in snapshots]
    per_run = [(name, _metric_groups(s)) for name, s in zip(names, snapshots, strict=True)]
    keys = dict.fromkeys(k for _, groups in per_run for k, recs in groups.items() if len(recs) > 1)
    charts: list[ReportChart] = []
    for stage, key in list(keys)[:MAX_CHARTS]:
        lines = [(name, groups[(stage, key)]) for name, groups in per_run if (stage, key) in groups]
        steps = [[_tagged_step(r) for r in records] for _, records in lines]
        by_step = all(step is not None for run in steps for step in run)
        if by_step:
            xs = sorted({step for run in steps for step in run})  # type: ignore[type-var]
        else:
            xs = list(range(max(len(records) for _, records in lines)))
        at = {x: i for i, x in enumerate(xs)}
        series = []
        for (name, records), run_steps in zip(lines, steps, strict=True):
            values: list[float | None] = [None] * len(xs)
            for i, record in enumerate(records):
                values[at[run_steps[i] if by_step else i]] = _plotted(record.value)
            series.append(ChartSeries(name, tuple(values)))
        direction = "lower" if lower_is_better(key) else "higher"
        charts.append(
            ReportChart(
                "line",
                f"{stage}/{key} by {'step' if by_step else 'observation'}, runs overlaid",
                tuple(str(x) for x in xs),
                tuple(series),
                tuple(f"{'step' if by_step else 'observation'} {x}" for x in xs),
                f"{len(series)} of {len(snapshots)} runs have it; {direction} is better.",
                joined=True,
            )
        )
    return tuple(charts)


def _plotted(value: Any) -> float | None:
    """A point of a curve: NaN and infinities (stored as logged) are a gap in the line."""
    number = float(value)
    return number if math.isfinite(number) else None


def _not_plotted(value: Any) -> str:
    number = float(value)
    return "" if math.isfinite(number) else f" ({number}: not plotted)"


def _tagged_step(record: Any) -> int | None:
    """The ``step`` tag runtime capture keeps on a metric payload, when it is an integer."""
    tags = record.payload.get("tags") if hasattr(record.payload, "get") else None
    text = tags.get("step") if isinstance(tags, dict) else None
    if isinstance(text, str) and text.lstrip("-").isdigit():
        return int(text)
    return None


def delta_chart(comparison: Any, deltas: Sequence[tuple[str, Any]]) -> tuple[ReportChart, ...]:
    """Diverging bars: relative change (%) of each metric from the left to the right run."""
    if not deltas:
        return ()
    labels: list[str] = []
    values: list[float | None] = []
    notes: list[str] = []
    lower = tuple(lower_is_better(d.metric_key) for _, d in deltas)
    for stage, d in deltas:
        left, right = d.left_value, d.right_value
        labels.append(f"{stage}/{d.metric_key}")
        if left is None or right is None or left == 0:
            values.append(None)
        else:
            values.append((right - left) / abs(left) * 100.0)
        change = "" if values[-1] is None else f" ({percent(values[-1])})"
        notes.append(f"{fmt(left)} \u2192 {fmt(right)}{change}")
    return (
        ReportChart(
            "diverging",
            "Metric change, right vs left (relative to left)",
            tuple(labels),
            (ChartSeries("relative change %", tuple(values)),),
            tuple(notes),
            f"Left: {comparison.left_run_id}; right: {comparison.right_run_id}. "
            f"Blue: the right run is better, orange: worse ({_directions(labels, lower)}); "
            "n/a: missing on one side or left is 0.",
            lower,
        ),
    )


def _directions(labels: Sequence[str], lower: Sequence[bool]) -> str:
    """``lower is better for a, b; higher for the rest`` (or all higher / all lower)."""
    down = [label for label, flag in zip(labels, lower, strict=True) if flag]
    if not down:
        return "higher is better for every metric"
    if len(down) == len(labels):
        return "lower is better for every metric"
    return f"lower is better for {', '.join(down)}; higher for the others"


def metric_table_charts(comparison: Any) -> tuple[ReportChart, ...]:
    """The metric table as a heatmap, then one line chart per metric across the runs."""
    rows = comparison.metric_table
    if not rows:
        return ()
    labels = tuple(comparison.run_names) or tuple(str(i) for i in comparison.run_ids)
    ids = tuple(str(i) for i in comparison.run_ids)
    series = [ChartSeries(f"{r.stage_name or 'run'}/{r.metric_key}", tuple(r.values)) for r in rows]
    charts = [
        ReportChart(
            "heatmap",
            "Metric table",
            labels,
            tuple(series),
            caption="Cells shaded from the row's worst (light) to best (dark) value; "
            "\u2193 lower is better, \u2191 higher is better.",
            lower_is_better=tuple(lower_is_better(r.metric_key) for r in rows),
        )
    ]
    for s in series[:MAX_CHARTS]:
        if sum(v is not None for v in s.values) >= 2:
            charts.append(ReportChart("line", s.name, labels, (s,), ids))
    return tuple(charts)
