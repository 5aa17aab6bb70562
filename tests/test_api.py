"""The REST API through HTTP (the ASGI app in process), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import MISSION, post


@pytest.fixture
def mission(client: TestClient) -> dict[str, Any]:
    return post(client, "/api/missions", MISSION)


def test_create_read_update_delete_mission(client: TestClient, mission: dict[str, Any]) -> None:
    assert mission["version"] == 1 and mission["regions"] == ["DE"]
    got = client.get(f"/api/missions/{mission['id']}")
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    changed = client.patch(
        f"/api/missions/{mission['id']}", json={"status": "paused"}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "paused" and changed.json()["version"] == 2
    assert changed.json()["title"] == MISSION["title"]
    assert client.delete(f"/api/missions/{mission['id']}").status_code == 204
    assert client.get(f"/api/missions/{mission['id']}").status_code == 404


def test_stale_update_gets_412_and_changes_nothing(
    client: TestClient, mission: dict[str, Any]
) -> None:
    url = f"/api/missions/{mission['id']}"
    assert (
        client.patch(url, json={"title": "First"}, headers={"If-Match": '"1"'}).status_code == 200
    )
    stale = client.patch(url, json={"title": "Second"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"2"'
    assert client.get(url).json()["title"] == "First"
    assert client.delete(url, headers={"If-Match": '"1"'}).status_code == 412
    assert client.get(url).status_code == 200


def test_invalid_input_is_422_with_the_field_path(client: TestClient) -> None:
    response = client.post("/api/missions", json={**MISSION, "deadline": "2020-01-01"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "deadline"]
    assert "must be after the start" in error["msg"]


def test_partial_update_is_validated_as_a_whole(
    client: TestClient, mission: dict[str, Any]
) -> None:
    response = client.patch(f"/api/missions/{mission['id']}", json={"start": "2031-01-01"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "deadline"]
    assert client.get(f"/api/missions/{mission['id']}").json()["version"] == 1


def test_duplicate_slug_is_409(client: TestClient, mission: dict[str, Any]) -> None:
    response = client.post("/api/missions", json=MISSION)
    assert response.status_code == 409
    assert "slug='clean-air' already exists" in response.json()["detail"]


def test_missing_records_are_404(client: TestClient) -> None:
    assert client.get("/api/missions/999").status_code == 404
    assert client.patch("/api/objectives/999", json={"title": "x"}).status_code == 404
    assert client.get("/api/regions/FR").status_code == 404
    assert client.get("/api/missions/nope/map").status_code == 404


def test_references_must_exist_and_share_the_mission(
    client: TestClient, mission: dict[str, Any]
) -> None:
    other = post(client, "/api/missions", {**MISSION, "slug": "other"})
    objective = post(
        client, "/api/objectives", {"mission_id": other["id"], "slug": "o", "title": "O"}
    )
    response = client.post(
        "/api/objectives",
        json={"mission_id": mission["id"], "slug": "x", "title": "X", "parent_id": objective["id"]},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "parent_id"]
    response = client.post(
        "/api/indicators",
        json={
            "mission_id": 12345,
            "slug": "i",
            "name": "I",
            "unit": "%",
            "direction": "increase",
            "baseline_value": 1,
            "baseline_date": "2024-01-01",
        },
    )
    assert response.status_code == 422
    assert "no mission with id 12345" in response.json()["detail"][0]["msg"]


def test_objective_cannot_become_its_own_ancestor(
    client: TestClient, mission: dict[str, Any]
) -> None:
    a = post(client, "/api/objectives", {"mission_id": mission["id"], "slug": "a", "title": "A"})
    b = post(
        client,
        "/api/objectives",
        {"mission_id": mission["id"], "slug": "b", "title": "B", "parent_id": a["id"]},
    )
    response = client.patch(f"/api/objectives/{a['id']}", json={"parent_id": b["id"]})
    assert response.status_code == 422
    assert "own ancestor" in response.json()["detail"][0]["msg"]


def build_portfolio(client: TestClient, mission: dict[str, Any]) -> dict[str, Any]:
    org = post(
        client,
        "/api/organisations",
        {
            "identifier": "XI-PIC-999999991",
            "name": "Stadtwerke",
            "type": "public",
            "country": "DE",
            "region": "DE212",
        },
    )
    objective = post(
        client,
        "/api/objectives",
        {"mission_id": mission["id"], "slug": "buses", "title": "Electric buses"},
    )
    indicator = post(
        client,
        "/api/indicators",
        {
            "mission_id": mission["id"],
            "objective_id": objective["id"],
            "slug": "no2",
            "name": "NO2",
            "unit": "µg/m³",
            "direction": "decrease",
            "baseline_value": 40,
            "baseline_date": "2023-12-31",
            "target_value": 20,
            "target_date": "2030-12-31",
        },
    )
    for day, value in (("2024-12-31", 38.0), ("2025-12-31", 35.5)):
        post(
            client,
            "/api/observations",
            {"indicator_id": indicator["id"], "date": day, "value": value},
        )
    activities = [
        post(
            client,
            "/api/activities",
            {
                "mission_id": mission["id"],
                "identifier": f"A-{i}",
                "title": f"Bus pilot {i}",
                "instrument": ("grant", "procurement", "loan")[i % 3],
                "stage": "demonstration",
                "total_cost": 1000 * (i + 1),
                "public_contribution": 500 * (i + 1),
                "currency": "EUR",
                "regions": ["DE212"],
                "organisations": [{"organisation_id": org["id"], "role": "lead"}],
            },
        )
        for i in range(5)
    ]
    post(
        client,
        "/api/contributions",
        {"activity_id": activities[0]["id"], "objective_id": objective["id"], "weight": 0.5},
    )
    post(
        client,
        "/api/work-items",
        {"activity_id": activities[0]["id"], "tracker": "jira", "key": "BUS-1", "title": "Tender"},
    )
    post(
        client,
        "/api/reviews",
        {
            "mission_id": mission["id"],
            "date": "2025-06-01",
            "title": "Review",
            "decision": "scale",
            "authority": "Board",
        },
    )
    return {"org": org, "objective": objective, "indicator": indicator, "activities": activities}


def test_every_noun_round_trips_through_the_api(
    client: TestClient, mission: dict[str, Any]
) -> None:
    made = build_portfolio(client, mission)
    activity = client.get(f"/api/activities/{made['activities'][0]['id']}").json()
    assert activity["regions"] == ["DE212"]
    assert activity["organisations"][0]["organisation"] == "XI-PIC-999999991"
    assert activity["public_contribution"] == 500.0
    region = client.get("/api/regions/DE212").json()
    assert region["parent_code"] == "DE21" and region["country"] == "DE"
    for name in (
        "contributions",
        "work-items",
        "reviews",
        "observations",
        "organisations",
        "regions",
        "indicators",
        "objectives",
    ):
        page = client.get(f"/api/{name}").json()
        assert page["total"] >= 1, name


def test_list_pagination_filtering_sorting_search(
    client: TestClient, mission: dict[str, Any]
) -> None:
    build_portfolio(client, mission)
    page = client.get(
        "/api/activities", params={"limit": 2, "offset": 1, "sort": "-total_cost"}
    ).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [a["identifier"] for a in page["items"]] == ["A-3", "A-2"]
    grants = client.get("/api/activities", params={"instrument": "grant"}).json()
    assert sorted(a["identifier"] for a in grants["items"]) == ["A-0", "A-3"]
    found = client.get("/api/activities", params={"q": "PILOT 4"}).json()
    assert [a["identifier"] for a in found["items"]] == ["A-4"]
    bad = client.get("/api/activities", params={"sort": "password"})
    assert bad.status_code == 422 and "cannot sort" in bad.json()["detail"][0]["msg"]
    assert client.get("/api/activities", params={"limit": 0}).status_code == 422


def test_mission_map(client: TestClient, mission: dict[str, Any]) -> None:
    made = build_portfolio(client, mission)
    by_slug = client.get("/api/missions/clean-air/map").json()
    data = client.get(f"/api/missions/{mission['id']}/map").json()
    assert by_slug == data
    (objective,) = data["objectives"]
    assert objective["slug"] == "buses"
    assert [a["identifier"] for a in objective["activities"]] == ["A-0"]
    assert objective["activities"][0]["work_items"][0]["key"] == "BUS-1"
    assert objective["indicators"][0]["latest_observation"]["value"] == 35.5
    assert len(data["unmapped_activities"]) == 4
    assert data["summary"]["activities"] == 5
    assert data["summary"]["public_contribution"] == {"EUR": 7500.0}
    assert data["summary"]["organisations"] == 1
    assert made["indicator"]["id"] == objective["indicators"][0]["id"]


def test_deleting_a_used_organisation_is_409(client: TestClient, mission: dict[str, Any]) -> None:
    made = build_portfolio(client, mission)
    response = client.delete(f"/api/organisations/{made['org']['id']}")
    assert response.status_code == 409
    assert "takes part in activities" in response.json()["detail"]


def test_duplicate_observation_is_409(client: TestClient, mission: dict[str, Any]) -> None:
    made = build_portfolio(client, mission)
    response = client.post(
        "/api/observations",
        json={"indicator_id": made["indicator"]["id"], "date": "2025-12-31", "value": 1},
    )
    assert response.status_code == 409


def test_openapi_and_offline_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/missions/{key}/map" in spec["paths"]
    assert {"get", "post"} <= set(spec["paths"]["/api/activities"])
    page = client.get("/docs").text
    assert "/static/docs/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    asset = client.get("/static/docs/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


def test_index_page_lists_missions_with_json_links(
    client: TestClient, mission: dict[str, Any]
) -> None:
    child = post(
        client,
        "/api/missions",
        {
            **MISSION,
            "slug": "berlin",
            "title": "Clean air Berlin",
            "level": "local",
            "parent_id": mission["id"],
        },
    )
    page = client.get("/")
    assert page.status_code == 200
    assert MISSION["title"] in page.text and "Clean air Berlin" in page.text
    assert f'href="/api/missions/{mission["id"]}/map"' in page.text
    assert f'href="/api/missions/{child["id"]}"' in page.text


def test_patching_an_activity_keeps_its_links(client: TestClient, mission: dict[str, Any]) -> None:
    made = build_portfolio(client, mission)
    url = f"/api/activities/{made['activities'][1]['id']}"
    response = client.patch(url, json={"title": "Renamed pilot"}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Renamed pilot" and body["version"] == 2
    assert body["regions"] == ["DE212"]
    assert [p["organisation"] for p in body["organisations"]] == ["XI-PIC-999999991"]
    response = client.patch(url, json={"regions": ["FR", "DE21"], "organisations": []})
    assert response.status_code == 200, response.text
    assert response.json()["regions"] == ["FR", "DE21"] and response.json()["organisations"] == []
    bad = client.patch(url, json={"public_contribution": 10**6})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "public_contribution"]


def test_patching_a_region_keeps_the_reference_name(client: TestClient) -> None:
    assert client.post("/api/regions", json={"code": "DE21"}).status_code == 201
    response = client.patch("/api/regions/DE21", json={"population": 4_700_000})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Oberbayern" and response.json()["population"] == 4_700_000
    assert client.get("/api/regions/DE2").json()["level"] == "nuts1"


def test_missions_are_found_by_id_or_by_an_all_digit_slug(client: TestClient) -> None:
    mission = post(client, "/api/missions", {**MISSION, "slug": "2030"})
    assert client.get(f"/api/missions/{mission['id']}/map").json()["mission"]["slug"] == "2030"
    assert client.get("/api/missions/2030/map").json()["mission"]["id"] == mission["id"]
