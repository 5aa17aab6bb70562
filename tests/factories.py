"""Small valid documents and payloads for tests; each test changes what it is about."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

MISSION: dict[str, Any] = {
    "slug": "clean-air",
    "title": "Clean air in every city by 2030",
    "statement": "Halve the population-weighted NO2 concentration by 2030.",
    "level": "national",
    "start": "2024-01-01",
    "deadline": "2030-12-31",
    "regions": ["DE"],
    "sectors": ["transport", "health"],
}


def document(activities: int = 3) -> dict[str, Any]:
    """A complete, valid mission-map document touching every noun."""
    return {
        "format": "missionkit.mission-map",
        "version": 1,
        "regions": [{"code": "DE21", "population": 4_700_000, "gdp_per_head": 61_000.0}],
        "organisations": [
            {
                "identifier": "XI-PIC-999999991",
                "name": "Stadtwerke Beispiel",
                "type": "public",
                "country": "DE",
                "region": "DE212",
            },
            {
                "identifier": "XI-PIC-999999992",
                "name": "Beispiel Bus GmbH",
                "type": "sme",
                "country": "DE",
            },
        ],
        "missions": [
            {
                **MISSION,
                "objectives": [
                    {"slug": "traffic", "title": "Cut traffic emissions", "keywords": ["traffic"]},
                    {
                        "slug": "buses",
                        "title": "Electric buses",
                        "parent": "traffic",
                        "position": 1,
                    },
                    {"slug": "heating", "title": "Clean heating", "position": 2},
                ],
                "indicators": [
                    {
                        "slug": "no2",
                        "name": "NO2 annual mean",
                        "unit": "µg/m³",
                        "direction": "decrease",
                        "baseline_value": 40,
                        "baseline_date": "2023-12-31",
                        "target_value": 20,
                        "target_date": "2030-12-31",
                        "objective": "traffic",
                        "observations": [
                            {"date": "2024-12-31", "value": 37.5},
                            {"date": "2025-12-31", "value": 35.1},
                            {"date": "2025-12-31", "value": 33.0, "region": "DE21"},
                        ],
                    }
                ],
                "reviews": [
                    {
                        "date": "2025-06-01",
                        "title": "Mid-term review",
                        "decision": "continue",
                        "authority": "Mission board",
                        "activity": "A-0",
                        "objective": "buses",
                    }
                ],
                "activities": [activity(i) for i in range(activities)],
            }
        ],
    }


def activity(i: int) -> dict[str, Any]:
    return {
        "identifier": f"A-{i}",
        "title": f"Electric bus pilot {i}",
        "instrument": "procurement" if i % 2 else "grant",
        "stage": "demonstration",
        "total_cost": 1_000_000.5 + i,
        "public_contribution": 500_000.1,
        "currency": "EUR",
        "start": "2024-03-01",
        "end": "2026-02-28",
        "regions": ["DE212"],
        "organisations": [
            {"organisation": "XI-PIC-999999991", "role": "lead", "amount": 250_000.05},
            {"organisation": "XI-PIC-999999992", "role": "participant"},
        ],
        "contributions": [
            {"objective": "buses", "weight": 0.8, "provenance": "suggested", "score": 0.71}
        ],
        "work_items": [
            {"tracker": "github", "key": f"city/buses#{i}", "title": "Procure buses", "effort": 5}
        ],
    }


def write(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def variant(doc: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(doc)


def post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create through the API; anything but 201 fails the test with the response body."""
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
