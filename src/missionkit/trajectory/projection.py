"""Projection: forecast the value at the deadline, with a prediction interval and the
probability of reaching the target.

In the spirit of the Anticipated Progress Index of the UN regional commissions (UNESCAP,
applied by UNECE, UNECA, ECLAC, ESCWA): "The anticipated values for 2030 are estimated ...
The time-weighted linear regression used for the estimation gives more importance to more
recent data" (UNECE SDG report 2022, technical notes, https://w3.unece.org/sdg2022/
technical-notes.html; ESCAP working paper SD/WP/04, March 2017, "Weighted extrapolation
method"). The weighting below is missionkit's own, not ESCAP's published weights.

Model (times ``t_i`` in years, from the base year on):

- weights ``w_i = 0.5 ** ((t_latest - t_i) / h)``, half-life ``h`` years (default 10;
  ``None`` gives ordinary least squares), so the latest point weighs 1;
- ``linear``: ``y = a + b (t - t_bar) + e`` with ``Var(e_i) = sigma^2 / w_i``;
  ``loglinear``: the same on ``z = ln|y|`` (constant growth rate; values must be non-zero
  and of one sign, as must the target);
- weighted least squares: ``t_bar = sum(w t) / W``, ``S_tt = sum(w (t - t_bar)^2)``,
  ``b = sum(w (t - t_bar)(y - y_bar)) / S_tt``, ``s^2 = sum(w r^2) / (n - 2)``;
- at the target year ``T``: ``y_hat = y_bar + b (T - t_bar)``, standard error of a new
  observation (weight 1) ``se = s * sqrt(1 + 1/W + (T - t_bar)^2 / S_tt)``, interval
  ``y_hat -/+ t_{n-2, (1+level)/2} * se`` (back-transformed for ``loglinear``);
- probability of reaching the target: ``P = F_{n-2}(d (y_hat - y_T) / se)`` (``F`` the
  Student t distribution function; ``d`` the desired direction on the model's scale);
- ratio of projected to required progress ``R = d (y_hat - y0) / |y_T - y0|``, read like
  the SDSN arrows: ``R >= 1`` on track (the point forecast reaches the target, i.e.
  ``P >= 0.5``), ``0.5 <= R < 1`` acceleration needed, ``0 <= R < 0.5`` limited progress,
  ``R < 0`` reverse trend; score ``clip(5R - 2.5, -5, 5)``.

Too few points: fewer than 3 observations from the base year on cannot give a trend *and*
its uncertainty (``n - 2`` degrees of freedom), and are refused; with 3 or 4 the interval
is honest but very wide. A natural ``limit`` caps the forecast and its interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

from missionkit.trajectory.sdsn import linear_score
from missionkit.trajectory.series import Refusal, format_time, prepare
from missionkit.trajectory.student import t_cdf, t_quantile
from missionkit.trajectory.types import (
    Assessment,
    Forecast,
    IndicatorSeries,
    ProjectionCategory,
    ProjectionModel,
    Status,
)

MIN_POINTS: Final = 3
DEFAULT_HALF_LIFE: Final = 10.0
DEFAULT_LEVEL: Final = 0.9
THRESHOLDS: Final = (1.0, 0.5, 0.0)

STATUS_OF: Final[dict[ProjectionCategory, Status]] = {
    "target_achieved": "achieved",
    "on_track": "on_track",
    "acceleration_needed": "needs_acceleration",
    "limited_progress": "limited_progress",
    "reverse_trend": "wrong_direction",
    "insufficient_data": "insufficient_data",
}


@dataclass(frozen=True, slots=True)
class TrendFit:
    """A weighted least-squares line: ``y = level + slope * (t - t_bar)``."""

    level: float
    slope: float
    t_bar: float
    weight_sum: float
    s_tt: float
    s2: float
    df: int

    def predict(self, t: float) -> tuple[float, float]:
        """Point forecast and standard error of a new observation (weight 1) at ``t``."""
        dt = t - self.t_bar
        se2 = self.s2 * (1.0 + 1.0 / self.weight_sum + dt * dt / self.s_tt)
        return self.level + self.slope * dt, math.sqrt(se2)


def weights(times: tuple[float, ...], half_life: float | None) -> list[float]:
    """Time weights halving every ``half_life`` years back from the latest point."""
    if half_life is None:
        return [1.0] * len(times)
    last = times[-1]
    return [0.5 ** ((last - t) / half_life) for t in times]


def fit_trend(times: tuple[float, ...], ys: tuple[float, ...], w: list[float]) -> TrendFit:
    """Weighted least squares of ``ys`` on ``times`` (at least 3 distinct times)."""
    sw = sum(w)
    t_bar = sum(wi * t for wi, t in zip(w, times, strict=True)) / sw
    y_bar = sum(wi * y for wi, y in zip(w, ys, strict=True)) / sw
    s_tt = sum(wi * (t - t_bar) ** 2 for wi, t in zip(w, times, strict=True))
    s_ty = sum(wi * (t - t_bar) * (y - y_bar) for wi, t, y in zip(w, times, ys, strict=True))
    slope = s_ty / s_tt
    rss = sum(
        wi * (y - y_bar - slope * (t - t_bar)) ** 2 for wi, t, y in zip(w, times, ys, strict=True)
    )
    df = len(times) - 2
    return TrendFit(y_bar, slope, t_bar, sw, s_tt, rss / df, df)


def category_of(ratio: float) -> ProjectionCategory:
    """Projected over required progress, read against 1, 0.5 and 0."""
    if ratio >= THRESHOLDS[0]:
        return "on_track"
    if ratio >= THRESHOLDS[1]:
        return "acceleration_needed"
    if ratio >= THRESHOLDS[2]:
        return "limited_progress"
    return "reverse_trend"


def reach_probability(gap: float, se: float, df: int) -> float:
    """P(value at the deadline meets the target) given ``gap = d (y_hat - y_T)``."""
    if se == 0:
        return 1.0 if gap >= 0 else 0.0
    return t_cdf(gap / se, df)


def assess_projection(
    series: IndicatorSeries,
    model: ProjectionModel = "linear",
    half_life: float | None = DEFAULT_HALF_LIFE,
    level: float = DEFAULT_LEVEL,
) -> Assessment:
    """Forecast at the target year and classify the projected progress (module docstring)."""
    if model not in ("linear", "loglinear"):
        raise ValueError(f"model must be 'linear' or 'loglinear', not {model!r}")
    if half_life is not None and not half_life > 0:
        raise ValueError(f"half_life must be positive years or None, not {half_life!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1, not {level!r}")
    blank = Assessment.blank("projection", "insufficient_data", series)
    target, deadline = series.target, series.target_year
    if deadline is None:
        return replace(blank, reason="a projection needs a target year to forecast at")
    p = prepare(series, min_points=MIN_POINTS)
    if isinstance(p, Refusal):
        reason = p.reason
        if reason.startswith("too few"):
            reason += " (a trend and its uncertainty need n - 2 >= 1 degrees of freedom)"
        return replace(blank, reason=reason)
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
    times, ys = p.window
    sign = 1
    if model == "loglinear":
        if any(y == 0 for y in ys) or (min(ys) < 0 < max(ys)):
            return replace(
                found,
                reason="a log-linear trend needs non-zero values of one sign; use 'linear'",
            )
        sign = -1 if ys[0] < 0 else 1
        if target is not None and (target == 0 or (target > 0) != (sign > 0)):
            return replace(
                found,
                reason=f"a log-linear trend cannot reach the target {target:g} "
                "(zero or of the other sign); use 'linear'",
            )
        zs = tuple(math.log(abs(y)) for y in ys)
    else:
        zs = ys
    # Times relative to the latest observation keep the sums small and accurate.
    last = times[-1]
    shifted = tuple(t - last for t in times)
    fit = fit_trend(shifted, zs, weights(shifted, half_life))
    z_hat, se = fit.predict(deadline - last)
    q = t_quantile(0.5 + level / 2.0, fit.df)
    if model == "loglinear":
        value = sign * math.exp(z_hat)
        ends = sorted((sign * math.exp(z_hat - q * se), sign * math.exp(z_hat + q * se)))
        low, high = ends[0], ends[1]
    else:
        value, low, high = z_hat, z_hat - q * se, z_hat + q * se
    if series.limit is not None:
        value, low, high = _cap(value, low, high, series.limit, p.y0, d)
        if target is not None and _beyond(target, series.limit, p.y0, d):
            notes.append(f"target {target:g} lies beyond the natural limit {series.limit:g}")
    probability: float | None = None
    if target is not None:
        if model == "loglinear":
            gap = sign * d * (z_hat - math.log(abs(target)))
        else:
            gap = d * (z_hat - target)
        probability = reach_probability(gap, se, fit.df)
        if series.limit is not None and _beyond(target, series.limit, p.y0, d):
            probability = 0.0
    if deadline <= p.ti:
        notes.append(f"the target year {deadline} is not after the latest observation")
    forecast = Forecast(
        year=float(deadline),
        value=value,
        low=low,
        high=high,
        level=level,
        probability=probability,
        model=model,
        n_points=p.count,
        slope=fit.slope,
        half_life=half_life,
    )
    found = replace(found, forecast=forecast)
    if model == "loglinear":
        found = replace(found, cagr_observed=math.exp(fit.slope) - 1.0)
    else:
        found = replace(found, change_observed=fit.slope)
    if target is None:
        return replace(
            found,
            reason="no target: forecast only (a status needs a target)",
            notes=tuple(notes),
        )
    if (p.yi >= target) if d > 0 else (p.yi <= target):
        return replace(
            found,
            category="target_achieved",
            status="achieved",
            score=5.0,
            notes=tuple(notes),
        )
    if deadline <= p.t0:
        return replace(
            found,
            reason=f"target year {deadline} is not after the base year {format_time(p.t0)}",
            notes=tuple(notes),
        )
    span = deadline - p.t0
    if model == "loglinear":
        found = replace(found, cagr_required=(target / p.y0) ** (1.0 / span) - 1.0)
    else:
        found = replace(found, change_required=(target - p.y0) / span)
    if target == p.y0:
        category: ProjectionCategory = "on_track" if d * (value - target) >= 0 else "reverse_trend"
        notes.append("target equals the base value: the ratio is undefined")
        return replace(
            found,
            category=category,
            status=STATUS_OF[category],
            score=5.0 if category == "on_track" else -5.0,
            notes=tuple(notes),
        )
    ratio = d * (value - p.y0) / abs(target - p.y0)
    category = category_of(ratio)
    return replace(
        found,
        category=category,
        status=STATUS_OF[category],
        ratio=ratio,
        score=linear_score(ratio),
        notes=tuple(notes),
    )


def _is_maximum(limit: float, base: float, d: int) -> bool:
    return base < limit or (base == limit and d > 0)


def _cap(
    value: float, low: float, high: float, limit: float, base: float, d: int
) -> tuple[float, float, float]:
    if _is_maximum(limit, base, d):
        return min(value, limit), min(low, limit), min(high, limit)
    return max(value, limit), max(low, limit), max(high, limit)


def _beyond(target: float, limit: float, base: float, d: int) -> bool:
    return target > limit if _is_maximum(limit, base, d) else target < limit
