"""Directionality: how much of the budget pulls toward the mission's objectives.

An activity's *directed budget* is ``budget x sum_j share_j x confidence_j`` over its
contributions ``j``, where ``share_j`` is the normalised contribution weight (see
``Portfolio.allocation``) and ``confidence_j`` depends on where the link came from
(:class:`ProvenanceWeights`). Directionality is directed budget over budget: overall, per
objective, per call and per start year. Because normalised weights sum to at most 1 and
confidences are at most 1, no activity is ever more than fully directed.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.types import NONE, Result, share

__all__ = [
    "Directionality",
    "GroupDirection",
    "ProvenanceWeights",
    "directed_budgets",
    "directionality",
]


@dataclass(frozen=True, slots=True)
class ProvenanceWeights:
    """How much a contribution counts, by provenance (each between 0 and 1).

    Defaults and why:

    * ``manual`` 1.0 and ``reviewed`` 1.0: a person asserted or confirmed the link;
    * ``suggested``: a mapping engine proposed the link and nobody has confirmed it. With
      ``suggested_uses_score`` (default) it counts with its mapping score, which the mapping
      engine calibrates as the probability that the link is right, so the directed budget
      is the expected directed budget. A suggestion without a score counts ``suggested``
      (0.5: as likely right as wrong). Set ``suggested=0`` and ``suggested_uses_score=False``
      to count confirmed links only.
    """

    manual: float = 1.0
    reviewed: float = 1.0
    suggested: float = 0.5
    suggested_uses_score: bool = True

    def __post_init__(self) -> None:
        for name in ("manual", "reviewed", "suggested"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"the {name} weight must be between 0 and 1, not {v!r}")

    def expression(self) -> pl.Expr:
        """The confidence of each contribution row (columns ``provenance``, ``score``)."""
        suggested = pl.lit(self.suggested)
        if self.suggested_uses_score:
            suggested = pl.col("score").fill_null(self.suggested)
        return (
            pl.when(pl.col("provenance") == "manual")
            .then(pl.lit(self.manual))
            .when(pl.col("provenance") == "reviewed")
            .then(pl.lit(self.reviewed))
            .otherwise(suggested)
        )


@dataclass(frozen=True, slots=True)
class GroupDirection(Result):
    """Directed budget of one group (an objective, a call, a year)."""

    key: str
    budget: float
    directed_budget: float
    share: float
    activities: int


@dataclass(frozen=True, slots=True)
class Directionality(Result):
    """The directed share overall, per objective, call and year; the least-directed calls.

    ``by_objective`` gives each objective's directed budget (``budget`` there is the budget
    allocated to it before confidence). ``least_directed`` ranks calls (with a budget and a
    name) by directed share, lowest first, larger budget first on ties.
    ``by_provenance`` is the directed budget carried by each kind of link.
    """

    share: float
    directed_budget: float
    total_budget: float
    by_objective: tuple[GroupDirection, ...]
    by_call: tuple[GroupDirection, ...]
    by_year: tuple[GroupDirection, ...]
    least_directed: tuple[GroupDirection, ...]
    by_provenance: dict[str, float]
    weights: ProvenanceWeights


def directed_budgets(
    portfolio: Portfolio, weights: ProvenanceWeights | None = None
) -> pl.LazyFrame:
    """``activity``, ``objective``, ``provenance``, ``budget`` (allocated) and ``directed``
    (allocated x confidence) for every contribution."""
    w = weights or ProvenanceWeights()
    return (
        portfolio.allocation.lazy()
        .with_columns(w.expression().alias("confidence"))
        .select(
            "activity",
            "objective",
            "provenance",
            "budget",
            (pl.col("budget") * pl.col("confidence")).alias("directed"),
        )
    )


def activity_direction(
    portfolio: Portfolio, weights: ProvenanceWeights | None = None
) -> pl.LazyFrame:
    """One row per activity: ``activity``, ``call``, ``year`` (strings, ``(none)`` when
    missing), ``budget`` and ``directed``."""
    per_activity = (
        directed_budgets(portfolio, weights).group_by("activity").agg(pl.col("directed").sum())
    )
    return (
        portfolio.activities.lazy()
        .select(
            pl.col("id").alias("activity"),
            pl.col("call").fill_null(NONE),
            pl.col("year").cast(pl.String).fill_null(NONE),
            "budget",
        )
        .join(per_activity, on="activity", how="left")
        .with_columns(pl.col("directed").fill_null(0.0))
    )


def _groups(frame: pl.LazyFrame, key: str) -> tuple[GroupDirection, ...]:
    rows = (
        frame.group_by(key)
        .agg(
            pl.col("budget").sum(),
            pl.col("directed").sum(),
            pl.col("activity").n_unique().alias("activities"),
        )
        .sort(key)
        .collect()
    )
    return tuple(
        GroupDirection(str(k), float(b), float(d), share(float(d), float(b)), int(n))
        for k, b, d, n in rows.select(key, "budget", "directed", "activities").iter_rows()
    )


def directionality(
    portfolio: Portfolio, weights: ProvenanceWeights | None = None, least: int = 5
) -> Directionality:
    """Directed share of the budget overall, per objective/call/year; ``least`` calls."""
    w = weights or ProvenanceWeights()
    per_activity = activity_direction(portfolio, w).collect().lazy()
    total = portfolio.total_budget
    directed = float(per_activity.select(pl.col("directed").sum()).collect().item())
    links = directed_budgets(portfolio, w).filter(pl.col("budget") > 0)
    by_objective = _groups(links, "objective")
    by_objective_all = {g.key: g for g in by_objective}
    objectives = tuple(
        by_objective_all.get(o, GroupDirection(o, 0.0, 0.0, 0.0, 0))
        for o in portfolio.objectives.get_column("id").to_list()
    )
    by_call = _groups(per_activity, "call")
    least_directed = sorted(
        (g for g in by_call if g.key != NONE and g.budget > 0),
        key=lambda g: (g.share, -g.budget, g.key),
    )[: max(least, 0)]
    provenance = (
        directed_budgets(portfolio, w)
        .group_by("provenance")
        .agg(pl.col("directed").sum())
        .collect()
    )
    return Directionality(
        share=share(directed, total),
        directed_budget=directed,
        total_budget=total,
        by_objective=objectives,
        by_call=by_call,
        by_year=_groups(per_activity, "year"),
        least_directed=tuple(least_directed),
        by_provenance={
            p: float(d) for p, d in sorted(provenance.iter_rows(), key=lambda r: str(r[0]))
        },
        weights=w,
    )
