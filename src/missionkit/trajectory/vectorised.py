"""The three methods over many series at once, with numpy.

Same formulas, thresholds and refusal rules as ``statcan.py``, ``sdsn.py`` and
``projection.py`` (the tests check that both paths agree), laid out for arrays: the series
share one time grid (columns), missing values are NaN, and per-series settings are arrays
(NaN where absent). Refusals come back as codes into ``REASONS``, statuses as codes into
``STATUS_ORDER`` and categories as codes into the method's category tuple. Work proceeds in
chunks of rows so memory stays bounded for millions of series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from missionkit.trajectory import projection as proj
from missionkit.trajectory import statcan as sc
from missionkit.trajectory.series import to_time
from missionkit.trajectory.student import t_cdf_array, t_quantile
from missionkit.trajectory.types import (
    PROJECTION_CATEGORIES,
    SDSN_CATEGORIES,
    STATCAN_CATEGORIES,
    STATUS_ORDER,
    IndicatorSeries,
    Method,
    ProjectionModel,
    Status,
)

F64 = NDArray[np.float64]
I8 = NDArray[np.int8]

REASONS: Final[tuple[str, ...]] = (
    "",
    "no observations",
    "non-finite value",
    "no observation in or after the base year",
    "too few observations from the base year on",
    "base value and latest value have opposite signs",
    "target year is not after the base year",
    "target and base value have opposite signs",
    "limit and values have opposite signs",
    "the method needs a target and a target year",
    "a projection needs a target year to forecast at",
    "a log-linear trend needs non-zero values of one sign",
    "a log-linear trend cannot reach a zero target or one of the other sign",
    "no target: forecast only",
)
_R_NO_OBS, _R_INF, _R_BASE, _R_FEW, _R_SIGN, _R_TYEAR, _R_TSIGN, _R_LSIGN = range(1, 9)
_R_NEEDS_TARGET, _R_NEEDS_YEAR, _R_LOG_VALUES, _R_LOG_TARGET, _R_NO_TARGET = range(9, 14)

CATEGORIES: Final[dict[Method, tuple[str, ...]]] = {
    "statcan": STATCAN_CATEGORIES,
    "sdsn": SDSN_CATEGORIES,
    "projection": PROJECTION_CATEGORIES,
}
_STATUS: Final[dict[Status, int]] = {s: i for i, s in enumerate(STATUS_ORDER)}
DEFAULT_CHUNK: Final = 1 << 17


@dataclass(frozen=True)
class SeriesBatch:
    """Many series on one time grid.

    ``years``: shape ``(m,)``, strictly increasing (years, or fractional years for dates);
    ``values``: ``(n, m)``, NaN where missing; ``direction``: ``(n,)`` of +1 (increase) or
    -1 (decrease); ``target``, ``target_year``, ``base_year``, ``limit``: ``(n,)``, NaN
    where absent (a NaN base year means "first observation").
    """

    years: F64
    values: F64
    direction: I8
    target: F64
    target_year: F64
    base_year: F64
    limit: F64

    @property
    def size(self) -> int:
        return int(self.values.shape[0])

    @classmethod
    def build(
        cls,
        years: ArrayLike,
        values: ArrayLike,
        direction: ArrayLike,
        target: ArrayLike = math.nan,
        target_year: ArrayLike = math.nan,
        base_year: ArrayLike = math.nan,
        limit: ArrayLike = math.nan,
    ) -> SeriesBatch:
        """Validate shapes and broadcast scalar settings to every series."""
        y = np.asarray(years, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        if y.ndim != 1 or y.size == 0:
            raise ValueError("years must be a non-empty one-dimensional array")
        if v.ndim != 2 or v.shape[1] != y.shape[0]:
            raise ValueError(f"values must be (n, {y.shape[0]}) for {y.shape[0]} years")
        if y.size > 1 and not bool(np.all(np.diff(y) > 0)):
            raise ValueError("years must be strictly increasing")
        n = v.shape[0]

        def col(a: ArrayLike) -> F64:
            out = np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))
            return np.ascontiguousarray(out)

        d = np.broadcast_to(np.asarray(direction), (n,)).astype(np.int8)
        if not bool(np.all((d == 1) | (d == -1))):
            raise ValueError("direction must be +1 (increase) or -1 (decrease)")
        t, ty = col(target), col(target_year)
        if bool(np.any(~np.isnan(t) & np.isnan(ty))):
            raise ValueError("a target needs a target year")
        return cls(y, v, d, t, ty, col(base_year), col(limit))

    @classmethod
    def from_series(cls, many: Sequence[IndicatorSeries]) -> SeriesBatch:
        """Lay ``IndicatorSeries`` out on the union of their times (for tests and small n)."""
        grid = sorted({to_time(w) for s in many for w, _ in s.points})
        col_of = {t: j for j, t in enumerate(grid)}
        values = np.full((len(many), len(grid)), np.nan)
        for i, s in enumerate(many):
            seen: set[float] = set()
            for w, v in s.points:
                t = to_time(w)
                if t in seen:
                    raise ValueError(f"series {i} ({s.id or 'no id'}): duplicate time {w}")
                seen.add(t)
                values[i, col_of[t]] = np.nan if v is None else v

        def opt(x: float | None) -> float:
            return math.nan if x is None else float(x)

        return cls.build(
            np.array(grid, dtype=np.float64),
            values,
            [1 if s.direction == "increase" else -1 for s in many],
            [opt(s.target) for s in many],
            [opt(s.target_year) for s in many],
            [opt(s.base_year) for s in many],
            [opt(s.limit) for s in many],
        )

    def rows(self, start: int, stop: int) -> SeriesBatch:
        return SeriesBatch(
            self.years,
            self.values[start:stop],
            self.direction[start:stop],
            self.target[start:stop],
            self.target_year[start:stop],
            self.base_year[start:stop],
            self.limit[start:stop],
        )


@dataclass(frozen=True)
class BatchResult:
    """Codes and numbers per series; NaN where a number is not defined for that series."""

    method: Method
    status: I8
    category: I8
    reason: I8
    ratio: F64
    score: F64
    cagr_observed: F64
    cagr_required: F64
    change_observed: F64
    change_required: F64
    coefficient: F64
    forecast: F64
    forecast_low: F64
    forecast_high: F64
    probability: F64

    @property
    def categories(self) -> tuple[str, ...]:
        return CATEGORIES[self.method]

    def status_names(self) -> list[str]:
        return [STATUS_ORDER[i] for i in self.status.tolist()]

    def category_names(self) -> list[str]:
        names = self.categories
        return [names[i] for i in self.category.tolist()]

    def reason_texts(self) -> list[str]:
        return [REASONS[i] for i in self.reason.tolist()]


_NUMBERS: Final = (
    "ratio",
    "score",
    "cagr_observed",
    "cagr_required",
    "change_observed",
    "change_required",
    "coefficient",
    "forecast",
    "forecast_low",
    "forecast_high",
    "probability",
)


def assess_batch(
    batch: SeriesBatch,
    method: Method = "statcan",
    *,
    model: ProjectionModel = "linear",
    half_life: float | None = proj.DEFAULT_HALF_LIFE,
    level: float = proj.DEFAULT_LEVEL,
    chunk: int = DEFAULT_CHUNK,
) -> BatchResult:
    """Assess every series of ``batch`` with one method (default ``statcan``)."""
    if method not in CATEGORIES:
        raise ValueError(f"method must be one of {', '.join(CATEGORIES)}, not {method!r}")
    parts: list[dict[str, NDArray[np.generic]]] = []
    for start in range(0, max(batch.size, 1), chunk):
        b = batch.rows(start, start + chunk)
        with np.errstate(all="ignore"):
            if method == "statcan":
                parts.append(_statcan(b))
            elif method == "sdsn":
                parts.append(_sdsn(b))
            else:
                parts.append(_projection(b, model, half_life, level))
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return BatchResult(
        method,
        cat["status"].astype(np.int8),
        cat["category"].astype(np.int8),
        cat["reason"].astype(np.int8),
        *(cat[k].astype(np.float64) for k in _NUMBERS),
    )


@dataclass(frozen=True)
class _Window:
    reason: I8
    y0: F64
    yi: F64
    t0: F64
    ti: F64
    mask: NDArray[np.bool_]
    count: NDArray[np.int64]


def _window(b: SeriesBatch, min_points: int) -> _Window:
    """Vectorised ``series.prepare``: base (first at/after base year) and latest points."""
    v = b.values
    n, m = v.shape
    present = ~np.isnan(v)
    base_t = np.where(np.isnan(b.base_year), -np.inf, b.base_year)
    mask = present & (b.years[None, :] >= base_t[:, None])
    count = mask.sum(axis=1)
    rows = np.arange(n)
    i0 = mask.argmax(axis=1)
    il = m - 1 - mask[:, ::-1].argmax(axis=1)
    reason = np.select(
        [~present.any(axis=1), np.isinf(v).any(axis=1), count == 0, count < min_points],
        [_R_NO_OBS, _R_INF, _R_BASE, _R_FEW],
        0,
    ).astype(np.int8)
    return _Window(reason, v[rows, i0], v[rows, il], b.years[i0], b.years[il], mask, count)


def _empty(n: int) -> dict[str, NDArray[np.generic]]:
    out: dict[str, NDArray[np.generic]] = {k: np.full(n, np.nan) for k in _NUMBERS}
    out["reason"] = np.zeros(n, dtype=np.int8)
    return out


def _meets(latest: F64, target: F64, d: I8) -> NDArray[np.bool_]:
    return np.where(d > 0, latest >= target, latest <= target)


def _statcan(b: SeriesBatch) -> dict[str, NDArray[np.generic]]:
    w = _window(b, 2)
    n = b.size
    out = _empty(n)
    d = b.direction.astype(np.float64)
    has_target = ~np.isnan(b.target)
    achieved = (w.reason == 0) & has_target & _meets(w.yi, b.target, b.direction)
    sub = sc.ZERO_SUBSTITUTE
    y0 = np.where(w.y0 == 0, np.where(w.yi < 0, -sub, sub), w.y0)
    same_sign = ~(((y0 > 0) & (w.yi < 0)) | ((y0 < 0) & (w.yi > 0)))
    growth = np.power(w.yi / y0, 1.0 / (w.ti - w.t0)) - 1.0
    sign = np.where(y0 < 0, -1.0, 1.0)
    # with a target
    tv = np.where(b.target == 0, np.where(y0 < 0, -sub, sub), b.target)
    required = np.power(tv / y0, 1.0 / (b.target_year - w.t0)) - 1.0
    ratio = sign * d * growth / np.abs(required)
    high, med, low = sc.TARGET_THRESHOLDS
    cat_t = np.select([ratio >= high, ratio >= med, ratio >= low], [1, 2, 3], 4)
    score_t = np.where(
        ratio >= med,
        np.minimum((ratio - 0.6) * 50.0 / 7.0, 5.0),
        np.maximum(ratio * 25.0 / 6.0 - 2.5, -5.0),
    )
    # without a target
    has_limit = ~np.isnan(b.limit)
    bad_limit = has_limit & (b.limit != 0) & ((b.limit > 0) != (y0 > 0))
    ab, al = np.abs(y0), np.abs(b.limit)
    eff = sign * d
    applies = has_limit & np.where(eff > 0, ab <= al, ab >= al)
    formula = np.where(
        ab >= 2 * al,
        1.0,
        np.where(
            ab <= al,
            1.0 - np.power(ab / al, sc.LIMIT_EXPONENT),
            1.0 - np.power((2 * al - ab) / al, sc.LIMIT_EXPONENT),
        ),
    )
    coeff = np.where(applies, formula, 1.0)
    progress = sign * d * growth
    gh, gm, gl = (th * coeff for th in sc.GROWTH_THRESHOLDS)
    cat_n = np.select([progress >= gh, progress >= gm, progress >= gl], [1, 2, 3], 4)
    x = progress / coeff
    score_n = np.select(
        [progress < 0, coeff == 0, x >= sc.GROWTH_THRESHOLDS[0], x >= sc.GROWTH_THRESHOLDS[1]],
        [
            np.maximum(125.0 * progress - 2.5, -5.0),
            5.0,
            np.minimum(500.0 * x - 5.0, 5.0),
            250.0 * x - 1.25,
        ],
        500.0 * x - 2.5,
    )
    ok = w.reason == 0
    refuse_sign = ok & ~achieved & ~same_sign
    live = ok & ~achieved & same_sign
    t_live = live & has_target
    refuse_tyear = t_live & ~(b.target_year > w.t0)
    refuse_tsign = t_live & ~refuse_tyear & ((tv > 0) != (y0 > 0))
    t_ok = t_live & ~refuse_tyear & ~refuse_tsign
    zero_req = t_ok & (required == 0)
    t_ratio = t_ok & ~zero_req
    n_live = live & ~has_target
    refuse_limit = n_live & bad_limit
    n_ok = n_live & ~bad_limit
    reason = np.select(
        [~ok, refuse_sign, refuse_tyear, refuse_tsign, refuse_limit],
        [w.reason, _R_SIGN, _R_TYEAR, _R_TSIGN, _R_LSIGN],
        0,
    )
    out["reason"] = reason.astype(np.int8)
    category = np.select([achieved, zero_req, t_ratio, n_ok], [0, 4, cat_t, cat_n], 5)
    out["category"] = category
    out["status"] = category  # statcan categories line up with STATUS_ORDER
    out["score"] = np.select(
        [achieved, zero_req, t_ratio, n_ok], [5.0, -5.0, score_t, score_n], np.nan
    )
    out["ratio"] = np.where(t_ratio, ratio, np.nan)
    out["cagr_observed"] = np.where(
        (achieved | live) & same_sign & ~refuse_tyear & ~refuse_tsign & ~refuse_limit,
        growth,
        np.nan,
    )
    out["cagr_required"] = np.where(t_ok, required, np.nan)
    out["coefficient"] = np.where(n_ok & has_limit, coeff, np.nan)
    return out


def _sdsn(b: SeriesBatch) -> dict[str, NDArray[np.generic]]:
    w = _window(b, 2)
    out = _empty(b.size)
    d = b.direction.astype(np.float64)
    no_target = np.isnan(b.target) | np.isnan(b.target_year)
    base_reason = np.where(no_target, _R_NEEDS_TARGET, w.reason)
    ok = base_reason == 0
    observed = (w.yi - w.y0) / (w.ti - w.t0)
    achieved = ok & _meets(w.yi, b.target, b.direction)
    live = ok & ~achieved
    refuse_tyear = live & ~(b.target_year > w.t0)
    required = (b.target - w.y0) / (b.target_year - w.t0)
    zero_req = live & ~refuse_tyear & (required == 0)
    r_ok = live & ~refuse_tyear & ~zero_req
    ratio = d * observed / np.abs(required)
    th = (1.0, 0.5, 0.0)
    cat = np.select([ratio >= th[0], ratio >= th[1], ratio >= th[2]], [0, 1, 2], 3)
    out["reason"] = np.select([~ok, refuse_tyear], [base_reason, _R_TYEAR], 0).astype(np.int8)
    out["category"] = np.select([achieved, zero_req, r_ok], [0, 3, cat], 4)
    # status: achieved 0, else category k -> status k + 1 (on_track .. wrong_direction)
    out["status"] = np.select(
        [achieved, zero_req, r_ok], [0, _STATUS["wrong_direction"], cat + 1], 5
    )
    out["ratio"] = np.where(r_ok, ratio, np.nan)
    out["score"] = np.select(
        [achieved, zero_req, r_ok], [5.0, -5.0, np.clip(5.0 * ratio - 2.5, -5.0, 5.0)], np.nan
    )
    out["change_observed"] = np.where(achieved | (live & ~refuse_tyear), observed, np.nan)
    out["change_required"] = np.where(zero_req | r_ok, required, np.nan)
    return out


def _projection(
    b: SeriesBatch, model: ProjectionModel, half_life: float | None, level: float
) -> dict[str, NDArray[np.generic]]:
    if model not in ("linear", "loglinear"):
        raise ValueError(f"model must be 'linear' or 'loglinear', not {model!r}")
    if half_life is not None and not half_life > 0:
        raise ValueError(f"half_life must be positive years or None, not {half_life!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1, not {level!r}")
    w = _window(b, proj.MIN_POINTS)
    n = b.size
    out = _empty(n)
    d = b.direction.astype(np.float64)
    deadline = b.target_year
    reason = np.where(np.isnan(deadline), _R_NEEDS_YEAR, w.reason)
    mask = w.mask
    v = np.where(mask, b.values, 0.0)
    sign = np.ones(n)
    if model == "loglinear":
        vmin = np.where(mask, b.values, np.inf).min(axis=1)
        vmax = np.where(mask, b.values, -np.inf).max(axis=1)
        has_zero = (mask & (b.values == 0)).any(axis=1)
        bad_values = has_zero | ((vmin < 0) & (vmax > 0))
        sign = np.where(w.y0 < 0, -1.0, 1.0)
        t = b.target
        bad_target = ~np.isnan(t) & ((t == 0) | ((t > 0) != (sign > 0)))
        reason = np.select(
            [reason != 0, bad_values, bad_target], [reason, _R_LOG_VALUES, _R_LOG_TARGET], 0
        )
        v = np.where(mask, np.log(np.abs(np.where(mask, b.values, 1.0))), 0.0)
    ok = reason == 0
    years = b.years[None, :] - w.ti[:, None]  # relative to the latest observation
    if half_life is None:
        wt = mask.astype(np.float64)
    else:
        wt = np.where(mask, np.power(0.5, -years / half_life), 0.0)
    sw = wt.sum(axis=1)
    t_bar = (wt * years).sum(axis=1) / sw
    y_bar = (wt * v).sum(axis=1) / sw
    dt = np.where(mask, years - t_bar[:, None], 0.0)
    s_tt = (wt * dt * dt).sum(axis=1)
    slope = (wt * dt * (v - y_bar[:, None])).sum(axis=1) / s_tt
    resid = np.where(mask, v - y_bar[:, None] - slope[:, None] * dt, 0.0)
    df = w.count - 2
    s2 = (wt * resid * resid).sum(axis=1) / df
    d_t = (deadline - w.ti) - t_bar
    z_hat = y_bar + slope * d_t
    se = np.sqrt(s2 * (1.0 + 1.0 / sw + d_t * d_t / s_tt))
    q = np.full(n, np.nan)
    for k in np.unique(df[ok]).tolist():
        q[ok & (df == k)] = t_quantile(0.5 + level / 2.0, int(k))
    if model == "loglinear":
        value = sign * np.exp(z_hat)
        a, c = sign * np.exp(z_hat - q * se), sign * np.exp(z_hat + q * se)
        low, high = np.minimum(a, c), np.maximum(a, c)
    else:
        value, low, high = z_hat, z_hat - q * se, z_hat + q * se
    target = b.target
    has_target = ~np.isnan(target)
    has_limit = ~np.isnan(b.limit)
    lim = b.limit
    is_max = (w.y0 < lim) | ((w.y0 == lim) & (d > 0))
    beyond = has_limit & has_target & np.where(is_max, target > lim, target < lim)
    cap_hi, cap_lo = has_limit & is_max, has_limit & ~is_max
    value = np.where(
        cap_hi, np.minimum(value, lim), np.where(cap_lo, np.maximum(value, lim), value)
    )
    low = np.where(cap_hi, np.minimum(low, lim), np.where(cap_lo, np.maximum(low, lim), low))
    high = np.where(cap_hi, np.minimum(high, lim), np.where(cap_lo, np.maximum(high, lim), high))
    if model == "loglinear":
        gap = sign * d * (z_hat - np.log(np.abs(target)))
    else:
        gap = d * (z_hat - target)
    prob = np.full(n, np.nan)
    for k in np.unique(df[ok & has_target]).tolist():
        rows = ok & has_target & (df == k)
        prob[rows] = t_cdf_array(gap[rows] / se[rows], int(k))
    prob = np.where(se == 0, np.where(gap >= 0, 1.0, 0.0), prob)
    prob = np.where(beyond, 0.0, prob)
    achieved = ok & has_target & _meets(w.yi, target, b.direction)
    live = ok & has_target & ~achieved
    refuse_tyear = live & ~(deadline > w.t0)
    equal = live & ~refuse_tyear & (target == w.y0)
    r_ok = live & ~refuse_tyear & ~equal
    ratio = d * (value - w.y0) / np.abs(target - w.y0)
    th = proj.THRESHOLDS
    cat = np.select([ratio >= th[0], ratio >= th[1], ratio >= th[2]], [1, 2, 3], 4)
    eq_cat = np.where(d * (value - target) >= 0, 1, 4)
    category = np.select([achieved, equal, r_ok], [0, eq_cat, cat], 5)
    out["category"] = category
    out["status"] = category  # projection categories line up with STATUS_ORDER
    out["reason"] = np.select(
        [~ok, ok & ~has_target, refuse_tyear], [reason, _R_NO_TARGET, _R_TYEAR], 0
    ).astype(np.int8)
    out["ratio"] = np.where(r_ok, ratio, np.nan)
    out["score"] = np.select(
        [achieved, equal, r_ok],
        [5.0, np.where(eq_cat == 1, 5.0, -5.0), np.clip(5.0 * ratio - 2.5, -5.0, 5.0)],
        np.nan,
    )
    out["forecast"] = np.where(ok, value, np.nan)
    out["forecast_low"] = np.where(ok, low, np.nan)
    out["forecast_high"] = np.where(ok, high, np.nan)
    out["probability"] = np.where(ok & has_target, prob, np.nan)
    span = deadline - w.t0
    req_ok = live & ~refuse_tyear
    if model == "loglinear":
        out["cagr_observed"] = np.where(ok, np.exp(slope) - 1.0, np.nan)
        out["cagr_required"] = np.where(req_ok, np.power(target / w.y0, 1.0 / span) - 1.0, np.nan)
    else:
        out["change_observed"] = np.where(ok, slope, np.nan)
        out["change_required"] = np.where(req_ok, (target - w.y0) / span, np.nan)
    return out
