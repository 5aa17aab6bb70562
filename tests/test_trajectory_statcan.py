"""Known answers for the Statistics Canada / Open SDG progress measure.

Sources:

- PUBLISHED: Statistics Canada's Open SDG data platform publishes every series'
  calculation components as computed by sdg-build: github.com/sdg-data-canada-odd-donnees/
  sdg-data-donnees-odd, file ``indicator_calculation_components.yml`` (commit 007ce50b).
  Each case below copies base/current value and year, direction, target, limit, and the
  published progress value (R with a target, direction-adjusted CAGR without), score and
  status. sdg-build rounds the with-target score slopes (7.1429, 4.2857, 4.1667); we use
  the exact fractions of the documented break points, hence a 2e-4 tolerance there.
- DOC: open-sdg ``docs/progress-methodology.md`` (thresholds, score break points, the
  scaling factor's stated properties, the "+1 is acceleration needed" example).
- HAND: computed by hand from the documented formulas (the arithmetic is in the test).
"""

from __future__ import annotations

import math

import pytest

from missionkit.trajectory import IndicatorSeries, aggregate_scores, assess, limit_coefficient
from missionkit.trajectory.statcan import (
    category_from_score,
    category_of,
    score_with_target,
    score_without_target,
)

# id, base_year, base, cur_year, cur, direction, target, limit, progress, score, status
# fmt: off
PUBLISHED = [
    ("1-2-1", 2015, 14.5, 2023, 10.2, -1, 7.25, None, 0.9525901792032172, 2.5185563910306596, "substantial_progress"),  # noqa: E501
    ("1-3-1 children", 2015, 90.0, 2021, 93.2, 1, None, 100, 0.005839995229728112, 2.815386645395768, "substantial_progress"),  # noqa: E501
    ("1-3-1 pension", 2017, 93.4, 2021, 92.7, 1, None, 100, -0.0018789507235312808, -2.7348688404414103, "deterioration"),  # noqa: E501
    ("1-3-1 injury", 2015, 85.07, 2022, 83.42, 1, None, 100, -0.0027941402774355195, -2.84926753467944, "deterioration"),  # noqa: E501
    ("1-4-1 water", 2015, 98.82, 2022, 99.04, 1, 100.0, None, 0.4013545340426752, -0.8276760630043856, "limited_progress"),  # noqa: E501
    ("1-4-1 grade 4", 2015, 92.0, 2019, 92.0, 1, 100.0, None, 0.0, -2.5, "limited_progress"),
    ("1-4-1 HSPA", 2016, 99.47, 2022, 99.57, 1, None, 100, 0.00016748456325199612, 0.5456262610658811, "moderate_progress"),  # noqa: E501
    ("1-4-1 sanitation", 2015, 82.6, 2022, 83.9, 1, 100.0, None, 0.1741314538877581, -1.7744464710858785, "limited_progress"),  # noqa: E501
    ("1-4-1 fuels", 2015, 100.0, 2022, 100.0, 1, 100.0, None, None, 5.0, "target_achieved"),
    ("1-5-1", 2015, 50.6770883601276, 2020, 35.3786007271678, -1, None, None, 0.06935124763452605, 5.0, "substantial_progress"),  # noqa: E501
    ("1-a-1", 2015, 0.0301738416160583, 2023, 0.0273307155637678, 1, None, None, -0.01229432402820596, -4.036790503525745, "deterioration"),  # noqa: E501
    ("10-5-1 NPL", 2015, 5.31, 2024, 5.27, -1, None, None, 0.0008398107947529265, -2.0800946026235367, "limited_progress"),  # noqa: E501
    ("10-5-1 liquid", 2015, 45.36, 2024, 53.22, 1, None, None, 0.017914530382436622, 3.957265191218312, "substantial_progress"),  # noqa: E501
    ("11-1-1", 2018, 10.0, 2022, 10.4, -1, 0.1, None, -0.030916728428577435, -2.6288207323433537, "deterioration"),  # noqa: E501
    ("11-2-1", 2023, 8.2, 2024, 8.4, 1, 100.0, None, 0.05679393189022746, -2.263356723992989, "limited_progress"),  # noqa: E501
    ("12-b-1", 2015, 9.0, 2021, 6.0, 1, None, 11, -0.06534473481593284, -5.0, "deterioration"),
    ("14-4-1", 2015, 95.5974842767296, 2023, 97.4874371859297, 1, 100.0, None, 0.8150538567318096, 1.5361481932496428, "moderate_progress"),  # noqa: E501
    ("14-5-1", 2015, 0.9, 2023, 14.7, 1, 10.0, None, None, 5.0, "target_achieved"),
    ("15-2-1 protected", 2015, 8.5, 2020, 8.5, 1, None, 100, 0.0, -2.5, "limited_progress"),
    ("16-1-3 physical", 2014, 48.0, 2019, 46.0, -1, None, None, 0.008475799035301268, 0.868949758825317, "moderate_progress"),  # noqa: E501
    ("16-6-1", 2015, 100.1, 2023, 109.7, -1, 100.0, None, -172.79058698766454, -5.0, "deterioration"),  # noqa: E501
    ("16-10-2", 2020, 8.0, 2023, 7.5, 1, 9.0, None, -1.7963534638996206, -5.0, "deterioration"),
    ("17-18-1 ODIN", 2016, 74.8, 2024, 78.3, 1, None, 100, 0.005732583481782072, 0.7281197264821118, "moderate_progress"),  # noqa: E501
    ("17-2-1 LDC", 2019, 0.09, 2022, 0.1, 1, 0.2, None, 0.47474495739982875, -0.5218801860021338, "limited_progress"),  # noqa: E501
    ("17-8-1", 2018, 91.3, 2022, 94.5, 1, 100.0, None, 1.1360249872573844, 3.8288128814807703, "substantial_progress"),  # noqa: E501
    ("2-1-1", 2015, 2.5, 2023, 2.5, -1, 2.5, None, None, 5.0, "target_achieved"),
    ("2-4-1", 2015, 4.0, 2023, 4.17, 1, None, 5, 0.005216266930448077, 0.8242120951405307, "moderate_progress"),  # noqa: E501
    ("2-b-1", 2015, 81124.0, 2023, 0.0, -1, 0.0, None, None, 5.0, "target_achieved"),
    ("3-1-1", 2015, 7.05, 2023, 12.19, -1, 70.0, None, None, 5.0, "target_achieved"),
    ("3-3-4", 2015, 0.73, 2023, 0.32, -1, 0.073, None, 0.6883470841079962, 0.6310943870750059, "moderate_progress"),  # noqa: E501
    ("3-4-1 heart", 2015, 143.8, 2023, 144.4, -1, 95.87, None, -0.019522792355431022, -2.5813456189073745, "deterioration"),  # noqa: E501
    ("3-4-1 pneumoconioses", 2015, 0.3, 2023, 0.3, -1, 0.2, None, -0.0, -2.5, "limited_progress"),
    ("3-4-2", 2015, 12.3, 2023, 9.5, -1, 8.2, None, 1.1913757275999413, 4.22417768467362, "substantial_progress"),  # noqa: E501
    ("3-5-2", 2015, 8.1, 2023, 7.3, -1, None, None, 0.012914595776744253, 1.9786489441860633, "moderate_progress"),  # noqa: E501
]
# fmt: on


def two_points(
    base_year: int,
    base: float,
    cur_year: int,
    cur: float,
    d: int,
    target: float | None,
    limit: float | None,
) -> IndicatorSeries:
    return IndicatorSeries.of(
        [(base_year, base), (cur_year, cur)],
        "increase" if d > 0 else "decrease",
        target=target,
        target_year=2030 if target is not None else None,
        limit=limit,
    )


@pytest.mark.parametrize("case", PUBLISHED, ids=[c[0] for c in PUBLISHED])
def test_published_statistics_canada_components(case: tuple) -> None:  # type: ignore[type-arg]
    _, by, base, cy, cur, d, target, limit, progress, score, status = case
    a = assess(two_points(by, base, cy, cur, d, target, limit), "statcan")
    assert a.category == status
    if status == "target_achieved":
        assert a.score == 5.0 and a.status == "achieved"
        return
    if target is not None:
        assert a.ratio == pytest.approx(progress, rel=1e-12, abs=1e-15)
        assert a.score == pytest.approx(score, abs=2e-4)  # sdg-build's rounded slopes
    else:
        assert a.cagr_observed is not None
        assert d * a.cagr_observed == pytest.approx(progress, rel=1e-12, abs=1e-15)
        assert a.score == pytest.approx(score, rel=1e-12, abs=1e-12)


# PUBLISHED aggregates (same file): the mean score of an indicator's series decides.
# fmt: off
AGGREGATES = [
    ("1-3-1", [2.815386645395768, -2.7348688404414103, None, -2.84926753467944], "limited_progress", -0.9229165765750275),  # noqa: E501
    ("1-4-1", [-0.8276760630043856, None, -2.5, 0.5456262610658811, -1.7744464710858785, 5.0], "moderate_progress", 0.0887007453951234),  # noqa: E501
    ("2-5-1", [-5.0, 5.0], "moderate_progress", 0.0),  # a mean of exactly 0 is "moderate"
    ("17-18-1", [0.7281197264821118, 5.0], "substantial_progress", 2.8640598632410557),
    ("17-2-1", [-0.5218801860021338, 0.4686528323436141], "limited_progress", -0.026613676829259858),  # noqa: E501
]
# fmt: on


@pytest.mark.parametrize("case", AGGREGATES, ids=[c[0] for c in AGGREGATES])
def test_published_aggregates(case: tuple) -> None:  # type: ignore[type-arg]
    _, scores, status, mean = case
    achieved = [False] * len(scores)  # none of these indicators has every series achieved
    assert aggregate_scores(scores, achieved) == status
    present = [s for s in scores if s is not None]
    assert sum(present) / len(present) == pytest.approx(mean, rel=1e-12)


def test_aggregate_target_achieved_only_when_every_series_is() -> None:
    # DOC: "all series must achieve the target for the aggregate progress status to be
    # 'Target achieved'"; an achieved series still counts +5 in the mean.
    assert aggregate_scores([5.0, 5.0], [True, True]) == "target_achieved"
    assert aggregate_scores([5.0, 5.0], [True, False]) == "substantial_progress"
    assert aggregate_scores([5.0, -5.0], [True, False]) == "moderate_progress"
    assert aggregate_scores([None], [False]) == "unable_to_assess"


def test_doc_example_score_plus_one_is_acceleration_needed() -> None:
    # DOC: "the aggregate progress status for an indicator with an overall score of +1 is
    # 'Progress made but acceleration needed'"
    assert category_from_score(1.0) == "moderate_progress"


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (5.0, "substantial_progress"),
        (2.5, "substantial_progress"),
        (2.4999999, "moderate_progress"),
        (0.0, "moderate_progress"),
        (-1e-9, "limited_progress"),
        (-2.5, "limited_progress"),
        (-2.5000001, "deterioration"),
        (-5.0, "deterioration"),
    ],
)
def test_score_bands(score: float, category: str) -> None:
    # DOC: [2.5, 5] on track, [0, 2.5[ acceleration, [-2.5, 0[ limited, [-5, -2.5[ deterioration
    assert category_from_score(score) == category


@pytest.mark.parametrize(
    ("ratio", "score"),
    [(-1.0, -5.0), (-0.6, -5.0), (0.0, -2.5), (0.6, 0.0), (0.95, 2.5), (1.3, 5.0), (2.0, 5.0)],
)
def test_score_with_target_break_points(ratio: float, score: float) -> None:
    # DOC figure 2: -60 % -> -5, 60 % -> 0, 130 % -> 5, linear in between, clipped
    assert score_with_target(ratio) == pytest.approx(score, abs=1e-12)


@pytest.mark.parametrize(
    ("growth", "coefficient", "score"),
    [
        (-0.03, 1.0, -5.0),
        (-0.02, 1.0, -5.0),
        (-0.01, 1.0, -3.75),
        (0.0, 1.0, -2.5),
        (0.005, 1.0, 0.0),
        (0.01, 1.0, 1.25),
        (0.015, 1.0, 2.5),
        (0.02, 1.0, 5.0),
        (0.05, 1.0, 5.0),
        (0.0025, 0.5, 0.0),  # thresholds above 0 scale with C
        (0.0075, 0.5, 2.5),
        (0.01, 0.5, 5.0),
        (-0.01, 0.5, -3.75),  # ... but not below 0
        (0.0, 0.0, 5.0),  # base on the limit and held there
        (-0.001, 0.0, -2.625),
    ],
)
def test_score_without_target_break_points(growth: float, coefficient: float, score: float) -> None:
    # DOC figure 1: -2 % -> -5, 0 -> -2.5, 0.5 % C -> 0, 1.5 % C -> 2.5, 2 % C -> 5
    assert score_without_target(growth, coefficient) == pytest.approx(score, abs=1e-12)


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (0.95, "substantial_progress"),
        (0.9499999999, "moderate_progress"),
        (0.6, "moderate_progress"),
        (0.5999999999, "limited_progress"),
        (0.0, "limited_progress"),
        (-1e-12, "deterioration"),
    ],
)
def test_target_category_boundaries(value: float, category: str) -> None:
    assert category_of(value, 0.95, 0.60, 0.0) == category


def series_with_ratio(r: float, direction: int = -1) -> IndicatorSeries:
    """HAND: base 100 in 2015, target 50 (decrease) or 200 (increase) in 2030; the 2020
    value is chosen so the observed CAGR is ``r`` times the required one."""
    target = 50.0 if direction < 0 else 200.0
    required = (target / 100.0) ** (1 / 15) - 1
    latest = 100.0 * (1 + r * required) ** 5
    return two_points(2015, 100.0, 2020, latest, direction, target, None)


@pytest.mark.parametrize("direction", [1, -1])
@pytest.mark.parametrize(
    ("r", "category"),
    [
        (1.2, "substantial_progress"),
        (0.95 + 1e-6, "substantial_progress"),
        (0.95 - 1e-6, "moderate_progress"),
        (0.6 + 1e-6, "moderate_progress"),
        (0.6 - 1e-6, "limited_progress"),
        (1e-6, "limited_progress"),
        (-1e-6, "deterioration"),
        (-0.8, "deterioration"),
    ],
)
def test_with_target_boundaries_both_directions(direction: int, r: float, category: str) -> None:
    a = assess(series_with_ratio(r, direction), "statcan")
    assert a.category == category
    assert a.ratio == pytest.approx(r, abs=1e-9)


def test_hand_worked_example_with_target() -> None:
    # HAND: 100 (2015) -> 90 (2020), decrease, target 50 by 2030.
    # CAGR_o = 0.9 ** (1/5) - 1 = exp(ln 0.9 / 5) - 1 = -0.0208516
    # CAGR_r = 0.5 ** (1/15) - 1 = exp(ln 0.5 / 15) - 1 = -0.0451584
    # R = -1 * -0.0208516 / 0.0451584 = 0.461744; score = 0.461744 * 25/6 - 2.5 = -0.576066
    a = assess(two_points(2015, 100.0, 2020, 90.0, -1, 50.0, None), "statcan")
    assert a.cagr_observed == pytest.approx(-0.0208516, abs=1e-7)
    assert a.cagr_required == pytest.approx(-0.0451584, abs=1e-7)
    assert a.ratio == pytest.approx(0.461744, abs=2e-6)
    assert a.score == pytest.approx(-0.576066, abs=1e-5)
    assert (a.category, a.status) == ("limited_progress", "limited_progress")


@pytest.mark.parametrize(
    ("latest", "direction", "category"),
    [
        (102.0, 1, "substantial_progress"),  # +2 %/yr
        (101.2, 1, "moderate_progress"),  # +1.2 %/yr
        (100.3, 1, "limited_progress"),  # +0.3 %/yr
        (100.0, 1, "limited_progress"),  # 0 counts as limited (0 <= CAGR < 0.5 %)
        (99.0, 1, "deterioration"),
        (98.0, -1, "substantial_progress"),  # -2 %/yr is good when decreasing
        (98.8, -1, "moderate_progress"),
        (99.7, -1, "limited_progress"),
        (101.0, -1, "deterioration"),
    ],
)
def test_without_target_both_directions(latest: float, direction: int, category: str) -> None:
    # HAND: one year from 100, so CAGR = latest / 100 - 1.
    a = assess(two_points(2015, 100.0, 2016, latest, direction, None, None), "statcan")
    assert a.category == category


def test_without_target_growth_boundaries() -> None:
    # HAND: CAGR just above and below 1.5 % and 0.5 % (one year from 100); the exact
    # boundaries (>=) are checked on category_of above.
    def category(latest: float) -> str:
        return assess(two_points(2015, 100.0, 2016, latest, 1, None, None), "statcan").category

    assert category(101.5001) == "substantial_progress"
    assert category(101.4999) == "moderate_progress"
    assert category(100.5001) == "moderate_progress"
    assert category(100.4999) == "limited_progress"
    assert category_of(0.015, 0.015, 0.005, 0.0) == "substantial_progress"
    assert category_of(0.005, 0.015, 0.005, 0.0) == "moderate_progress"


def test_natural_limit_coefficient_by_hand() -> None:
    # HAND: C = 1 - (90/100) ** 4.44 = 1 - exp(4.44 ln 0.9) = 1 - 0.626378 = 0.373622;
    # minimum limit 10, base 12: C = 1 - ((20 - 12) / 10) ** 4.44 = 1 - 0.371295 = 0.628705
    assert limit_coefficient(90.0, 100.0) == pytest.approx(0.373622, abs=1e-6)
    assert limit_coefficient(12.0, 10.0) == pytest.approx(0.628705, abs=1e-6)
    assert limit_coefficient(100.0, 100.0) == 0.0
    assert limit_coefficient(25.0, 10.0) == 1.0  # at least twice the limit: no reduction
    assert limit_coefficient(0.0, 0.0) == 1.0  # sdg-build: both zero means no reduction


@pytest.mark.parametrize("distance", [0.01, 0.1, 0.3, 0.5, 0.9])
def test_limit_coefficient_symmetric_for_maximum_and_minimum(distance: float) -> None:
    # DOC: "the reduction factor is identical at equal relative distances from a minimum
    # or a maximum limit"
    assert limit_coefficient(100 * (1 - distance), 100.0) == pytest.approx(
        limit_coefficient(100 * (1 + distance), 100.0), rel=1e-12
    )


@pytest.mark.parametrize("base", [1.0, 50.0, 80.0, 90.0, 95.0, 99.0, 99.9])
def test_limit_coefficient_allows_on_track_within_limit_for_15_years(base: float) -> None:
    # DOC: C ensures "the possibility of attaining a progress status of 'On track' without
    # exceeding the limit throughout the first 15 years": growing at exactly the reduced
    # on-track threshold 1.5 % * C for 15 years stays at or below the maximum.
    c = limit_coefficient(base, 100.0)
    assert base * (1 + 0.015 * c) ** 15 <= 100.0


def test_base_on_the_limit_held_is_on_track() -> None:
    # DOC: base value equal to the limit gives C = 0; CAGR >= 0 is "On track" with +5;
    # a negative CAGR is assessed as usual.
    held = assess(two_points(2015, 100.0, 2020, 100.0, 1, None, 100.0), "statcan")
    assert (held.category, held.score, held.coefficient) == ("substantial_progress", 5.0, 0.0)
    fell = assess(two_points(2015, 100.0, 2016, 99.0, 1, None, 100.0), "statcan")
    assert fell.category == "deterioration"
    assert fell.score == pytest.approx(125 * -0.01 - 2.5)


def test_limit_in_the_other_direction_is_ignored() -> None:
    # DOC: "a maximum limit is not considered for indicators whose desired direction of
    # progress is negative"
    a = assess(two_points(2015, 99.0, 2016, 98.5, -1, None, 100.0), "statcan")
    assert a.coefficient == 1.0
    assert any("ignored" in n for n in a.notes)
    b = assess(two_points(2015, 99.0, 2016, 99.5, 1, None, 100.0), "statcan")
    assert b.coefficient is not None and b.coefficient < 0.05


def test_limit_ignored_with_a_target() -> None:
    a = assess(two_points(2015, 90.0, 2020, 95.0, 1, 99.0, 100.0), "statcan")
    assert a.coefficient is None and any("limit ignored" in n for n in a.notes)


def test_target_achieved_is_checked_first() -> None:
    # DOC: 'Target achieved' first, whatever the trend (3-1-1 above moves the wrong way)
    a = assess(two_points(2015, 5.0, 2020, 4.0, 1, 3.0, None), "statcan")
    assert (a.category, a.status, a.score) == ("target_achieved", "achieved", 5.0)


def test_zero_base_and_zero_target_use_0_001() -> None:
    # DOC: "If the target value is zero, it is replaced by 0.001 ... If the base value is
    # zero, it is replaced by 0.001"
    a = assess(two_points(2015, 8.0, 2020, 4.0, -1, 0.0, None), "statcan")
    assert a.cagr_required == pytest.approx((0.001 / 8.0) ** (1 / 15) - 1)
    assert any("target 0 replaced by 0.001" in n for n in a.notes)
    b = assess(two_points(2015, 0.0, 2020, 4.0, 1, None, None), "statcan")
    assert b.cagr_observed == pytest.approx((4.0 / 0.001) ** (1 / 5) - 1)
    assert any("base value 0 replaced" in n for n in b.notes)


def test_all_negative_values_flip_the_direction() -> None:
    # DOC: "If all values are negative, the desired direction of progress is flipped"
    # HAND: -100 -> -90 in a year, increase wanted: CAGR = 0.9 - 1 = -0.1, P = -1*1*-0.1
    a = assess(two_points(2015, -100.0, 2016, -90.0, 1, None, None), "statcan")
    assert a.cagr_observed == pytest.approx(-0.1)
    assert a.category == "substantial_progress"
    b = assess(two_points(2015, -100.0, 2020, -90.0, 1, -50.0, None), "statcan")
    # CAGR_r = 0.5 ** (1/15) - 1; R = -1 * 1 * CAGR_o / |CAGR_r| > 0
    expected = -(0.9 ** (1 / 5) - 1) / abs(0.5 ** (1 / 15) - 1)
    assert b.ratio == pytest.approx(expected)


@pytest.mark.parametrize(
    ("points", "kwargs", "fragment"),
    [
        ([(2015, 10.0)], {}, "too few observations"),
        ([], {}, "no observations"),
        ([(2015, None), (2016, None)], {}, "every value is missing"),
        ([(2015, 10.0), (2016, -5.0)], {}, "both be positive or both negative"),
        ([(2015, -10.0), (2016, -11.0)], {"target": 5.0, "target_year": 2030}, "opposite signs"),
        ([(2015, 10.0), (2020, 11.0)], {"target": 20.0, "target_year": 2015}, "not after the base"),
        ([(2015, 10.0), (2016, 11.0)], {"base_year": 2020}, "no observation in or after"),
        ([(2015, 10.0), (2016, 11.0)], {"limit": -100.0}, "opposite signs"),
        ([(2015, 10.0), (2015, 11.0)], {}, "duplicate observation for 2015"),
        ([(2015, 10.0), (2016, math.inf)], {}, "non-finite"),
    ],
)
def test_refusals_say_why(points: list, kwargs: dict, fragment: str) -> None:  # type: ignore[type-arg]
    a = assess(IndicatorSeries.of(points, "increase", **kwargs), "statcan")
    assert (a.category, a.status) == ("unable_to_assess", "insufficient_data")
    assert a.reason is not None and fragment in a.reason


def test_missing_years_and_irregular_periods() -> None:
    # Missing values are dropped; the base year moves to the next available year (DOC:
    # "Should there be no available data for 2015, the first available year following
    # 2015 will be used"); CAGR uses the real span between the points.
    s = IndicatorSeries.of(
        [(2014, 50.0), (2015, None), (2017, 100.0), (2018, None), (2022, 110.0)],
        "increase",
        base_year=2015,
    )
    a = assess(s, "statcan")
    assert (a.base_year, a.base_value, a.latest_year) == (2017.0, 100.0, 2022.0)
    assert a.cagr_observed == pytest.approx(1.1 ** (1 / 5) - 1)


def test_dates_are_fractional_years() -> None:
    import datetime as dt

    s = IndicatorSeries.of([(dt.date(2020, 1, 1), 100.0), (dt.date(2022, 1, 1), 121.0)], "increase")
    a = assess(s, "statcan")
    assert a.cagr_observed == pytest.approx(0.1)
    mixed = IndicatorSeries.of([(2020, 1.0), (dt.date(2021, 1, 1), 2.0)], "increase")
    assert "mixes years and dates" in (assess(mixed).reason or "")


def test_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError, match="target needs a target_year"):
        IndicatorSeries.of([(2015, 1.0)], "increase", target=2.0)
    with pytest.raises(ValueError, match="direction"):
        IndicatorSeries.of([(2015, 1.0)], "up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        assess(IndicatorSeries.of([(2015, 1.0)], "increase"), "eurostat")  # type: ignore[arg-type]
