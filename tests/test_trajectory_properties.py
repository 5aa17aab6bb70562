"""Property tests (hypothesis) for the trajectory engine.

- Scaling all values (and target and limit) by a constant does not change a category.
  Constants are powers of two so the floating-point arithmetic is exactly scaled too;
  zero values are left out because Open SDG's 0.001 substitute is deliberately not
  scale-free.
- Reversing the direction and mirroring the series (values, target and limit negated)
  gives the mirrored category: the same category, status, ratio and score.
- The vectorised path gives the per-series answer, series by series.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from missionkit.trajectory import (
    METHODS,
    Assessment,
    IndicatorSeries,
    Method,
    SeriesBatch,
    assess,
    assess_batch,
)

POSITIVE = st.floats(min_value=0.5, max_value=1000.0, allow_nan=False, allow_infinity=False)
ANY_VALUE = st.one_of(
    st.none(),
    st.just(0.0),
    st.floats(min_value=-1000.0, max_value=1000.0, allow_nan=False, allow_infinity=False),
)


@st.composite
def indicator(draw: st.DrawFn, messy: bool = False) -> IndicatorSeries:
    """A series of positive values; ``messy`` adds gaps, zeros and negative values."""
    values = ANY_VALUE if messy else POSITIVE
    years = sorted(draw(st.sets(st.integers(2000, 2025), min_size=1, max_size=8)))
    points = [(y, draw(values)) for y in years]
    direction = draw(st.sampled_from(["increase", "decrease"]))
    target = draw(st.one_of(st.none(), values))
    target_year = (
        draw(st.integers(2000, 2040))
        if target is not None
        else draw(st.one_of(st.none(), st.integers(2020, 2040)))
    )
    base_year = draw(st.one_of(st.none(), st.integers(2000, 2025)))
    limit = draw(st.one_of(st.none(), values))
    return IndicatorSeries.of(
        points,
        direction,  # type: ignore[arg-type]
        target=target,
        target_year=target_year,
        base_year=base_year,
        limit=limit,
    )


def transformed(s: IndicatorSeries, factor: float, flip: bool) -> IndicatorSeries:
    def f(v: float | None) -> float | None:
        return None if v is None else v * factor

    direction = s.direction
    if flip:
        direction = "decrease" if direction == "increase" else "increase"
    return replace(
        s,
        points=tuple((w, f(v)) for w, v in s.points),
        direction=direction,
        target=f(s.target),
        limit=f(s.limit),
    )


def run(s: IndicatorSeries, method: Method, model: str) -> Assessment:
    return assess(s, method, model=model)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    indicator(),
    st.sampled_from(METHODS),
    st.integers(-20, 20),
)
def test_scaling_does_not_change_the_category(s: IndicatorSeries, method: Method, k: int) -> None:
    a = run(s, method, "linear")
    b = run(transformed(s, 2.0**k, flip=False), method, "linear")
    assert (b.category, b.status) == (a.category, a.status)
    assert b.ratio == a.ratio and b.score == a.score


@settings(max_examples=300, deadline=None)
@given(indicator(), st.sampled_from(METHODS), st.sampled_from(["linear", "loglinear"]))
def test_mirroring_with_reversed_direction_gives_the_mirrored_category(
    s: IndicatorSeries, method: Method, model: str
) -> None:
    a = run(s, method, model)
    b = run(transformed(s, -1.0, flip=True), method, model)
    assert (b.category, b.status) == (a.category, a.status)
    assert b.ratio == a.ratio and b.score == a.score
    if a.forecast is not None and b.forecast is not None:
        assert b.forecast.value == -a.forecast.value
        assert b.forecast.probability == a.forecast.probability


@settings(max_examples=200, deadline=None)
@given(indicator())
def test_reversing_direction_alone_turns_progress_into_deterioration(s: IndicatorSeries) -> None:
    plain = replace(s, target=None, target_year=None, limit=None)
    up = assess(replace(plain, direction="increase"), "statcan")
    down = assess(replace(plain, direction="decrease"), "statcan")
    if up.category in ("substantial_progress", "moderate_progress"):
        assert down.category == "deterioration"
    if down.category in ("substantial_progress", "moderate_progress"):
        assert up.category == "deterioration"


THRESHOLDS = {"statcan": (0.95, 0.6, 0.0), "sdsn": (1.0, 0.5, 0.0), "projection": (1.0, 0.5, 0.0)}


def near_threshold(a: Assessment) -> bool:
    """True when a number sits within rounding distance of a category boundary."""
    values = [v for v in (a.ratio,) if v is not None]
    if a.method == "statcan" and a.ratio is None and a.cagr_observed is not None:
        c = 1.0 if a.coefficient is None else a.coefficient
        d = 1 if a.direction == "increase" else -1
        sign = -1 if (a.base_value or 0) < 0 else 1
        p = sign * d * a.cagr_observed
        return any(abs(p - t) <= 1e-12 for t in (0.015 * c, 0.005 * c, 0.0))
    return any(abs(v - t) <= 1e-9 for v in values for t in THRESHOLDS[a.method])


def same(x: float | None, y: float) -> bool:
    if x is None:
        return bool(np.isnan(y))
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=150, deadline=None)
@given(st.lists(indicator(messy=True), min_size=1, max_size=25), st.sampled_from(METHODS))
def test_vectorised_agrees_with_per_series(many: list[IndicatorSeries], method: Method) -> None:
    batch = assess_batch(SeriesBatch.from_series(many), method)
    categories, statuses = batch.category_names(), batch.status_names()
    for i, s in enumerate(many):
        a = assess(s, method)
        if (a.category, a.status) != (categories[i], statuses[i]):
            assert near_threshold(a), (s, a, categories[i])
            continue
        assert (a.reason is None) == (batch.reason[i] == 0), (s, a.reason)
        for name in ("ratio", "score", "cagr_observed", "cagr_required", "coefficient"):
            assert same(getattr(a, name), getattr(batch, name)[i]), (name, s, a)
        for name in ("change_observed", "change_required"):
            assert same(getattr(a, name), getattr(batch, name)[i]), (name, s, a)
        if a.forecast is not None:
            assert same(a.forecast.value, batch.forecast[i])
            assert same(a.forecast.low, batch.forecast_low[i])
            assert same(a.forecast.high, batch.forecast_high[i])
            assert same(a.forecast.probability, batch.probability[i])
        else:
            assert np.isnan(batch.forecast[i])
