"""Report documents (contract 4.10): a title and sections, rendered to Markdown, HTML, CSV and a
JSON-ready dict.

Markdown, CSV and the dict are exactly 1.0's. ``to_html()`` is this project's own (decision for
reports): one self-contained page (inline CSS and SVG, no external asset, works offline) with
1.0's text and, where a builder attached :class:`ReportChart` data to a section, charts.
Charts never appear in the Markdown, CSV or dict forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .html import render_page
from .sections import (
    CHART_KINDS,
    ChartSeries,
    ReportChart,
    ReportError,
    ReportSection,
    ReportSerializationError,
    _text,
)

__all__ = [
    "CHART_KINDS",
    "ChartSeries",
    "ReportChart",
    "ReportDocument",
    "ReportError",
    "ReportSection",
    "ReportSerializationError",
]


@dataclass(frozen=True, slots=True)
class ReportDocument:
    """A report: ``title`` (stripped) and ``sections`` in order."""

    title: str
    sections: tuple[ReportSection, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", _text(self.title, "ReportDocument.title"))
        object.__setattr__(self, "sections", tuple(self.sections))

    def section(self, title: str) -> ReportSection | None:
        """The first section titled ``title``, or None."""
        return next((s for s in self.sections if s.title == title), None)

    def to_dict(self) -> dict[str, object]:
        """Same as :meth:`to_json`."""
        return self.to_json()

    def to_json(self) -> dict[str, object]:
        """``{"title", "sections": [section.to_dict(), ...]}`` (a dict, as in 1.0)."""
        return {"title": self.title, "sections": [s.to_dict() for s in self.sections]}

    def to_markdown(self) -> str:
        """``# title``; per section a blank line, ``## title``, the body and, when it has
        evidence, a blank line, ``Evidence:`` and ``- <label> (<kind>: <ref>)`` lines."""
        lines = [f"# {self.title}"]
        for section in self.sections:
            lines += ["", f"## {section.title}", section.body]
            if section.evidence_links:
                lines += ["", "Evidence:"]
                lines += [f"- {e.label} ({e.kind}: {e.ref})" for e in section.evidence_links]
        return "\n".join(lines).strip()

    def to_html(self) -> str:
        """A self-contained HTML page (inline CSS and SVG charts, no external resources)."""
        return render_page(self)

    def _repr_html_(self) -> str:
        """The report's HTML page, shown inline in a notebook."""
        return self.to_html()

    def to_csv(self, metric_keys: Sequence[str] = ()) -> str:
        """``section_title,body`` then one quoted row per section (``"`` doubled); when
        ``metric_keys`` is given, only the sections with those titles."""
        keep = tuple(metric_keys)
        lines = ["section_title,body"]
        for section in self.sections:
            if keep and section.title not in keep:
                continue
            title = section.title.replace('"', '""')
            body = section.body.replace('"', '""')
            lines.append(f'"{title}","{body}"')
        return "\n".join(lines)
