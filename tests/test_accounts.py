"""Users, sign-in with back-off, sessions, tokens and roles, on both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from missionkit.domain.access import Target, decide
from missionkit.domain.problems import InvalidInput
from missionkit.services import accounts, roles, tokens
from missionkit.services.errors import Conflict, NotFound
from missionkit.services.transfer import import_document
from missionkit.store.db import Database
from missionkit.store.tables import Activity, ApiToken, Mission, User
from tests.factories import document, variant, write

PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def test_a_user_added_without_a_password_gets_a_random_one_shown_once(db: Database) -> None:
    with db.transaction() as s:
        first = accounts.add_user(s, "Ana")
        second = accounts.add_user(s, "ben")
    assert first.password and second.password and first.password != second.password
    assert first.user["username"] == "ana"
    with db.reading() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "ana"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert first.password not in stored
    assert accounts.sign_in(db, "ana", first.password).username == "ana"


def test_bad_usernames_and_weak_passwords_are_refused_by_field(db: Database) -> None:
    with db.transaction() as s, pytest.raises(InvalidInput) as caught:
        accounts.add_user(s, "no spaces!", "short")
    paths = [p.path for p in caught.value.problems]
    assert paths == ["username", "password"]
    with db.transaction() as s, pytest.raises(InvalidInput, match="username"):
        accounts.add_user(s, "carla", "carla-is-my-password")
    with db.transaction() as s:
        accounts.add_user(s, "dora", PASSWORD)
    with db.transaction() as s, pytest.raises(Conflict):
        accounts.add_user(s, "DORA", PASSWORD)


def test_failed_sign_ins_back_off_even_for_the_right_password(db: Database) -> None:
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
    for _ in range(accounts.FREE_FAILURES):
        with pytest.raises(accounts.SignInRefused) as caught:
            accounts.sign_in(db, "ana", "wrong password!", now=NOW)
    assert caught.value.retry_after == dt.timedelta(seconds=30)
    with pytest.raises(accounts.SignInRefused, match="too many") as caught:
        accounts.sign_in(db, "ana", PASSWORD, now=NOW + dt.timedelta(seconds=29))
    assert caught.value.throttled
    assert accounts.sign_in(db, "ana", PASSWORD, now=NOW + dt.timedelta(seconds=31))
    with db.reading() as s:
        user = s.scalar(select(User).where(User.username == "ana"))
        assert user is not None and user.failed_sign_ins == 0 and user.locked_until is None


def test_the_lock_doubles_and_is_capped() -> None:
    assert accounts.lock_for(4) == dt.timedelta(0)
    assert [accounts.lock_for(n).total_seconds() for n in (5, 6, 7)] == [30, 60, 120]
    assert accounts.lock_for(40) == dt.timedelta(hours=1)


def test_unknown_and_wrong_password_read_the_same(db: Database) -> None:
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
    messages = []
    for name in ("ana", "nobody"):
        with pytest.raises(accounts.SignInRefused) as caught:
            accounts.sign_in(db, name, "wrong password!")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_a_disabled_user_cannot_sign_in_and_loses_their_sessions(db: Database) -> None:
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
    started = accounts.sign_in(db, "ana", PASSWORD).session
    with db.reading() as s:
        assert accounts.session_user(s, started.cookie) is not None
    with db.transaction() as s:
        accounts.set_disabled(s, "ana", True)
    with db.reading() as s:
        assert accounts.session_user(s, started.cookie) is None
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(db, "ana", PASSWORD)
    with db.transaction() as s, pytest.raises(NotFound):
        accounts.set_disabled(s, "nobody", True)


def test_each_sign_in_gets_a_new_session_that_expires_and_ends(db: Database) -> None:
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
    one = accounts.sign_in(db, "ana", PASSWORD, now=NOW).session
    two = accounts.sign_in(db, "ana", PASSWORD, now=NOW).session
    assert one.cookie != two.cookie and one.csrf_token != two.csrf_token
    with db.reading() as s:
        found = accounts.session_user(s, one.cookie, now=NOW + dt.timedelta(hours=1))
        assert found is not None and found[1] == one.csrf_token
        assert accounts.session_user(s, one.cookie, now=NOW + dt.timedelta(hours=9)) is None
        assert accounts.session_user(s, "a cookie planted by someone else") is None
    with db.transaction() as s:
        accounts.end_session(s, one.cookie)
    with db.reading() as s:
        assert accounts.session_user(s, one.cookie, now=NOW) is None
        assert accounts.session_user(s, two.cookie, now=NOW) is not None


def _mission(
    db: Database, tmp_path: Path, slug: str = "clean-air", parent: str | None = None
) -> int:
    doc = variant(document(1))
    doc["missions"][0]["slug"] = slug
    doc["organisations"] = [] if parent else doc["organisations"]
    if parent:
        doc["missions"][0]["parent"] = parent
        doc["missions"][0]["reviews"] = []
        for a in doc["missions"][0]["activities"]:
            a["identifier"] = f"{slug}-{a['identifier']}"
            a["organisations"] = []
            a["work_items"] = []
    import_document(db, write(doc, tmp_path / f"{slug}.json"))
    with db.reading() as s:
        mission_id = s.scalar(select(Mission.id).where(Mission.slug == slug))
    assert mission_id is not None
    return mission_id


def test_tokens_are_scoped_revocable_and_stored_hashed(db: Database, tmp_path: Path) -> None:
    mission_id = _mission(db, tmp_path)
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
        roles.grant(s, "ana", "clean-air", "editor")
        new = tokens.create_token(s, "ana", "nightly import", ["read"], mission_id=mission_id)
    with db.reading() as s:
        stored = s.scalar(select(ApiToken.secret_hash))
    assert stored is not None and new.secret.split("_", 2)[2] not in stored
    with db.transaction() as s:
        actor = tokens.actor_for_token(s, new.secret)
    assert actor is not None and actor.scopes == frozenset({"read"})
    assert decide(actor, "read", Target(mission_id))
    assert not decide(actor, "edit", Target(mission_id)), "read scope narrows the editor"
    with db.transaction() as s:
        assert tokens.actor_for_token(s, new.secret[:-1] + "x") is None
        assert tokens.actor_for_token(s, "mk_nope_nope") is None
        assert tokens.actor_for_token(s, "Bearer whatever") is None
        tokens.revoke_token(s, new.token["lookup"])
    with db.transaction() as s:
        assert tokens.actor_for_token(s, new.secret) is None
        listed = tokens.list_tokens(s, "ana")
    assert listed[0]["revoked_at"] is not None and "secret" not in listed[0]


def test_expired_tokens_and_disabled_users_tokens_stop_working(
    db: Database, tmp_path: Path
) -> None:
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        new = tokens.create_token(s, "ana", "short-lived", ["read"], expires_at=soon)
    with db.transaction() as s:
        later = soon + dt.timedelta(seconds=1)
        assert tokens.actor_for_token(s, new.secret, now=later) is None
        assert tokens.actor_for_token(s, new.secret) is not None
        accounts.set_disabled(s, "ana", True)
    with db.transaction() as s:
        assert tokens.actor_for_token(s, new.secret) is None


def test_token_requests_are_validated_by_field(db: Database) -> None:
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
    with db.transaction() as s, pytest.raises(InvalidInput) as caught:
        tokens.create_token(
            s,
            "ana",
            " ",
            ["read", "root"],
            mission_id=999,
            expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        )
    assert [p.path for p in caught.value.problems] == [
        "scopes[1]",
        "name",
        "mission_id",
        "expires_at",
    ]


def test_roles_load_into_the_actor_and_do_not_leak_to_child_missions(
    db: Database, tmp_path: Path
) -> None:
    parent = _mission(db, tmp_path, "clean-air")
    child = _mission(db, tmp_path, "clean-air-berlin", parent="clean-air")
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
        roles.grant(s, "ana", "clean-air", "viewer")
        roles.grant(s, "ana", "clean-air", "owner")  # replaces
        with pytest.raises(InvalidInput, match="role"):
            roles.grant(s, "ana", "clean-air", "emperor")
        actor = accounts.actor_for(s, accounts.user_named(s, "ana"), "web")
        assert roles.members(s, "clean-air") == [{"username": "ana", "role": "owner"}]
    assert actor.roles == {parent: "owner"}
    assert decide(actor, "manage", Target(parent))
    assert not decide(actor, "read", Target(child))
    with db.transaction() as s:
        roles.revoke(s, "ana", "clean-air")
        with pytest.raises(NotFound):
            roles.revoke(s, "ana", "clean-air")


def test_contributors_are_attached_to_activities(db: Database, tmp_path: Path) -> None:
    mission_id = _mission(db, tmp_path)
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
        roles.grant(s, "ana", "clean-air", "contributor")
        activity_id = s.scalar(select(Activity.id))
        assert activity_id is not None
        roles.attach(s, "ana", activity_id)
        roles.attach(s, "ana", activity_id)  # idempotent
        actor = accounts.actor_for(s, accounts.user_named(s, "ana"), "api")
        with pytest.raises(NotFound):
            roles.attach(s, "ana", 99999)
    assert decide(actor, "report", Target(mission_id, activity_id=activity_id))
    with db.transaction() as s:
        roles.detach(s, "ana", activity_id)
        actor = accounts.actor_for(s, accounts.user_named(s, "ana"), "api")
    assert not decide(actor, "report", Target(mission_id, activity_id=activity_id))
