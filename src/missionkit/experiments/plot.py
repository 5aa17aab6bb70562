"""The event-study plot as a self-contained SVG string (no plotting library needed).

Coefficients by period relative to adoption with their confidence intervals, the reference
period drawn at 0 as a hollow point, a zero line, and a dashed line where treatment starts.
Pre-treatment points (the pre-trend check) and post-treatment points (the effects) get
different colours and shapes are labelled in the text alternative, so the chart reads
without colour.
"""

from __future__ import annotations

import math
from html import escape

from missionkit.experiments.did import EventStudyResult

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 36, 48
PRE, POST = "#6b7a8f", "#1f4e99"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    span = high - low or abs(high) or 1.0
    raw = span / count
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.floor(low / step) * step
    return [first + i * step for i in range(math.ceil((high - first) / step) + 1)]


def event_study_svg(result: EventStudyResult, *, title: str = "Event study") -> str:
    """An SVG of the event-study coefficients and their intervals."""
    points = [(e.event_time, e.estimate.estimate, e.estimate.ci_low, e.estimate.ci_high)
              for e in result.effects]  # fmt: skip
    points.append((result.reference, 0.0, 0.0, 0.0))
    points.sort()
    xs = [p[0] for p in points]
    lows = [p[2] for p in points if math.isfinite(p[2])]
    highs = [p[3] for p in points if math.isfinite(p[3])]
    ticks = _ticks(min([*lows, 0.0]), max([*highs, 0.0]))
    y_min, y_max = ticks[0], ticks[-1]
    x_min, x_max = min(xs) - 0.5, max(xs) + 0.5
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x_min) / (x_max - x_min) * plot_w

    def sy(y: float) -> float:
        return TOP + (y_max - y) / ((y_max - y_min) or 1.0) * plot_h

    desc = "; ".join(
        ("reference " if e == result.reference else "")
        + f"event time {e}: {b:.3g} [{lo:.3g}, {hi:.3g}]"
        for e, b, lo, hi in points
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="es-title es-desc">',
        f'<title id="es-title">{escape(title)}</title>',
        f'<desc id="es-desc">Effect by period relative to adoption, with '
        f"{escape('95%')} intervals: {escape(desc)}</desc>",
        f'<text x="{LEFT}" y="22" font-size="14" font-family="sans-serif">{escape(title)}</text>',
    ]
    for t in ticks:
        y = sy(t)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e3e6ea" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'font-family="sans-serif">{t:.3g}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" '
        f'stroke="#333" class="zero"/>'
    )
    start = sx(-0.5)
    parts.append(
        f'<line x1="{start:.1f}" x2="{start:.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
        f'stroke="#999" stroke-dasharray="4 3" class="adoption"/>'
    )
    for e, b, lo, hi in points:
        x, colour = sx(e), (PRE if e < 0 else POST)
        if e == result.reference:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{sy(0):.1f}" r="4" fill="white" stroke="{colour}" '
                f'class="reference" data-event-time="{e}"/>'
            )
            continue
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{sy(lo):.1f}" y2="{sy(hi):.1f}" '
            f'stroke="{colour}" stroke-width="2" class="interval"/>'
            f'<circle cx="{x:.1f}" cy="{sy(b):.1f}" r="4" fill="{colour}" '
            f'class="{"pre" if e < 0 else "post"}" data-event-time="{e}"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11" font-family="sans-serif">{e}</text>'
        )
    parts.append(
        f'<text x="{sx(result.reference):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
        f'font-size="11" font-family="sans-serif">{result.reference}</text>'
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="12" '
        f'font-family="sans-serif">periods since adoption (reference {result.reference})</text>'
        "</svg>"
    )
    return "".join(parts)
