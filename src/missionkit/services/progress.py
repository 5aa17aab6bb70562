"""Is the mission on track? Each indicator assessed by its method, rolled up the tree.

Reads the indicators and observations of one mission and hands plain series to the
trajectory engine; the roll-up rule is the engine's (docs/trajectory.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from missionkit.services.maps import mission_id_for
from missionkit.store import tables as t
from missionkit.trajectory import (
    Assessment,
    IndicatorSeries,
    RollupItem,
    assess,
    rollup,
    staleness,
)

Points = list[tuple[dt.date, float]]


def _series(indicator: t.Indicator, points: Points, region: str | None) -> IndicatorSeries:
    """The indicator's baseline is its first data point unless an observation replaces it."""
    dated = dict(points)
    if region is None:
        dated.setdefault(indicator.baseline_date, indicator.baseline_value)
    return IndicatorSeries.of(
        sorted(dated.items()),
        indicator.direction,  # type: ignore[arg-type]
        target=indicator.target_value,
        target_year=indicator.target_date.year if indicator.target_date else None,
        limit=indicator.natural_limit,
        id=indicator.slug,
        region=region,
    )


def _assessment(indicator: t.Indicator, points: Points, region: str | None) -> Assessment:
    return assess(_series(indicator, points, region), indicator.method)  # type: ignore[arg-type]


def indicator_progress(
    indicator: t.Indicator, observations: list[t.Observation], as_of: dt.date
) -> dict[str, Any]:
    """Whole-area assessment, one per region with data, and whether data is overdue."""
    whole: Points = []
    by_region: dict[str, Points] = defaultdict(list)
    for o in observations:
        (whole if o.region is None else by_region[o.region]).append((o.date, o.value))
    assessment = _assessment(indicator, whole, None)
    overdue = None
    if indicator.update_frequency_months:
        last = max((d for d, _ in whole), default=indicator.baseline_date)
        s = staleness(last, indicator.update_frequency_months, as_of)
        overdue = {
            "last_observation": s.last_observation,
            "next_due": s.next_due,
            "overdue": s.overdue,
            "days_overdue": s.days_overdue,
        }
    return {
        "id": indicator.id,
        "slug": indicator.slug,
        "name": indicator.name,
        "unit": indicator.unit,
        "method": indicator.method,
        "assessment": assessment.to_dict(),
        "staleness": overdue,
        "regions": {
            code: _assessment(indicator, points, code).to_dict()
            for code, points in sorted(by_region.items())
        },
    }


def mission_progress(
    session: Session, key: int | str, as_of: dt.date | None = None
) -> dict[str, Any]:
    """Every indicator's answer, each objective's roll-up (children first), the mission's."""
    as_of = as_of or dt.date.today()
    mission_id = mission_id_for(session, key)
    mission = session.get(t.Mission, mission_id)
    assert mission is not None
    indicators = list(
        session.scalars(
            select(t.Indicator)
            .where(t.Indicator.mission_id == mission_id)
            .order_by(t.Indicator.slug)
        )
    )
    observations: dict[int, list[t.Observation]] = defaultdict(list)
    for obs in session.scalars(
        select(t.Observation)
        .where(t.Observation.indicator_id.in_([i.id for i in indicators]))
        .order_by(t.Observation.date)
    ):
        observations[obs.indicator_id].append(obs)
    results = {i.id: indicator_progress(i, observations[i.id], as_of) for i in indicators}
    objectives = list(
        session.scalars(
            select(t.Objective)
            .where(t.Objective.mission_id == mission_id)
            .order_by(t.Objective.position, t.Objective.slug)
        )
    )
    children: dict[int | None, list[t.Objective]] = defaultdict(list)
    for o in objectives:
        children[o.parent_id].append(o)
    measured: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for i in indicators:
        measured[i.objective_id].append(results[i.id])

    def items_of(indicator_results: list[dict[str, Any]]) -> list[RollupItem]:
        return [
            RollupItem(r["slug"], r["assessment"]["status"], r["assessment"]["score"])
            for r in indicator_results
        ]

    def objective_node(o: t.Objective) -> tuple[dict[str, Any], RollupItem]:
        kids = [objective_node(c) for c in children[o.id]]
        result = rollup([*items_of(measured[o.id]), *(item for _, item in kids)])
        node = {
            "id": o.id,
            "slug": o.slug,
            "title": o.title,
            "progress": result.to_dict(),
            "indicators": measured[o.id],
            "children": [n for n, _ in kids],
        }
        return node, result.as_item(f"objective:{o.slug}")

    tops = [objective_node(o) for o in children[None]]
    overall = rollup([*items_of(measured[None]), *(item for _, item in tops)])
    return {
        "mission": {
            "id": mission.id,
            "slug": mission.slug,
            "title": mission.title,
            "deadline": mission.deadline,
        },
        "as_of": as_of,
        "progress": overall.to_dict(),
        "indicators": measured[None],
        "objectives": [n for n, _ in tops],
        "overdue": sorted(
            r["slug"] for r in results.values() if (r["staleness"] or {}).get("overdue")
        ),
    }
