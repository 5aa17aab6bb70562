"""Trajectory engine: is each outcome indicator on track to hit its target by the deadline?

Pure functions over plain data (no database, no web). Three selectable methods:

- ``statcan`` (default): the Statistics Canada / Open SDG progress measure (CAGR ratio);
- ``sdsn``: the SDSN Sustainable Development Report trend arrows (linear growth ratio);
- ``projection``: a time-weighted trend forecast at the deadline with a prediction interval
  and the probability of reaching the target.

Every answer carries the method's own category, a common ``Status``, the evidence, and a
``reason`` when the data cannot be assessed. ``rollup`` combines answers for objectives and
missions, ``staleness`` flags overdue data, and ``assess_batch`` runs a method over
millions of series with numpy. See ``docs/trajectory.md``.
"""

from missionkit.trajectory.assess import assess, assess_all
from missionkit.trajectory.projection import assess_projection
from missionkit.trajectory.rollup import Rollup, RollupItem, RollupRule, rollup, status_from_score
from missionkit.trajectory.sdsn import assess_sdsn
from missionkit.trajectory.series import split_by_region, to_time
from missionkit.trajectory.staleness import Staleness, staleness
from missionkit.trajectory.statcan import aggregate_scores, assess_statcan, limit_coefficient
from missionkit.trajectory.types import (
    DEFAULT_METHOD,
    METHODS,
    PROJECTION_CATEGORIES,
    SDSN_CATEGORIES,
    STATCAN_CATEGORIES,
    STATUS_ORDER,
    Assessment,
    Category,
    Direction,
    Forecast,
    IndicatorSeries,
    Method,
    Point,
    ProjectionModel,
    Status,
    When,
)
from missionkit.trajectory.vectorised import REASONS, BatchResult, SeriesBatch, assess_batch

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "PROJECTION_CATEGORIES",
    "REASONS",
    "SDSN_CATEGORIES",
    "STATCAN_CATEGORIES",
    "STATUS_ORDER",
    "Assessment",
    "BatchResult",
    "Category",
    "Direction",
    "Forecast",
    "IndicatorSeries",
    "Method",
    "Point",
    "ProjectionModel",
    "Rollup",
    "RollupItem",
    "RollupRule",
    "SeriesBatch",
    "Staleness",
    "Status",
    "When",
    "aggregate_scores",
    "assess",
    "assess_all",
    "assess_batch",
    "assess_projection",
    "assess_sdsn",
    "assess_statcan",
    "limit_coefficient",
    "rollup",
    "split_by_region",
    "staleness",
    "status_from_score",
    "to_time",
]
