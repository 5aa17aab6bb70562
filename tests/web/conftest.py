"""A mission built from the factories' document, for the page and service tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from missionkit.services.transfer import import_document
from missionkit.store.db import Database
from tests.factories import document, write


@pytest.fixture
def demo(db: Database, client: TestClient, tmp_path: Path) -> dict[str, Any]:
    """clean-air: objectives traffic > buses and heating, indicator no2, 3 activities.

    Plus one activity of EUR 100 split over two countries (FR, DE21), with a formula-like
    title and two sectors, so spreads, filters and exports have something to tell apart.
    """
    import_document(db, write(document(3), tmp_path / "doc.json"))
    body = client.get("/api/missions/clean-air/map").json()
    mission_id = body["mission"]["id"]
    extra = client.post(
        "/api/activities",
        json={
            "mission_id": mission_id,
            "identifier": "X-1",
            "title": '=HYPERLINK("http://evil")',
            "instrument": "loan",
            "stage": "research",
            "public_contribution": 100,
            "total_cost": 100,
            "currency": "EUR",
            "regions": ["FR", "DE21"],
            "sectors": ["energy", "héat pumps"],
        },
    )
    assert extra.status_code == 201, extra.text
    objectives = {}

    def walk(nodes: list[dict[str, Any]]) -> None:
        for o in nodes:
            objectives[o["slug"]] = o["id"]
            walk(o["children"])

    walk(body["objectives"])
    indicator = client.get("/api/indicators", params={"mission_id": mission_id}).json()
    return {
        "mission_id": mission_id,
        "objectives": objectives,
        "indicator_id": indicator["items"][0]["id"],
        "extra_id": extra.json()["id"],
    }
