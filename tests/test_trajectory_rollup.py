"""Roll-up to objectives and missions, regions, and staleness."""

from __future__ import annotations

import datetime as dt

import pytest

from missionkit.trajectory import (
    IndicatorSeries,
    RollupItem,
    assess,
    assess_all,
    rollup,
    split_by_region,
    staleness,
)
from missionkit.trajectory.staleness import add_months


def item(id: str, status: str, score: float | None) -> RollupItem:
    return RollupItem(id, status, score)  # type: ignore[arg-type]


def test_mean_score_rule_uses_open_sdg_bands() -> None:
    # Open SDG aggregation (progress-methodology.md): mean of scores, read on the bands.
    r = rollup([item("a", "on_track", 3.0), item("b", "limited_progress", -1.0)])
    assert r.score == pytest.approx(1.0)
    assert r.status == "needs_acceleration"
    assert r.drivers == ("b",)


def test_drivers_name_the_indicators_behind_a_red_status() -> None:
    r = rollup(
        [
            item("jobs", "on_track", 4.0),
            item("emissions", "wrong_direction", -5.0),
            item("heat", "wrong_direction", -4.0),
            item("trees", "needs_acceleration", 1.0),
        ]
    )
    assert r.status == "limited_progress"  # mean -1.0
    assert r.drivers == ("emissions", "heat")  # worst status, lowest score first
    assert [i.id for i in r.items] == ["emissions", "heat", "trees", "jobs"]


def test_achieved_only_if_every_item_is_achieved() -> None:
    done = [item("a", "achieved", 5.0), item("b", "achieved", 5.0)]
    assert rollup(done).status == "achieved"
    partly = [*done, item("c", "on_track", 2.5)]
    assert rollup(partly).status == "on_track"
    unknown = [*done, item("d", "insufficient_data", None)]
    r = rollup(unknown)
    assert r.status == "on_track" and r.unassessed == ("d",)  # an unknown is not "done"


def test_nothing_assessed_is_insufficient_data() -> None:
    r = rollup([item("a", "insufficient_data", None)])
    assert (r.status, r.score, r.unassessed) == ("insufficient_data", None, ("a",))
    assert rollup([]).status == "insufficient_data"


def test_worst_status_rule() -> None:
    items = [
        item("a", "on_track", 5.0),
        item("b", "on_track", 5.0),
        item("c", "limited_progress", -2.0),
    ]
    assert rollup(items).status == "on_track"  # mean 2.67
    assert rollup(items, rule="worst_status").status == "limited_progress"


def test_weights_and_nesting_indicator_objective_mission() -> None:
    obj1 = rollup([item("i1", "on_track", 4.0), item("i2", "on_track", 3.0)])
    obj2 = rollup([item("i3", "wrong_direction", -5.0)])
    mission = rollup([obj1.as_item("climate"), obj2.as_item("transport")])
    assert mission.score == pytest.approx((3.5 - 5.0) / 2)
    assert mission.status == "limited_progress"
    assert mission.drivers == ("transport",)
    heavy = rollup([obj1.as_item("climate", weight=3.0), obj2.as_item("transport")])
    assert heavy.score == pytest.approx((3 * 3.5 - 5.0) / 4)
    assert heavy.to_dict()["drivers"] == ["transport"]


def test_rollup_from_assessments() -> None:
    good = IndicatorSeries.of([(2015, 10.0), (2020, 20.0)], "increase", id="good")
    bad = IndicatorSeries.of([(2015, 10.0), (2020, 5.0)], "increase", id="bad")
    r = rollup(RollupItem.of(a) for a in assess_all([good, bad]))
    assert r.drivers == ("bad",)


def test_invalid_rollup_arguments() -> None:
    with pytest.raises(ValueError, match="status"):
        item("a", "green", 1.0)
    with pytest.raises(ValueError, match="weight"):
        RollupItem("a", "on_track", 1.0, weight=0.0)
    with pytest.raises(ValueError, match="rule"):
        rollup([], rule="median")  # type: ignore[arg-type]


def test_per_region_series_are_assessed_separately() -> None:
    template = IndicatorSeries.of([], "increase", id="broadband")
    rows = [
        ("FR10", 2015, 50.0),
        ("FR10", 2020, 60.0),
        ("ITC4", 2015, 40.0),
        ("ITC4", 2020, 38.0),
    ]
    by_region = split_by_region(rows, template)
    results = {r: assess(s) for r, s in by_region.items()}
    assert results["FR10"].category == "substantial_progress"
    assert results["ITC4"].category == "deterioration"
    assert results["ITC4"].region == "ITC4"
    # Several regions poured into one series show up as duplicate years, with a hint.
    mixed = IndicatorSeries.of([(y, v) for _, y, v in rows], "increase")
    reason = assess(mixed).reason or ""
    assert "duplicate" in reason and "region" in reason


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 11, 15), 14) == dt.date(2025, 1, 15)


def test_staleness_overdue_and_on_time() -> None:
    # Annual data last dated 31 Dec 2022 is due 31 Dec 2023 (+ 6 months lag: 30 Jun 2024).
    s = staleness(dt.date(2022, 12, 31), 12, as_of=dt.date(2024, 7, 10), publication_lag_months=6)
    assert s.next_due == dt.date(2024, 6, 30)
    assert (s.overdue, s.days_overdue) == (True, 10)
    fresh = staleness(
        dt.date(2022, 12, 31), 12, as_of=dt.date(2024, 6, 30), publication_lag_months=6
    )
    assert (fresh.overdue, fresh.days_overdue) == (False, 0)
    grace = staleness(2022, 12, as_of=dt.date(2024, 1, 5), grace_days=7)  # a year = 31 Dec
    assert (grace.last_observation, grace.overdue) == (dt.date(2022, 12, 31), False)
    with pytest.raises(ValueError):
        staleness(2022, 0, as_of=dt.date(2024, 1, 1))
