"""Section-by-section comparison of two report documents (contract 4.5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ComparisonError
from ..results import CompletenessNote, Result

__all__ = ["ReportComparison", "SectionDiff", "compare_report_documents"]


@dataclass(frozen=True, slots=True)
class SectionDiff(Result):
    section_title: str
    left_body: str | None
    right_body: str | None
    changed: bool


@dataclass(frozen=True, slots=True)
class ReportComparison(Result):
    left_title: str
    right_title: str
    section_diffs: tuple[SectionDiff, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()

    @property
    def changed_sections(self) -> tuple[str, ...]:
        """Titles of the sections whose body differs (or that only one side has)."""
        return tuple(d.section_title for d in self.section_diffs if d.changed)


def _payload(report: Any) -> Mapping[str, Any]:
    if isinstance(report, Mapping):
        return report
    to_dict = getattr(report, "to_dict", None)
    if callable(to_dict):
        payload = to_dict()
        if isinstance(payload, Mapping):
            return payload
    if hasattr(report, "__dict__"):
        return vars(report)
    raise ComparisonError(
        f"Cannot compare a {type(report).__name__} as a report: pass a ReportDocument or a "
        "mapping with 'title' and 'sections'.",
        code="compare_invalid_report_document",
        details={"type": type(report).__name__},
    )


def _sections(report: Any) -> tuple[str, dict[str, str | None]]:
    payload = _payload(report)
    title = str(payload.get("title") or "Untitled Report")
    sections: dict[str, str | None] = {}
    for section in payload.get("sections") or ():
        if isinstance(section, Mapping):
            name = section.get("title") or section.get("section_title")
            body = section.get("body")
        else:
            name = getattr(section, "title", getattr(section, "section_title", None))
            body = getattr(section, "body", None)
        sections[str(name or "Untitled Section")] = None if body is None else str(body)
    return title, sections


def compare_report_documents(left: Any, right: Any) -> ReportComparison:
    """Diff two reports (documents or their dicts) by section title: one
    :class:`SectionDiff` per title of either side, titles sorted; a section on one side only
    adds a ``section_presence_changed:<title>`` warning. A later section with the same title
    replaces an earlier one, as in 1.0."""
    left_title, left_sections = _sections(left)
    right_title, right_sections = _sections(right)
    diffs = []
    notes = []
    for title in sorted(set(left_sections) | set(right_sections)):
        lbody, rbody = left_sections.get(title), right_sections.get(title)
        diffs.append(SectionDiff(title, lbody, rbody, lbody != rbody))
        if (title in left_sections) != (title in right_sections):
            notes.append(
                CompletenessNote(
                    "warning",
                    f"section_presence_changed:{title}",
                    {
                        "left_present": title in left_sections,
                        "right_present": title in right_sections,
                    },
                )
            )
    return ReportComparison(left_title, right_title, tuple(diffs), tuple(notes))
