"""Roles per mission and the activities a contributor reports for."""

from __future__ import annotations

from typing import Any, get_args

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from missionkit.domain.access import ROLES, Actor, Role, system_actor
from missionkit.domain.problems import InvalidInput, Problem
from missionkit.services import audit
from missionkit.services.accounts import user_named
from missionkit.services.errors import NotFound
from missionkit.services.maps import mission_id_for
from missionkit.store.tables import Activity, Attachment, Membership, User


def grant(
    session: Session, username: str, mission: str, role: str, actor: Actor | None = None
) -> dict[str, Any]:
    """Give ``username`` ``role`` on ``mission`` (id or slug), replacing any earlier role."""
    if role not in get_args(Role):
        raise InvalidInput(
            [Problem("role", f"unknown role {role!r}; choose from {', '.join(ROLES)}")]
        )
    user = user_named(session, username)
    mission_id = mission_id_for(session, mission)
    found = session.get(Membership, (user.id, mission_id))
    before = None if found is None else {"role": found.role}
    if found is None:
        session.add(Membership(user_id=user.id, mission_id=mission_id, role=role))
    else:
        found.role = role
    session.flush()
    audit.record(
        session,
        actor or system_actor("python"),
        "grant",
        "role",
        user.username,
        mission_id,
        before,
        {"role": role},
    )
    return {"username": user.username, "mission_id": mission_id, "role": role}


def revoke(session: Session, username: str, mission: str, actor: Actor | None = None) -> None:
    user = user_named(session, username)
    mission_id = mission_id_for(session, mission)
    found = session.get(Membership, (user.id, mission_id))
    if found is None:
        raise NotFound(f"{user.username} has no role on mission {mission}")
    before = {"role": found.role}
    session.delete(found)
    session.flush()
    audit.record(
        session,
        actor or system_actor("python"),
        "revoke",
        "role",
        user.username,
        mission_id,
        before,
        None,
    )


def members(session: Session, mission: str) -> list[dict[str, Any]]:
    mission_id = mission_id_for(session, mission)
    rows = session.execute(
        select(User.username, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.mission_id == mission_id)
        .order_by(User.username)
    )
    return [{"username": name, "role": role} for name, role in rows]


def attach(session: Session, username: str, activity_id: int, actor: Actor | None = None) -> None:
    """Let a contributor report for one activity (idempotent)."""
    user = user_named(session, username)
    mission_id = session.scalar(select(Activity.mission_id).where(Activity.id == activity_id))
    if mission_id is None:
        raise NotFound(f"no activity {activity_id}")
    if session.get(Attachment, (user.id, activity_id)) is None:
        session.add(Attachment(user_id=user.id, activity_id=activity_id))
        session.flush()
        audit.record(
            session,
            actor or system_actor("python"),
            "attach",
            "activity",
            activity_id,
            mission_id,
            None,
            {"username": user.username},
        )


def detach(session: Session, username: str, activity_id: int, actor: Actor | None = None) -> None:
    user = user_named(session, username)
    mission_id = session.scalar(select(Activity.mission_id).where(Activity.id == activity_id))
    removed = session.execute(
        delete(Attachment).where(
            Attachment.user_id == user.id, Attachment.activity_id == activity_id
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"{user.username} is not attached to activity {activity_id}")
    audit.record(
        session,
        actor or system_actor("python"),
        "detach",
        "activity",
        activity_id,
        mission_id,
        {"username": user.username},
        None,
    )
