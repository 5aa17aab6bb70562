"""SDSN Sustainable Development Report (SDR) trend method.

Sources: the SDR "Methods Summary and Data Tables" annex
(https://dashboards.sdgindex.org/chapters/methodology, editions 2019-2025) and the SDG Index
FAQ "How do you estimate trends?" (sdgindex.org/faq; the Africa SDG Index FAQ words it the
same way): "we calculated the linear annual growth rates (i.e. annual percentage
improvements) needed to achieve the goal by 2030 ... which we compared to the average
annual growth rate over the most recent period". The four trend arrows are:

- ↑ on track or maintaining SDG achievement: growing at least at the required rate, or
  already at or beyond the target and staying there;
- ➚ moderately improving: at least 50 % of the required rate, but below it;
- → stagnating: "stagnating or increasing at less than 50 % of required rate";
- ↓ decreasing: moving away from the target.

Formulas here (``d`` = +1 increase / -1 decrease; base ``(t0, y0)``, latest ``(ti, yi)``,
target ``yT`` in year ``tT``):

- ``g_o = (yi - y0) / (ti - t0)``, ``g_r = (yT - y0) / (tT - t0)`` (units per year);
- ``r = d * g_o / |g_r|``; ↑ if ``r >= 1``, ➚ if ``0.5 <= r < 1``, → if ``0 <= r < 0.5``,
  ↓ if ``r < 0``; a latest value at or beyond the target is ↑ and status "achieved".

The SDR computes this on indicator scores normalised to 0-100 between a lower bound and the
green threshold; the ratio ``r`` is unchanged by that linear rescaling, so raw values work.
missionkit adds a score on Open SDG's -5..5 scale for roll-ups, ``clip(5r - 2.5, -5, 5)``,
which puts the SDR thresholds 0, 0.5 and 1 on the band edges -2.5, 0 and 2.5 (this score is
not part of the SDR). The recent period runs from the base year (default: first
observation) to the latest value; a missing base year uses the next available year.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from missionkit.trajectory.series import Refusal, format_time, prepare
from missionkit.trajectory.types import Assessment, IndicatorSeries, SdsnCategory, Status

THRESHOLDS: Final = (1.0, 0.5, 0.0)

STATUS_OF: Final[dict[SdsnCategory, Status]] = {
    "on_track_or_maintaining": "on_track",
    "moderately_improving": "needs_acceleration",
    "stagnating": "limited_progress",
    "decreasing": "wrong_direction",
    "information_unavailable": "insufficient_data",
}


def linear_score(ratio: float) -> float:
    """missionkit's -5..5 score for a ratio read against thresholds 0, 0.5 and 1."""
    return min(max(5.0 * ratio - 2.5, -5.0), 5.0)


def category_of(ratio: float) -> SdsnCategory:
    """The SDR trend arrow for a ratio of observed to required linear growth."""
    if ratio >= THRESHOLDS[0]:
        return "on_track_or_maintaining"
    if ratio >= THRESHOLDS[1]:
        return "moderately_improving"
    if ratio >= THRESHOLDS[2]:
        return "stagnating"
    return "decreasing"


def assess_sdsn(series: IndicatorSeries) -> Assessment:
    """The SDR trend arrow of one series against its target (see the module docstring)."""
    blank = Assessment.blank("sdsn", "information_unavailable", series)
    target, target_year = series.target, series.target_year
    if target is None or target_year is None:
        return replace(blank, reason="the SDSN trend method needs a target and a target year")
    p = prepare(series, min_points=2)
    if isinstance(p, Refusal):
        return replace(blank, reason=p.reason)
    d = 1 if series.direction == "increase" else -1
    found = replace(
        blank,
        base_year=p.t0,
        base_value=p.y0,
        latest_year=p.ti,
        latest_value=p.yi,
        n_points=p.count,
    )
    notes: list[str] = []
    if series.limit is not None:
        notes.append("limit not used by the SDSN trend method")
    observed = (p.yi - p.y0) / (p.ti - p.t0)
    if (p.yi >= target) if d > 0 else (p.yi <= target):
        return replace(
            found,
            category="on_track_or_maintaining",
            status="achieved",
            score=5.0,
            change_observed=observed,
            notes=tuple(notes),
        )
    if p.ti >= target_year:
        notes.append(f"the target year {target_year} has passed without reaching the target")
    if target_year <= p.t0:
        return replace(
            found,
            reason=f"target year {target_year} is not after the base year {format_time(p.t0)}",
            notes=tuple(notes),
        )
    required = (target - p.y0) / (target_year - p.t0)
    if required == 0:  # target equals base value, and the latest value has moved away
        notes.append("target equals the base value: any movement away is decreasing")
        return replace(
            found,
            category="decreasing",
            status="wrong_direction",
            score=-5.0,
            change_observed=observed,
            change_required=required,
            notes=tuple(notes),
        )
    ratio = d * observed / abs(required)
    category = category_of(ratio)
    return replace(
        found,
        category=category,
        status=STATUS_OF[category],
        ratio=ratio,
        score=linear_score(ratio),
        change_observed=observed,
        change_required=required,
        notes=tuple(notes),
    )
