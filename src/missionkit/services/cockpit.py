"""What the web pages show about a mission that no other service answers.

Every function reads with a few set-based, grouped queries (never one per activity), so
the cockpit of a mission with ten thousand activities is a handful of round trips. The
answers are plain dicts; the pages only present them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, case, cast, desc, func, select
from sqlalchemy.orm import Session

from missionkit.domain.regions import lookup_region
from missionkit.domain.vocab import STAGES
from missionkit.services import experiments, overview, progress
from missionkit.services.maps import mission_id_for
from missionkit.store import tables as t


def _mission_row(session: Session, key: int | str) -> t.Mission:
    mission = session.get(t.Mission, mission_id_for(session, key))
    assert mission is not None
    return mission


def time_left(deadline: dt.date, today: dt.date) -> str:
    """``3 years 2 months left`` / ``40 days past the deadline``, for people, not machines."""
    days = (deadline - today).days
    if days < 0:
        return f"{-days} days past the deadline"
    if days < 62:
        return f"{days} days left"
    months = (deadline.year - today.year) * 12 + deadline.month - today.month
    if deadline.day < today.day:
        months -= 1
    years, months = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if months:
        parts.append(f"{months} month{'s' if months != 1 else ''}")
    return " ".join(parts) + " left"


def missions_overview(
    session: Session, today: dt.date, readable: frozenset[int] | None = None
) -> list[dict[str, Any]]:
    """The mission hierarchy, each mission with its time left and overall status; with
    ``readable``, only those missions (a hidden parent's children become roots)."""
    roots = overview.mission_tree(session, readable)

    def visit(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            # ``status`` in the tree is the lifecycle (active, paused…); progress takes it.
            node["lifecycle"] = node.pop("status")
            node["time_left"] = time_left(node["deadline"], today)
            result = progress.mission_progress(session, node["id"], today)
            node["status"] = result["progress"]["status"]
            visit(node["children"])

    visit(roots)
    return roots


def mission_header(
    session: Session, key: int | str, today: dt.date, readable: frozenset[int] | None = None
) -> dict[str, Any]:
    """A mission's heading; parent and sub-missions only where ``readable`` lets the reader
    see them (None: all), so a published mission does not name an unpublished one."""
    mission = _mission_row(session, key)
    parent = session.get(t.Mission, mission.parent_id) if mission.parent_id else None
    if parent is not None and readable is not None and parent.id not in readable:
        parent = None
    children_query = (
        select(t.Mission.id, t.Mission.slug, t.Mission.title)
        .where(t.Mission.parent_id == mission.id)
        .order_by(t.Mission.slug)
    )
    if readable is not None:
        children_query = children_query.where(t.Mission.id.in_(readable))
    children = session.execute(children_query).all()
    regions = list(
        session.scalars(
            select(t.MissionRegion.region)
            .where(t.MissionRegion.mission_id == mission.id)
            .order_by(t.MissionRegion.position)
        )
    )
    return {
        "id": mission.id,
        "slug": mission.slug,
        "title": mission.title,
        "statement": mission.statement,
        "challenge": mission.challenge,
        "owner": mission.owner,
        "level": mission.level,
        "lifecycle": mission.status,
        "start": mission.start,
        "deadline": mission.deadline,
        "time_left": time_left(mission.deadline, today),
        "elapsed": _elapsed(mission.start, mission.deadline, today),
        "regions": regions,
        "sectors": mission.sectors,
        "version": mission.version,
        "parent": {"id": parent.id, "slug": parent.slug, "title": parent.title} if parent else None,
        "children": [{"id": c.id, "slug": c.slug, "title": c.title} for c in children],
    }


def _elapsed(start: dt.date, deadline: dt.date, today: dt.date) -> float:
    """Share of the mission's time already used, 0..1."""
    span = (deadline - start).days
    return min(1.0, max(0.0, (today - start).days / span)) if span > 0 else 1.0


def budget_total() -> Any:
    return func.coalesce(func.sum(t.Activity.public_contribution), 0)


def main_currency(session: Session, mission_id: int) -> str | None:
    """The currency most of the budget is in (budgets are never converted)."""
    row = session.execute(
        select(t.Activity.currency, func.count())
        .where(t.Activity.mission_id == mission_id, t.Activity.currency.is_not(None))
        .group_by(t.Activity.currency)
        .order_by(desc(func.count()), t.Activity.currency)
        .limit(1)
    ).first()
    return row[0] if row else None


def portfolio_summary(session: Session, mission_id: int) -> dict[str, Any]:
    """Budget by instrument and by stage in the main currency; counts of the portfolio.

    One grouped scan of the mission's activities (instrument × stage × currency) gives
    the main currency, both breakdowns and the totals; organisations are one more query.
    """
    groups = session.execute(
        select(
            t.Activity.instrument,
            t.Activity.stage,
            t.Activity.currency,
            func.count(),
            budget_total(),
        )
        .where(t.Activity.mission_id == mission_id)
        .group_by(t.Activity.instrument, t.Activity.stage, t.Activity.currency)
    ).all()
    per_currency: dict[str, int] = defaultdict(int)
    for _, _, cur, n, _ in groups:
        if cur is not None:
            per_currency[cur] += n
    # The currency most activities are in; ties go to the first code alphabetically.
    currency = min(per_currency, key=lambda c: (-per_currency[c], c)) if per_currency else None
    instruments: dict[str, list[Any]] = {}
    stages: dict[str | None, list[Any]] = {}
    activities = other = 0
    total = Decimal(0)
    for instrument, stage, cur, n, budget in groups:
        activities += n
        if cur not in (None, currency):
            other += n
            continue
        amount = Decimal(budget or 0)
        total += amount
        for key, bucket in ((instrument, instruments), (stage, stages)):
            entry = bucket.setdefault(key, [0, Decimal(0)])
            entry[0] += n
            entry[1] += amount
    order = {s: i for i, s in enumerate(STAGES)}
    organisations = session.scalar(
        select(func.count(func.distinct(t.Participation.organisation_id)))
        .join(t.Activity, t.Activity.id == t.Participation.activity_id)
        .where(t.Activity.mission_id == mission_id)
    )
    return {
        "currency": currency,
        "activities": activities,
        "organisations": organisations or 0,
        "budget": total,
        "other_currency_activities": other,
        "by_instrument": sorted(
            ({"key": k, "activities": n, "budget": b} for k, (n, b) in instruments.items()),
            key=lambda r: (-r["budget"], r["key"]),
        ),
        "by_stage": sorted(
            ({"key": k, "activities": n, "budget": b} for k, (n, b) in stages.items()),
            key=lambda r: order.get(r["key"], len(order)),
        ),
    }


def objectives_served(
    session: Session,
    mission_id: int,
    currency: str | None = None,
    total: Decimal | None = None,
) -> list[dict[str, Any]]:
    """Each objective with the activities serving it, their budget and weighted share.

    ``weighted_budget`` sums public contribution × contribution weight, so an activity
    that serves an objective half-way counts half; ``share`` is that over the mission's
    budget in its main currency (``total``, computed when not given). An objective with
    sub-objectives also gets ``with_children``: the distinct activities serving it or
    any of its descendants, and their budget (one query per such objective).
    """
    currency = currency or main_currency(session, mission_id)
    if total is None:
        total = session.scalar(
            select(budget_total()).where(
                t.Activity.mission_id == mission_id, t.Activity.currency == currency
            )
        )
    budget = func.coalesce(
        case((t.Activity.currency == currency, t.Activity.public_contribution), else_=None), 0
    )
    served = {
        row[0]: row
        for row in session.execute(
            select(
                t.Contribution.objective_id,
                func.count(func.distinct(t.Contribution.activity_id)),
                func.sum(budget),
                func.sum(cast(budget, Float) * t.Contribution.weight),
            )
            .join(t.Activity, t.Activity.id == t.Contribution.activity_id)
            .where(t.Activity.mission_id == mission_id)
            .group_by(t.Contribution.objective_id)
        )
    }
    indicators = dict(
        session.execute(
            select(t.Indicator.objective_id, func.count())
            .where(t.Indicator.mission_id == mission_id, t.Indicator.objective_id.is_not(None))
            .group_by(t.Indicator.objective_id)
        ).all()
    )
    out = []
    for o in session.scalars(
        select(t.Objective)
        .where(t.Objective.mission_id == mission_id)
        .order_by(t.Objective.position, t.Objective.slug)
    ):
        _, count, raw, weighted = served.get(o.id, (o.id, 0, 0, 0.0))
        out.append(
            {
                "id": o.id,
                "slug": o.slug,
                "title": o.title,
                "parent_id": o.parent_id,
                "activities": count or 0,
                "budget": Decimal(raw or 0),
                "weighted_budget": float(weighted or 0.0),
                "share": float(weighted or 0.0) / float(total) if total else None,
                "indicators": indicators.get(o.id, 0),
            }
        )
    ordered = _tree_order(out)
    children: dict[int, list[int]] = defaultdict(list)
    for node in ordered:
        if node["parent_id"] is not None:
            children[node["parent_id"]].append(node["id"])
    in_currency = case((t.Activity.currency == currency, t.Activity.public_contribution))
    for entry in ordered:
        if not children[entry["id"]]:
            continue
        subtree, stack = [], [entry["id"]]
        while stack:
            key = stack.pop()
            subtree.append(key)
            stack.extend(children[key])
        count, amount = session.execute(
            select(func.count(), func.coalesce(func.sum(in_currency), 0)).where(
                t.Activity.id.in_(
                    select(t.Contribution.activity_id).where(
                        t.Contribution.objective_id.in_(subtree)
                    )
                )
            )
        ).one()
        entry["with_children"] = {"activities": count, "budget": Decimal(amount or 0)}
    return ordered


def _tree_order(objectives: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents before their children, each with its depth, for an indented list."""
    children: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    ids = {o["id"] for o in objectives}
    for o in objectives:
        children[o["parent_id"] if o["parent_id"] in ids else None].append(o)
    ordered: list[dict[str, Any]] = []

    def walk(parent: int | None, depth: int) -> None:
        for o in children[parent]:
            o["depth"] = depth
            ordered.append(o)
            walk(o["id"], depth + 1)

    walk(None, 0)
    return ordered


def regional_spread(
    session: Session, mission_id: int, currency: str | None = None
) -> dict[str, Any]:
    """Budget and activities per country and per region, without double counting.

    An activity in several regions has its public contribution split equally among
    them; the per-country figures add the shares of their regions up.
    """
    currency = currency or main_currency(session, mission_id)
    spread = (
        select(t.ActivityRegion.activity_id, func.count().label("n"))
        .join(t.Activity, t.Activity.id == t.ActivityRegion.activity_id)
        .where(t.Activity.mission_id == mission_id)
        .group_by(t.ActivityRegion.activity_id)
        .subquery()
    )
    budget = case(
        (t.Activity.currency == currency, cast(t.Activity.public_contribution, Float)),
        else_=0.0,
    )
    grouped = session.execute(
        select(
            t.ActivityRegion.region,
            func.count(),
            func.sum(func.coalesce(budget, 0.0) / spread.c.n),
        )
        .join(t.Activity, t.Activity.id == t.ActivityRegion.activity_id)
        .join(spread, spread.c.activity_id == t.ActivityRegion.activity_id)
        .where(t.Activity.mission_id == mission_id)
        .group_by(t.ActivityRegion.region)
    ).all()
    facts = {
        code: (name, country, population)
        for code, name, country, population in session.execute(
            select(t.Region.code, t.Region.name, t.Region.country, t.Region.population).where(
                t.Region.code.in_([g[0] for g in grouped])
            )
        )
    }
    rows = [(code, *facts[code], count, amount) for code, count, amount in grouped]
    unplaced = session.scalar(
        select(func.count()).where(
            t.Activity.mission_id == mission_id,
            ~select(t.ActivityRegion.activity_id)
            .where(t.ActivityRegion.activity_id == t.Activity.id)
            .exists(),
        )
    )
    countries: dict[str, dict[str, Any]] = {}
    regions = []
    total = sum(float(r[5] or 0.0) for r in rows) or 0.0
    for code, name, country, population, count, amount in rows:
        amount = float(amount or 0.0)
        regions.append(
            {
                "code": code,
                "name": name,
                "country": country,
                "activities": count,
                "budget": amount,
                "share": amount / total if total else None,
                "per_head": amount / population if population else None,
            }
        )
        if country not in countries:
            countries[country] = {"code": country, "name": _country_name(country),
                                  "activities": 0, "budget": 0.0, "regions": 0}  # fmt: skip
        entry = countries[country]
        entry["activities"] += count
        entry["budget"] += amount
        entry["regions"] += 1
    for entry in countries.values():
        entry["share"] = entry["budget"] / total if total else None
    return {
        "currency": currency,
        "countries": sorted(countries.values(), key=lambda c: (-c["budget"], c["code"])),
        "regions": sorted(regions, key=lambda r: (-r["budget"], r["code"])),
        "activities_without_region": unplaced or 0,
    }


def _country_name(code: str) -> str:
    ref = lookup_region(code)
    return ref.name if ref else code


def recent_reviews(session: Session, mission_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The governance log, newest first, with what each review was about."""
    rows = session.execute(
        select(t.Review, t.Objective.title, t.Activity.title)
        .outerjoin(t.Objective, t.Objective.id == t.Review.objective_id)
        .outerjoin(t.Activity, t.Activity.id == t.Review.activity_id)
        .where(t.Review.mission_id == mission_id)
        .order_by(t.Review.date.desc(), t.Review.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": r.id,
            "date": r.date,
            "title": r.title,
            "decision": r.decision,
            "authority": r.authority,
            "rationale": r.rationale,
            "evidence": r.evidence,
            "objective": {"id": r.objective_id, "title": objective} if objective else None,
            "activity": {"id": r.activity_id, "title": activity} if activity else None,
        }
        for r, objective, activity in rows
    ]


def indicator_cards(
    session: Session, mission_id: int, today: dt.date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The mission's progress and one card per indicator: its facts, series and status."""
    result = progress.mission_progress(session, mission_id, today)
    assessed: dict[int, dict[str, Any]] = {}

    def collect(node: dict[str, Any]) -> None:
        for r in node["indicators"]:
            assessed[r["id"]] = r
        for child in node.get("children", []):
            collect(child)

    collect(result)
    for objective in result["objectives"]:
        collect(objective)
    indicators = list(
        session.scalars(
            select(t.Indicator)
            .where(t.Indicator.mission_id == mission_id)
            .order_by(t.Indicator.objective_id.is_(None), t.Indicator.slug)
        )
    )
    series = observations_of(session, [i.id for i in indicators])
    cards = [indicator_card(i, series.get(i.id, []), assessed.get(i.id)) for i in indicators]
    return result, cards


def observations_of(session: Session, indicator_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not indicator_ids:
        return out
    for o in session.scalars(
        select(t.Observation)
        .where(t.Observation.indicator_id.in_(indicator_ids))
        .order_by(t.Observation.date, t.Observation.region.is_not(None), t.Observation.region)
    ):
        out[o.indicator_id].append(
            {
                "id": o.id,
                "date": o.date,
                "period_start": o.period_start,
                "value": o.value,
                "region": o.region,
                "provenance": o.provenance,
            }
        )
    return out


def indicator_card(
    indicator: t.Indicator,
    observations: list[dict[str, Any]],
    assessed: dict[str, Any] | None,
) -> dict[str, Any]:
    assessment = (assessed or {}).get("assessment") or {}
    whole = [o for o in observations if o["region"] is None]
    return {
        "id": indicator.id,
        "slug": indicator.slug,
        "name": indicator.name,
        "description": indicator.description,
        "unit": indicator.unit,
        "direction": indicator.direction,
        "method": indicator.method,
        "objective_id": indicator.objective_id,
        "baseline_value": indicator.baseline_value,
        "baseline_date": indicator.baseline_date,
        "target_value": indicator.target_value,
        "target_date": indicator.target_date,
        "source": indicator.source,
        "observations": observations,
        "latest": whole[-1] if whole else None,
        "status": assessment.get("status", "insufficient_data"),
        "assessment": assessment,
        "staleness": (assessed or {}).get("staleness"),
        "regions": (assessed or {}).get("regions", {}),
    }


def cockpit(
    session: Session, key: int | str, today: dt.date, readable: frozenset[int] | None = None
) -> dict[str, Any]:
    """Everything the mission lead's page shows, except the portfolio findings."""
    header = mission_header(session, key, today, readable)
    mission_id = header["id"]
    result, cards = indicator_cards(session, mission_id, today)
    summary = portfolio_summary(session, mission_id)
    currency = summary["currency"]
    return {
        "mission": header,
        "progress": result["progress"],
        "overdue": result["overdue"],
        "indicators": cards,
        "objectives": objectives_served(session, mission_id, currency, summary["budget"]),
        "portfolio": summary,
        "regions": regional_spread(session, mission_id, currency),
        "reviews": recent_reviews(session, mission_id),
        "learning": experiments.mission_learning(session, mission_id),
    }
