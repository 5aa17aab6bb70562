"""The access rules (domain/access.py) as a table a security reviewer can read."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missionkit.domain.access import (
    ANONYMOUS,
    ROLES,
    SCOPES,
    Action,
    Actor,
    Target,
    decide,
)

ACTIONS: tuple[Action, ...] = get_args(Action)
MISSION, OTHER, CHILD = 1, 2, 3

# role -> the actions it may take on its own, unpublished mission (written out by hand,
# not derived from ROLE_ACTIONS, so a change to the rules must change this table too).
EXPECTED = {
    "viewer": {"read"},
    "contributor": {"read", "report"},
    "editor": {"read", "report", "edit", "audit"},
    "owner": {"read", "report", "edit", "audit", "manage"},
}


def user(role: str | None = None, **kwargs: object) -> Actor:
    roles = {MISSION: role} if role else {}
    return Actor(user_id=7, username="ana", roles=roles, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_role_may_do_exactly_its_actions(role: str, action: Action) -> None:
    actor = user(role, attached=frozenset({10}))
    verdict = decide(actor, action, Target(MISSION, activity_id=10))
    assert verdict.allowed == (action in EXPECTED[role]), verdict.reason


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_a_role_gives_nothing_on_another_mission(role: str, action: Action) -> None:
    verdict = decide(user(role), action, Target(OTHER))
    assert not verdict.allowed
    assert verdict.hide, "an unpublished mission without a role is hidden (404, not 403)"


def test_parent_mission_roles_do_not_flow_to_child_missions() -> None:
    owner_of_parent = user("owner")
    assert not decide(owner_of_parent, "read", Target(CHILD))
    assert decide(owner_of_parent, "read", Target(CHILD, published=True))


def test_published_missions_are_readable_by_anyone_but_changed_by_none() -> None:
    published = Target(MISSION, published=True)
    assert decide(ANONYMOUS, "read", published)
    for action in ("report", "edit", "audit", "manage"):
        verdict = decide(ANONYMOUS, action, published)  # type: ignore[arg-type]
        assert not verdict and verdict.reason == "sign in first" and not verdict.hide


def test_anonymous_cannot_learn_that_an_unpublished_mission_exists() -> None:
    verdict = decide(ANONYMOUS, "read", Target(MISSION))
    assert not verdict.allowed and verdict.hide


def test_a_contributor_reports_only_for_attached_activities() -> None:
    contributor = user("contributor", attached=frozenset({10}))
    assert decide(contributor, "report", Target(MISSION, activity_id=10))
    assert not decide(contributor, "report", Target(MISSION, activity_id=11))
    assert not decide(contributor, "report", Target(MISSION))
    editor = user("editor")
    assert decide(editor, "report", Target(MISSION, activity_id=11))


def test_installation_wide_actions_need_an_administrator() -> None:
    assert not decide(user("owner"), "manage", Target(None))
    assert decide(Actor(user_id=1, username="root", is_admin=True), "manage", Target(None))


def test_a_token_is_limited_to_its_scopes_and_mission() -> None:
    reader = user("owner", scopes=frozenset({"read"}))
    assert decide(reader, "read", Target(MISSION))
    assert decide(reader, "audit", Target(MISSION))
    assert not decide(reader, "edit", Target(MISSION))
    pinned = user("owner", scopes=frozenset({"write"}), token_mission=OTHER)
    assert not decide(pinned, "edit", Target(MISSION))
    admin_token = Actor(user_id=1, username="root", is_admin=True, scopes=frozenset({"report"}))
    assert not decide(admin_token, "manage", Target(MISSION)), "scopes bind administrators too"


actors = st.builds(
    Actor,
    user_id=st.one_of(st.none(), st.integers(1, 3)),
    username=st.just("x"),
    is_admin=st.booleans(),
    roles=st.dictionaries(st.sampled_from([MISSION, OTHER]), st.sampled_from(ROLES)),
    attached=st.frozensets(st.integers(10, 12)),
)
targets = st.builds(
    Target,
    mission_id=st.one_of(st.none(), st.sampled_from([MISSION, OTHER, CHILD])),
    published=st.booleans(),
    activity_id=st.one_of(st.none(), st.integers(10, 12)),
)


@given(
    actors,
    st.sampled_from(ACTIONS),
    targets,
    st.frozensets(st.sampled_from(SCOPES), min_size=1),
    st.one_of(st.none(), st.sampled_from([MISSION, OTHER])),
)
def test_a_token_never_widens_its_users_rights(
    actor: Actor, action: Action, target: Target, scopes: frozenset, pinned: int | None
) -> None:
    through_token = replace(actor, scopes=scopes, token_mission=pinned)
    if decide(through_token, action, target):
        assert decide(actor, action, target)


@given(actors, st.sampled_from(ACTIONS), targets)
def test_more_role_never_means_fewer_rights(actor: Actor, action: Action, target: Target) -> None:
    if target.mission_id is None or target.mission_id not in actor.roles:
        return
    rank = ROLES.index(actor.roles[target.mission_id])
    for higher in ROLES[rank:]:
        promoted = Actor(
            user_id=actor.user_id,
            username=actor.username,
            is_admin=actor.is_admin,
            roles={**actor.roles, target.mission_id: higher},
            attached=actor.attached,
        )
        if decide(actor, action, target) and actor.user_id is not None:
            assert decide(promoted, action, target)
