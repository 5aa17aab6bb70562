"""Every page through the ASGI app, on SQLite and PostgreSQL; forms refuse what the API does."""

from __future__ import annotations

import io
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import MISSION

PAGES = (
    "/",
    "/missions/clean-air",
    "/missions/clean-air/map",
    "/missions/clean-air/portfolio",
    "/missions/clean-air/findings",
    "/missions/clean-air/report",
    "/missions/clean-air/report.html",
    "/missions/clean-air/report.xlsx",
    "/missions/new",
    "/missions/clean-air/edit",
    "/missions/clean-air/objectives/new",
    "/missions/clean-air/indicators/new",
    "/missions/clean-air/activities/new",
)


def _error_beside(html: str, field: str) -> str:
    """The error text rendered next to a form field (``f-<field>-error``), or ''."""
    match = re.search(rf'id="f-{field}-error">([^<]*)<', html)
    return match[1] if match else ""


def _value_of(html: str, field: str) -> str:
    match = re.search(rf'id="f-{field}" name="{field}"[^>]*value="([^"]*)"', html)
    return match[1] if match else ""


def test_every_page_renders(client: TestClient, demo: dict[str, Any]) -> None:
    pages = [
        *PAGES,
        f"/objectives/{demo['objectives']['buses']}",
        f"/objectives/{demo['objectives']['buses']}/edit",
        f"/indicators/{demo['indicator_id']}",
        f"/indicators/{demo['indicator_id']}/edit",
        f"/activities/{demo['extra_id']}",
        f"/activities/{demo['extra_id']}/edit",
        "/organisations/1",
        "/static/web/missionkit.css",
        "/static/web/missionkit.js",
        "/favicon.ico",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.text[:500])
    cockpit = client.get("/missions/clean-air").text
    assert "Clean air in every city by 2030" in cockpit and "Outcome indicators" in cockpit
    assert "<svg" in cockpit and "target 20" in cockpit and "deadline 2030" in cockpit
    assert 'href="/missions/clean-air/report"' in cockpit
    # Engines that do not exist yet get no section; experiments always have one.
    assert "Conditions" not in cockpit
    assert 'href="/missions/clean-air/experiments/new"' in cockpit  # the client edits


def test_unknown_records_are_404_pages(client: TestClient) -> None:
    for page in ("/missions/nope", "/objectives/999", "/indicators/999", "/activities/999",
                 "/organisations/999", "/missions/nope/portfolio", "/static/web/../app.py",
                 "/static/web/nothing.css", "/indicators/999/edit"):  # fmt: skip
        assert client.get(page).status_code == 404, page


def test_mission_form_refuses_what_the_api_refuses(client: TestClient) -> None:
    bad = {**MISSION, "slug": "clean-air", "start": "2030-01-01", "deadline": "2029-01-01"}
    api = client.post("/api/missions", json=bad)
    assert api.status_code == 422
    api_message = next(
        d["msg"].removeprefix("Value error, ")
        for d in api.json()["detail"]
        if d["loc"][-1] == "deadline"
    )
    form = {**bad, "regions": "DE", "sectors": "transport, health"}
    response = client.post("/missions/new", data=form, follow_redirects=False)
    assert response.status_code == 422
    assert _error_beside(response.text, "deadline") == api_message
    assert 'aria-invalid="true"' in response.text
    # Nothing typed is lost.
    assert _value_of(response.text, "title") == MISSION["title"]
    assert _value_of(response.text, "sectors") == "transport, health"
    assert client.get("/api/missions").json()["total"] == 0


def test_mission_form_creates_and_edits(client: TestClient) -> None:
    form = {k: v for k, v in MISSION.items() if not isinstance(v, list)} | {
        "regions": "DE, FR10",
        "sectors": "transport\nhealth",
        "parent_id": "",
        "owner": "",
    }
    response = client.post("/missions/new", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/missions/clean-air"
    empty = client.get("/missions/clean-air")
    assert empty.status_code == 200 and "No indicators yet" in empty.text
    stored = client.get("/api/missions/1").json()
    assert stored["regions"] == ["DE", "FR10"] and stored["sectors"] == ["transport", "health"]
    assert stored["owner"] is None and stored["level"] == "national"
    # A second mission with the same slug: the conflict is shown at the slug field.
    again = client.post("/missions/new", data=form, follow_redirects=False)
    assert again.status_code == 422 and "already exists" in _error_beside(again.text, "slug")
    # Editing with the version read; a stale version keeps the typed text and says why.
    edit = client.get("/missions/clean-air/edit").text
    assert 'name="version" value="1"' in edit and _value_of(edit, "regions") == "DE, FR10"
    changed = {**form, "title": "Cleaner air", "version": "1"}
    done = client.post("/missions/1/edit", data=changed, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/api/missions/1").json()["title"] == "Cleaner air"
    stale = client.post("/missions/1/edit", data={**changed, "title": "Mine"})
    assert stale.status_code == 422 and "Someone else saved" in stale.text
    assert _value_of(stale.text, "title") == "Mine"
    # Clearing a required field is refused at that field, not silently kept.
    cleared = client.post("/missions/1/edit", data={**form, "title": "", "version": "2"})
    assert _error_beside(cleared.text, "title") == "Required: enter a value."


def test_indicator_form_and_observations_change_the_status(client: TestClient) -> None:
    plain = {k: v for k, v in MISSION.items() if not isinstance(v, list)}
    client.post("/missions/new", data={**plain, "regions": "DE"})
    indicator = {
        "name": "NO2", "slug": "no2", "unit": "µg/m³", "direction": "decrease",
        "baseline_value": "40", "baseline_date": "2023-12-31", "target_value": "50",
        "target_date": "2030-12-31", "method": "statcan", "objective_id": "",
    }  # fmt: skip
    refused = client.post("/missions/clean-air/indicators/new", data=indicator)
    assert refused.status_code == 422
    assert "is above the baseline 40" in _error_beside(refused.text, "target_value")
    created = client.post(
        "/missions/clean-air/indicators/new",
        data={**indicator, "target_value": "20"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    url = created.headers["location"]
    assert "Insufficient data" in client.get(url).text
    # One observation with a bad value: refused at the field, the typed text kept.
    bad = client.post(f"{url}/observations", data={"mode": "single", "date": "2024-12-31",
                                                   "value": "lots"})  # fmt: skip
    assert bad.status_code == 422
    assert "valid number" in re.search(r'id="obs-value-error">([^<]*)<', bad.text)[1]  # type: ignore[index]
    assert 'value="lots"' in bad.text
    # A batch with one bad row adds nothing and names the row.
    batch = "date,value\n2024-12-31,36\n2025-12-31,minus\n"
    refused_batch = client.post(f"{url}/observations", data={"mode": "batch", "csv": batch})
    assert refused_batch.status_code == 422 and "Row 3, value:" in refused_batch.text
    assert "2024-12-31,36" in refused_batch.text  # the pasted text is kept
    assert client.get("/api/observations").json()["total"] == 0
    good = "2024-12-31,34\n2025-12-31,28\n"  # -16 %/yr against -11 %/yr needed
    ok = client.post(f"{url}/observations", data={"mode": "batch", "csv": good},
                     follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    page = client.get(url).text
    assert client.get("/api/observations").json()["total"] == 2
    assert "On track" in page and "Insufficient data" not in page.split("Observations")[0]
    single = {"mode": "single", "date": "2024-12-31", "value": "1"}
    duplicate = client.post(f"{url}/observations", data=single)
    assert "already an observation" in duplicate.text


def test_explorer_page_and_exports(client: TestClient, demo: dict[str, Any]) -> None:
    page = client.get("/missions/clean-air/portfolio", params={"instrument": "procurement"})
    assert "<strong>1</strong> activities match" in page.text
    assert "portfolio.csv?instrument=procurement" in page.text
    csv = client.get("/missions/clean-air/portfolio.csv", params={"sort": "identifier"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert "'=HYPERLINK" in csv.text and len(csv.text.strip().splitlines()) == 5
    xlsx = client.get("/missions/clean-air/portfolio.xlsx", params={"region": "FR"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("identifier", "title") and len(rows) == 2
    assert rows[1][1] == '\'=HYPERLINK("http://evil")' and rows[1][6] == 100
    bad = client.get("/missions/clean-air/portfolio.csv", params={"budget_min": "x"})
    assert bad.status_code == 422
    shown = client.get("/missions/clean-air/portfolio", params={"budget_min": "x"})
    assert shown.status_code == 200 and "is not a number" in shown.text


def test_child_forms_stay_in_their_mission(client: TestClient, demo: dict[str, Any]) -> None:
    objective = {"title": "Clean ports", "slug": "ports", "parent_id": "", "position": ""}
    made = client.post("/missions/clean-air/objectives/new", data=objective,
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    stored = client.get(f"/api/{made.headers['location'].lstrip('/')}").json()
    assert stored["mission_id"] == demo["mission_id"] and stored["position"] == 0
    activity = {
        "title": "Shore power", "identifier": "SP-1", "kind": "project", "instrument": "grant",
        "stage": "", "public_contribution": "10", "total_cost": "5", "currency": "EUR",
        "status": "active", "regions": "XX",
    }  # fmt: skip
    refused = client.post("/missions/clean-air/activities/new", data=activity)
    assert "exceeds the total cost" in _error_beside(refused.text, "public_contribution")
    assert "unknown region code" in _error_beside(refused.text, "regions")
