"""Mission status: indicators assessed from stored data, rolled up, through API and CLI."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from missionkit.cli.main import app as cli
from missionkit.store.db import Database
from tests.factories import MISSION, post


@pytest.fixture
def mission(client: TestClient) -> dict[str, Any]:
    """Two indicators with hand-made series: one growing 10 %/yr, one going the wrong way."""
    mission = post(client, "/api/missions", MISSION)
    objective = post(
        client,
        "/api/objectives",
        {"mission_id": mission["id"], "slug": "green", "title": "Greener cities"},
    )
    growing = post(
        client,
        "/api/indicators",
        {
            "mission_id": mission["id"],
            "objective_id": objective["id"],
            "slug": "trees",
            "name": "Street trees",
            "unit": "thousand",
            "direction": "increase",
            "baseline_value": 100,
            "baseline_date": "2020-01-01",
            "target_value": 200,
            "target_date": "2030-01-01",
            "update_frequency_months": 12,
        },
    )
    for day, value in (("2021-01-01", 110), ("2022-01-01", 121)):
        post(
            client,
            "/api/observations",
            {"indicator_id": growing["id"], "date": day, "value": value},
        )
    post(
        client,
        "/api/observations",
        {"indicator_id": growing["id"], "date": "2022-01-01", "value": 90, "region": "DE21"},
    )
    worse = post(
        client,
        "/api/indicators",
        {
            "mission_id": mission["id"],
            "slug": "no2",
            "name": "NO2",
            "unit": "µg/m³",
            "direction": "decrease",
            "baseline_value": 50,
            "baseline_date": "2020-01-01",
            "target_value": 25,
            "target_date": "2030-01-01",
            "method": "sdsn",
        },
    )
    post(
        client,
        "/api/observations",
        {"indicator_id": worse["id"], "date": "2022-01-01", "value": 55},
    )
    return mission


def test_status_assesses_each_indicator_by_its_method(
    client: TestClient, mission: dict[str, Any]
) -> None:
    data = client.get("/api/missions/clean-air/status", params={"as_of": "2024-06-01"}).json()
    (objective,) = data["objectives"]
    (trees,) = objective["indicators"]
    a = trees["assessment"]
    # Base 100 (2020) -> 121 (2022): observed CAGR 10 %; required (200/100)^(1/10) - 1.
    assert a["method"] == "statcan" and a["status"] == "on_track"
    assert a["cagr_observed"] == pytest.approx(0.10, abs=1e-9)
    assert a["cagr_required"] == pytest.approx(2**0.1 - 1, abs=1e-9)
    assert a["base_value"] == 100 and a["latest_value"] == 121
    # The regional series is assessed apart, from its own data only.
    assert set(trees["regions"]) == {"DE21"}
    assert trees["regions"]["DE21"]["status"] == "insufficient_data"
    # Due 12 months after 2022-01-01; 2024-06-01 is 517 days later.
    assert trees["staleness"]["overdue"] is True and trees["staleness"]["days_overdue"] == 517
    (no2,) = data["indicators"]
    assert (
        no2["assessment"]["method"] == "sdsn" and no2["assessment"]["status"] == "wrong_direction"
    )
    assert data["overdue"] == ["trees"]


def test_roll_up_names_the_driver(client: TestClient, mission: dict[str, Any]) -> None:
    data = client.get(f"/api/missions/{mission['id']}/status").json()
    overall = data["progress"]
    assert overall["drivers"] == ["no2"]
    scores = [i["score"] for i in overall["items"]]
    assert overall["score"] == pytest.approx(sum(scores) / 2)
    assert data["objectives"][0]["progress"]["status"] == "on_track"


def test_status_of_unknown_mission_is_404(client: TestClient) -> None:
    assert client.get("/api/missions/nope/status").status_code == 404


def test_status_command(db: Database, client: TestClient, mission: dict[str, Any]) -> None:
    result = CliRunner().invoke(
        cli, ["status", "clean-air", "-d", db.url, "--as-of", "2024-06-01"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.stderr
    assert "driven by no2" in result.stdout
    assert "indicator trees: on track" in result.stdout and "[overdue]" in result.stdout
    assert "Overdue data: trees" in result.stdout
    bad = CliRunner().invoke(cli, ["status", "nope", "-d", db.url])
    assert bad.exit_code == 1 and "no mission 'nope'" in bad.stderr
