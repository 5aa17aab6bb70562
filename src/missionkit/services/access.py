"""Asking the access rules about stored records: which mission, is it published, may I?

The rules themselves live in :mod:`missionkit.domain.access`; this module only finds the
facts they need (a record's mission, whether it is published, which missions a reader
may see) and turns a refusal into the error each edge translates (401, 403 or 404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from missionkit.domain.access import Action, Actor, Target, Verdict, decide, decide_shared
from missionkit.services.errors import NotFound
from missionkit.services.maps import mission_id_for
from missionkit.services.records import Resource
from missionkit.store.tables import Membership, Mission


class Refused(Exception):
    """The actor may not do this; ``signed_in`` tells 401 (sign in) from 403 (not allowed)."""

    def __init__(self, verdict: Verdict, signed_in: bool) -> None:
        self.verdict, self.signed_in = verdict, signed_in
        super().__init__(verdict.reason)


def target(session: Session, mission_id: int | None, activity_id: int | None = None) -> Target:
    published = False
    if mission_id is not None:
        published = bool(session.scalar(select(Mission.published).where(Mission.id == mission_id)))
    return Target(mission_id, published, activity_id)


def require(actor: Actor, action: Action, where: Target, what: str = "record") -> None:
    """Raise unless allowed: `NotFound` where the actor may not know the record exists."""
    verdict = decide(actor, action, where)
    if verdict.allowed:
        return
    if verdict.hide:
        raise NotFound(f"no {what} here, or you may not see it")
    raise Refused(verdict, actor.signed_in)


def require_mission(session: Session, actor: Actor, key: int | str, action: Action) -> int:
    """The id of the mission ``key`` (id or slug), if ``actor`` may do ``action`` on it."""
    mission_id = mission_id_for(session, key)
    require(actor, action, target(session, mission_id), "mission")
    return mission_id


def require_shared(actor: Actor, adding: bool) -> None:
    verdict = decide_shared(actor, adding)
    if not verdict.allowed:
        raise Refused(verdict, actor.signed_in)


def record_target(session: Session, res: Resource, record: dict[str, Any]) -> Target:
    """The target of a stored record or of a payload about to be written."""
    activity = record.get("activity_id") if res.name == "work-items" else None
    return target(session, res.mission(session, record), activity)


def readable_missions(session: Session, actor: Actor) -> frozenset[int] | None:
    """The missions ``actor`` may read; None means all of them (administrators)."""
    if actor.is_admin and actor.token_mission is None:
        return None
    conditions = [Mission.published.is_(True)]
    if actor.roles:
        conditions.append(Mission.id.in_(list(actor.roles)))
    ids = frozenset(session.scalars(select(Mission.id).where(or_(*conditions))))
    if actor.token_mission is None:
        return ids
    return frozenset({actor.token_mission}) if actor.is_admin else ids & {actor.token_mission}


def grant_creator(session: Session, actor: Actor, mission_id: int) -> None:
    """Whoever creates a mission owns it (administrators and the operator excepted)."""
    if actor.user_id is not None and not actor.is_admin:
        session.add(Membership(user_id=actor.user_id, mission_id=mission_id, role="owner"))
        session.flush()
