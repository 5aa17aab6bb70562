"""One entry point for every method, per series or per many series."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from missionkit.trajectory.projection import DEFAULT_HALF_LIFE, DEFAULT_LEVEL, assess_projection
from missionkit.trajectory.sdsn import assess_sdsn
from missionkit.trajectory.statcan import assess_statcan
from missionkit.trajectory.types import (
    DEFAULT_METHOD,
    METHODS,
    Assessment,
    IndicatorSeries,
    Method,
    ProjectionModel,
)


def assess(
    series: IndicatorSeries,
    method: Method = DEFAULT_METHOD,
    *,
    model: ProjectionModel = "linear",
    half_life: float | None = DEFAULT_HALF_LIFE,
    level: float = DEFAULT_LEVEL,
) -> Assessment:
    """Assess one series; ``statcan`` (the Open SDG progress measure) is the default.

    ``model``, ``half_life`` and ``level`` only concern ``projection``. Data that cannot be
    assessed gives a result with status ``insufficient_data`` and a ``reason``; a wrong
    argument (an unknown method) raises ``ValueError``.
    """
    if method == "statcan":
        return assess_statcan(series)
    if method == "sdsn":
        return assess_sdsn(series)
    if method == "projection":
        return assess_projection(series, model=model, half_life=half_life, level=level)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")


def assess_all(
    many: Iterable[IndicatorSeries],
    method: Method = DEFAULT_METHOD,
    *,
    model: ProjectionModel = "linear",
    half_life: float | None = DEFAULT_HALF_LIFE,
    level: float = DEFAULT_LEVEL,
) -> Iterator[Assessment]:
    """Assess each series in turn (per region, per indicator); lazy, one result each."""
    for series in many:
        yield assess(series, method, model=model, half_life=half_life, level=level)
