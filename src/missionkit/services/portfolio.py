"""The portfolio analyses of one mission, from the store to the pure portfolio engine.

The mission's activities travel as document records (the same shape import and export
use), so the engine sees exactly what a user would export.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from missionkit.portfolio import (
    Portfolio,
    coherence,
    coverage,
    directionality,
    diversity,
    findings,
    instrument_mix,
    stage_balance,
)
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


def portfolio_analysis(session: Session, key: int | str) -> dict[str, Any]:
    """Headline findings first, then each analysis as JSON-ready data."""
    mission, portfolio, notes = mission_portfolio(session, key)
    cov, direc = coverage(portfolio), directionality(portfolio)
    stages, network = stage_balance(portfolio), coherence(portfolio)
    # The findings reuse the analyses above instead of running them again.
    ranked = findings(portfolio, precomputed=(cov, direc, stages, network))
    return {
        "mission": {"id": mission.id, "slug": mission.slug, "title": mission.title},
        "currency": portfolio.currency,
        "notes": notes,
        "headline_findings": [f.text for f in ranked[:10]],
        "coverage": cov.to_dict(),
        "directionality": direc.to_dict(),
        "stage_balance": stages.to_dict(),
        "instrument_mix": instrument_mix(portfolio).to_dict(),
        "diversity": diversity(portfolio).to_dict(),
        "coherence": network.to_dict(),
    }
