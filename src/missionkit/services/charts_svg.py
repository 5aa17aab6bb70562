"""Charts a board reads at a glance, as inline SVG (no script, no external asset).

A :class:`Chart` holds the numbers; :func:`render_svg` draws it. The same ``Chart`` feeds
the Markdown table and the spreadsheet's native chart in the portfolio report, so the three
formats show the same figures. Pure: strings in, strings out.

Every mark carries its value (``data-value``) and a ``<title>`` tooltip; each chart has a
``<title>`` and ``<desc>`` for screen readers. Colours come from the Okabe–Ito palette
(distinguishable with the common colour-vision deficiencies) and are fixed per name, so a
stage or an instrument has the same colour in every chart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal, get_args

from missionkit.domain.vocab import STAGES, Instrument

__all__ = [
    "Chart",
    "ChartKind",
    "colour_for",
    "lorenz_points",
    "nice_ticks",
    "render_svg",
]

ChartKind = Literal["stacked_bars", "bars", "lines", "lorenz"]

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")  # fmt: skip
GREY = "#999999"

_FIXED: dict[str, str] = {
    **dict(zip(STAGES, ("#56B4E9", "#0072B2", "#009E73", "#E69F00", "#D55E00"), strict=True)),
    **{name: PALETTE[i % len(PALETTE)] for i, name in enumerate(get_args(Instrument))},
}

WIDTH = 640
LEFT, RIGHT, TOP, BOTTOM = 210, 24, 56, 48
BAR, GAP = 18, 8
FONT = 'font-family="system-ui,sans-serif" font-size="12"'


@dataclass(frozen=True, slots=True)
class Chart:
    """The numbers of one chart.

    * ``stacked_bars`` / ``bars``: one horizontal bar per category, one segment per series
      (``bars`` has one series); values in ``unit``.
    * ``lines``: categories along the x axis (e.g. years), one line per series; ``None``
      leaves a gap.
    * ``lorenz``: ``series[0]`` holds the cumulative population shares (x), ``series[1]``
      the cumulative funding shares (y), both from 0 to 1.
    """

    kind: ChartKind
    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | None, ...]], ...]
    unit: str
    description: str = ""


def colour_for(name: str, index: int = 0) -> str:
    """The fixed colour of a stage or instrument; others by position; ``(none)`` grey."""
    if name in _FIXED:
        return _FIXED[name]
    if name.startswith("("):
        return GREY
    return PALETTE[index % len(PALETTE)]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round ticks covering ``[low, high]`` (1, 2, 2.5 or 5 × 10^k).

    The one tick rule of every chart (reports' bars and the pages' line charts): a value
    a hair above a round number (0.010000000000000002, float noise) does not get an
    extra step of its own.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    # A bound that a neighbouring tick misses only by float noise (relative to the bound
    # itself, not to the step) ends on that tick.
    if (last - 1) * step >= high - 1e-9 * abs(high):
        last -= 1
    if (first + 1) * step <= low + 1e-9 * abs(low):
        first += 1
    last = max(last, first + 1)
    # Integer multiples of the step: no drift from adding a float step repeatedly.
    return [k * step for k in range(first, last + 1)]


def _zero_based_ticks(top: float) -> list[float]:
    """Ticks for bars, which start at zero (an empty or all-zero chart gets 0 and 1)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    return nice_ticks(0.0, top)


def lorenz_points(
    population: Sequence[float], funding: Sequence[float]
) -> list[tuple[float, float]]:
    """Cumulative population and funding shares, regions ordered by funding per head
    (lowest first), starting at (0, 0): the Lorenz curve of funding per head."""
    pairs = [(f / p, p, f) for p, f in zip(population, funding, strict=True) if p > 0]
    pairs.sort(key=lambda x: x[0])
    total_p = sum(p for _, p, _ in pairs)
    total_f = sum(f for _, _, f in pairs)
    points = [(0.0, 0.0)]
    cp = cf = 0.0
    for _, p, f in pairs:
        cp += p
        cf += f
        points.append((cp / total_p if total_p else 0.0, cf / total_f if total_f else 0.0))
    return points


def _fmt(x: float) -> str:
    """Tick label: no trailing zeros, thousands separated."""
    if abs(x - round(x)) < 1e-9:
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _head(chart: Chart, height: int) -> list[str]:
    e = escape
    desc = chart.description or f"{chart.title} ({chart.unit})."
    ident = "chart-" + (re.sub(r"[^a-z0-9]+", "-", chart.title.lower()).strip("-") or "x")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{chart.kind}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" {FONT}>',
        f'<title id="{ident}-t">{e(chart.title)}</title><desc id="{ident}-d">{e(desc)}</desc>',
        f'<text x="0" y="16" font-size="14" font-weight="600">{e(chart.title)}</text>',
    ]


def _legend(names: Sequence[str], y: int) -> list[str]:
    out, x = [], 0
    for i, name in enumerate(names):
        out.append(
            f'<g class="legend"><rect x="{x}" y="{y - 10}" width="12" height="12" '
            f'fill="{colour_for(name, i)}"/><text x="{x + 16}" y="{y}">{escape(name)}</text></g>'
        )
        x += 16 + 7 * len(name) + 14
    return out


def _bars(chart: Chart) -> str:
    n = len(chart.categories)
    plot_w = WIDTH - LEFT - RIGHT
    height = TOP + n * (BAR + GAP) + BOTTOM
    totals = [sum(v or 0.0 for _, values in chart.series for v in (values[i],)) for i in range(n)]
    ticks = _zero_based_ticks(max(totals, default=0.0))
    scale = plot_w / ticks[-1]
    out = _head(chart, height)
    if chart.kind == "stacked_bars":
        out += _legend([name for name, _ in chart.series], 38)
    axis_y = TOP + n * (BAR + GAP)
    for t in ticks:
        x = LEFT + t * scale
        out.append(
            f'<line x1="{x:.2f}" y1="{TOP - 4}" x2="{x:.2f}" y2="{axis_y}" stroke="#ddd"/>'
            f'<text x="{x:.2f}" y="{axis_y + 16}" text-anchor="middle">{_fmt(t)}</text>'
        )
    out.append(
        f'<text class="axis-label" x="{LEFT + plot_w / 2:.2f}" y="{axis_y + 36}" '
        f'text-anchor="middle">{escape(chart.unit)}</text>'
    )
    for i, category in enumerate(chart.categories):
        y = TOP + i * (BAR + GAP)
        label = category if len(category) <= 28 else category[:27] + "…"
        out.append(
            f'<text x="{LEFT - 6}" y="{y + BAR - 5}" text-anchor="end">'
            f"<title>{escape(category)}</title>{escape(label)}</text>"
        )
        x = float(LEFT)
        for j, (name, values) in enumerate(chart.series):
            value = values[i] or 0.0
            if value <= 0:
                continue
            w = value * scale
            colour = colour_for(name if chart.kind == "stacked_bars" else category, j or i)
            out.append(
                f'<rect class="bar" x="{x:.3f}" y="{y}" width="{w:.3f}" height="{BAR}" '
                f'fill="{colour}" data-category="{escape(category)}" '
                f'data-series="{escape(name)}" data-value="{value!r}">'
                f"<title>{escape(category)} – {escape(name)}: {_fmt(value)} "
                f"{escape(chart.unit)}</title></rect>"
            )
            x += w
    out.append("</svg>")
    return "\n".join(out)


def _plot_frame(
    out: list[str],
    top: int,
    plot_h: int,
    y_ticks: list[float],
    y_label: str,
    fmt: str,
    right: float = WIDTH - RIGHT,
) -> float:
    """Horizontal grid lines (to ``right``) and y tick labels; returns pixels per y unit."""
    scale = plot_h / y_ticks[-1]
    for t in y_ticks:
        y = top + plot_h - t * scale
        text = f"{t:.0%}" if fmt == "percent" else _fmt(t)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.2f}" x2="{right}" y2="{y:.2f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.2f}" text-anchor="end">{text}</text>'
        )
    out.append(
        f'<text class="axis-label" x="{LEFT - 48}" y="{top + plot_h / 2:.2f}" '
        f'text-anchor="middle" transform="rotate(-90 {LEFT - 48} {top + plot_h / 2:.2f})">'
        f"{escape(y_label)}</text>"
    )
    return scale


def _lines(chart: Chart) -> str:
    plot_h, plot_w = 220, WIDTH - LEFT - RIGHT
    height = TOP + plot_h + BOTTOM
    out = _head(chart, height)
    out += _legend([name for name, _ in chart.series], 38)
    percent = chart.unit.startswith("%") or chart.unit.startswith("share")
    top_value = max((v for _, vs in chart.series for v in vs if v is not None), default=0.0)
    if percent and top_value <= 1:
        ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    else:
        ticks = _zero_based_ticks(top_value)
    scale = _plot_frame(out, TOP, plot_h, ticks, chart.unit, "percent" if percent else "")
    n = len(chart.categories)
    step = plot_w / max(n - 1, 1)
    base = TOP + plot_h
    for i, category in enumerate(chart.categories):
        x = LEFT + i * step if n > 1 else LEFT + plot_w / 2
        out.append(
            f'<text x="{x:.2f}" y="{base + 16}" text-anchor="middle">{escape(category)}</text>'
        )
    for j, (name, values) in enumerate(chart.series):
        colour = colour_for(name, j)
        points: list[str] = []
        for i, value in enumerate(values):
            if value is None:
                continue
            x = LEFT + i * step if n > 1 else LEFT + plot_w / 2
            y = base - value * scale
            points.append(f"{x:.3f},{y:.3f}")
            out.append(
                f'<circle class="point" cx="{x:.3f}" cy="{y:.3f}" r="3.5" fill="{colour}" '
                f'data-category="{escape(chart.categories[i])}" data-series="{escape(name)}" '
                f'data-value="{value!r}"><title>{escape(chart.categories[i])} – '
                f"{escape(name)}: {f'{value:.1%}' if percent else _fmt(value)}</title></circle>"
            )
        if len(points) > 1:
            out.append(
                f'<polyline class="line" points="{" ".join(points)}" fill="none" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
    out.append("</svg>")
    return "\n".join(out)


def _lorenz(chart: Chart) -> str:
    side = 260
    height = TOP + side + BOTTOM
    out = _head(chart, height)
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    scale = _plot_frame(
        out, TOP, side, ticks, "cumulative share of funding", "percent", right=LEFT + side
    )
    base = TOP + side
    for t in ticks:
        x = LEFT + t * scale
        out.append(f'<text x="{x:.2f}" y="{base + 16}" text-anchor="middle">{t:.0%}</text>')
    out.append(
        f'<text class="axis-label" x="{LEFT + side / 2}" y="{base + 36}" text-anchor="middle">'
        f"{escape(chart.unit)}</text>"
    )
    out.append(
        f'<line class="equality" x1="{LEFT}" y1="{base}" x2="{LEFT + side}" y2="{TOP}" '
        f'stroke="{GREY}" stroke-dasharray="4 3"><title>equal funding per head</title></line>'
    )
    xs, ys = chart.series[0][1], chart.series[1][1]
    points = []
    for i, (x_share, y_share) in enumerate(zip(xs, ys, strict=True)):
        if x_share is None or y_share is None:
            continue
        x, y = x_share, y_share
        px, py = LEFT + x * scale, base - y * scale
        points.append(f"{px:.3f},{py:.3f}")
        out.append(
            f'<circle class="point" cx="{px:.3f}" cy="{py:.3f}" r="2.5" fill="{PALETTE[0]}" '
            f'data-category="{escape(chart.categories[i])}" data-x="{x!r}" data-value="{y!r}">'
            f"<title>{escape(chart.categories[i])}: {x:.0%} of people, {y:.0%} of funding"
            "</title></circle>"
        )
    out.append(
        f'<polyline class="line" points="{" ".join(points)}" fill="none" '
        f'stroke="{PALETTE[0]}" stroke-width="2"/>'
    )
    out.append("</svg>")
    return "\n".join(out)


def render_svg(chart: Chart) -> str:
    """The chart as a standalone ``<svg>`` element (valid XML)."""
    if chart.kind in ("stacked_bars", "bars"):
        return _bars(chart)
    if chart.kind == "lines":
        return _lines(chart)
    return _lorenz(chart)
