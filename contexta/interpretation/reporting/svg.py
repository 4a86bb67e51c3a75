"""Inline SVG (and one HTML table) for the charts of a report page.

Pure string building: no script, no external font or image, no ids (so any number of charts
can share a page). Every text goes through :func:`html.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from .sections import ReportChart

__all__ = [
    "PALETTE",
    "diverging_chart",
    "fmt",
    "heatmap_table",
    "line_chart",
    "percent",
    "render_chart",
    "tick_text",
]

PALETTE = ("#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#65a30d", "#dc2626")
POSITIVE = "#2563eb"  # diverging bars: an improvement (or, direction unknown, a rise)
NEGATIVE = "#ea580c"  # a regression (or a fall)
GRID = "#e5e7eb"
AXIS_TEXT = "#6b7280"
FONT = "font-family=\"ui-sans-serif, system-ui, -apple-system, 'Segoe UI', sans-serif\""


def fmt(value: float | None) -> str:
    """Compact number text: up to 4 significant digits, no trailing zeros."""
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.3g}"
    text = f"{value:.4g}" if magnitude < 1000 else f"{value:,.0f}"
    return text


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (about ``count`` intervals)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for factor in (1, 2, 2.5, 5, 10):
        if (high - low) / (factor * magnitude) <= count:
            step = factor * magnitude
            break
    start = math.floor(low / step) * step
    stop = math.ceil(high / step) * step
    n = round((stop - start) / step)
    return [start + i * step for i in range(n + 1)]


def tick_text(value: float, step: float) -> str:
    """A tick label with as many decimals as the tick step needs, so that neighbouring ticks
    of a nearly flat series (0.91230, 0.91235, ...) never read the same."""
    if step <= 0 or not math.isfinite(step):
        return fmt(value)
    magnitude = max(abs(value), abs(step))
    if magnitude >= 1e6 or step < 1e-6:
        digits = max(1, math.ceil(math.log10(magnitude / step)) + 1) if magnitude > 0 else 1
        return f"{value:.{min(digits, 15)}g}"
    if abs(value) < step / 2:
        return "0"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    scaled = step * 10**decimals
    if abs(scaled - round(scaled)) > 1e-6 * scaled:
        decimals += 1  # steps of 2.5, 0.25, ...
    return f"{value:,.{decimals}f}"


def _svg_open(width: int, height: int, label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" {FONT}>'
    )


def line_chart(chart: ReportChart, *, width: int = 680, height: int = 260) -> str:
    """Lines over the labels (gaps where a value is None), y axis with round ticks, points
    with tooltips, value labels when there are few points, a legend for several series."""
    labels = chart.labels
    n = len(labels)
    values = [v for s in chart.series for v in s.values if v is not None]
    if n == 0 or not values:
        return '<p class="empty">No values to chart.</p>'
    legend_rows = (
        _legend_rows([s.name for s in chart.series], width - 80) if len(chart.series) > 1 else []
    )
    legend = 20 * len(legend_rows) + 2 if legend_rows else 0
    left, right, top = 60, 20, 18 + legend
    marked = _label_positions(labels)
    shown = [labels[i] for i in marked]
    widest = 6.4 * max(len(_short(x, 18)) for x in shown)
    rotate = widest > (width - left - right) / len(shown) * 0.92
    bottom = 62 if rotate else 36
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = min(values), max(values)
    pad = (high - low) * 0.06
    ticks = nice_ticks(low - pad, high + pad)
    y_lo, y_hi = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 0.0

    def x_at(i: int) -> float:
        return left + (i + 0.5) * plot_w / n

    def y_at(v: float) -> float:
        return top + plot_h - (v - y_lo) / (y_hi - y_lo) * plot_h

    out = [_svg_open(width, height, chart.title)]
    for t in ticks:
        y = y_at(t)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{AXIS_TEXT}">{escape(tick_text(t, step))}</text>'
        )
    for i in marked:
        label = labels[i]
        x, y = x_at(i), top + plot_h + 16
        text = escape(_short(label, 18))
        if rotate:
            out.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="end" font-size="11" fill="{AXIS_TEXT}" '
                f'transform="rotate(-35 {x:.1f} {y:.1f})">{text}</text>'
            )
        else:
            out.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="11" '
                f'fill="{AXIS_TEXT}">{text}</text>'
            )
    show_values = n <= 12 and len(chart.series) == 1
    dense = n > MARKER_LIMIT  # hundreds of points: thin lines, no markers (tooltips stay)
    stroke = 1.4 if dense else 2.2
    for k, series in enumerate(chart.series):
        color = PALETTE[k % len(PALETTE)]
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(series.values):
            if v is None:
                if not chart.joined:
                    runs.append([])
            else:
                runs[-1].append((x_at(i), y_at(v)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                out.append(
                    f'<polyline points="{points}" fill="none" stroke="{color}" '
                    f'stroke-width="{stroke}" stroke-linejoin="round" stroke-linecap="round"/>'
                )
            elif len(run) == 1 and dense:  # an isolated point between gaps stays visible
                x, y = run[0]
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="{color}"/>')
        for i, v in enumerate(series.values):
            if v is None:
                continue
            x, y = x_at(i), y_at(v)
            note = chart.annotations[i] if chart.annotations else labels[i]
            tip = escape(f"{series.name} \u00b7 {note}: {fmt(v)}")
            if dense:
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="transparent">'
                    f"<title>{tip}</title></circle>"
                )
            else:
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#fff" stroke="{color}" '
                    f'stroke-width="2"><title>{tip}</title></circle>'
                )
            if show_values:
                below = _below_neighbours(series.values, i) and y + 18 < top + plot_h - 4
                out.append(
                    f'<text x="{x:.1f}" y="{y + 18 if below else y - 9:.1f}" text-anchor="middle" '
                    f'font-size="11" fill="#111827">{escape(fmt(v))}</text>'
                )
    k = 0
    for row, names in enumerate(legend_rows):
        x, y = left, 6 + 20 * row
        for name in names:
            color = PALETTE[k % len(PALETTE)]
            out.append(f'<rect x="{x}" y="{y}" width="12" height="12" rx="2" fill="{color}"/>')
            out.append(
                f'<text x="{x + 17}" y="{y + 10}" font-size="12" fill="#374151">'
                f"{escape(_short(name, 28))}</text>"
            )
            x += _legend_width(name)
            k += 1
    out.append("</svg>")
    return "".join(out)


#: above this many points per series a line chart drops its markers and value labels
MARKER_LIMIT = 60

#: at most about this many x labels under a line chart
X_LABELS = 14


def _label_positions(labels: Sequence[str]) -> list[int]:
    """The positions whose x label is shown: all of them when few; when the labels are step
    numbers, those at round multiples (0, 50, 100, ... rather than 0, 29, 58, ...); else
    every k-th one."""
    n = len(labels)
    every = max(1, math.ceil(n / X_LABELS))
    if every == 1:
        return list(range(n))
    if all(x.lstrip("-").isdigit() for x in labels):
        steps = [int(x) for x in labels]
        span = max(steps) - min(steps)
        round_step = next(
            (f * 10**e for e in range(30) for f in (1, 2, 5) if f * 10**e * X_LABELS >= span), 1
        )
        marked = [i for i, step in enumerate(steps) if step % round_step == 0]
        if 2 <= len(marked) <= X_LABELS + 1:
            return marked
    return list(range(0, n, every))


def _legend_width(name: str) -> int:
    return 30 + 7 * min(len(name), 28)


def _legend_rows(names: Sequence[str], room: float) -> list[list[str]]:
    """Legend entries laid out in rows no wider than ``room``."""
    rows: list[list[str]] = [[]]
    used = 0.0
    for name in names:
        if rows[-1] and used + _legend_width(name) > room:
            rows.append([])
            used = 0.0
        rows[-1].append(name)
        used += _legend_width(name)
    return rows


def _below_neighbours(values: Sequence[float | None], i: int) -> bool:
    """Whether the point at ``i`` lies below every neighbour (its label then goes under it,
    clear of the lines)."""
    here = values[i]
    around = [values[j] for j in (i - 1, i + 1) if 0 <= j < len(values) and values[j] is not None]
    return here is not None and bool(around) and all(v > here for v in around)  # type: ignore[operator]


def diverging_chart(chart: ReportChart, *, width: int = 680) -> str:
    """One horizontal bar per label around a zero line (first series; None: "n/a"), with the
    annotation of each row at the right."""
    values = chart.series[0].values if chart.series else ()
    if not values:
        return '<p class="empty">No values to chart.</p>'
    row_h, top, bottom = 28, 8, 28
    label_w, note_w = 190, 170
    plot_l, plot_r = label_w + 10, width - note_w - 10
    centre = (plot_l + plot_r) / 2
    half = (plot_r - plot_l) / 2
    present = [abs(v) for v in values if v is not None]
    scale = nice_ticks(0.0, max(present), 4)[-1] if present and max(present) > 0 else 1.0
    height = top + row_h * len(values) + bottom
    out = [_svg_open(width, height, chart.title)]
    axis_y = top + row_h * len(values)
    for frac in (-1.0, -0.5, 0.0, 0.5, 1.0):
        x = centre + frac * half
        colour = "#9ca3af" if frac == 0 else GRID
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{axis_y}" stroke="{colour}"/>')
        out.append(
            f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" font-size="11" '
            f'fill="{AXIS_TEXT}">{escape(percent(frac * scale))}</text>'
        )
    for i, (label, value) in enumerate(zip(chart.labels, values, strict=True)):
        y = top + i * row_h
        mid = y + row_h / 2
        if i % 2:
            out.append(f'<rect x="0" y="{y}" width="{width}" height="{row_h}" fill="#f9fafb"/>')
        out.append(
            f'<text x="{label_w}" y="{mid + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#111827"><title>{escape(label)}</title>{escape(_short(label, 30))}</text>'
        )
        if value is None:
            out.append(
                f'<text x="{centre:.1f}" y="{mid + 4:.1f}" text-anchor="middle" font-size="11" '
                f'fill="{AXIS_TEXT}">n/a</text>'
            )
        else:
            length = abs(value) / scale * half
            x = centre if value >= 0 else centre - length
            lower = chart.lower_is_better[i] if chart.lower_is_better else False
            better = value < 0 if lower else value >= 0
            colour = POSITIVE if better else NEGATIVE
            verdict = ""
            if chart.lower_is_better and value != 0:
                verdict = ", better" if better else ", worse"
            tip = escape(f"{label}: {percent(value)}{verdict}")
            out.append(
                f'<rect x="{x:.1f}" y="{mid - 8:.1f}" width="{max(length, 1.0):.1f}" height="16" '
                f'rx="2" fill="{colour}"><title>{tip}</title></rect>'
            )
        note = (
            chart.annotations[i] if chart.annotations else ("" if value is None else percent(value))
        )
        out.append(
            f'<text x="{plot_r + 12:.1f}" y="{mid + 4:.1f}" font-size="11" '
            f'fill="#374151">{escape(_short(note, 28))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def percent(value: float) -> str:
    """Signed percentage with one decimal (``+12.5%``, ``\u22127.8%``, ``0%``)."""
    if round(value, 1) == 0:
        return "0%"
    magnitude = abs(value)
    text = f"{magnitude:,.0f}" if magnitude == round(magnitude) else f"{magnitude:,.1f}"
    return ("+" if value > 0 else "\u2212") + text + "%"


def _shade(fraction: float) -> str:
    """White-blue ramp for heatmap cells (0: lightest)."""
    low, high = (248, 250, 252), (147, 197, 253)
    rgb = (round(a + (b - a) * fraction) for a, b in zip(low, high, strict=True))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def heatmap_table(chart: ReportChart) -> str:
    """A table: rows = series, columns = labels; each cell shaded by its value's position
    between the row's minimum and maximum (with ``lower_is_better`` flags: between its worst
    and best, the best darkest; the row is marked with the direction)."""
    head = "".join(f'<th scope="col">{escape(_short(x, 24))}</th>' for x in chart.labels)
    rows = []
    for k, series in enumerate(chart.series):
        lower = chart.lower_is_better[k] if chart.lower_is_better else False
        present = [v for v in series.values if v is not None]
        lo, hi = (min(present), max(present)) if present else (0.0, 0.0)
        cells = []
        for v in series.values:
            if v is None:
                cells.append('<td class="missing">\u2014</td>')
                continue
            fraction = 0.5 if hi == lo else (v - lo) / (hi - lo)
            if lower:
                fraction = 1.0 - fraction
            cells.append(f'<td style="background:{_shade(fraction)}">{escape(fmt(v))}</td>')
        name = escape(series.name)
        if chart.lower_is_better:
            hint = "lower is better" if lower else "higher is better"
            arrow = "\u2193" if lower else "\u2191"
            name += f' <span class="dir" title="{hint}">{arrow}</span>'
        rows.append(f'<tr><th scope="row">{name}</th>{"".join(cells)}</tr>')
    return (
        f'<div class="table-wrap"><table class="heatmap"><thead><tr><th scope="col">metric</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def render_chart(chart: ReportChart, *, compact: bool = False) -> str:
    """The figure markup (title, chart, caption) of one chart (``compact``: sized for a grid
    of small charts)."""
    if chart.kind == "line":
        body = line_chart(chart, width=460, height=230) if compact else line_chart(chart)
    elif chart.kind == "diverging":
        body = diverging_chart(chart)
    else:
        body = heatmap_table(chart)
    caption = f'<p class="caption">{escape(chart.caption)}</p>' if chart.caption else ""
    return (
        f'<figure class="chart-{chart.kind}"><figcaption>{escape(chart.title)}</figcaption>'
        f"{body}{caption}</figure>"
    )


def group(charts: Sequence[ReportChart]) -> str:
    """Charts of one section: tables and bar charts first, full width; then line charts, in a
    grid of small charts when there are several."""
    if not charts:
        return ""
    lines = [c for c in charts if c.kind == "line"]
    parts = [render_chart(c) for c in charts if c.kind != "line"]
    if len(lines) > 1:
        inner = "".join(render_chart(c, compact=True) for c in lines)
        parts.append(f'<div class="grid">{inner}</div>')
    elif lines:
        parts.append(render_chart(lines[0]))
    return f'<div class="charts">{"".join(parts)}</div>'
