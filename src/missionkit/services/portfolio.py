"""The portfolio analyses of one mission, from the store to the pure portfolio engine.

The mission's activities travel as document records (the same shape import and export
use), so the engine sees exactly what a user would export.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from missionkit.portfolio import (
    Analyses,
    Coherence,
    Coverage,
    Directionality,
    Diversity,
    Drift,
    InstrumentMix,
    Portfolio,
    SpatialEquity,
    SpatialLevel,
    StageBalance,
    coherence,
    coverage,
    directionality,
    diversity,
    drift,
    findings,
    instrument_mix,
    spatial_equity,
    stage_balance,
)
from missionkit.portfolio.types import Result
from missionkit.services.export import activity_documents, mission_header
from missionkit.services.maps import mission_id_for
from missionkit.store import tables as t


def mission_portfolio(session: Session, key: int | str) -> tuple[t.Mission, Portfolio, list[str]]:
    """The mission's portfolio in its main currency, and notes on what was left out."""
    mission = session.get(t.Mission, mission_id_for(session, key))
    assert mission is not None
    docs = [a.model_dump(mode="json") for a in activity_documents(session, mission.id)]
    currencies = Counter(d["currency"] for d in docs if d["public_contribution"] is not None)
    currency = currencies.most_common(1)[0][0] if currencies else "EUR"
    notes = []
    kept = [d for d in docs if d["currency"] in (currency, None)]
    if len(kept) < len(docs):
        notes.append(
            f"{len(docs) - len(kept)} activities in other currencies than {currency} are left "
            "out (no exchange rates are applied)."
        )
    unbudgeted = sum(1 for d in kept if d["public_contribution"] is None)
    if unbudgeted:
        notes.append(f"{unbudgeted} activities without a public contribution count as 0.")
    objectives = [o.model_dump(mode="json") for o in mission_header(session, mission).objectives]
    regions = [
        {"code": r.code, "population": r.population, "gdp_per_head": r.gdp_per_head,
         "scoreboard_group": r.scoreboard_group}
        for r in session.scalars(select(t.Region))
    ]  # fmt: skip
    portfolio = Portfolio.from_documents(
        kept, objectives, regions, currency=currency, missing_budget="zero"
    )
    return mission, portfolio, notes


def portfolio_analysis(
    session: Session, key: int | str, *, level: SpatialLevel = "country"
) -> dict[str, Any]:
    """Headline findings first, then each analysis as JSON-ready data.

    Every analysis runs once and the findings reuse them. ``level`` is where spatial
    equity is measured (regions need populations at that level to count).
    """
    mission, portfolio, notes = mission_portfolio(session, key)
    done = analyses(portfolio, level=level)
    ranked = findings(portfolio, spatial=done.spatial, analyses=done.findings_input())
    return {
        "mission": {"id": mission.id, "slug": mission.slug, "title": mission.title},
        "currency": portfolio.currency,
        "notes": notes,
        "headline_findings": [f.text for f in ranked[:10]],
        "findings": [f.to_dict() for f in ranked],
        "coverage": done.coverage.to_dict(),
        "directionality": done.directionality.to_dict(),
        "stage_balance": done.stage_balance.to_dict(),
        "instrument_mix": done.instrument_mix.to_dict(),
        "diversity": done.diversity.to_dict(),
        "coherence": done.coherence.to_dict(),
        "spatial_equity": done.spatial.to_dict(),
        "drift": done.drift.to_dict(),
    }


@dataclass(frozen=True)
class PortfolioAnalyses:
    """Every analysis of one portfolio, computed once."""

    coverage: Coverage
    directionality: Directionality
    stage_balance: StageBalance
    instrument_mix: InstrumentMix
    diversity: Diversity
    instruments: Diversity
    coherence: Coherence
    spatial: SpatialEquity
    drift: Drift

    def findings_input(self) -> Analyses:
        """The results the headline findings reuse."""
        return Analyses(
            coverage=self.coverage,
            directionality=self.directionality,
            stage_balance=self.stage_balance,
            coherence=self.coherence,
            instruments=self.instruments,
            drift=self.drift,
        )


def analyses(portfolio: Portfolio, *, level: SpatialLevel = "country") -> PortfolioAnalyses:
    """Run each analysis of the report once (pure: no database)."""
    direction = directionality(portfolio)
    return PortfolioAnalyses(
        coverage=coverage(portfolio),
        directionality=direction,
        stage_balance=stage_balance(portfolio),
        instrument_mix=instrument_mix(portfolio),
        diversity=diversity(portfolio),
        instruments=diversity(portfolio, "instrument"),
        coherence=coherence(portfolio),
        spatial=spatial_equity(portfolio, level),
        drift=drift(portfolio, "year", direction=direction),
    )


AnalysisName = Literal[
    "coverage", "directionality", "stage_balance", "instrument_mix", "diversity",
    "coherence", "spatial_equity", "drift", "findings",
]  # fmt: skip
ANALYSIS_NAMES: tuple[AnalysisName, ...] = get_args(AnalysisName)

_SINGLE: dict[str, Callable[[Portfolio, SpatialLevel], Result]] = {
    "coverage": lambda p, _: coverage(p),
    "directionality": lambda p, _: directionality(p),
    "stage_balance": lambda p, _: stage_balance(p),
    "instrument_mix": lambda p, _: instrument_mix(p),
    "diversity": lambda p, _: diversity(p),
    "coherence": lambda p, _: coherence(p),
    "spatial_equity": lambda p, level: spatial_equity(p, level),
    "drift": lambda p, _: drift(p, "year"),
}


def single_analysis(
    session: Session, key: int | str, analysis: AnalysisName, *, level: SpatialLevel = "country"
) -> dict[str, Any]:
    """One analysis of the mission's portfolio, the same figures as in
    :func:`portfolio_analysis`, without running the others (``findings`` needs them all)."""
    mission, portfolio, notes = mission_portfolio(session, key)
    head = {
        "mission": {"id": mission.id, "slug": mission.slug, "title": mission.title},
        "currency": portfolio.currency,
        "notes": notes,
    }
    if analysis == "findings":
        done = analyses(portfolio, level=level)
        ranked = findings(portfolio, spatial=done.spatial, analyses=done.findings_input())
        return {**head, "findings": [f.to_dict() for f in ranked]}
    return {**head, analysis: _SINGLE[analysis](portfolio, level).to_dict()}
