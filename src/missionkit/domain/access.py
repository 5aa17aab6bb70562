"""Who may do what: the one rule set that every route, page and command asks.

Roles are granted per mission and do not flow down to child missions or across to
others: a national mission's owner sees a regional mission only when granted a role on
it (or when it is published). An API token narrows its user's rights further, to its
scopes and optionally to one mission; it never widens them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

Role = Literal["viewer", "contributor", "editor", "owner"]
ROLES: tuple[Role, ...] = get_args(Role)

Action = Literal["read", "report", "edit", "audit", "manage"]
"""read: see an unpublished mission; report: add observations for attached activities;
edit: change the mission's content; audit: read its audit trail; manage: grant roles,
publish, delete the mission."""

Scope = Literal["read", "report", "write", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)

Interface = Literal["api", "web", "cli", "import", "python"]

ROLE_ACTIONS: Mapping[Role, frozenset[Action]] = {
    "viewer": frozenset({"read"}),
    "contributor": frozenset({"read", "report"}),
    "editor": frozenset({"read", "report", "edit", "audit"}),
    "owner": frozenset({"read", "report", "edit", "audit", "manage"}),
}

SCOPE_ACTIONS: Mapping[Scope, frozenset[Action]] = {
    "read": frozenset({"read", "audit"}),
    "report": frozenset({"read", "report"}),
    "write": frozenset({"read", "report", "edit", "audit"}),
    "admin": frozenset({"read", "report", "edit", "audit", "manage"}),
}


@dataclass(frozen=True)
class Actor:
    """Whoever makes a request, with every grant the decision needs already loaded."""

    user_id: int | None
    username: str
    interface: Interface = "api"
    is_admin: bool = False
    roles: Mapping[int, Role] = field(default_factory=dict)
    attached: frozenset[int] = frozenset()
    scopes: frozenset[Scope] | None = None
    token_mission: int | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Actor(user_id=None, username="anonymous")


def system_actor(interface: Interface, username: str = "system") -> Actor:
    """The operator at the machine (CLI, importer, library): trusted, still audited."""
    return Actor(user_id=None, username=username, interface=interface, is_admin=True)


@dataclass(frozen=True)
class Target:
    """What an action is about. ``mission_id`` None means installation-wide."""

    mission_id: int | None = None
    published: bool = False
    activity_id: int | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    hide: bool = False
    """True when the actor may not even know the record exists (answer 404, not 403)."""

    def __bool__(self) -> bool:
        return self.allowed


def _token_allows(actor: Actor, action: Action, target: Target) -> Verdict | None:
    if actor.scopes is None:
        return None
    granted = frozenset().union(*(SCOPE_ACTIONS[s] for s in actor.scopes))
    if action not in granted:
        return Verdict(
            False, f"the token's scopes ({', '.join(sorted(actor.scopes))}) do not allow {action}"
        )
    if actor.token_mission is not None and target.mission_id != actor.token_mission:
        return Verdict(False, "the token is limited to another mission", hide=True)
    return None


def decide(actor: Actor, action: Action, target: Target) -> Verdict:
    """May ``actor`` do ``action`` on ``target``? With the reason, for the error message."""
    limited = _token_allows(actor, action, target)
    if limited is not None:
        return limited
    if action == "read" and target.published:
        return Verdict(True, "the mission is published")
    if actor.is_admin:
        return Verdict(True, "administrator")
    if not actor.signed_in:
        return Verdict(False, "sign in first", hide=action == "read")
    if target.mission_id is None:
        return Verdict(False, "only an administrator may do this")
    role = actor.roles.get(target.mission_id)
    if role is None:
        return Verdict(False, "no role on this mission", hide=not target.published)
    if action not in ROLE_ACTIONS[role]:
        return Verdict(False, f"a {role} may not {action}")
    if role == "contributor" and action == "report" and target.activity_id not in actor.attached:
        return Verdict(False, "a contributor reports only for the activities attached to them")
    return Verdict(True, f"{role} of the mission")


def decide_shared(actor: Actor, adding: bool) -> Verdict:
    """Organisations and regions are shared by every mission: any editor or owner of some
    mission may add one (a new partner, a new region); only an administrator may change or
    remove one. Token scopes bind here too."""
    scopes = actor.scopes
    if actor.is_admin and (scopes is None or "admin" in scopes):
        return Verdict(True, "administrator")
    if not actor.signed_in:
        return Verdict(False, "sign in first")
    editor = any(role in ("editor", "owner") for role in actor.roles.values())
    if adding and editor and (scopes is None or scopes & {"write", "admin"}):
        return Verdict(True, "editor of a mission")
    return Verdict(False, "only an administrator may change shared records; editors may add")
