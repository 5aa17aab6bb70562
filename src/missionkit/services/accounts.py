"""Users, passwords and sign-in: argon2id hashes, back-off after failures, sessions.

No default password exists anywhere: a user added without one gets a random password
that is returned once and never stored in clear. Failed sign-ins lock the account for a
time that doubles with each further failure, whether or not the password was right.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor, Interface, Role, system_actor
from missionkit.domain.problems import InvalidInput, Problem
from missionkit.services import audit
from missionkit.services.errors import Conflict, NotFound
from missionkit.store.db import Database
from missionkit.store.tables import Attachment, Membership, SignInSession, User

HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
MIN_PASSWORD = 12
FREE_FAILURES = 5
FIRST_LOCK = dt.timedelta(seconds=30)
LONGEST_LOCK = dt.timedelta(hours=1)
SESSION_LIFETIME = dt.timedelta(hours=8)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Verified against when the user is unknown, so both paths cost one argon2 verification.
_DECOY = HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class NewUser:
    user: dict[str, Any]
    password: str | None
    """The generated password, shown once; None when the caller chose one."""


class SignInRefused(Exception):
    """Wrong name or password, a disabled user, or an account in back-off."""

    def __init__(
        self, message: str, retry_after: dt.timedelta | None = None, throttled: bool = False
    ) -> None:
        self.retry_after, self.throttled = retry_after, throttled
        super().__init__(message)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _public(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "is_admin": user.is_admin,
        "disabled": user.disabled,
        "last_sign_in_at": user.last_sign_in_at,
    }


def password_problems(password: str, username: str) -> list[Problem]:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(Problem("password", f"must be at least {MIN_PASSWORD} characters"))
    if username and username.casefold() in password.casefold():
        problems.append(Problem("password", "must not contain the username"))
    return problems


def add_user(
    session: Session,
    username: str,
    password: str | None = None,
    *,
    display_name: str = "",
    is_admin: bool = False,
    actor: Actor | None = None,
) -> NewUser:
    """Add a user; without ``password`` a random one is generated and returned once."""
    username = username.strip().lower()
    problems = []
    if not USERNAME.match(username):
        problems.append(
            Problem("username", "2-64 characters: lower-case letters, digits, '.', '_' or '-'")
        )
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(15)
    problems += password_problems(password, username)
    if problems:
        raise InvalidInput(problems)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=HASHER.hash(password),
        is_admin=is_admin,
        disabled=False,
        failed_sign_ins=0,
    )
    session.add(user)
    session.flush()
    public = _public(user)
    audit.record(
        session, actor or system_actor("python"), "create", "user", username, None, None, public
    )
    return NewUser(public, generated)


def first_admin(session: Session, actor: Actor | None = None) -> NewUser | None:
    """The first administrator of an installation that has no users yet, with a random
    password to show once; None when users exist (nothing is reset)."""
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    return add_user(session, "admin", is_admin=True, display_name="Administrator", actor=actor)


def user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[dict[str, Any]]:
    return [_public(u) for u in session.scalars(select(User).order_by(User.username))]


def set_disabled(
    session: Session, username: str, disabled: bool, actor: Actor | None = None
) -> dict[str, Any]:
    """Disable (or enable) a user; disabling also ends every session of theirs."""
    user = user_named(session, username)
    before = _public(user)
    user.disabled = disabled
    if disabled:
        session.execute(delete(SignInSession).where(SignInSession.user_id == user.id))
    session.flush()
    after = _public(user)
    action = "disable" if disabled else "enable"
    audit.record(
        session, actor or system_actor("python"), action, "user", user.username, None, before, after
    )
    return after


def set_password(
    session: Session, username: str, password: str, actor: Actor | None = None
) -> None:
    user = user_named(session, username)
    problems = password_problems(password, user.username)
    if problems:
        raise InvalidInput(problems)
    user.password_hash = HASHER.hash(password)
    user.failed_sign_ins, user.locked_until = 0, None
    session.execute(delete(SignInSession).where(SignInSession.user_id == user.id))
    audit.record(session, actor or system_actor("python"), "password", "user", user.username, None)


def lock_for(failures: int) -> dt.timedelta:
    """Back-off after ``failures`` consecutive failures: none for the first few, then
    30 s doubling per failure, at most an hour."""
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    return min(FIRST_LOCK * (1 << (failures - FREE_FAILURES)), LONGEST_LOCK)


@dataclass(frozen=True)
class StartedSession:
    cookie: str
    csrf_token: str
    expires_at: dt.datetime


def check_password(
    session: Session, username: str, password: str, now: dt.datetime | None = None
) -> User | SignInRefused:
    """The user, or the refusal (returned, not raised: the failure count it wrote must be
    committed for the back-off to hold). The message never says which part was wrong."""
    now = now or utc_now()
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        _verify(_DECOY, password)
        return SignInRefused("unknown user or wrong password")
    if user.locked_until is not None and aware_utc(user.locked_until) > now:
        wait = aware_utc(user.locked_until) - now
        return SignInRefused("too many failed sign-ins; try again later", wait, throttled=True)
    if not _verify(user.password_hash, password) or user.disabled:
        user.failed_sign_ins += 1
        lock = lock_for(user.failed_sign_ins)
        user.locked_until = now + lock if lock else None
        return SignInRefused("unknown user or wrong password", lock or None)
    user.failed_sign_ins, user.locked_until, user.last_sign_in_at = 0, None, now
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user


@dataclass(frozen=True)
class SignedIn:
    username: str
    session: StartedSession


def sign_in(
    database: Database, username: str, password: str, now: dt.datetime | None = None
) -> SignedIn:
    """Check the password and start a session, in a transaction that is committed either
    way, so that failures count; raises `SignInRefused` after the commit."""
    with database.transaction() as session:
        outcome = check_password(session, username, password, now)
        if isinstance(outcome, User):
            return SignedIn(outcome.username, start_session(session, outcome, now))
    raise outcome


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def secret_digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (session id, token): a slow hash adds nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(session: Session, user: User, now: dt.datetime | None = None) -> StartedSession:
    """A fresh session id on every sign-in: an id planted before sign-in is never promoted."""
    now = now or utc_now()
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    session.add(
        SignInSession(
            id_hash=secret_digest(cookie),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    session.execute(delete(SignInSession).where(SignInSession.expires_at <= now))
    return StartedSession(cookie, csrf, expires)


def session_user(
    session: Session, cookie: str, now: dt.datetime | None = None
) -> tuple[User, str] | None:
    """The signed-in user and the session's CSRF token, or None when expired or unknown."""
    now = now or utc_now()
    found = session.get(SignInSession, secret_digest(cookie))
    if found is None or aware_utc(found.expires_at) <= now:
        return None
    user = session.get(User, found.user_id)
    if user is None or user.disabled:
        return None
    return user, found.csrf_token


def end_session(session: Session, cookie: str) -> None:
    session.execute(delete(SignInSession).where(SignInSession.id_hash == secret_digest(cookie)))


def actor_for(
    session: Session,
    user: User,
    interface: Interface,
    *,
    scopes: frozenset[Any] | None = None,
    token_mission: int | None = None,
) -> Actor:
    """Everything the access rules need about ``user``, loaded in two queries."""
    roles: dict[int, Role] = {
        m.mission_id: m.role  # type: ignore[misc]
        for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
    }
    attached = frozenset(
        session.scalars(select(Attachment.activity_id).where(Attachment.user_id == user.id))
    )
    return Actor(
        user_id=user.id,
        username=user.username,
        interface=interface,
        is_admin=user.is_admin,
        roles=roles,
        attached=attached,
        scopes=scopes,
        token_mission=token_mission,
    )
