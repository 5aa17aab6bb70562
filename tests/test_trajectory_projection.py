"""Projection: forecast at the deadline, prediction interval, probability of reaching it.

Known answers are computed by hand (ordinary and weighted least squares, Student t) and
cross-checked against numpy's ``polyfit`` and, when installed, SciPy's t distribution.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from missionkit.trajectory import IndicatorSeries, assess
from missionkit.trajectory.projection import weights
from missionkit.trajectory.student import t_cdf, t_cdf_array, t_quantile

FIVE = [(2015, 10.0), (2016, 12.0), (2017, 11.0), (2018, 14.0), (2019, 13.0)]


def test_hand_worked_ordinary_least_squares() -> None:
    # HAND (unweighted): t_bar = 2017, y_bar = 12, S_tt = 10, S_ty = 8 -> slope 0.8;
    # residuals -0.4, 0.8, -1, 1.2, -0.6 -> RSS 3.6, s^2 = 3.6 / 3 = 1.2.
    # At 2030: y_hat = 12 + 0.8 * 13 = 22.4; se^2 = 1.2 * (1 + 1/5 + 13^2/10) = 21.72,
    # se = 4.660472; t_{3, 0.95} = 2.353363 -> 90 % interval 22.4 -/+ 10.967785.
    # P(reach 20) = F_3((22.4 - 20) / 4.660472) = F_3(0.514969) = 0.678943 (A&S 26.7.3:
    # theta = atan(0.514968 / sqrt 3); A = 2/pi (theta + sin theta cos theta)).
    # Ratio = (22.4 - 10) / (20 - 10) = 1.24 -> on track; score 5 * 1.24 - 2.5 = 3.7.
    s = IndicatorSeries.of(FIVE, "increase", target=20.0, target_year=2030)
    a = assess(s, "projection", half_life=None)
    f = a.forecast
    assert f is not None
    assert f.slope == pytest.approx(0.8)
    assert f.value == pytest.approx(22.4)
    assert f.low == pytest.approx(22.4 - 10.967785, abs=1e-5)
    assert f.high == pytest.approx(22.4 + 10.967785, abs=1e-5)
    assert f.probability == pytest.approx(0.678943, abs=1e-5)
    assert a.ratio == pytest.approx(1.24)
    assert a.score == pytest.approx(3.7)
    assert (a.category, a.status) == ("on_track", "on_track")
    assert a.change_observed == pytest.approx(0.8)
    assert a.change_required == pytest.approx((20 - 10) / 15)


def test_weighted_fit_matches_numpy_polyfit() -> None:
    # polyfit minimises sum((w_i * r_i)^2), so w = sqrt(our weights) is the same fit.
    times = tuple(float(t) for t, _ in FIVE)
    w = weights(times, 2.0)
    assert w == pytest.approx([0.5**2, 0.5**1.5, 0.5, 0.5**0.5, 1.0])
    slope, intercept = np.polyfit(times, [v for _, v in FIVE], 1, w=np.sqrt(w))
    s = IndicatorSeries.of(FIVE, "increase", target_year=2030)
    f = assess(s, "projection", half_life=2.0).forecast
    assert f is not None
    assert f.slope == pytest.approx(slope, rel=1e-9)
    assert f.value == pytest.approx(intercept + slope * 2030, rel=1e-9)


def test_perfect_line_has_no_uncertainty() -> None:
    s = IndicatorSeries.of(
        [(2015, 10.0), (2016, 11.0), (2017, 12.0), (2018, 13.0)],
        "increase",
        target=25.0,
        target_year=2030,
    )
    a = assess(s, "projection", half_life=None)  # unweighted: exact arithmetic
    f = a.forecast
    assert f is not None
    assert (f.value, f.low, f.high) == (25.0, 25.0, 25.0)
    assert f.probability == 1.0  # on the target counts as reaching it
    for target, probability in ((24.9, 1.0), (25.1, 0.0)):  # weighted: se ~ 1e-12
        other = IndicatorSeries.of(s.points, "increase", target=target, target_year=2030)
        g = assess(other, "projection").forecast
        assert g is not None and g.probability == probability


def test_loglinear_recovers_a_constant_growth_rate() -> None:
    # HAND: 100 * 1.1^k; ln-linear slope ln 1.1, CAGR 10 %; at 2030 (15 years) 100 * 1.1^15
    s = IndicatorSeries.of(
        [(2015 + k, 100 * 1.1**k) for k in range(5)], "increase", target=400.0, target_year=2030
    )
    a = assess(s, "projection", model="loglinear")
    assert a.cagr_observed == pytest.approx(0.1)
    assert a.forecast is not None
    assert a.forecast.value == pytest.approx(100 * 1.1**15)
    assert a.forecast.probability == 1.0
    assert a.cagr_required == pytest.approx(4 ** (1 / 15) - 1)


def test_direction_decrease_and_reverse_trend() -> None:
    s = IndicatorSeries.of(FIVE, "decrease", target=5.0, target_year=2030)
    a = assess(s, "projection")
    assert (a.category, a.status) == ("reverse_trend", "wrong_direction")
    assert a.forecast is not None and a.forecast.probability is not None
    assert a.forecast.probability < 0.05


@pytest.mark.parametrize(
    ("target", "category"),
    [
        # HAND (unweighted FIVE): projection 22.4 from base 10: ratio = 12.4 / (target - 10)
        (22.0, "on_track"),  # 12.4 / 12 = 1.03
        (30.0, "acceleration_needed"),  # 12.4 / 20 = 0.62
        (40.0, "limited_progress"),  # 12.4 / 30 = 0.41
    ],
)
def test_categories_from_projected_progress(target: float, category: str) -> None:
    s = IndicatorSeries.of(FIVE, "increase", target=target, target_year=2030)
    assert assess(s, "projection", half_life=None).category == category


def test_limit_caps_the_forecast() -> None:
    s = IndicatorSeries.of(
        [(2015, 80.0), (2016, 84.0), (2017, 87.0), (2018, 92.0)],
        "increase",
        target=99.0,
        target_year=2030,
        limit=100.0,
    )
    f = assess(s, "projection").forecast
    assert f is not None
    assert f.value == 100.0 and f.high == 100.0 and f.low <= 100.0


def test_no_target_gives_a_forecast_only() -> None:
    a = assess(IndicatorSeries.of(FIVE, "increase", target_year=2030), "projection")
    assert a.status == "insufficient_data" and a.forecast is not None
    assert a.reason is not None and "forecast only" in a.reason


@pytest.mark.parametrize(
    ("series_", "kwargs", "fragment"),
    [
        (IndicatorSeries.of(FIVE[:2], "increase", target=20.0, target_year=2030), {}, "too few"),
        (IndicatorSeries.of(FIVE, "increase"), {}, "needs a target year"),
        (
            IndicatorSeries.of([*FIVE, (2020, 0.0)], "increase", target=20.0, target_year=2030),
            {"model": "loglinear"},
            "non-zero values of one sign",
        ),
        (
            IndicatorSeries.of(FIVE, "increase", target=-3.0, target_year=2030),
            {"model": "loglinear"},
            "cannot reach the target",
        ),
    ],
)
def test_refusals(series_: IndicatorSeries, kwargs: dict, fragment: str) -> None:  # type: ignore[type-arg]
    a = assess(series_, "projection", **kwargs)
    assert a.status == "insufficient_data"
    assert a.reason is not None and fragment in a.reason


def test_too_few_points_message_explains_degrees_of_freedom() -> None:
    a = assess(IndicatorSeries.of(FIVE[:2], "increase", target_year=2030), "projection")
    assert (
        a.reason is not None
        and "at least 3 needed" in a.reason
        and "degrees of freedom" in a.reason
    )


def test_bad_projection_arguments_raise() -> None:
    s = IndicatorSeries.of(FIVE, "increase", target_year=2030)
    with pytest.raises(ValueError, match="level"):
        assess(s, "projection", level=1.5)
    with pytest.raises(ValueError, match="half_life"):
        assess(s, "projection", half_life=-1.0)
    with pytest.raises(ValueError, match="model"):
        assess(s, "projection", model="cubic")  # type: ignore[arg-type]


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 29, 60])
def test_student_t_closed_forms(df: int) -> None:
    # A&S 26.7.3/26.7.4; df = 1 is Cauchy: F(x) = 1/2 + atan(x)/pi; df = 2 has
    # F(x) = 1/2 + x / (2 sqrt(2 + x^2)).
    xs = [-40.0, -3.0, -1.0, -0.2, 0.0, 0.3, 1.0, 2.5, 40.0]
    for x in xs:
        if df == 1:
            assert t_cdf(x, 1) == pytest.approx(0.5 + math.atan(x) / math.pi, abs=1e-15)
        if df == 2:
            assert t_cdf(x, 2) == pytest.approx(0.5 + x / (2 * math.sqrt(2 + x * x)), abs=1e-15)
        assert t_cdf(x, df) + t_cdf(-x, df) == pytest.approx(1.0, abs=1e-15)
    arr = t_cdf_array(np.array(xs), df)
    assert arr == pytest.approx([t_cdf(x, df) for x in xs], abs=1e-14)
    for p in (0.6, 0.9, 0.95, 0.975, 0.995):
        assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-12)
    assert t_quantile(0.5, df) == 0.0
    assert t_quantile(0.05, df) == pytest.approx(-t_quantile(0.95, df))


def test_student_t_agrees_with_scipy() -> None:
    special = pytest.importorskip("scipy.special")
    for df in range(1, 80):
        xs = np.linspace(-25, 25, 101)
        assert t_cdf_array(xs, df) == pytest.approx(special.stdtr(df, xs), abs=1e-13)
        for p in (0.55, 0.9, 0.95, 0.975):
            assert t_quantile(p, df) == pytest.approx(special.stdtrit(df, p), rel=1e-10)
    # the textbook table value t_{3, 0.95} = 2.353
    assert t_quantile(0.95, 3) == pytest.approx(2.353363, abs=1e-6)
