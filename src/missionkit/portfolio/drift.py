"""Drift: directionality, stage balance and instrument mix per start year or per call.

One row per period, so a mission lead sees whether the money drifts back to undirected,
research-only or single-instrument funding. Periods are start years in order (activities
without a year last, as ``(none)``) or calls in name order.
"""

from __future__ import annotations

from dataclasses import dataclass

from missionkit.domain.vocab import STAGES
from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.directionality import Directionality, ProvenanceWeights, directionality
from missionkit.portfolio.parts import cross
from missionkit.portfolio.types import NONE, PeriodKind, Result, share

__all__ = ["Drift", "DriftPeriod", "drift"]


@dataclass(frozen=True, slots=True)
class DriftPeriod(Result):
    """One period: budget, activities, directed share, and budget shares by stage (the
    five stages, plus ``(none)`` when some stage is unknown) and by instrument."""

    period: str
    budget: float
    activities: int
    directed_share: float
    stage_shares: dict[str, float]
    instrument_shares: dict[str, float]


@dataclass(frozen=True, slots=True)
class Drift(Result):
    """Periods in order and, for years, the change from the first to the last funded year
    of the directed share and of each stage's share (fractions; x100 = points)."""

    by: PeriodKind
    periods: tuple[DriftPeriod, ...]
    directed_share_change: float | None
    stage_share_change: dict[str, float]


def _order(keys: set[str], by: PeriodKind) -> list[str]:
    named = sorted(
        (k for k in keys if k != NONE), key=lambda k: (int(k), k) if by == "year" else (0, k)
    )
    return named + ([NONE] if NONE in keys else [])


def drift(
    portfolio: Portfolio,
    by: PeriodKind = "year",
    weights: ProvenanceWeights | None = None,
    *,
    direction: Directionality | None = None,
) -> Drift:
    """Directed share, stage shares and instrument shares per ``by`` period; ``direction``
    reuses a directionality already computed with the same weights."""
    direction = direction or directionality(portfolio, weights, least=0)
    groups = {g.key: g for g in (direction.by_year if by == "year" else direction.by_call)}
    stages: dict[str, dict[str, float]] = {}
    for period, stage, budget in (
        cross(portfolio, by, "stage", None).select("row", "column", "budget").iter_rows()
    ):
        stages.setdefault(str(period), {})[str(stage)] = float(budget)
    instruments: dict[str, dict[str, float]] = {}
    for period, instrument, budget in (
        cross(portfolio, by, "instrument", None).select("row", "column", "budget").iter_rows()
    ):
        instruments.setdefault(str(period), {})[str(instrument)] = float(budget)
    periods: list[DriftPeriod] = []
    for key in _order(set(groups), by):
        g = groups[key]
        by_stage = stages.get(key, {})
        keys = list(STAGES) + ([NONE] if NONE in by_stage else [])
        periods.append(
            DriftPeriod(
                period=key,
                budget=g.budget,
                activities=g.activities,
                directed_share=g.share,
                stage_shares={s: share(by_stage.get(s, 0.0), g.budget) for s in keys},
                instrument_shares={
                    i: share(b, g.budget) for i, b in sorted(instruments.get(key, {}).items())
                },
            )
        )
    funded = [p for p in periods if p.period != NONE and p.budget > 0]
    change = None
    stage_change: dict[str, float] = {}
    if by == "year" and len(funded) >= 2:
        first, last = funded[0], funded[-1]
        change = last.directed_share - first.directed_share
        stage_change = {
            s: last.stage_shares.get(s, 0.0) - first.stage_shares.get(s, 0.0) for s in STAGES
        }
    return Drift(by, tuple(periods), change, stage_change)
