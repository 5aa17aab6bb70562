"""Balance across the innovation cycle, and the instrument mix, per objective and over time.

Budget per stage (research -> development -> demonstration -> deployment -> diffusion; a stage
derived from the TRL range where none is given, see ``TRL_BANDS``) for the portfolio and
for each objective, sub-objectives included. A *gap* is a stage after an objective's
earliest funded stage in which no activity of the objective works. Presence is judged on
activities, not money, so a zero-budget regulation still fills its stage.

The gap in words names the one that matters most: with nothing in deployment, "research
and demonstration but no deployment" (the innovation cycle never reaches use); otherwise
the missing later stages, "deployment but no diffusion", or an interior gap,
"research but no development".
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from missionkit.domain.vocab import STAGES
from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.parts import cross, totals
from missionkit.portfolio.types import ALL, NONE, Result, share

__all__ = [
    "InstrumentMix",
    "InstrumentTrend",
    "MixCell",
    "ObjectiveStages",
    "StageBalance",
    "StageShare",
    "instrument_mix",
    "stage_balance",
]


@dataclass(frozen=True, slots=True)
class StageShare(Result):
    """Budget, share (of the objective's budget) and activity count at one stage."""

    stage: str
    budget: float
    share: float
    activities: int


@dataclass(frozen=True, slots=True)
class ObjectiveStages(Result):
    """One objective's (or the portfolio's, key ``(all)``) budget across the cycle.

    ``stages`` lists the five stages in order, then ``(none)`` when some budget has no
    known stage. ``earliest`` is the first stage with an activity; ``missing`` the later
    stages with none (the gaps), in order.
    """

    objective: str
    title: str
    budget: float
    activities: int
    stages: tuple[StageShare, ...]
    earliest: str | None
    missing: tuple[str, ...]
    gap: str | None
    """The gap in words, e.g. ``"research but no deployment"``; None if none."""
    no_deployment: bool
    """Some activity sits before deployment and none in deployment."""


def _words(items: tuple[str, ...], last: str = "or") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {last} " + items[-1]


def _and(items: tuple[str, ...]) -> str:
    return _words(items, "and")


@dataclass(frozen=True, slots=True)
class StageBalance(Result):
    """Stage budgets for the portfolio and every objective; objectives with gaps."""

    portfolio: ObjectiveStages
    objectives: tuple[ObjectiveStages, ...]
    gaps: tuple[str, ...]


def _stages(key: str, title: str, rows: dict[str, tuple[float, int]]) -> ObjectiveStages:
    budget = float(sum(b for b, _ in rows.values()))
    activities = sum(n for _, n in rows.values())
    keys = list(STAGES) + ([NONE] if NONE in rows else [])
    shares = tuple(
        StageShare(s, rows.get(s, (0.0, 0))[0], share(rows.get(s, (0.0, 0))[0], budget),
                   rows.get(s, (0.0, 0))[1])
        for s in keys
    )  # fmt: skip
    present = [s for s in STAGES if rows.get(s, (0.0, 0))[1] > 0]
    earliest = present[0] if present else None
    missing: tuple[str, ...] = ()
    if earliest is not None:
        later = STAGES[STAGES.index(earliest) + 1 :]
        missing = tuple(s for s in later if s not in present)
    no_deployment = "deployment" in missing
    gap = None
    if no_deployment:
        before = tuple(s for s in present if STAGES.index(s) < STAGES.index("deployment"))
        gap = f"{_and(before)} but no deployment"
    elif missing:
        gap = f"{earliest} but no {_words(missing)}"
    return ObjectiveStages(
        key, title, budget, activities, shares, earliest, missing, gap, no_deployment
    )


def stage_balance(portfolio: Portfolio) -> StageBalance:
    """Budget by stage for the portfolio and each objective, with the gaps named.

    An objective includes its sub-objectives; its ``activities`` sums its per-stage counts
    (each activity has one stage).
    """
    titles = portfolio.objective_titles()
    whole = {
        str(v): (float(b), int(n))
        for v, b, n in totals(portfolio, "stage")
        .select("value", "budget", "activities")
        .iter_rows()
    }
    table = cross(portfolio, "objective", "stage", rollup=True)
    per: dict[str, dict[str, tuple[float, int]]] = {o: {} for o in titles}
    for o, s, b, n in table.select("row", "column", "budget", "activities").iter_rows():
        if o in per:
            per[o][s] = (float(b), int(n))
    objectives = tuple(_stages(o, titles[o], rows) for o, rows in per.items())
    return StageBalance(
        portfolio=_stages(ALL, "the whole portfolio", whole),
        objectives=objectives,
        gaps=tuple(o.objective for o in objectives if o.missing),
    )


# --- instrument mix ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MixCell(Result):
    """One instrument's budget within a group (an objective, a year), and its share of it."""

    key: str
    instrument: str
    budget: float
    share: float
    activities: int


@dataclass(frozen=True, slots=True)
class InstrumentTrend(Result):
    """An instrument's share of the yearly budget in the first and last year with budget."""

    instrument: str
    first_year: str
    first_share: float
    last_year: str
    last_share: float
    change: float
    """``last_share - first_share`` (a fraction; x100 for percentage points)."""


@dataclass(frozen=True, slots=True)
class InstrumentMix(Result):
    """Instrument shares for the portfolio (key ``(all)``), per objective (sub-objectives
    included; ``(none)`` is the unallocated budget) and per year.

    Years are start years; ``trend`` compares the first and the last year with budget
    (activities without a year are left out of the trend).
    """

    portfolio: tuple[MixCell, ...]
    by_objective: tuple[MixCell, ...]
    by_year: tuple[MixCell, ...]
    trend: tuple[InstrumentTrend, ...]


def _mix(frame: pl.DataFrame) -> tuple[MixCell, ...]:
    with_share = frame.with_columns(
        (pl.col("budget") / pl.col("budget").sum().over("row")).fill_nan(0.0).alias("share")
    )
    return tuple(
        MixCell(str(r), str(c), float(b), float(s), int(n))
        for r, c, b, s, n in with_share.select(
            "row", "column", "budget", "share", "activities"
        ).iter_rows()
    )


def instrument_mix(portfolio: Portfolio) -> InstrumentMix:
    """Instrument shares overall, per objective and per start year, and the trend."""
    overall = totals(portfolio, "instrument").select(
        pl.lit(ALL).alias("row"), pl.col("value").alias("column"), "budget", "activities"
    )
    by_objective = cross(portfolio, "objective", "instrument", rollup=True)
    by_year = cross(portfolio, "year", "instrument", None)
    year_cells = _mix(by_year)
    years = sorted(
        {c.key for c in year_cells if c.key != NONE},
        key=lambda y: int(y),
    )
    year_budget = {y: sum(c.budget for c in year_cells if c.key == y) for y in years}
    funded = [y for y in years if year_budget[y] > 0]
    trend: list[InstrumentTrend] = []
    if funded:
        first, last = funded[0], funded[-1]
        shares = {(c.key, c.instrument): c.share for c in year_cells}
        for instrument in sorted({c.instrument for c in year_cells if c.key in (first, last)}):
            a, b = shares.get((first, instrument), 0.0), shares.get((last, instrument), 0.0)
            trend.append(InstrumentTrend(instrument, first, a, last, b, b - a))
    return InstrumentMix(_mix(overall), _mix(by_objective), year_cells, tuple(trend))
