"""Typed inputs and results of the trajectory engine.

Plain frozen dataclasses with ``Literal`` vocabularies, so every interface (Python, CLI,
later the API) speaks the same words. Each method has its own category vocabulary, taken
from its published source; ``Status`` is the common answer a mission lead reads, and
``STATUS_ORDER`` ranks it from best to worst.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Literal, TypeAlias

Direction = Literal["increase", "decrease"]
Method = Literal["statcan", "sdsn", "projection"]
ProjectionModel = Literal["linear", "loglinear"]

Status = Literal[
    "achieved",
    "on_track",
    "needs_acceleration",
    "limited_progress",
    "wrong_direction",
    "insufficient_data",
]
# Best first; roll-ups report the worst status present (the highest index).
STATUS_ORDER: tuple[Status, ...] = (
    "achieved",
    "on_track",
    "needs_acceleration",
    "limited_progress",
    "wrong_direction",
    "insufficient_data",
)

# Open SDG / Statistics Canada progress categories (the keys sdg-build emits), plus the
# documented "Unable to assess" outcome.
StatcanCategory = Literal[
    "target_achieved",
    "substantial_progress",
    "moderate_progress",
    "limited_progress",
    "deterioration",
    "unable_to_assess",
]
STATCAN_CATEGORIES: tuple[StatcanCategory, ...] = (
    "target_achieved",
    "substantial_progress",
    "moderate_progress",
    "limited_progress",
    "deterioration",
    "unable_to_assess",
)
# SDSN Sustainable Development Report trend arrows (↑ ➚ → ↓ and "information unavailable").
SdsnCategory = Literal[
    "on_track_or_maintaining",
    "moderately_improving",
    "stagnating",
    "decreasing",
    "information_unavailable",
]
SDSN_CATEGORIES: tuple[SdsnCategory, ...] = (
    "on_track_or_maintaining",
    "moderately_improving",
    "stagnating",
    "decreasing",
    "information_unavailable",
)
# Projection categories in the words the UN regional commissions use (maintain, accelerate,
# reverse), with "limited progress" splitting "accelerate" at half the required progress.
ProjectionCategory = Literal[
    "target_achieved",
    "on_track",
    "acceleration_needed",
    "limited_progress",
    "reverse_trend",
    "insufficient_data",
]
PROJECTION_CATEGORIES: tuple[ProjectionCategory, ...] = (
    "target_achieved",
    "on_track",
    "acceleration_needed",
    "limited_progress",
    "reverse_trend",
    "insufficient_data",
)
Category: TypeAlias = StatcanCategory | SdsnCategory | ProjectionCategory

When: TypeAlias = int | dt.date
"""A point in time: a calendar year (``2016``) or a date (``date(2016, 3, 31)``)."""

Point: TypeAlias = tuple[When, float | None]
"""One observation; a ``None`` or NaN value is a missing year and is dropped."""

DIRECTIONS: tuple[Direction, ...] = ("increase", "decrease")
METHODS: tuple[Method, ...] = ("statcan", "sdsn", "projection")
DEFAULT_METHOD: Method = "statcan"


@dataclass(frozen=True, slots=True)
class IndicatorSeries:
    """One indicator's observations and what counts as success for it.

    A ``target`` needs a ``target_year``; a ``target_year`` alone is the deadline a
    projection forecasts at. ``base_year`` starts the assessed period
    (default: the first observation). ``limit`` is a natural maximum or minimum (e.g. 100
    for a percentage); ``region`` names the area when an indicator has one series per region.
    """

    points: tuple[Point, ...]
    direction: Direction
    target: float | None = None
    target_year: int | None = None
    base_year: int | None = None
    limit: float | None = None
    id: str = ""
    region: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.points, tuple):  # accept any iterable, keep it immutable
            object.__setattr__(self, "points", tuple(_point(p) for p in self.points))
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'increase' or 'decrease', not {self.direction!r}")
        if self.target is not None and self.target_year is None:
            raise ValueError("a target needs a target_year (the deadline)")
        for name in ("target", "limit"):
            v = getattr(self, name)
            if v is not None:
                if not math.isfinite(v):
                    raise ValueError(f"{name} must be a finite number, not {v!r}")
                object.__setattr__(self, name, float(v))

    @classmethod
    def of(
        cls,
        points: Iterable[Point],
        direction: Direction,
        *,
        target: float | None = None,
        target_year: int | None = None,
        base_year: int | None = None,
        limit: float | None = None,
        id: str = "",
        region: str | None = None,
    ) -> IndicatorSeries:
        """Build from any iterable of ``(year or date, value)`` pairs."""
        return cls(
            tuple(_point(p) for p in points),
            direction,
            target,
            target_year,
            base_year,
            limit,
            id,
            region,
        )


def _point(p: Point) -> Point:
    when, value = p
    return (when, None if value is None else float(value))


@dataclass(frozen=True, slots=True)
class Forecast:
    """The value expected at the target year under the fitted trend, with its uncertainty.

    ``low``/``high`` bound a prediction interval at ``level``; ``probability`` is the chance,
    under the same model, that the value at the target year meets the target.
    ``slope`` is per year on the model's scale: units for ``linear``, log-units for
    ``loglinear`` (so ``exp(slope) - 1`` is the annual growth rate).
    """

    year: float
    value: float
    low: float
    high: float
    level: float
    probability: float | None
    model: ProjectionModel
    n_points: int
    slope: float
    half_life: float | None


@dataclass(frozen=True, slots=True)
class Assessment:
    """One indicator's answer: category in its method's words, common status, evidence.

    ``ratio`` is observed over required progress (statcan: CAGR ratio; sdsn: linear growth
    ratio; projection: projected over required progress) where defined. ``score`` is on
    Open SDG's -5..5 scale. ``reason`` says why a series was not assessed; ``notes`` list
    substitutions and caveats applied on the way.
    """

    method: Method
    category: Category
    status: Status
    direction: Direction
    ratio: float | None = None
    score: float | None = None
    cagr_observed: float | None = None
    cagr_required: float | None = None
    change_observed: float | None = None
    change_required: float | None = None
    base_year: float | None = None
    base_value: float | None = None
    latest_year: float | None = None
    latest_value: float | None = None
    target: float | None = None
    target_year: int | None = None
    limit: float | None = None
    coefficient: float | None = None
    n_points: int = 0
    forecast: Forecast | None = None
    reason: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    id: str = ""
    region: str | None = None

    @classmethod
    def blank(cls, method: Method, category: Category, series: IndicatorSeries) -> Assessment:
        """An answer that carries only the series' own facts, to fill in or to refuse with."""
        return cls(
            method=method,
            category=category,
            status="insufficient_data",
            direction=series.direction,
            target=series.target,
            target_year=series.target_year,
            limit=series.limit,
            id=series.id,
            region=series.region,
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping (non-finite numbers become ``None``)."""
        out: dict[str, object] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Forecast):
                v = {g.name: _finite(getattr(v, g.name)) for g in fields(v)}
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = _finite(v)
        return out


def _finite(v: object) -> object:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
