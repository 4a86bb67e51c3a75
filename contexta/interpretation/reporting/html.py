"""The HTML page of a report: self-contained (inline CSS and SVG; no script, font, image or
link to anything outside the page), readable offline and printable.

The text is 1.0's: the title in ``<h1>``, each section's title in ``<h2>``, its body lines
joined by ``<br/>`` and its evidence as ``<li>label (kind: ref)</li>``. On top of that: a
contents bar, severity badges at the start of ``info:``/``warning:``/``error:`` lines (but a
section's ``quiet`` lines, notes about a feature the workspace never used, are plain grey
text), the section's ``note`` under its heading, evidence folded in a ``<details>``, and the
section's charts above its text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Protocol

from .sections import ReportSection
from .svg import group

__all__ = ["render_page", "render_section"]

_SEVERITY = re.compile(r"^(info|warning|error|critical)(?=:)")

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #111827;
  font: 15px/1.5 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 28px 20px 48px; }
header.report-head { border-top: 5px solid #2563eb; background: #fff; border-radius: 10px;
  padding: 18px 24px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.06); margin-bottom: 18px; }
h1 { font-size: 22px; margin: 0 0 6px; word-break: break-word; }
.meta { color: #6b7280; font-size: 13px; margin: 0; }
nav { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 12px; }
nav a { font-size: 12.5px; color: #1d4ed8; text-decoration: none; background: #eff6ff;
  border: 1px solid #dbeafe; border-radius: 999px; padding: 2px 10px; }
nav a:hover { background: #dbeafe; }
section { background: #fff; border-radius: 10px; padding: 16px 24px 18px; margin: 0 0 14px;
  box-shadow: 0 1px 2px rgba(0,0,0,.06); border: 1px solid #e5e7eb; }
h2 { font-size: 16px; margin: 0 0 10px; color: #1f2937; }
p.lines { margin: 0; font: 13px/1.65 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  white-space: normal; overflow-wrap: anywhere; color: #1f2937; }
.sev { display: inline-block; font: 600 11px/1.6 ui-sans-serif, system-ui, sans-serif;
  border-radius: 4px; padding: 0 6px; }
.sev-info { background: #e0f2fe; color: #075985; }
.sev-warning { background: #fef3c7; color: #92400e; }
.sev-error, .sev-critical { background: #fee2e2; color: #991b1b; }
details.evidence { margin-top: 12px; font-size: 13px; color: #374151; }
details.evidence summary { cursor: pointer; color: #4b5563; }
details.evidence ul { margin: 6px 0 0; padding-left: 20px; }
details.evidence li { overflow-wrap: anywhere; }
.charts { margin: 4px 0 14px; }
.charts .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr));
  gap: 8px 20px; margin-top: 8px; }
figure { margin: 0 0 10px; }
figcaption { font-size: 13px; font-weight: 600; color: #374151; margin-bottom: 4px; }
svg.chart { display: block; max-width: 100%; height: auto; }
p.caption { margin: 2px 0 0; font-size: 12px; color: #6b7280; }
p.empty { color: #6b7280; font-size: 13px; }
p.note { margin: -4px 0 10px; font-size: 13px; color: #374151; background: #f3f4f6;
  border-left: 3px solid #9ca3af; padding: 4px 10px; border-radius: 0 4px 4px 0; }
.quiet { color: #9ca3af; }
.dir { color: #6b7280; font-size: 11px; }
.table-wrap { overflow-x: auto; }
table.heatmap { border-collapse: collapse; font-size: 12.5px; min-width: 50%; }
table.heatmap th, table.heatmap td { border: 1px solid #e5e7eb; padding: 4px 10px; }
table.heatmap thead th { background: #f9fafb; font-weight: 600; text-align: center; }
table.heatmap tbody th { text-align: left; font-weight: 500; white-space: nowrap; }
table.heatmap td { text-align: right; font-variant-numeric: tabular-nums; }
table.heatmap td.missing { color: #9ca3af; text-align: center; }
footer { color: #9ca3af; font-size: 12px; text-align: center; margin-top: 22px; }
@media print { body { background: #fff; } section, header.report-head { box-shadow: none; }
  nav { display: none; } details.evidence > *:not(summary) { display: block; } }
"""


def _line(text: str, quiet: frozenset[str] = frozenset()) -> str:
    if text in quiet:
        return f'<span class="quiet" title="not used in this workspace">{escape(text)}</span>'
    match = _SEVERITY.match(text)
    if match is None:
        return escape(text)
    word = match.group(1)
    return f'<span class="sev sev-{word}">{word}</span>{escape(text[len(word) :])}'


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def render_section(section: ReportSection, anchor: str) -> str:
    """One ``<section>``: heading, charts, body lines, evidence."""
    parts = [f'<section id="{anchor}">', f"<h2>{escape(section.title)}</h2>"]
    if section.note:
        parts.append(f'<p class="note">{escape(section.note)}</p>')
    parts.append(group(section.charts))
    lines = "<br/>".join(_line(line, section.quiet) for line in section.body.splitlines())
    parts.append(f'<p class="lines">{lines}</p>')
    if section.evidence_links:
        items = "".join(
            f"<li>{escape(str(link.label))} ({escape(link.kind)}: {escape(link.ref)})</li>"
            for link in section.evidence_links
        )
        count = len(section.evidence_links)
        parts.append(
            f'<details class="evidence"><summary>Evidence ({count})</summary><ul>{items}</ul></details>'
        )
    parts.append("</section>")
    return "".join(parts)


class Page(Protocol):
    """What a page is made of (a :class:`~.document.ReportDocument`)."""

    @property
    def title(self) -> str: ...

    @property
    def sections(self) -> Sequence[ReportSection]: ...


def render_page(document: Page) -> str:
    """The whole page as one string (UTF-8 text, ``<!DOCTYPE html>``)."""
    title = escape(document.title)
    anchors = [f"s{i + 1}" for i in range(len(document.sections))]
    nav = "".join(
        f'<a href="#{a}">{escape(s.title)}</a>'
        for a, s in zip(anchors, document.sections, strict=True)
    )
    charts = sum(len(s.charts) for s in document.sections)
    meta = _count(len(document.sections), "section") + (
        f" \u00b7 {_count(charts, 'chart')}" if charts else ""
    )
    body = "".join(render_section(s, a) for s, a in zip(document.sections, anchors, strict=True))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        '<meta name="generator" content="contexta"/>'
        f"<title>{title}</title><style>{STYLE}</style></head>"
        "<body><main><article>"
        f'<header class="report-head"><h1>{title}</h1><p class="meta">{meta}</p>'
        f"<nav>{nav}</nav></header>"
        f"{body}</article>"
        "<footer>Contexta report \u00b7 self-contained page, no external resources</footer>"
        "</main></body></html>\n"
    )
