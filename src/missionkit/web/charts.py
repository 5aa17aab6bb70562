"""Charts as inline SVG, drawn on the server from plain data.

Pure functions: numbers and dates in, an SVG string out. No JavaScript chart library is
needed, so pages work offline, print well and are readable by screen readers (each chart
carries a title and a description that says in words what the picture shows).

Status is never shown by colour alone: each status has a colour, a shape and a word.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from missionkit.services.charts_svg import nice_ticks
from missionkit.trajectory.series import to_time

# One palette for every page; the text colours meet WCAG AA contrast on white and on the
# tint behind them. ``symbol`` is the shape that repeats the meaning without colour.
STATUS_STYLE: dict[str, dict[str, str]] = {
    "achieved": {"label": "Achieved", "symbol": "★", "fg": "#0f5323", "bg": "#cdeed6"},
    "on_track": {"label": "On track", "symbol": "●", "fg": "#116329", "bg": "#dafbe1"},
    "needs_acceleration": {
        "label": "Needs acceleration",
        "symbol": "▲",
        "fg": "#6f4400",
        "bg": "#fff1b8",
    },
    "limited_progress": {
        "label": "Limited progress",
        "symbol": "◆",
        "fg": "#8a3200",
        "bg": "#ffe2cc",
    },
    "wrong_direction": {
        "label": "Wrong direction",
        "symbol": "▼",
        "fg": "#a40e26",
        "bg": "#ffe1e1",
    },
    "insufficient_data": {
        "label": "Insufficient data",
        "symbol": "■",
        "fg": "#3d444d",
        "bg": "#e6eaef",
    },
}


def status_style(status: str | None) -> dict[str, str]:
    return STATUS_STYLE.get(status or "insufficient_data", STATUS_STYLE["insufficient_data"])


def decimal_year(day: dt.date) -> float:
    """The trajectory engine's time scale, so a chart plots what the engine assessed."""
    return to_time(day)


def format_number(value: float) -> str:
    """Short human numbers: 1.2M, 35.1, 0.25; thousands separated."""
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:,.3g}B"
    if magnitude >= 1e6:
        return f"{value / 1e6:,.3g}M"
    if magnitude >= 1e4:
        return f"{value:,.0f}"
    if magnitude >= 100 or value == int(value):
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return f"{value:.3g}"


def required_path(
    base: tuple[float, float], target: tuple[float, float], compound: bool, steps: int = 24
) -> list[tuple[float, float]]:
    """Where the indicator must be at each time to reach the target on the deadline.

    ``compound`` follows constant growth (the StatCan/Open SDG method measures progress as
    compound growth); otherwise a straight line (SDSN's linear growth). Compound growth
    needs base and target of one sign and non-zero; otherwise the path is straight.
    """
    (t0, y0), (t1, y1) = base, target
    if t1 <= t0:
        return [base, target]
    geometric = compound and y0 * y1 > 0
    points = []
    for i in range(steps + 1):
        f = i / steps
        t = t0 + f * (t1 - t0)
        y = y0 * (y1 / y0) ** f if geometric else y0 + f * (y1 - y0)
        points.append((t, y))
    return points


@dataclass(frozen=True)
class IndicatorChart:
    """What an indicator chart shows; times are decimal years (see ``decimal_year``)."""

    name: str
    unit: str
    observations: Sequence[tuple[float, float]]
    baseline: tuple[float, float]
    target: tuple[float, float] | None
    deadline: float | None
    status: str
    compound_path: bool = True
    forecast: tuple[float, float, float, float] | None = None  # year, value, low, high


WIDTH, HEIGHT = 520, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 104, 20, 46


def _year_label(t: float) -> str:
    return str(math.floor(t))


def indicator_svg(chart: IndicatorChart, chart_id: str) -> str:
    """Observations, baseline, target, the path needed by the deadline, and the status.

    The target (a dashed horizontal line and a marked point) and the deadline (a vertical
    line) are always inside the plotted range, whatever the data.
    """
    times = [t for t, _ in chart.observations] + [chart.baseline[0]]
    values = [v for _, v in chart.observations] + [chart.baseline[1]]
    path: list[tuple[float, float]] = []
    if chart.target is not None:
        times.append(chart.target[0])
        values.append(chart.target[1])
        path = required_path(chart.baseline, chart.target, chart.compound_path)
    if chart.deadline is not None:
        times.append(chart.deadline)
    if chart.forecast is not None:
        year, value, low, high = chart.forecast
        times.append(year)
        values += [value, low, high]
    t_low, t_high = min(times), max(times)
    if t_high - t_low < 1:
        t_low, t_high = t_low - 0.5, t_high + 0.5
    t_pad = (t_high - t_low) * 0.03
    t_low, t_high = t_low - t_pad, t_high + t_pad
    y_ticks = nice_ticks(min(values), max(values))
    y_low, y_high = y_ticks[0], y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - t_low) / (t_high - t_low) * plot_w

    def y(v: float) -> float:
        return TOP + (y_high - v) / (y_high - y_low) * plot_h

    unit = escape(chart.unit)
    out: list[str] = []
    desc = _describe(chart)
    out.append(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(chart.name)} ({unit})</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>'
    )
    # Axes, grid and tick labels, with the unit on the value axis.
    for v in y_ticks:
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
            f"{escape(format_number(v))}</text>"
        )
    first, last = math.ceil(t_low), math.floor(t_high)
    step = max(1, math.ceil((last - first + 1) / 8))
    for year in range(first, last + 1, step):
        out.append(
            f'<line class="axis" x1="{x(year):.1f}" x2="{x(year):.1f}" y1="{TOP + plot_h}" '
            f'y2="{TOP + plot_h + 4}"/><text class="tick" x="{x(year):.1f}" '
            f'y="{TOP + plot_h + 17}" text-anchor="middle">{year}</text>'
        )
    out.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" '
        f'y2="{TOP + plot_h}"/>'
        f'<text class="axis-label" x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">{unit}</text>'
        f'<text class="axis-label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">year</text>'
    )
    if chart.deadline is not None:
        dx = x(chart.deadline)
        out.append(
            f'<line class="deadline" x1="{dx:.1f}" x2="{dx:.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>'
            f'<text class="note" x="{dx - 4:.1f}" y="{TOP + plot_h - 6}" text-anchor="end">'
            f"deadline {_year_label(chart.deadline)}</text>"
        )
    if chart.target is not None:
        tt, tv = chart.target
        out.append(
            f'<line class="target" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tv):.1f}" '
            f'y2="{y(tv):.1f}"/>'
            f'<text class="note" x="{LEFT + plot_w + 6}" y="{y(tv) + 4:.1f}">target '
            f"{escape(format_number(tv))}</text>"
            f'<rect class="target-mark" x="{x(tt) - 5:.1f}" y="{y(tv) - 5:.1f}" width="10" '
            f'height="10" transform="rotate(45 {x(tt):.1f} {y(tv):.1f})"/>'
        )
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in path)
        out.append(f'<polyline class="path-needed" points="{points}"/>')
    bt, bv = chart.baseline
    out.append(
        f'<circle class="baseline" cx="{x(bt):.1f}" cy="{y(bv):.1f}" r="5"/>'
        f'<text class="note" x="{x(bt) + 7:.1f}" y="{y(bv) - 8:.1f}">baseline</text>'
    )
    if chart.forecast is not None:
        year, value, low, high = chart.forecast
        out.append(
            f'<line class="forecast" x1="{x(year):.1f}" x2="{x(year):.1f}" y1="{y(high):.1f}" '
            f'y2="{y(low):.1f}"/><circle class="forecast" cx="{x(year):.1f}" '
            f'cy="{y(value):.1f}" r="4"/>'
        )
    observed = sorted(chart.observations)
    if observed:
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in observed)
        out.append(f'<polyline class="observed" points="{points}"/>')
        for t, v in observed[:-1]:
            out.append(f'<circle class="observed" cx="{x(t):.1f}" cy="{y(v):.1f}" r="3"/>')
        lt, lv = observed[-1]
        out.append(status_marker(chart.status, x(lt), y(lv), 8))
    # Legend in the right margin, so the lines are named without colour.
    legend = [("observed", "observed")]
    if chart.target is not None:
        legend += [("path-needed", "path needed"), ("target", "target")]
    for i, (cls, label) in enumerate(legend):
        ly = TOP + plot_h - 44 + i * 16
        lx = LEFT + plot_w + 6
        out.append(
            f'<line class="{cls}" x1="{lx}" x2="{lx + 18}" y1="{ly}" y2="{ly}"/>'
            f'<text class="legend" x="{lx + 22}" y="{ly + 4}">{label}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def status_marker(status: str, cx: float, cy: float, r: float) -> str:
    """The status as a filled shape in its colour: the shape alone tells the status too.

    Circle: on track; star: achieved; triangle up: needs acceleration; diamond: limited
    progress; triangle down: wrong direction; square: insufficient data.
    """
    colour = status_style(status)["fg"]
    attrs = f'class="latest" fill="{colour}" stroke="#fff" stroke-width="1.5"'
    if status == "on_track":
        return f'<circle {attrs} cx="{cx:.1f}" cy="{cy:.1f}" r="{r * 0.8:.1f}"/>'
    if status == "achieved":
        points = []
        for i in range(10):
            angle = math.pi / 2 + i * math.pi / 5
            radius = r * 1.1 if i % 2 == 0 else r * 0.45
            points.append((cx + radius * math.cos(angle), cy - radius * math.sin(angle)))
    elif status == "needs_acceleration":
        points = [(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)]
    elif status == "limited_progress":
        points = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    elif status == "wrong_direction":
        points = [(cx - r, cy - r * 0.8), (cx + r, cy - r * 0.8), (cx, cy + r)]
    else:
        h = r * 0.75
        points = [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
    text = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    return f'<polygon {attrs} points="{text}"/>'


def _describe(chart: IndicatorChart) -> str:
    parts = [f"Baseline {format_number(chart.baseline[1])} {chart.unit} in "
             f"{_year_label(chart.baseline[0])}."]  # fmt: skip
    if chart.observations:
        t, v = max(chart.observations)
        parts.append(f"Latest {format_number(v)} {chart.unit} in {_year_label(t)}.")
    if chart.target is not None:
        parts.append(
            f"Target {format_number(chart.target[1])} {chart.unit} by "
            f"{_year_label(chart.target[0])}."
        )
    parts.append(f"Status: {status_style(chart.status)['label'].lower()}.")
    return " ".join(parts)


def bar_svg(items: Sequence[tuple[str, float]], unit: str, chart_id: str, title: str) -> str:
    """Horizontal bars with their labels and values written out (no legend to decode)."""
    rows = [(label, max(value, 0.0)) for label, value in items]
    peak = max((v for _, v in rows), default=0.0) or 1.0
    row_h, label_w, bar_w, value_w = 26, 150, 260, 110
    height = row_h * max(len(rows), 1) + 8
    width = label_w + bar_w + value_w
    total = sum(v for _, v in rows) or 1.0
    out = [
        f'<svg class="bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}: '
        + escape("; ".join(f"{label} {format_number(v)} {unit}" for label, v in rows))
        + "</title>"
    ]
    for i, (label, value) in enumerate(rows):
        top = 4 + i * row_h
        w = value / peak * bar_w
        out.append(
            f'<text class="bar-label" x="{label_w - 8}" y="{top + 16}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{label_w}" y="{top + 3}" width="{w:.1f}" height="{row_h - 8}"/>'
            f'<text class="bar-value" x="{label_w + w + 6:.1f}" y="{top + 16}">'
            f"{escape(format_number(value))} ({value / total:.0%})</text>"
        )
    out.append("</svg>")
    return "".join(out)


# A tile grid of European countries (one square per country, roughly where it lies), so
# small countries are as visible as large ones; countries outside it appear in the table.
EUROPE_TILES: dict[str, tuple[int, int]] = {
    "IS": (0, 0), "NO": (4, 0), "SE": (5, 0), "FI": (6, 0),
    "IE": (0, 1), "UK": (1, 1), "GB": (1, 1), "DK": (4, 1), "EE": (6, 1),
    "NL": (2, 2), "DE": (3, 2), "PL": (4, 2), "LT": (5, 2), "LV": (6, 2),
    "BE": (2, 3), "LU": (3, 3), "CZ": (4, 3), "SK": (5, 3), "UA": (6, 3),
    "FR": (1, 4), "CH": (2, 4), "AT": (3, 4), "HU": (4, 4), "RO": (5, 4), "MD": (6, 4),
    "PT": (0, 5), "ES": (1, 5), "IT": (2, 5), "SI": (3, 5), "HR": (4, 5), "RS": (5, 5),
    "BG": (6, 5), "BA": (4, 6), "ME": (5, 6), "MK": (6, 6), "AL": (5, 7), "EL": (6, 7),
    "GR": (6, 7), "MT": (2, 7), "CY": (7, 7), "TR": (7, 6), "LI": (2, 3),
}  # fmt: skip


def tile_map_svg(shares: dict[str, float], names: dict[str, str], chart_id: str) -> str:
    """Countries as tiles shaded by their share of the budget (with the share as text)."""
    shown = {c: s for c, s in shares.items() if c in EUROPE_TILES}
    peak = max(shown.values(), default=0.0) or 1.0
    size, gap = 52, 4
    width, height = 8 * (size + gap), 8 * (size + gap)
    out = [
        f'<svg class="tiles" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">Share of the budget by country: '
        + escape("; ".join(f"{names.get(c, c)} {s:.0%}" for c, s in sorted(shown.items())))
        + "</title>"
    ]
    seen: set[tuple[int, int]] = set()
    for code, (col, row) in EUROPE_TILES.items():
        if (col, row) in seen and code not in shown:
            continue
        seen.add((col, row))
        share = shown.get(code)
        level = 0 if share is None else 1 + min(4, int(share / peak * 4.999))
        x, y = col * (size + gap), row * (size + gap)
        label = "–" if share is None else f"{share:.0%}"
        out.append(
            f'<g class="tile level-{level}"><rect x="{x}" y="{y}" width="{size}" '
            f'height="{size}" rx="4"/><text x="{x + size / 2}" y="{y + 21}" '
            f'text-anchor="middle" class="tile-code">{code}</text><text x="{x + size / 2}" '
            f'y="{y + 40}" text-anchor="middle" class="tile-value">{label}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
