"""Input cleaning shared by every method: times, missing values, base and latest points.

Open SDG's rules are followed where they exist (sdg-build ``sdg/ProgressMeasure.py``,
``SeriesProgress.filter_data`` and ``__init__``): missing values are dropped, duplicate
years are refused, and when the base year has no value the next available year is used.
Everything else that can go wrong is refused here with a reason a person can act on.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from missionkit.trajectory.types import IndicatorSeries, Point, When


def to_time(when: When) -> float:
    """A year as ``Y.0``; a date as ``Y + (day of year - 1) / days in year``."""
    if isinstance(when, dt.date):
        start = dt.date(when.year, 1, 1)
        days = (dt.date(when.year + 1, 1, 1) - start).days
        return when.year + (when.toordinal() - start.toordinal()) / days
    if isinstance(when, bool) or not isinstance(when, int):
        raise TypeError(f"a time must be a year (int) or a date, not {when!r}")
    return float(when)


def format_time(t: float) -> str:
    """``2016`` for whole years, ``2016.25`` otherwise (for messages)."""
    return str(int(t)) if t == int(t) else f"{t:.2f}"


@dataclass(frozen=True, slots=True)
class Prepared:
    """A clean series: strictly increasing times, finite values, and the assessed window."""

    times: tuple[float, ...]
    values: tuple[float, ...]
    base: int  # index of the base point in times/values
    latest: int  # index of the latest point
    dropped_missing: int

    @property
    def count(self) -> int:
        """Observations from the base point to the latest."""
        return self.latest - self.base + 1

    @property
    def t0(self) -> float:
        return self.times[self.base]

    @property
    def y0(self) -> float:
        return self.values[self.base]

    @property
    def ti(self) -> float:
        return self.times[self.latest]

    @property
    def yi(self) -> float:
        return self.values[self.latest]

    @property
    def window(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Times and values from the base point to the latest."""
        s = slice(self.base, self.latest + 1)
        return self.times[s], self.values[s]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a series cannot be assessed, in words."""

    reason: str


def prepare(series: IndicatorSeries, min_points: int = 2) -> Prepared | Refusal:
    """Sort, drop missing values, refuse what no method can use, find base and latest.

    ``min_points`` counts observations from the base year on (two for a growth rate).
    """
    if not series.points:
        return Refusal("no observations")
    kinds = {isinstance(w, dt.date) for w, _ in series.points}
    if len(kinds) > 1:
        return Refusal("the series mixes years and dates; use one or the other")
    rows: list[tuple[float, float]] = []
    dropped = 0
    seen: dict[float, When] = {}
    for when, value in series.points:
        t = to_time(when)
        if t in seen:
            hint = " (several regions in one series? assess each region separately)"
            return Refusal(f"duplicate observation for {when}{hint}")
        seen[t] = when
        if value is None or math.isnan(value):
            dropped += 1
            continue
        if math.isinf(value):
            return Refusal(f"non-finite value at {when}")
        rows.append((t, value))
    rows.sort()
    if not rows:
        return Refusal("every value is missing")
    times = tuple(t for t, _ in rows)
    values = tuple(v for _, v in rows)
    base = 0
    if series.base_year is not None:
        after = [i for i, t in enumerate(times) if t >= series.base_year]
        if not after:
            return Refusal(
                f"no observation in or after the base year {series.base_year} "
                f"(latest is {format_time(times[-1])})"
            )
        base = after[0]
    latest = len(times) - 1
    n = latest - base + 1
    if n < min_points:
        return Refusal(
            f"too few observations: {n} from the base year {format_time(times[base])} on, "
            f"at least {min_points} needed"
        )
    return Prepared(times, values, base, latest, dropped)


def split_by_region(
    rows: Iterable[tuple[str | None, When, float | None]],
    template: IndicatorSeries,
) -> dict[str | None, IndicatorSeries]:
    """One series per region from ``(region, time, value)`` rows, sharing ``template``'s
    direction, target, base year and limit, so each region is assessed on its own."""
    grouped: dict[str | None, list[Point]] = {}
    for region, when, value in rows:
        grouped.setdefault(region, []).append((when, value))
    return {
        region: IndicatorSeries.of(
            points,
            template.direction,
            target=template.target,
            target_year=template.target_year,
            base_year=template.base_year,
            limit=template.limit,
            id=template.id,
            region=region,
        )
        for region, points in grouped.items()
    }
