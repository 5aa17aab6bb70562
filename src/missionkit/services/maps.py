"""The mission map: mission → objectives → contributing activities → work items.

Built from a handful of set-based queries (never one per activity), so a mission with
ten thousand activities answers in one round of reads.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionkit.services.errors import NotFound
from missionkit.store import tables as t

ACTIVITY_COLUMNS = (
    t.Activity.id,
    t.Activity.identifier,
    t.Activity.title,
    t.Activity.kind,
    t.Activity.instrument,
    t.Activity.stage,
    t.Activity.status,
    t.Activity.total_cost,
    t.Activity.public_contribution,
    t.Activity.currency,
    t.Activity.start,
    t.Activity.end,
)


def _rows(session: Session, statement: Any) -> list[dict[str, Any]]:
    """Rows as dicts; zipping plain tuples is several times faster than RowMapping."""
    result = session.connection().execute(statement)  # Core rows: no ORM loading overhead
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def _mission_ref(row: Any) -> dict[str, Any]:
    return {"id": row.id, "slug": row.slug, "title": row.title}


def mission_id_for(session: Session, key: int | str) -> int:
    """Missions are addressed by id or by slug; digits are tried as an id first."""
    if isinstance(key, int) or key.isdigit():
        found = session.scalar(select(t.Mission.id).where(t.Mission.id == int(key)))
        if found is not None or isinstance(key, int):
            return _found(found, key)
    return _found(session.scalar(select(t.Mission.id).where(t.Mission.slug == key)), key)


def _found(mission_id: int | None, key: int | str) -> int:
    if mission_id is None:
        raise NotFound(f"no mission {key!r}")
    return mission_id


def latest_observations(session: Session, indicator_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The newest whole-area observation per indicator (regional rows only when no other)."""
    latest: dict[int, dict[str, Any]] = {}
    rank: dict[int, tuple[bool, Any]] = {}
    rows = session.execute(
        select(
            t.Observation.indicator_id,
            t.Observation.date,
            t.Observation.value,
            t.Observation.region,
        ).where(t.Observation.indicator_id.in_(indicator_ids))
    )
    for indicator_id, day, value, region in rows:
        this = (region is None, day)
        if indicator_id not in rank or this > rank[indicator_id]:
            rank[indicator_id] = this
            latest[indicator_id] = {"date": day, "value": value, "region": region}
    return latest


def mission_map(session: Session, key: int | str) -> dict[str, Any]:
    mission_id = mission_id_for(session, key)
    mission = session.get(t.Mission, mission_id)
    assert mission is not None
    parent = session.get(t.Mission, mission.parent_id) if mission.parent_id else None
    children = session.execute(
        select(t.Mission.id, t.Mission.slug, t.Mission.title)
        .where(t.Mission.parent_id == mission_id)
        .order_by(t.Mission.slug)
    ).all()
    regions = list(
        session.scalars(
            select(t.MissionRegion.region)
            .where(t.MissionRegion.mission_id == mission_id)
            .order_by(t.MissionRegion.position)
        )
    )

    objectives = _rows(
        session,
        select(
            t.Objective.id,
            t.Objective.slug,
            t.Objective.title,
            t.Objective.description,
            t.Objective.keywords,
            t.Objective.parent_id,
            t.Objective.position,
        )
        .where(t.Objective.mission_id == mission_id)
        .order_by(t.Objective.position, t.Objective.slug),
    )
    indicators = _rows(
        session,
        select(
            t.Indicator.id,
            t.Indicator.slug,
            t.Indicator.name,
            t.Indicator.unit,
            t.Indicator.direction,
            t.Indicator.objective_id,
            t.Indicator.baseline_value,
            t.Indicator.baseline_date,
            t.Indicator.target_value,
            t.Indicator.target_date,
        )
        .where(t.Indicator.mission_id == mission_id)
        .order_by(t.Indicator.slug),
    )
    latest = latest_observations(session, [i["id"] for i in indicators])
    for indicator in indicators:
        indicator["latest_observation"] = latest.get(indicator["id"])

    activities = {
        a["id"]: a
        for a in _rows(
            session,
            select(*ACTIVITY_COLUMNS)
            .where(t.Activity.mission_id == mission_id)
            .order_by(t.Activity.identifier),
        )
    }
    work_items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for w in _rows(
        session,
        select(
            t.WorkItem.id,
            t.WorkItem.activity_id,
            t.WorkItem.tracker,
            t.WorkItem.key,
            t.WorkItem.title,
            t.WorkItem.status,
            t.WorkItem.effort,
            t.WorkItem.url,
        )
        .join(t.Activity, t.Activity.id == t.WorkItem.activity_id)
        .where(t.Activity.mission_id == mission_id)
        .order_by(t.WorkItem.tracker, t.WorkItem.key),
    ):
        work_items[w.pop("activity_id")].append(w)
    for activity_id, activity in activities.items():
        activity["work_items"] = work_items.get(activity_id, [])

    serving: dict[int, list[dict[str, Any]]] = defaultdict(list)
    served: set[int] = set()
    for c in _rows(
        session,
        select(
            t.Contribution.id.label("contribution_id"),
            t.Contribution.activity_id,
            t.Contribution.objective_id,
            t.Contribution.weight,
            t.Contribution.provenance,
            t.Contribution.score,
        )
        .join(t.Activity, t.Activity.id == t.Contribution.activity_id)
        .where(t.Activity.mission_id == mission_id)
        .order_by(t.Contribution.objective_id, t.Activity.identifier),
    ):
        activity_id, objective_id = c.pop("activity_id"), c.pop("objective_id")
        served.add(activity_id)
        entry = activities[activity_id].copy()
        entry.update(c)
        serving[objective_id].append(entry)

    by_objective_indicators: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for indicator in indicators:
        by_objective_indicators[indicator.pop("objective_id")].append(indicator)

    nodes = {o["id"]: o for o in objectives}
    roots: list[dict[str, Any]] = []
    for o in objectives:
        o["indicators"] = by_objective_indicators.get(o["id"], [])
        o["activities"] = serving.get(o["id"], [])
        o["children"] = []
    for o in objectives:
        parent_id = o.pop("parent_id")
        (nodes[parent_id]["children"] if parent_id in nodes else roots).append(o)

    budgets: dict[str, Decimal] = defaultdict(Decimal)
    for a in activities.values():
        if a["public_contribution"] is not None and a["currency"]:
            budgets[a["currency"]] += a["public_contribution"]
    organisations = session.scalar(
        select(func.count(func.distinct(t.Participation.organisation_id)))
        .join(t.Activity, t.Activity.id == t.Participation.activity_id)
        .where(t.Activity.mission_id == mission_id)
    )
    return {
        "mission": {
            "id": mission.id,
            "slug": mission.slug,
            "title": mission.title,
            "statement": mission.statement,
            "level": mission.level,
            "status": mission.status,
            "start": mission.start,
            "deadline": mission.deadline,
            "regions": regions,
            "sectors": mission.sectors,
            "version": mission.version,
            "parent": _mission_ref(parent) if parent else None,
            "children": [_mission_ref(c) for c in children],
        },
        "objectives": roots,
        "indicators": by_objective_indicators.get(None, []),
        "unmapped_activities": [a for i, a in activities.items() if i not in served],
        "summary": {
            "objectives": len(objectives),
            "indicators": len(indicators),
            "activities": len(activities),
            "activities_serving_no_objective": len(activities) - len(served),
            "organisations": organisations or 0,
            "public_contribution": dict(sorted(budgets.items())),
        },
    }
