"""API tokens for scripts and connectors: scoped, revocable, stored hashed, shown once.

A token reads ``mk_<lookup>_<secret>``. The lookup finds the row; only a SHA-256 of the
secret is stored (the secret is 256 random bits, so a slow hash adds nothing) and it is
compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from missionkit.domain.access import SCOPES, Actor, Scope, system_actor
from missionkit.domain.problems import InvalidInput, Problem
from missionkit.services import audit
from missionkit.services.accounts import actor_for, aware_utc, secret_digest, user_named, utc_now
from missionkit.services.errors import NotFound
from missionkit.store.tables import ApiToken, Mission, User

PREFIX = "mk_"
LAST_USED_STEP = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: dict[str, Any]
    secret: str
    """The whole token, shown once."""


def _public(token: ApiToken, username: str) -> dict[str, Any]:
    return {
        "id": token.id,
        "user": username,
        "name": token.name,
        "lookup": token.lookup,
        "scopes": list(token.scopes),
        "mission_id": token.mission_id,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
    }


def create_token(
    session: Session,
    username: str,
    name: str,
    scopes: list[str],
    *,
    mission_id: int | None = None,
    expires_at: dt.datetime | None = None,
    actor: Actor | None = None,
) -> NewToken:
    user = user_named(session, username)
    problems = [
        Problem(f"scopes[{i}]", f"unknown scope {s!r}; choose from {', '.join(SCOPES)}")
        for i, s in enumerate(scopes)
        if s not in SCOPES
    ]
    if not scopes:
        problems.append(Problem("scopes", "give at least one scope"))
    if not name.strip():
        problems.append(Problem("name", "name the token after what will use it"))
    if mission_id is not None and session.get(Mission, mission_id) is None:
        problems.append(Problem("mission_id", f"no mission {mission_id}"))
    if expires_at is not None and aware_utc(expires_at) <= utc_now():
        problems.append(Problem("expires_at", "must lie in the future"))
    if problems:
        raise InvalidInput(problems)
    lookup, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        lookup=lookup,
        secret_hash=secret_digest(secret),
        scopes=sorted(set(scopes)),
        mission_id=mission_id,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    session.refresh(token)
    public = _public(token, user.username)
    audit.record(
        session,
        actor or system_actor("python"),
        "create",
        "token",
        lookup,
        mission_id,
        None,
        public,
    )
    return NewToken(public, f"{PREFIX}{lookup}_{secret}")


def list_tokens(session: Session, username: str | None = None) -> list[dict[str, Any]]:
    query = select(ApiToken, User.username).join(User).order_by(ApiToken.id)
    if username is not None:
        query = query.where(User.username == username.strip().lower())
    return [_public(token, name) for token, name in session.execute(query)]


def revoke_token(session: Session, lookup: str, actor: Actor | None = None) -> dict[str, Any]:
    found = session.execute(
        select(ApiToken, User.username).join(User).where(ApiToken.lookup == lookup)
    ).first()
    if found is None:
        raise NotFound(f"no token {lookup!r}")
    token, username = found
    before = _public(token, username)
    if token.revoked_at is None:
        token.revoked_at = utc_now()
    session.flush()
    after = _public(token, username)
    audit.record(
        session,
        actor or system_actor("python"),
        "revoke",
        "token",
        lookup,
        token.mission_id,
        before,
        after,
    )
    return after


def actor_for_token(
    session: Session, presented: str, now: dt.datetime | None = None
) -> Actor | None:
    """The actor a presented token stands for, or None: unknown, revoked, expired, disabled."""
    now = now or utc_now()
    if not presented.startswith(PREFIX) or presented.count("_") < 2:
        return None
    lookup, _, secret = presented[len(PREFIX) :].partition("_")
    token = session.scalar(select(ApiToken).where(ApiToken.lookup == lookup))
    if token is None or not hmac.compare_digest(token.secret_hash, secret_digest(secret)):
        return None
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and aware_utc(token.expires_at) <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or user.disabled:
        return None
    if token.last_used_at is None or now - aware_utc(token.last_used_at) >= LAST_USED_STEP:
        token.last_used_at = now  # at most one write a minute per token, not one per request
    scopes = frozenset(cast(Scope, s) for s in token.scopes)
    return actor_for(session, user, "api", scopes=scopes, token_mission=token.mission_id)
