"""The review queue page (/missions/{key}/suggestions), on SQLite and PostgreSQL: what
it lists, accepting and rejecting through its forms, suggesting again, and who may do
what (readers see it, editors decide; hidden missions are the standard 404; CSRF)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from missionkit.services import audit, mapping
from missionkit.services.maps import mission_id_for
from missionkit.services.transfer import import_document
from missionkit.store.db import Database
from missionkit.web import review
from tests.factories import write
from tests.test_mapping_service import mapping_document
from tests.web.test_page_access import BROWSER, _csrf, _user, sign_in

QUEUE = "/missions/clean-air/suggestions"


@pytest.fixture
def queue(db: Database, tmp_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """clean-air (unpublished) with objectives buses and heating, four activities whose
    texts the mapper links clearly, one manual link, and a fresh set of suggestions."""
    doc = mapping_document()
    import_document(db, write(doc, tmp_path / "d.json"))
    with db.transaction() as s:
        mapping.suggest_contributions(s, "clean-air")
    return _queued(db)


def _queued(db: Database) -> dict[tuple[str, str], dict[str, Any]]:
    with db.reading() as s:
        items = mapping.list_suggestions(s, "clean-air", limit=1000)
    return {(q["activity"], q["objective"]): q for q in items}


def _signed_in(db: Database, browser: TestClient, username: str, role: str) -> None:
    _user(db, username, "clean-air", role)
    assert sign_in(browser, username).status_code == 303


def _audit(db: Database) -> list[dict[str, Any]]:
    with db.reading() as s:
        return audit.entries(s, mission_id_for(s, "clean-air"))


def test_an_editor_sees_the_queue_and_accepts_a_suggestion(
    db: Database, anonymous: TestClient, queue: dict[tuple[str, str], dict[str, Any]]
) -> None:
    _signed_in(db, anonymous, "ed", "editor")
    cockpit = anonymous.get("/missions/clean-air")
    assert f'href="{QUEUE}">Review {len(queue)} suggested links</a>' in cockpit.text
    page = anonymous.get(QUEUE)
    assert page.status_code == 200
    bus = queue[("A-0", "buses")]
    assert "Electric bus fleet" in page.text and "Electric buses" in page.text
    assert f"{bus['score']:.2f}" in page.text
    terms = bus["note"].split("): ", 1)[1]
    assert terms and terms in page.text  # the engine's explanation, without its prefix
    assert f'action="{QUEUE}/{bus["id"]}/accept"' in page.text
    for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", page.text, flags=re.S):
        assert 'name="csrf_token"' in form
    done = anonymous.post(
        f"{QUEUE}/{bus['id']}/accept", data={"csrf_token": _csrf(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"{QUEUE}?done=accepted"
    after = anonymous.get(done.headers["location"])
    assert review.DONE["accepted"] in after.text
    assert f"{QUEUE}/{bus['id']}/accept" not in after.text
    assert ("A-0", "buses") not in _queued(db)
    with db.reading() as s:
        (reviewed,) = [
            c for c in mapping.list_suggestions(s, "clean-air", provenance="reviewed")
            if c["id"] == bus["id"]
        ]  # fmt: skip
    assert reviewed["reviewed_by"] == "ed"
    (entry,) = [e for e in _audit(db) if e["action"] == "accept"]
    assert (entry["username"], entry["interface"], entry["entity_key"]) == (
        "ed",
        "web",
        str(bus["id"]),
    )


def test_a_rejected_suggestion_leaves_the_queue_and_is_not_suggested_again(
    db: Database, anonymous: TestClient, queue: dict[tuple[str, str], dict[str, Any]]
) -> None:
    _signed_in(db, anonymous, "ow", "owner")
    heat = queue[("A-1", "heating")]
    assert ("A-3", "heating") in queue
    token = _csrf(anonymous.get(QUEUE).text)
    done = anonymous.post(
        f"{QUEUE}/{heat['id']}/reject",
        data={"csrf_token": token, "note": "  only insulation  "},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{QUEUE}?done=rejected"
    assert review.DONE["rejected"] in anonymous.get(done.headers["location"]).text
    assert ("A-1", "heating") not in _queued(db)
    again = anonymous.post(QUEUE, data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"{QUEUE}?done=suggested"
    renewed = _queued(db)
    assert ("A-1", "heating") not in renewed  # remembered as rejected
    assert ("A-3", "heating") in renewed  # the mapper did run again
    trail = _audit(db)
    (rejected,) = [e for e in trail if e["action"] == "reject"]
    assert rejected["after"]["note"] == "only insulation" and rejected["interface"] == "web"
    suggested = [e for e in trail if e["action"] == "suggest"]
    assert {(e["username"], e["interface"]) for e in suggested[:1]} == {("ow", "web")}


def test_a_long_note_is_refused_and_the_suggestion_stays(
    db: Database, anonymous: TestClient, queue: dict[tuple[str, str], dict[str, Any]]
) -> None:
    _signed_in(db, anonymous, "ed", "editor")
    heat = queue[("A-1", "heating")]
    token = _csrf(anonymous.get(QUEUE).text)
    refused = anonymous.post(
        f"{QUEUE}/{heat['id']}/reject", data={"csrf_token": token, "note": "x" * 2001}
    )
    assert refused.status_code == 422 and "2000 characters" in refused.text
    assert ("A-1", "heating") in _queued(db)


def test_a_viewer_sees_no_buttons_and_cannot_decide(
    db: Database, anonymous: TestClient, queue: dict[tuple[str, str], dict[str, Any]]
) -> None:
    _signed_in(db, anonymous, "vi", "viewer")
    assert "suggested links" not in anonymous.get("/missions/clean-air").text
    page = anonymous.get(QUEUE)
    assert page.status_code == 200 and "Electric bus fleet" in page.text
    assert ">Accept</button>" not in page.text and ">Suggest again</button>" not in page.text
    assert "/reject" not in page.text
    token = _csrf(page.text)  # the sign-out form's
    bus = queue[("A-0", "buses")]
    for path in (f"{QUEUE}/{bus['id']}/accept", f"{QUEUE}/{bus['id']}/reject", QUEUE):
        assert anonymous.post(path, data={"csrf_token": token}).status_code == 403, path
    assert _queued(db) == queue
    assert not [e for e in _audit(db) if e["action"] in ("accept", "reject")]


def test_anonymous_gets_the_standard_404_on_an_unpublished_mission(
    anonymous: TestClient, queue: dict[tuple[str, str], dict[str, Any]]
) -> None:
    hidden = anonymous.get(QUEUE, headers=BROWSER)
    missing = anonymous.get("/missions/no-such-mission/suggestions", headers=BROWSER)
    assert hidden.status_code == missing.status_code == 404
    # The same page but for the sign-in link's ``next``.
    assert hidden.text.replace("clean-air", "X") == missing.text.replace("no-such-mission", "X")
    bus = queue[("A-0", "buses")]
    posted = anonymous.post(f"{QUEUE}/{bus['id']}/accept", follow_redirects=False)
    assert posted.status_code in (401, 404)


def test_decisions_need_the_csrf_token(
    db: Database, anonymous: TestClient, queue: dict[tuple[str, str], dict[str, Any]]
) -> None:
    _signed_in(db, anonymous, "ed", "editor")
    token = _csrf(anonymous.get(QUEUE).text)
    bus = queue[("A-0", "buses")]
    for path in (f"{QUEUE}/{bus['id']}/accept", f"{QUEUE}/{bus['id']}/reject", QUEUE):
        for bad in ({}, {"csrf_token": "x" * len(token)}):
            refused = anonymous.post(path, data=bad, follow_redirects=False)
            assert refused.status_code == 403, (path, bad)
            assert "text/html" in refused.headers["content-type"]
    assert _queued(db) == queue


def test_a_suggestion_of_another_mission_is_not_found_from_this_one(
    db: Database,
    anonymous: TestClient,
    client: TestClient,
    queue: dict[tuple[str, str], dict[str, Any]],
) -> None:
    other = client.post(
        "/api/missions",
        json={"slug": "other", "title": "Other", "level": "national", "status": "active",
              "start": "2025-01-01", "deadline": "2030-01-01"},
    )  # fmt: skip
    assert other.status_code == 201, other.text
    _user(db, "ed", "other", "editor")
    sign_in(anonymous, "ed")
    token = _csrf(anonymous.get("/missions/other/suggestions").text)
    bus = queue[("A-0", "buses")]
    refused = anonymous.post(
        f"/missions/other/suggestions/{bus['id']}/accept", data={"csrf_token": token}
    )
    assert refused.status_code == 404
    assert _queued(db) == queue


def test_the_queue_pages(
    db: Database,
    anonymous: TestClient,
    queue: dict[tuple[str, str], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(review, "PAGE_SIZE", 2)
    _signed_in(db, anonymous, "vi", "viewer")
    first = anonymous.get(QUEUE)
    assert f'href="{QUEUE}?offset=2" rel="next"' in first.text
    assert f"1–2 of {len(queue)}" in first.text
    second = anonymous.get(QUEUE, params={"offset": 2})
    ordered = sorted(queue.values(), key=lambda q: (-q["score"], q["id"]))
    assert ordered[2]["activity_title"] in second.text
    assert f'href="{QUEUE}?offset=0" rel="prev"' in second.text
    assert anonymous.get(QUEUE, params={"offset": -1}).status_code == 422
