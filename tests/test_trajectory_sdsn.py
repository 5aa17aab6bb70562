"""SDSN Sustainable Development Report trend arrows.

Source: SDR "Methods Summary and Data Tables" (dashboards.sdgindex.org/chapters/methodology)
and the SDG Index FAQ "How do you estimate trends?": linear annual growth over the recent
period against the linear growth needed to reach the target by 2030; ↑ at or above the
required rate (or target maintained), ➚ at least 50 % of it, → stagnating or below 50 %,
↓ moving away. The SDR publishes no numeric worked example, so the known answers below
are computed by hand from that rule (arithmetic in each test).
"""

from __future__ import annotations

import pytest

from missionkit.trajectory import IndicatorSeries, assess
from missionkit.trajectory.sdsn import category_of, linear_score


def series(latest: float, direction: int = 1, target: float = 100.0) -> IndicatorSeries:
    """Base 40 in 2015, the latest value in 2020, the target in 2030."""
    return IndicatorSeries.of(
        [(2015, 40.0), (2018, None), (2020, latest)],
        "increase" if direction > 0 else "decrease",
        target=target,
        target_year=2030,
    )


def test_hand_worked_example() -> None:
    # HAND: 40 (2015) -> 55 (2020), target 100 by 2030.
    # observed = (55 - 40) / 5 = 3.0 per year; required = (100 - 40) / 15 = 4.0 per year;
    # r = 3 / 4 = 0.75 -> moderately improving; score = 5 * 0.75 - 2.5 = 1.25
    a = assess(series(55.0), "sdsn")
    assert a.change_observed == pytest.approx(3.0)
    assert a.change_required == pytest.approx(4.0)
    assert a.ratio == pytest.approx(0.75)
    assert a.score == pytest.approx(1.25)
    assert (a.category, a.status) == ("moderately_improving", "needs_acceleration")


@pytest.mark.parametrize(
    ("latest", "category", "status"),
    [
        # HAND: required 4.0/yr; observed = (latest - 40) / 5
        (60.0, "on_track_or_maintaining", "on_track"),  # 4.0/yr: r = 1 exactly
        (59.999, "moderately_improving", "needs_acceleration"),
        (50.0, "moderately_improving", "needs_acceleration"),  # 2.0/yr: r = 0.5 exactly
        (49.999, "stagnating", "limited_progress"),
        (40.0, "stagnating", "limited_progress"),  # r = 0: stagnating
        (39.999, "decreasing", "wrong_direction"),
        (100.0, "on_track_or_maintaining", "achieved"),  # target reached
        (120.0, "on_track_or_maintaining", "achieved"),  # and beyond it
    ],
)
def test_boundaries_increase(latest: float, category: str, status: str) -> None:
    a = assess(series(latest), "sdsn")
    assert (a.category, a.status) == (category, status)


@pytest.mark.parametrize(
    ("latest", "category"),
    [
        # HAND, mirrored: base -40, target -100 -> required -4.0/yr, decrease wanted
        (-60.0, "on_track_or_maintaining"),
        (-50.0, "moderately_improving"),
        (-40.0, "stagnating"),
        (-39.0, "decreasing"),
    ],
)
def test_boundaries_decrease(latest: float, category: str) -> None:
    s = IndicatorSeries.of(
        [(2015, -40.0), (2020, latest)], "decrease", target=-100.0, target_year=2030
    )
    assert assess(s, "sdsn").category == category


def test_category_thresholds_are_inclusive_from_below() -> None:
    assert category_of(1.0) == "on_track_or_maintaining"
    assert category_of(0.5) == "moderately_improving"
    assert category_of(0.0) == "stagnating"
    assert category_of(-1e-12) == "decreasing"
    assert [linear_score(r) for r in (-1.0, 0.0, 0.5, 1.0, 2.0)] == [-5.0, -2.5, 0.0, 2.5, 5.0]


def test_maintaining_achievement_ignores_movement_above_the_target() -> None:
    # SDR FAQ: "a country above the green threshold and that maintained its performance
    # above the green threshold is automatically considered as having maintained"
    s = IndicatorSeries.of(
        [(2015, 120.0), (2020, 110.0)], "increase", target=100.0, target_year=2030
    )
    a = assess(s, "sdsn")
    assert (a.category, a.status, a.score) == ("on_track_or_maintaining", "achieved", 5.0)


def test_zero_and_negative_values_are_fine_for_linear_growth() -> None:
    # HAND: -10 -> 0 over 5 years toward 20 by 2030: observed 2.0, required 30/15 = 2.0
    s = IndicatorSeries.of([(2015, -10.0), (2020, 0.0)], "increase", target=20.0, target_year=2030)
    a = assess(s, "sdsn")
    assert a.ratio == pytest.approx(1.0)
    assert a.category == "on_track_or_maintaining"


def test_target_equal_to_base_and_moved_away_is_decreasing() -> None:
    s = IndicatorSeries.of([(2015, 10.0), (2020, 9.0)], "increase", target=10.0, target_year=2030)
    a = assess(s, "sdsn")
    assert (a.category, a.score, a.ratio) == ("decreasing", -5.0, None)


@pytest.mark.parametrize(
    ("series_", "fragment"),
    [
        (IndicatorSeries.of([(2015, 1.0), (2016, 2.0)], "increase"), "needs a target"),
        (
            IndicatorSeries.of([(2015, 1.0)], "increase", target=5.0, target_year=2030),
            "too few observations",
        ),
        (
            IndicatorSeries.of(
                [(2015, 1.0), (2020, 2.0)], "increase", target=5.0, target_year=2012
            ),
            "not after the base year",
        ),
    ],
)
def test_refusals(series_: IndicatorSeries, fragment: str) -> None:
    a = assess(series_, "sdsn")
    assert (a.category, a.status) == ("information_unavailable", "insufficient_data")
    assert a.reason is not None and fragment in a.reason


def test_deadline_passed_is_noted() -> None:
    s = IndicatorSeries.of([(2015, 1.0), (2031, 2.0)], "increase", target=5.0, target_year=2030)
    a = assess(s, "sdsn")
    assert any("has passed" in n for n in a.notes)
