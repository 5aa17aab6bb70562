"""The pages under the access rules, on SQLite and PostgreSQL: signing in and out through
the pages, CSRF on every form, what anonymous readers and each role see, and the audit
trail of a form. (The role × route matrix over every page is in tests/test_permissions.py,
fed by tests/web/page_cases.py.)"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from missionkit.api.app import create_app
from missionkit.api.auth import COOKIE, Limits
from missionkit.services import accounts, audit, roles
from missionkit.services.maps import mission_id_for
from missionkit.store.db import Database
from tests.conftest import ADMIN_PASSWORD
from tests.factories import MISSION, post
from tests.test_experiment_registry import EXPERIMENT, SUMMARY, _units

BROWSER = {"Accept": "text/html,application/xhtml+xml"}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no csrf_token field"
    return match[1]


def _user(db: Database, username: str, mission: str | None = None, role: str = "viewer") -> None:
    with db.transaction() as session:
        accounts.add_user(session, username, ADMIN_PASSWORD)
        if mission is not None:
            roles.grant(session, username, mission, role)


def sign_in(
    browser: TestClient, username: str, password: str = ADMIN_PASSWORD, next_path: str = "/"
) -> Any:
    form = browser.get("/sign-in", params={"next": next_path})
    assert form.status_code == 200
    return browser.post(
        "/sign-in",
        data={
            "username": username,
            "password": password,
            "next": next_path,
            "csrf_token": _csrf(form.text),
        },
        follow_redirects=False,
    )


@pytest.fixture
def missions(client: TestClient) -> dict[str, Any]:
    """clean-air (unpublished) and open-city (published, with a hidden sub-mission)."""
    hidden = post(client, "/api/missions", MISSION)
    public = post(
        client,
        "/api/missions",
        MISSION | {"slug": "open-city", "title": "Open city", "published": True},
    )
    child = post(
        client,
        "/api/missions",
        MISSION | {"slug": "secret-child", "title": "Secret child", "parent_id": public["id"]},
    )
    return {"hidden": hidden, "public": public, "child": child}


def test_sign_in_page_signs_in_and_shows_who(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ana", "clean-air")
    response = sign_in(anonymous, "ana", next_path="/missions/clean-air")
    assert response.status_code == 303 and response.headers["location"] == "/missions/clean-air"
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    page = anonymous.get("/missions/clean-air")
    assert page.status_code == 200
    assert "Signed in as <strong>ana</strong>" in page.text and "Sign out" in page.text
    assert "Clean air in every city" in page.text


def test_wrong_password_is_refused_on_the_page(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ana")
    response = sign_in(anonymous, "ana", "not the password at all")
    assert response.status_code == 401
    assert "text/html" in response.headers["content-type"]
    assert 'value="ana"' in response.text and COOKIE not in response.headers.get("set-cookie", "")
    assert "Sign in" in anonymous.get("/").text


def test_repeated_failures_lock_the_account_429(db: Database, anonymous: TestClient) -> None:
    _user(db, "ana")
    statuses = [sign_in(anonymous, "ana", "wrong password number x").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    locked = sign_in(anonymous, "ana")  # even the right password, while locked
    assert locked.status_code == 429 and "Try again later" in locked.text
    assert int(locked.headers["Retry-After"]) >= 1


def test_too_many_sign_ins_from_one_address_429(db: Database) -> None:
    _user(db, "ana")
    with TestClient(create_app(db, Limits(sign_ins_per_minute=2))) as browser:
        first = [sign_in(browser, "ana", "wrong password number x").status_code for _ in range(2)]
        third = sign_in(browser, "ana")
    assert first == [401, 401]
    assert third.status_code == 429 and "Try again later" in third.text


@pytest.mark.parametrize(
    "unsafe",
    [
        "//evil.example/x",
        "http://evil.example/",
        "https:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=1".replace("%0d%0a", "\r\n"),
        "evil.example",
        "",
    ],
)
def test_next_must_be_a_local_path(db: Database, anonymous: TestClient, unsafe: str) -> None:
    _user(db, "ana")
    response = sign_in(anonymous, "ana", next_path=unsafe)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_next_keeps_a_local_path_with_its_query(db: Database, anonymous: TestClient) -> None:
    _user(db, "ana")
    response = sign_in(anonymous, "ana", next_path="/missions/x/portfolio?stage=research")
    assert response.headers["location"] == "/missions/x/portfolio?stage=research"


def test_sign_in_form_needs_its_pre_session_token(db: Database, anonymous: TestClient) -> None:
    _user(db, "ana")
    anonymous.get("/sign-in")  # the cookie is set, but the field is missing or wrong
    for token in ("", "forged"):
        response = anonymous.post(
            "/sign-in",
            data={"username": "ana", "password": ADMIN_PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 403 and "expired" in response.text
        assert COOKIE not in response.headers.get("set-cookie", "")


def test_forms_refuse_a_missing_or_wrong_csrf_token(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ed", "clean-air", "editor")
    sign_in(anonymous, "ed")
    form = anonymous.get("/missions/clean-air/objectives/new")
    assert form.status_code == 200
    token = _csrf(form.text)
    fields = {"title": "Healthy schools", "slug": "schools"}
    for bad in ({}, {"csrf_token": "x" * len(token)}):
        refused = anonymous.post(
            "/missions/clean-air/objectives/new", data=fields | bad, follow_redirects=False
        )
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    accepted = anonymous.post(
        "/missions/clean-air/objectives/new",
        data=fields | {"csrf_token": token},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text


def test_every_form_carries_the_csrf_token(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ow", "clean-air", "owner")
    sign_in(anonymous, "ow")
    indicator = post_indicator(anonymous, db)
    for page in (
        "/missions/new",
        "/missions/clean-air/edit",
        "/missions/clean-air/activities/new",
        f"/indicators/{indicator}",
        "/",
    ):
        html = anonymous.get(page).text
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, flags=re.S)
        assert forms, page
        for form in forms:
            assert 'name="csrf_token"' in form, (page, form[:200])


def post_indicator(browser: TestClient, db: Database) -> int:
    form = browser.get("/missions/clean-air/indicators/new")
    created = browser.post(
        "/missions/clean-air/indicators/new",
        data={
            "name": "NO2",
            "slug": "no2",
            "unit": "µg/m³",
            "method": "statcan",
            "direction": "decrease",
            "baseline_value": "40",
            "baseline_date": "2024-01-01",
            "target_value": "20",
            "target_date": "2030-12-31",
            "csrf_token": _csrf(form.text),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    return int(created.headers["location"].rsplit("/", 1)[1])


def test_sign_out_needs_the_token_and_ends_the_session(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ana", "clean-air")
    sign_in(anonymous, "ana")
    page = anonymous.get("/missions/clean-air")
    assert anonymous.post("/sign-out", follow_redirects=False).status_code == 403
    cookie = anonymous.cookies.get(COOKIE)
    out = anonymous.post("/sign-out", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert anonymous.get("/missions/clean-air").status_code == 404
    # The old cookie is dead on the server too, not only forgotten by the browser.
    with TestClient(create_app(db), cookies={COOKIE: cookie or ""}) as replay:
        assert replay.get("/missions/clean-air").status_code == 404


def test_anonymous_sees_published_missions_only(
    anonymous: TestClient, missions: dict[str, Any]
) -> None:
    index = anonymous.get("/")
    assert index.status_code == 200
    assert "Open city" in index.text and 'href="/sign-in?next=/"' in index.text
    assert "clean-air" not in index.text and "Secret child" not in index.text
    assert "New mission" not in index.text
    cockpit = anonymous.get("/missions/open-city")
    assert cockpit.status_code == 200 and "Open city" in cockpit.text
    assert "Secret child" not in cockpit.text and "secret-child" not in cockpit.text
    assert "Edit mission" not in cockpit.text and "Audit trail" not in cockpit.text
    for path in (
        "/missions/open-city/portfolio",
        "/missions/open-city/map",
        "/missions/open-city/report",
        "/missions/open-city/portfolio.csv",
    ):
        assert anonymous.get(path).status_code == 200, path


def test_hidden_and_missing_missions_look_the_same(
    anonymous: TestClient, missions: dict[str, Any]
) -> None:
    hidden = anonymous.get("/missions/clean-air/report")
    missing = anonymous.get("/missions/no-such-mission/report")
    by_id = anonymous.get(f"/missions/{missions['hidden']['id']}/map")
    assert hidden.status_code == missing.status_code == by_id.status_code == 404
    same = missing.text.replace("no-such-mission", "clean-air")
    assert hidden.text == same and "text/html" in hidden.headers["content-type"]
    assert "Clean air" not in by_id.text


def test_anonymous_is_sent_to_sign_in_for_forms(
    anonymous: TestClient, missions: dict[str, Any]
) -> None:
    for path in ("/missions/new", "/missions/open-city/edit", "/missions/open-city/objectives/new"):
        response = anonymous.get(path, headers=BROWSER, follow_redirects=False)
        assert response.status_code == 303, path
        target = urlsplit(response.headers["location"])
        assert target.path == "/sign-in" and parse_qs(target.query)["next"] == [path]
    # Without a browser's Accept header, and for a posted form: 401 and a page saying why.
    assert anonymous.get("/missions/new").status_code == 401
    posted = anonymous.post("/missions/open-city/edit", data={"title": "x"}, headers=BROWSER)
    assert posted.status_code == 401 and "Sign in" in posted.text
    assert anonymous.get("/missions/open-city").json is not None  # HTML page, not JSON
    assert (
        anonymous.get("/api/missions/clean-air")
        .headers["content-type"]
        .startswith("application/json")
    )


def test_a_viewer_gets_403_on_edit_forms(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "vi", "clean-air", "viewer")
    sign_in(anonymous, "vi")
    page = anonymous.get("/missions/clean-air")
    assert page.status_code == 200 and "Edit mission" not in page.text
    for path in ("/missions/clean-air/edit", "/missions/clean-air/indicators/new"):
        refused = anonymous.get(path, headers=BROWSER)
        assert refused.status_code == 403 and "Not allowed" in refused.text, path
    posted = anonymous.post(
        "/missions/clean-air/edit",
        data={
            "title": "Renamed",
            "slug": "clean-air",
            "start": "2024-01-01",
            "deadline": "2030-12-31",
            "csrf_token": _csrf(page.text),
        },
    )
    assert posted.status_code == 403
    assert anonymous.get("/missions/new").status_code == 403  # not an owner anywhere


def test_an_editor_cannot_move_a_mission_but_its_owner_can(
    db: Database, anonymous: TestClient, client: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ed", "clean-air", "editor")
    sign_in(anonymous, "ed")
    form = anonymous.get("/missions/clean-air/edit")
    fields = {
        "title": "Clean air",
        "slug": "clean-air",
        "start": "2024-01-01",
        "deadline": "2030-12-31",
        "csrf_token": _csrf(form.text),
    }
    moved = anonymous.post(
        "/missions/clean-air/edit", data=fields | {"parent_id": str(missions["public"]["id"])}
    )
    assert moved.status_code == 403
    renamed = anonymous.post("/missions/clean-air/edit", data=fields, follow_redirects=False)
    assert renamed.status_code == 303, renamed.text
    stored = client.get(f"/api/missions/{missions['hidden']['id']}").json()
    assert stored["parent_id"] is None and stored["title"] == "Clean air"


def test_audit_entries_from_a_form_name_the_user_and_the_web(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ed", "clean-air", "editor")
    sign_in(anonymous, "ed")
    cockpit = anonymous.get("/missions/clean-air")
    assert 'href="/api/missions/clean-air/audit?format=csv"' in cockpit.text
    indicator = post_indicator(anonymous, db)
    page = anonymous.get(f"/indicators/{indicator}")
    added = anonymous.post(
        f"/indicators/{indicator}/observations",
        data={
            "mode": "batch",
            "csv": "2025-12-31,35\n2026-06-30,33",
            "csrf_token": _csrf(page.text),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    with db.reading() as session:
        entries = audit.entries(session, mission_id_for(session, "clean-air"))
    ours = [e for e in entries if e["entity"] in ("indicators", "observations")]
    assert len(ours) == 3
    assert {(e["username"], e["interface"], e["action"]) for e in ours} == {("ed", "web", "create")}
    trail = anonymous.get("/api/missions/clean-air/audit", params={"format": "csv"})
    assert trail.status_code == 200 and "observations" in trail.text


def test_a_viewer_sees_no_observation_form_and_cannot_post_one(
    db: Database, anonymous: TestClient, client: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "vi", "clean-air", "viewer")
    indicator = post(
        client,
        "/api/indicators",
        {
            "mission_id": missions["hidden"]["id"],
            "slug": "no2",
            "name": "NO2",
            "unit": "t",
            "direction": "decrease",
            "baseline_value": 40,
            "baseline_date": "2024-01-01",
            "target_value": 20,
            "target_date": "2030-12-31",
        },
    )["id"]
    sign_in(anonymous, "vi")
    page = anonymous.get(f"/indicators/{indicator}")
    assert page.status_code == 200 and "Add observations" not in page.text
    posted = anonymous.post(
        f"/indicators/{indicator}/observations",
        data={
            "mode": "single",
            "date": "2026-06-30",
            "value": "30",
            "csrf_token": _csrf(page.text),
        },
    )
    assert posted.status_code == 403
    assert client.get("/api/observations").json()["total"] == 0


def test_an_owner_may_add_a_sub_mission_only_under_their_own(
    db: Database, anonymous: TestClient, client: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ow", "clean-air", "owner")
    sign_in(anonymous, "ow")
    form = anonymous.get("/missions/new")
    assert form.status_code == 200
    options = re.findall(r'<option value="(\d+)"', form.text)
    assert options == [str(missions["hidden"]["id"])]  # not open-city, which they do not own
    fields = {
        "title": "Clean air Berlin",
        "slug": "clean-air-berlin",
        "start": "2024-01-01",
        "deadline": "2030-12-31",
        "csrf_token": _csrf(form.text),
    }
    top = anonymous.post("/missions/new", data=fields)
    assert top.status_code == 403
    elsewhere = anonymous.post(
        "/missions/new", data=fields | {"parent_id": str(missions["public"]["id"])}
    )
    assert elsewhere.status_code == 403
    made = anonymous.post(
        "/missions/new",
        data=fields | {"parent_id": str(missions["hidden"]["id"])},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    # Its creator owns it, so its cockpit opens for them.
    assert anonymous.get("/missions/clean-air-berlin/edit").status_code == 200


def test_organisation_page_lists_readable_missions_only(
    anonymous: TestClient, client: TestClient, missions: dict[str, Any]
) -> None:
    org = post(client, "/api/organisations", {"identifier": "XI-1", "name": "Acme", "type": "sme"})
    for mission, title in ((missions["hidden"], "Hidden work"), (missions["public"], "Open work")):
        post(
            client,
            "/api/activities",
            {
                "mission_id": mission["id"],
                "identifier": title,
                "title": title,
                "regions": [],
                "sectors": [],
                "organisations": [{"organisation_id": org["id"], "role": "lead"}],
            },
        )
    page = anonymous.get(f"/organisations/{org['id']}")
    assert page.status_code == 200 and "Open work" in page.text
    assert "Hidden work" not in page.text and "clean-air" not in page.text
    assert "Hidden work" in client.get(f"/organisations/{org['id']}").text


def test_cockpit_shows_experiment_decisions_and_learning(
    client: TestClient, missions: dict[str, Any]
) -> None:
    before = client.get("/missions/clean-air").text
    assert "No experiment of this mission has ended in a decision yet" in before
    eid = post(client, "/api/missions/clean-air/experiments", EXPERIMENT)["id"]
    assert client.post(f"/api/experiments/{eid}/lock", json={"locked_by": "Ana"}).is_success
    randomised = client.post(
        f"/api/experiments/{eid}/randomise", json={"seed": 7, "units": _units()}
    )
    assert randomised.is_success, randomised.text
    assert client.post(f"/api/experiments/{eid}/analyse", json=SUMMARY).is_success
    post(
        client,
        f"/api/experiments/{eid}/decisions",
        {
            "decision": "scale",
            "decided_by": "Programme board",
            "decided_on": "2026-11-20",
            "learning": "Impact-first criteria shortlist more mission-relevant proposals.",
        },
    )
    page = client.get("/missions/clean-air").text
    section = page.split('id="h-learning"', 1)[1].split("</section>", 1)[0]
    assert "Experiments: decisions and learning" in section and "scale" in section
    assert "Impact-first criteria shortlist more mission-relevant proposals." in section
    assert "Programme board" in section and EXPERIMENT["title"] in section
    assert "No experiment of this mission has ended in a decision yet" not in section


def test_signing_in_again_replaces_the_session(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    _user(db, "ana", "clean-air")
    sign_in(anonymous, "ana")
    first = anonymous.cookies.get(COOKIE)
    again = sign_in(anonymous, "ana")  # the form now carries the session's token
    assert again.status_code == 303
    second = anonymous.cookies.get(COOKIE)
    assert first and second and first != second
    with TestClient(create_app(db), cookies={COOKIE: first}) as replay:
        assert replay.get("/missions/clean-air").status_code == 404
    assert anonymous.get("/missions/clean-air").status_code == 200


def test_pages_refuse_framing_and_signed_in_pages_are_not_cached(
    db: Database, anonymous: TestClient, missions: dict[str, Any]
) -> None:
    public = anonymous.get("/missions/open-city")
    assert "frame-ancestors 'none'" in public.headers["content-security-policy"]
    assert "script-src 'self'" in public.headers["content-security-policy"]
    assert public.headers["x-frame-options"] == "DENY"
    assert "no-store" not in public.headers.get("cache-control", "")
    assert "no-store" in anonymous.get("/sign-in").headers["cache-control"]  # its token
    _user(db, "ana", "clean-air")
    sign_in(anonymous, "ana")
    assert "no-store" in anonymous.get("/missions/clean-air").headers["cache-control"]
    refused = anonymous.get("/missions/clean-air/edit")
    assert refused.status_code == 403 and refused.headers["x-frame-options"] == "DENY"


def test_unknown_addresses_are_pages_for_pages_and_json_for_the_api(
    anonymous: TestClient,
) -> None:
    for path in ("/no/such/page", "/objectives/not-a-number"):
        page = anonymous.get(path)
        assert page.status_code == 404 and "text/html" in page.headers["content-type"], path
        assert "No such page here" in page.text
    assert anonymous.get("/api/no-such-thing").json() == {"detail": "Not Found"}
    invalid = anonymous.get("/api/objectives/not-a-number")
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"][0] == "path"
    assert anonymous.delete("/sign-in").status_code == 405


def test_an_editor_of_a_sub_mission_keeps_its_parent_when_saving(
    db: Database, anonymous: TestClient, client: TestClient, missions: dict[str, Any]
) -> None:
    """secret-child's parent is open-city; its editor owns neither, yet saves the form."""
    _user(db, "ed", "secret-child", "editor")
    sign_in(anonymous, "ed")
    form = anonymous.get("/missions/secret-child/edit")
    assert form.status_code == 200
    parent = str(missions["public"]["id"])
    assert re.search(rf'<option value="{parent}" selected', form.text), "parent not kept"
    saved = anonymous.post(
        "/missions/secret-child/edit",
        data={"title": "Secret child, renamed", "slug": "secret-child", "parent_id": parent,
              "start": "2024-01-01", "deadline": "2030-12-31", "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    stored = client.get(f"/api/missions/{missions['child']['id']}").json()
    assert stored["parent_id"] == missions["public"]["id"]
    assert stored["title"] == "Secret child, renamed"


def test_a_form_cannot_reach_into_another_mission(
    db: Database, anonymous: TestClient, client: TestClient, missions: dict[str, Any]
) -> None:
    """An editor of clean-air names open-city's objective as a new objective's parent."""
    theirs = post(client, "/api/objectives", {"mission_id": missions["public"]["id"],
                  "slug": "theirs", "title": "Theirs"})  # fmt: skip
    _user(db, "ed", "clean-air", "editor")
    sign_in(anonymous, "ed")
    form = anonymous.get("/missions/clean-air/objectives/new")
    posted = anonymous.post(
        "/missions/clean-air/objectives/new",
        data={"title": "Mine", "slug": "mine", "parent_id": str(theirs["id"]),
              "csrf_token": _csrf(form.text)},
    )  # fmt: skip
    assert posted.status_code == 422 and "belongs to another mission" in posted.text
    # And a page of open-city is not editable by them at all.
    assert anonymous.get(f"/objectives/{theirs['id']}/edit").status_code == 403


def test_a_token_sent_to_a_form_is_audited_as_the_web(
    db: Database, client: TestClient, missions: dict[str, Any]
) -> None:
    created = client.post("/missions/clean-air/objectives/new",
                          data={"title": "By script", "slug": "by-script"},
                          follow_redirects=False)  # fmt: skip
    assert created.status_code == 303, created.text
    with db.reading() as session:
        (entry,) = [e for e in audit.entries(session) if e["entity"] == "objectives"]
    assert (entry["username"], entry["interface"]) == ("root", "web")
