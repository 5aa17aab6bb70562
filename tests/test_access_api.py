"""Sign-in, sessions, CSRF, tokens and back-off over real HTTP, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from missionkit.api.app import create_app
from missionkit.api.auth import COOKIE, CSRF_HEADER, Limits, SlidingWindow
from missionkit.services import accounts, roles, tokens
from missionkit.services.transfer import import_document
from missionkit.store.db import Database
from tests.factories import MISSION, document, variant, write

PASSWORD = "a long test-only passphrase"


@pytest.fixture
def world(db: Database, tmp_path: Path) -> Database:
    """clean-air (unpublished) with ana as its editor; open-data published."""
    import_document(db, write(document(1), tmp_path / "a.json"))
    other = variant(document(1))
    other["organisations"] = []
    other["missions"][0].update(slug="open-data", published=True, reviews=[])
    for a in other["missions"][0]["activities"]:
        a.update(identifier="OPEN-1", organisations=[], work_items=[])
    import_document(db, write(other, tmp_path / "b.json"))
    with db.transaction() as s:
        accounts.add_user(s, "ana", PASSWORD)
        roles.grant(s, "ana", "clean-air", "editor")
    return db


@pytest.fixture
def web(world: Database) -> Iterator[TestClient]:
    with TestClient(create_app(world)) as client:
        yield client


def sign_in(client: TestClient, username: str = "ana", password: str = PASSWORD) -> str:
    response = client.post("/api/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def test_anonymous_readers_see_only_published_missions(web: TestClient) -> None:
    slugs = [m["slug"] for m in web.get("/api/missions").json()["items"]]
    assert slugs == ["open-data"]
    assert web.get("/api/missions/open-data/map").status_code == 200
    assert web.get("/api/missions/clean-air/map").status_code == 404
    assert "clean-air" not in web.get("/").text
    response = web.post("/api/missions", json=MISSION)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert web.post("/api/objectives", json={}).status_code == 401, "401 before 422"


def test_a_signed_in_session_needs_the_csrf_token_to_change_anything(web: TestClient) -> None:
    csrf = sign_in(web)
    cookie = web.cookies.get(COOKIE)
    assert cookie
    assert web.get("/api/session").json()["username"] == "ana"
    assert web.get("/api/missions/clean-air/map").status_code == 200
    objective = {"mission_id": 1, "slug": "new", "title": "New"}
    refused = web.post("/api/objectives", json=objective)
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = web.post("/api/objectives", json=objective, headers={CSRF_HEADER: "guess"})
    assert wrong.status_code == 403
    done = web.post("/api/objectives", json=objective, headers={CSRF_HEADER: csrf})
    assert done.status_code == 201, done.text
    trail = web.get("/api/missions/clean-air/audit").json()["items"]
    assert (trail[0]["username"], trail[0]["interface"], trail[0]["entity"]) == (
        "ana",
        "api",
        "objectives",
    )


def test_the_session_cookie_is_httponly_samesite_and_renewed_at_each_sign_in(
    web: TestClient,
) -> None:
    web.cookies.set(COOKIE, "planted-by-an-attacker")
    assert web.get("/api/session").json()["username"] is None
    response = web.post("/api/session", json={"username": "ana", "password": PASSWORD})
    header = response.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
    assert "Secure" not in header  # plain HTTP here; set behind TLS (https scheme)
    first = response.cookies.get(COOKIE)
    assert first and first != "planted-by-an-attacker"
    refused = web.post("/api/session", json={"username": "ana", "password": PASSWORD})
    assert refused.status_code == 403, "signing in again from a live session needs its CSRF token"
    web.cookies.clear()
    again = web.post("/api/session", json={"username": "ana", "password": PASSWORD})
    assert again.cookies.get(COOKIE) not in (None, first)


def test_sign_out_ends_the_session(web: TestClient) -> None:
    csrf = sign_in(web)
    cookie = web.cookies.get(COOKIE)
    assert web.delete("/api/session").status_code == 403, "sign-out needs the CSRF token too"
    assert web.delete("/api/session", headers={CSRF_HEADER: csrf}).status_code == 204
    web.cookies.set(COOKIE, str(cookie))
    assert web.get("/api/session").json()["username"] is None


def test_tokens_work_until_revoked_and_stop_with_a_disabled_user(
    web: TestClient, world: Database
) -> None:
    with world.transaction() as s:
        new = tokens.create_token(s, "ana", "script", ["write"])
    headers = {"Authorization": f"Bearer {new.secret}"}
    objective = {"mission_id": 1, "slug": "scripted", "title": "Scripted"}
    assert web.post("/api/objectives", json=objective, headers=headers).status_code == 201
    with world.transaction() as s:
        tokens.revoke_token(s, new.token["lookup"])
    response = web.get("/api/missions", headers=headers)
    assert response.status_code == 401 and "revoked" in response.text
    with world.transaction() as s:
        other = tokens.create_token(s, "ana", "script 2", ["read"])
        accounts.set_disabled(s, "ana", True)
    assert (
        web.get("/api/missions", headers={"Authorization": f"Bearer {other.secret}"}).status_code
        == 401
    )
    assert web.get("/api/missions", headers={"Authorization": "Basic abc"}).status_code == 401


def test_repeated_failures_back_off_with_429_and_retry_after(web: TestClient) -> None:
    for _ in range(accounts.FREE_FAILURES - 1):
        response = web.post("/api/session", json={"username": "ana", "password": "wrong guess"})
        assert response.status_code == 401
    response = web.post("/api/session", json={"username": "ana", "password": "wrong guess"})
    assert response.status_code == 401  # the fifth failure starts the lock
    locked = web.post("/api/session", json={"username": "ana", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1


def test_sign_in_attempts_from_one_address_are_limited(world: Database) -> None:
    with TestClient(create_app(world)) as client:
        codes = [
            client.post("/api/session", json={"username": f"u{i}", "password": "x"}).status_code
            for i in range(11)
        ]
    assert codes[:10] == [401] * 10 and codes[10] == 429


def test_the_limiter_forgets_after_its_window() -> None:
    limiter = SlidingWindow(attempts=2, window=60)
    assert limiter.retry_after("1.2.3.4", now=0) == 0
    assert limiter.retry_after("1.2.3.4", now=1) == 0
    assert limiter.retry_after("1.2.3.4", now=2) == pytest.approx(58)
    assert limiter.retry_after("5.6.7.8", now=2) == 0
    assert limiter.retry_after("1.2.3.4", now=61) == 0


def test_token_use_is_rate_limited(world: Database) -> None:
    with world.transaction() as s:
        new = tokens.create_token(s, "ana", "busy script", ["read"])
    headers = {"Authorization": f"Bearer {new.secret}"}
    with TestClient(create_app(world, Limits(token_requests_per_minute=3))) as client:
        codes = [client.get("/api/missions", headers=headers).status_code for _ in range(4)]
        anonymous = client.get("/api/missions").status_code
    assert codes == [200, 200, 200, 429] and anonymous == 200


def test_request_bodies_are_capped(world: Database) -> None:
    with world.transaction() as s:
        new = tokens.create_token(s, "ana", "script", ["write"])
    headers = {"Authorization": f"Bearer {new.secret}"}
    with TestClient(create_app(world, Limits(max_body_bytes=1000))) as client:
        big = {"mission_id": 1, "slug": "big", "title": "x" * 2000}
        response = client.post("/api/objectives", json=big, headers=headers)
        assert response.status_code == 413 and "1,000 bytes" in response.text

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"mission_id": 1, "slug": "big", "title": "'
            yield b"x" * 2000
            yield b'"}'

        streamed = client.post(
            "/api/objectives",
            content=chunks(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
        small = {"mission_id": 1, "slug": "small", "title": "fits"}
        assert client.post("/api/objectives", json=small, headers=headers).status_code == 201
