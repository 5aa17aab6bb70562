"""Missions as a hierarchy (national → regional → local) with their headline counts."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionkit.store import tables as t


def mission_tree(session: Session, readable: Collection[int] | None = None) -> list[dict[str, Any]]:
    """Root missions, each with ``children``; counts come from two grouped queries.

    With ``readable``, only those missions appear; one whose parent is hidden from the
    reader becomes a root, so nothing about the hidden parent leaks."""
    objectives = dict(
        session.execute(
            select(t.Objective.mission_id, func.count()).group_by(t.Objective.mission_id)
        ).all()
    )
    activities = dict(
        session.execute(
            select(t.Activity.mission_id, func.count()).group_by(t.Activity.mission_id)
        ).all()
    )
    nodes: dict[int, dict[str, Any]] = {}
    missions = select(t.Mission).order_by(t.Mission.deadline, t.Mission.slug)
    if readable is not None:
        missions = missions.where(t.Mission.id.in_(readable))
    for m in session.scalars(missions):
        nodes[m.id] = {
            "id": m.id,
            "slug": m.slug,
            "title": m.title,
            "statement": m.statement,
            "level": m.level,
            "status": m.status,
            "start": m.start,
            "deadline": m.deadline,
            "parent_id": m.parent_id,
            "published": m.published,
            "objectives": objectives.get(m.id, 0),
            "activities": activities.get(m.id, 0),
            "children": [],
        }
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"]) if node["parent_id"] else None
        (parent["children"] if parent else roots).append(node)
    return roots
