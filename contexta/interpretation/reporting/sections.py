"""The parts of a report document: sections (title, body, evidence, charts) and the chart data
a section carries; the errors of reports. :class:`~.document.ReportDocument` puts sections
together; the renderers (:mod:`.svg`, :mod:`.html`) read these parts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...common.errors import InterpretationError, ValidationError
from ..results import EvidenceLink

__all__ = [
    "CHART_KINDS",
    "ChartSeries",
    "ReportChart",
    "ReportError",
    "ReportSection",
    "ReportSerializationError",
]

#: ``line``: one line per series over the labels (runs or steps); ``diverging``: one bar per
#: label around zero (first series); ``heatmap``: a table, one row per series, one column per
#: label, cells shaded within their row.
CHART_KINDS = ("line", "diverging", "heatmap")


class ReportError(InterpretationError):
    """A report cannot be built."""

    default_code = "report_failed"


class ReportSerializationError(ReportError):
    """A report cannot be rendered into a target format."""

    default_code = "report_serialization_failed"


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(
            f"{where} must be a string, got {type(value).__name__} {value!r}.",
            code="report_invalid_section",
            details={"field": where, "value": repr(value)},
        )
    return value.strip()


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """One named row of numbers (None: no value at that position)."""

    name: str
    values: tuple[float | None, ...]

    def __post_init__(self) -> None:
        values = tuple(None if v is None else float(v) for v in self.values)
        if any(v is not None and not math.isfinite(v) for v in values):
            raise ValidationError(
                f"Chart series {self.name!r} holds a non-finite value.",
                code="report_invalid_chart",
                details={"series": self.name},
            )
        object.__setattr__(self, "values", values)


@dataclass(frozen=True, slots=True)
class ReportChart:
    """Data for one chart of a section's HTML rendering (see :data:`CHART_KINDS`).

    ``annotations`` (optional, one per label) are shown beside diverging bars and as point
    tooltips of line charts; ``caption`` is a short sentence under the chart.
    ``lower_is_better`` (optional) says which way each metric improves: one flag per label
    for a diverging chart (a bar is coloured by whether its change is an improvement), one
    per series for a heatmap (the best cell of a row is the darkest). ``joined``: each line
    goes on through the positions where its series has no value (runs overlaid on a shared
    step axis, each logging at its own steps) instead of breaking there.
    """

    kind: str
    title: str
    labels: tuple[str, ...]
    series: tuple[ChartSeries, ...]
    annotations: tuple[str, ...] = ()
    caption: str | None = None
    lower_is_better: tuple[bool, ...] = ()
    joined: bool = False

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ValidationError(
                f"ReportChart.kind must be one of {', '.join(CHART_KINDS)}, got {self.kind!r}.",
                code="report_invalid_chart",
                details={"kind": self.kind},
            )
        labels = tuple(str(label) for label in self.labels)
        series = tuple(self.series)
        annotations = tuple(str(a) for a in self.annotations)
        for row in series:
            if len(row.values) != len(labels):
                raise ValidationError(
                    f"Chart {self.title!r}: series {row.name!r} has {len(row.values)} values "
                    f"for {len(labels)} labels.",
                    code="report_invalid_chart",
                    details={"series": row.name, "values": len(row.values), "labels": len(labels)},
                )
        if annotations and len(annotations) != len(labels):
            raise ValidationError(
                f"Chart {self.title!r}: {len(annotations)} annotations for {len(labels)} labels.",
                code="report_invalid_chart",
                details={"annotations": len(annotations), "labels": len(labels)},
            )
        lower = tuple(bool(flag) for flag in self.lower_is_better)
        wanted = len(labels) if self.kind == "diverging" else len(series)
        if lower and len(lower) != wanted:
            raise ValidationError(
                f"Chart {self.title!r}: {len(lower)} lower_is_better flags for {wanted} "
                + ("labels." if self.kind == "diverging" else "series."),
                code="report_invalid_chart",
                details={"lower_is_better": len(lower), "expected": wanted},
            )
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "series", series)
        object.__setattr__(self, "annotations", annotations)
        object.__setattr__(self, "lower_is_better", lower)


@dataclass(frozen=True, slots=True)
class ReportSection:
    """A titled block of text lines with its evidence (title and body are stripped).

    For the HTML page only (never in the Markdown, CSV or dict forms): ``charts``; ``note``,
    a sentence shown under the heading; ``quiet``, body lines shown with a neutral badge
    instead of their severity (notes about a feature the workspace never used).
    """

    title: str
    body: str
    evidence_links: tuple[EvidenceLink, ...] = ()
    charts: tuple[ReportChart, ...] = ()
    note: str | None = None
    quiet: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", _text(self.title, "ReportSection.title"))
        object.__setattr__(self, "body", _text(self.body, "ReportSection.body"))
        object.__setattr__(self, "evidence_links", tuple(self.evidence_links))
        object.__setattr__(self, "charts", tuple(self.charts))
        object.__setattr__(self, "quiet", frozenset(self.quiet))

    def to_dict(self) -> dict[str, object]:
        """``{"title", "body", "evidence_links": [{"kind", "ref", "label"}, ...]}``."""
        return {
            "title": self.title,
            "body": self.body,
            "evidence_links": [
                {"kind": link.kind, "ref": link.ref, "label": link.label}
                for link in self.evidence_links
            ],
        }
