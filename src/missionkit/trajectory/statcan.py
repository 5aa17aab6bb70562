"""Statistics Canada / Open SDG progress measure.

Sources (read, not copied):

- Open SDG documentation, "Progress Measurement Methodology for the Sustainable Development
  Goals", ``docs/progress-methodology.md`` in github.com/open-sdg/open-sdg
  (published at https://open-sdg.readthedocs.io/en/latest/progress-methodology/).
- The reference implementation, ``sdg/ProgressMeasure.py`` in github.com/open-sdg/sdg-build
  (``SeriesProgress``, ``growth_calculation``, ``get_progress_status``,
  ``get_progress_status_from_score``).

Formulas (``d`` = +1 for increase, -1 for decrease; ``s`` = -1 when the base value is
negative, else +1; ``t0``/``y0`` base, ``ti``/``yi`` latest, ``tT``/``yT`` target):

- ``CAGR_o = (yi / y0) ** (1 / (ti - t0)) - 1``; ``CAGR_r = (yT / y0) ** (1 / (tT - t0)) - 1``.
- With a target: ``R = s * d * CAGR_o / |CAGR_r|``; on track ``R >= 0.95``, acceleration
  needed ``0.60 <= R < 0.95``, limited ``0 <= R < 0.60``, deterioration ``R < 0``.
- Without a target: ``P = s * d * CAGR_o`` against ``1.5 % * C``, ``0.5 % * C`` and ``0``,
  where ``C`` is the natural-limit coefficient (``C = 1`` without a limit):
  ``C = 1 - (|y0| / |L|) ** 4.44`` when ``|y0| <= |L|``,
  ``C = 1 - ((2|L| - |y0|) / |L|) ** 4.44`` when ``|L| < |y0| < 2|L|``, else ``C = 1``.
- "Target achieved" is checked first (latest value at or beyond the target) and scores 5.
- Scores (-5..5): with a target ``(R - 0.6) * 5 / 0.7`` above ``R = 0.6`` and
  ``(R - 0.6) * 5 / 1.2`` below, clipped; without a target, the piecewise lines through
  ``(-2 %, -5)``, ``(0, -2.5)``, ``(0.5 % C, 0)``, ``(1.5 % C, 2.5)``, ``(2 % C, 5)``.
- Aggregation: the mean of series scores, read against the bands ``[2.5, 5]``,
  ``[0, 2.5)``, ``[-2.5, 0)``, ``[-5, -2.5)``; "target achieved" only if every series is.

Deliberate differences from sdg-build, each noted on the result when it applies:

- A limit on the far side of the desired direction is ignored (as the documentation says:
  "Only a limit that affects progress in the desired direction is considered"); sdg-build
  only warns and applies it.
- Zero base or target values are replaced by 0.001 with the sign of the series (sdg-build
  always uses +0.001, which makes an all-negative series starting at zero unassessable).
- "Target achieved" compares the latest value with the target as given, not with the 0.001
  substitute.
- Score slopes use the exact fractions of the documented break points (50/7, 30/7, 25/6);
  sdg-build rounds them to 7.1429, 4.2857 and 4.1667 (differences below 1e-4).
- Base year default is the first observation, not 2015: missions start at different dates.
  Pass ``base_year=2015`` (and a 2030 target year) to reproduce an SDG assessment.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from missionkit.trajectory.series import Prepared, Refusal, format_time, prepare
from missionkit.trajectory.types import Assessment, IndicatorSeries, StatcanCategory, Status

ZERO_SUBSTITUTE: Final = 0.001
LIMIT_EXPONENT: Final = 4.44
TARGET_THRESHOLDS: Final = (0.95, 0.60, 0.0)  # high, med, low on R
GROWTH_THRESHOLDS: Final = (0.015, 0.005, 0.0)  # high, med, low on CAGR, before C
SCORE_BANDS: Final = (2.5, 0.0, -2.5)

STATUS_OF: Final[dict[StatcanCategory, Status]] = {
    "target_achieved": "achieved",
    "substantial_progress": "on_track",
    "moderate_progress": "needs_acceleration",
    "limited_progress": "limited_progress",
    "deterioration": "wrong_direction",
    "unable_to_assess": "insufficient_data",
}


def cagr(value: float, base: float, years: float) -> float:
    """Compound annual growth rate from ``base`` to ``value`` over ``years`` (same signs)."""
    return float((value / base) ** (1.0 / years) - 1.0)


def limit_coefficient(base: float, limit: float) -> float:
    """Open SDG's threshold reduction factor ``C`` in [0, 1] for a base value near a limit.

    Works on absolute values, as sdg-build does; ``C = 1`` when both are zero.
    """
    b, lim = abs(base), abs(limit)
    if b >= 2 * lim:
        return 1.0
    if b <= lim:
        return 1.0 - float((b / lim) ** LIMIT_EXPONENT)
    return 1.0 - float(((2 * lim - b) / lim) ** LIMIT_EXPONENT)


def limit_applies(base: float, limit: float, effective_direction: int) -> bool:
    """Whether a limit bounds progress in the desired direction (on absolute values).

    A maximum (``|y0| <= |L|``) matters when the absolute value should grow; a minimum
    (``|y0| >= |L|``) when it should shrink.
    """
    b, lim = abs(base), abs(limit)
    return b <= lim if effective_direction > 0 else b >= lim


def category_of(value: float, high: float, med: float, low: float) -> StatcanCategory:
    """sdg-build ``get_progress_status`` without the "achieved" shortcut."""
    if value >= high:
        return "substantial_progress"
    if value >= med:
        return "moderate_progress"
    if value >= low:
        return "limited_progress"
    return "deterioration"


def score_with_target(ratio: float) -> float:
    """Linear map of R: (-0.6, -5), (0.6, 0), (0.95, 2.5), (1.3, 5), clipped to [-5, 5]."""
    if ratio >= TARGET_THRESHOLDS[1]:
        return min((ratio - 0.6) * 50.0 / 7.0, 5.0)
    return max(ratio * 25.0 / 6.0 - 2.5, -5.0)


def score_without_target(growth: float, coefficient: float) -> float:
    """Piecewise map of the direction-adjusted CAGR (thresholds above 0 scaled by ``C``)."""
    if growth < 0:
        return max(125.0 * growth - 2.5, -5.0)
    if coefficient == 0:  # base sits on the limit and is held there or beyond
        return 5.0
    x = growth / coefficient
    if x >= GROWTH_THRESHOLDS[0]:
        return min(500.0 * x - 5.0, 5.0)
    if x >= GROWTH_THRESHOLDS[1]:
        return 250.0 * x - 1.25
    return 500.0 * x - 2.5


def category_from_score(score: float | None, all_achieved: bool = False) -> StatcanCategory:
    """sdg-build ``get_progress_status_from_score``: the category of an aggregate score."""
    if all_achieved:
        return "target_achieved"
    if score is None:
        return "unable_to_assess"
    if score >= SCORE_BANDS[0]:
        return "substantial_progress"
    if score >= SCORE_BANDS[1]:
        return "moderate_progress"
    if score >= SCORE_BANDS[2]:
        return "limited_progress"
    return "deterioration"


def aggregate_scores(scores: list[float | None], achieved: list[bool]) -> StatcanCategory:
    """Open SDG's aggregate of several series of one indicator: mean score, and "target
    achieved" only if every scored series achieved its target."""
    pairs = [(s, a) for s, a in zip(scores, achieved, strict=True) if s is not None]
    if not pairs:
        return "unable_to_assess"
    mean = sum(s for s, _ in pairs) / len(pairs)
    return category_from_score(mean, all(a for _, a in pairs))


def _signed_substitute(reference: float) -> float:
    return -ZERO_SUBSTITUTE if reference < 0 else ZERO_SUBSTITUTE


def is_achieved(latest: float, target: float, direction: int) -> bool:
    """Latest value at or beyond the target in the desired direction."""
    return latest >= target if direction > 0 else latest <= target


def assess_statcan(series: IndicatorSeries) -> Assessment:
    """The Open SDG progress measure of one series (see the module docstring)."""
    blank = Assessment.blank("statcan", "unable_to_assess", series)
    prepared = prepare(series, min_points=2)
    if isinstance(prepared, Refusal):
        return replace(blank, reason=prepared.reason)
    return _assess(series, prepared, blank)


def _assess(series: IndicatorSeries, p: Prepared, blank: Assessment) -> Assessment:
    d = 1 if series.direction == "increase" else -1
    notes: list[str] = []
    y0, yi, t0, ti = p.y0, p.yi, p.t0, p.ti
    found = replace(
        blank, base_year=t0, base_value=y0, latest_year=ti, latest_value=yi, n_points=p.count
    )

    def refuse(reason: str) -> Assessment:
        return replace(found, reason=reason, notes=tuple(notes))

    def answer(
        category: StatcanCategory,
        score: float,
        *,
        ratio: float | None = None,
        cagr_observed: float | None = None,
        cagr_required: float | None = None,
        coefficient: float | None = None,
    ) -> Assessment:
        return replace(
            found,
            category=category,
            status=STATUS_OF[category],
            score=score,
            ratio=ratio,
            cagr_observed=cagr_observed,
            cagr_required=cagr_required,
            coefficient=coefficient,
            notes=tuple(notes),
        )

    target, target_year = series.target, series.target_year
    achieved = target is not None and is_achieved(yi, target, d)
    if y0 == 0:
        y0 = _signed_substitute(yi)
        notes.append(f"base value 0 replaced by {y0:g} (exponential model)")
    same_sign = not ((y0 > 0 and yi < 0) or (y0 < 0 and yi > 0))
    growth = cagr(yi, y0, ti - t0) if same_sign else None
    if achieved:  # checked first, whatever the trend
        return answer("target_achieved", 5.0, cagr_observed=growth)
    if growth is None:
        return refuse(
            f"base value ({p.y0:g}) and latest value ({yi:g}) must both be positive or both "
            "negative for a growth rate; transform the series first"
        )
    sign = -1 if y0 < 0 else 1
    if target is not None and target_year is not None:
        if series.limit is not None:
            notes.append("limit ignored: a target is given (Open SDG applies limits without one)")
        if ti >= target_year:
            notes.append(f"the target year {target_year} has passed without reaching the target")
        if target_year <= t0:
            return refuse(f"target year {target_year} is not after the base year {format_time(t0)}")
        t_value = target
        if t_value == 0:
            t_value = _signed_substitute(y0)
            notes.append(f"target 0 replaced by {t_value:g} (exponential model)")
        if (t_value > 0) != (y0 > 0):
            return refuse(
                f"target ({target:g}) and base value ({p.y0:g}) have opposite signs; "
                "a growth rate cannot cross zero"
            )
        required = cagr(t_value, y0, target_year - t0)
        if required == 0:  # target equals the base value and the latest has moved away
            notes.append("target equals the base value: any movement away is deterioration")
            return answer("deterioration", -5.0, cagr_observed=growth, cagr_required=required)
        ratio = sign * d * growth / abs(required)
        return answer(
            category_of(ratio, *TARGET_THRESHOLDS),
            score_with_target(ratio),
            ratio=ratio,
            cagr_observed=growth,
            cagr_required=required,
        )

    coefficient: float | None = None
    if series.limit is not None:
        if series.limit != 0 and (series.limit > 0) != (y0 > 0):
            return refuse(
                f"limit ({series.limit:g}) and values (base {p.y0:g}) have opposite signs"
            )
        coefficient = 1.0
        if limit_applies(y0, series.limit, sign * d):
            coefficient = limit_coefficient(y0, series.limit)
        else:
            notes.append(
                f"limit {series.limit:g} ignored: it does not bound progress in the "
                "desired direction"
            )
    c = 1.0 if coefficient is None else coefficient
    progress = sign * d * growth
    high, med, low = (th * c for th in GROWTH_THRESHOLDS)
    return answer(
        category_of(progress, high, med, low),
        score_without_target(progress, c),
        cagr_observed=growth,
        coefficient=coefficient,
    )
