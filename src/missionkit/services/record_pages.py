"""The record pages (objective, indicator, activity, organisation): each record with the
mission it belongs to and what the cockpit says about it.

Built on the cockpit's grouped queries (``services.cockpit``), so a record page reads its
mission's assessment the same way the cockpit does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionkit.domain.vocab import STAGES
from missionkit.services.cockpit import (
    budget_total,
    indicator_cards,
    main_currency,
    mission_header,
    objectives_served,
    recent_reviews,
)
from missionkit.services.errors import NotFound
from missionkit.store import tables as t


def indicator_page(session: Session, indicator_id: int, today: dt.date) -> dict[str, Any]:
    """One indicator's card (status from the mission's own assessment) and its mission."""
    indicator = session.get(t.Indicator, indicator_id)
    if indicator is None:
        raise NotFound(f"no indicator with id {indicator_id}")
    _, cards = indicator_cards(session, indicator.mission_id, today)
    card = next(c for c in cards if c["id"] == indicator_id)
    objective = session.get(t.Objective, indicator.objective_id) if indicator.objective_id else None
    card["objective"] = {"id": objective.id, "title": objective.title} if objective else None
    card["mission"] = mission_header(session, indicator.mission_id, today)
    card["version"] = indicator.version
    return card


def _find_objective_progress(nodes: list[dict[str, Any]], objective_id: int) -> Any:
    for node in nodes:
        if node["id"] == objective_id:
            return node
        found = _find_objective_progress(node["children"], objective_id)
        if found is not None:
            return found
    return None


def objective_page(
    session: Session, objective_id: int, today: dt.date, limit: int = 50
) -> dict[str, Any]:
    """An objective: its progress, indicators, the activities serving it (largest first)."""
    objective = session.get(t.Objective, objective_id)
    if objective is None:
        raise NotFound(f"no objective with id {objective_id}")
    mission_id = objective.mission_id
    result, cards = indicator_cards(session, mission_id, today)
    node = _find_objective_progress(result["objectives"], objective_id)
    served = next(o for o in objectives_served(session, mission_id) if o["id"] == objective_id)
    parent = session.get(t.Objective, objective.parent_id) if objective.parent_id else None
    children = session.execute(
        select(t.Objective.id, t.Objective.title)
        .where(t.Objective.parent_id == objective_id)
        .order_by(t.Objective.position, t.Objective.slug)
    ).all()
    activities = [
        dict(zip(("id", "identifier", "title", "instrument", "stage", "status",
                  "public_contribution", "currency", "weight", "provenance", "score"), row,
                 strict=True))
        for row in session.execute(
            select(
                t.Activity.id, t.Activity.identifier, t.Activity.title, t.Activity.instrument,
                t.Activity.stage, t.Activity.status, t.Activity.public_contribution,
                t.Activity.currency, t.Contribution.weight, t.Contribution.provenance,
                t.Contribution.score,
            )
            .join(t.Contribution, t.Contribution.activity_id == t.Activity.id)
            .where(t.Contribution.objective_id == objective_id)
            .order_by(t.Activity.public_contribution.desc().nulls_last(), t.Activity.id)
            .limit(limit)
        )
    ]  # fmt: skip
    stages = session.execute(
        select(t.Activity.stage, func.count(), budget_total())
        .join(t.Contribution, t.Contribution.activity_id == t.Activity.id)
        .where(t.Contribution.objective_id == objective_id)
        .group_by(t.Activity.stage)
    ).all()
    order = {s: i for i, s in enumerate(STAGES)}
    reviews = [
        r for r in recent_reviews(session, mission_id, limit=200)
        if r["objective"] and r["objective"]["id"] == objective_id
    ]  # fmt: skip
    return {
        "objective": {
            "id": objective.id,
            "slug": objective.slug,
            "title": objective.title,
            "description": objective.description,
            "keywords": objective.keywords,
            "version": objective.version,
        },
        "mission": mission_header(session, mission_id, today),
        "parent": {"id": parent.id, "title": parent.title} if parent else None,
        "children": [{"id": c.id, "title": c.title} for c in children],
        "progress": node["progress"] if node else None,
        "indicators": [c for c in cards if c["objective_id"] == objective_id],
        "served": served,
        "currency": main_currency(session, mission_id),
        "activities": activities,
        "stages": sorted(
            ({"stage": s, "activities": n, "budget": Decimal(b or 0)} for s, n, b in stages),
            key=lambda r: order.get(r["stage"], len(order)),
        ),
        "reviews": reviews,
    }


def activity_page(session: Session, activity_id: int, today: dt.date) -> dict[str, Any]:
    """An activity with what it serves, who does it, its work items and reviews."""
    from missionkit.services import records
    from missionkit.services.catalogue import ACTIVITIES

    activity = records.get(session, ACTIVITIES, activity_id)
    contributions = [
        {"objective_id": oid, "title": title, "weight": w, "provenance": p, "score": s,
         "reviewed_by": by}
        for oid, title, w, p, s, by in session.execute(
            select(t.Objective.id, t.Objective.title, t.Contribution.weight,
                   t.Contribution.provenance, t.Contribution.score, t.Contribution.reviewed_by)
            .join(t.Contribution, t.Contribution.objective_id == t.Objective.id)
            .where(t.Contribution.activity_id == activity_id)
            .order_by(t.Objective.position, t.Objective.slug)
        )
    ]  # fmt: skip
    work_items = [
        {"id": w.id, "tracker": w.tracker, "key": w.key, "title": w.title, "status": w.status,
         "effort": w.effort, "url": w.url}
        for w in session.scalars(
            select(t.WorkItem).where(t.WorkItem.activity_id == activity_id)
            .order_by(t.WorkItem.tracker, t.WorkItem.key)
        )
    ]  # fmt: skip
    reviews = [
        {"id": r.id, "date": r.date, "title": r.title, "decision": r.decision,
         "authority": r.authority, "rationale": r.rationale}
        for r in session.scalars(
            select(t.Review).where(t.Review.activity_id == activity_id)
            .order_by(t.Review.date.desc())
        )
    ]  # fmt: skip
    return {
        "activity": activity,
        "mission": mission_header(session, activity["mission_id"], today),
        "contributions": contributions,
        "work_items": work_items,
        "reviews": reviews,
    }


def organisation_activities(
    session: Session, organisation_id: int, readable: frozenset[int] | None = None
) -> list[dict[str, Any]]:
    """The activities an organisation takes part in, across the missions ``readable``
    (None: all), largest first."""
    statement = (
        select(
            t.Activity.id, t.Activity.identifier, t.Activity.title, t.Activity.instrument,
            t.Activity.stage, t.Activity.public_contribution, t.Activity.currency,
            t.Participation.role, t.Participation.amount, t.Mission.slug, t.Mission.title,
        )
        .join(t.Participation, t.Participation.activity_id == t.Activity.id)
        .join(t.Mission, t.Mission.id == t.Activity.mission_id)
        .where(t.Participation.organisation_id == organisation_id)
        .order_by(t.Activity.public_contribution.desc().nulls_last(), t.Activity.id)
    )  # fmt: skip
    if readable is not None:
        statement = statement.where(t.Activity.mission_id.in_(readable))
    rows = session.execute(statement).all()
    keys = ("id", "identifier", "title", "instrument", "stage", "public_contribution",
            "currency", "role", "amount", "mission_slug", "mission_title")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]
