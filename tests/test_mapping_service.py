"""Suggesting and reviewing contributions on a stored mission; the map CLI and API."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from missionkit.api.app import create_app
from missionkit.cli.main import app as cli
from missionkit.services import mapping
from missionkit.services.errors import InvalidInput, NotFound
from missionkit.services.transfer import import_document
from missionkit.store import tables as t
from missionkit.store.db import Database
from tests.conftest import bearer
from tests.factories import document, variant, write

TEXTS = {
    "A-0": ("Electric bus fleet", "Forty battery electric buses replace diesel buses."),
    "A-1": ("Heat pumps for social housing", "Heat pump retrofit of 300 flats."),
    "A-2": ("Bus depot charging", "Charging points for the electric bus depot."),
    "A-3": ("District heating", "A heat pump feeds the district heating network."),
}


def mapping_document() -> dict[str, Any]:
    """clean-air with objectives buses and heating, four activities whose texts the mapper
    links clearly, and one manual link that suggestions must leave alone."""
    doc = variant(document(activities=4))
    mission = doc["missions"][0]
    mission["objectives"] = [
        {"slug": "buses", "title": "Electric buses", "keywords": ["bus", "buses"]},
        {
            "slug": "heating",
            "title": "Clean heating",
            "description": "Heat pumps and district heating instead of gas boilers",
            "keywords": ["heat pump*", "heating"],
        },
    ]
    mission["indicators"][0]["objective"] = "buses"
    mission["reviews"][0]["objective"] = "buses"
    for a in mission["activities"]:
        a["title"], a["summary"] = TEXTS[a["identifier"]]
        a["contributions"] = []
    mission["activities"][2]["contributions"] = [{"objective": "buses", "provenance": "manual"}]
    return doc


@pytest.fixture
def stored(db: Database, tmp_path: Path) -> Database:
    doc = mapping_document()
    import_document(db, write(doc, tmp_path / "d.json"))
    return db


def _contributions(db: Database) -> dict[tuple[str, str], Any]:
    with db.reading() as s:
        rows = s.execute(
            select(t.Activity.identifier, t.Objective.slug, t.Contribution)
            .join(t.Contribution, t.Contribution.activity_id == t.Activity.id)
            .join(t.Objective, t.Objective.id == t.Contribution.objective_id)
        ).all()
        return {(a, o): (c.provenance, c.score, c.id) for a, o, c in rows}


def test_suggestions_are_written_as_suggested_contributions(stored: Database) -> None:
    with stored.transaction() as s:
        report = mapping.suggest_contributions(s, "clean-air")
    found = _contributions(stored)
    assert report.activities == 4 and report.suggested >= 3
    assert found[("A-0", "buses")][0] == "suggested"
    assert found[("A-1", "heating")][0] == "suggested"
    assert found[("A-3", "heating")][0] == "suggested"
    assert found[("A-2", "buses")] == ("manual", None, found[("A-2", "buses")][2])
    for provenance, score, _ in found.values():
        assert provenance == "manual" or 0.0 <= score <= 1.0
    # Running again replaces the unreviewed suggestions instead of piling them up.
    with stored.transaction() as s:
        again = mapping.suggest_contributions(s, "clean-air")
    assert again.replaced == report.suggested
    assert _contributions(stored).keys() == found.keys()


def test_rejected_pairs_are_never_suggested_again_and_accepted_ones_stay(
    stored: Database,
) -> None:
    with stored.transaction() as s:
        mapping.suggest_contributions(s, "clean-air")
    found = _contributions(stored)
    rejected_id = found[("A-1", "heating")][2]
    accepted_id = found[("A-0", "buses")][2]
    with stored.transaction() as s:
        mapping.reject_suggestion(s, rejected_id, reviewed_by="ana", note="only insulation")
        accepted = mapping.accept_suggestion(s, accepted_id, reviewed_by="ana")
    assert accepted["provenance"] == "reviewed" and accepted["reviewed_by"] == "ana"
    with stored.transaction() as s:
        report = mapping.suggest_contributions(s, "clean-air")
        kept = s.scalar(select(t.MappingRejection.note))
    after = _contributions(stored)
    assert ("A-1", "heating") not in after
    assert kept == "only insulation"
    assert after[("A-0", "buses")][0] == "reviewed"
    assert report.learned_from >= 1  # the decisions fed the reviewer model
    with stored.transaction() as s, pytest.raises(InvalidInput, match="not a suggestion"):
        mapping.accept_suggestion(s, accepted_id)
    with stored.transaction() as s, pytest.raises(NotFound):
        mapping.reject_suggestion(s, 999_999)


def test_reviewed_activities_become_examples(stored: Database) -> None:
    with stored.reading() as s:
        taxonomy = mapping.mission_taxonomy(s, "clean-air")
    assert taxonomy.label("buses").examples == ("Bus depot charging. " + TEXTS["A-2"][1],)
    with stored.reading() as s, pytest.raises(InvalidInput, match="not 'sdg'"):
        mapping.resolve_taxonomy(s, "no-such-file.csv")


def test_api_map_text_and_review_queue(stored: Database) -> None:
    admin = bearer(stored, "root", ["admin"], is_admin=True)
    with TestClient(create_app(stored), headers=admin) as client:
        r = client.post("/api/map", json={"text": "Solar panels and wind turbines for a village"})
        assert r.status_code == 200, r.text
        assert r.json()["labels"][0] == "7"
        assert "solar" in r.json()["explanations"]["7"]["terms"]
        r = client.post("/api/map", json={"text": "x", "taxonomy": "/etc/passwd"})
        assert r.status_code == 422
        r = client.post(
            "/api/map", json={"text": "Electric buses", "taxonomy": "mission:clean-air"}
        )
        assert r.json()["labels"] == ["buses"]
        assert client.post("/api/missions/clean-air/suggestions").status_code == 200
        queue = client.get("/api/missions/clean-air/suggestions").json()
        assert queue and queue == sorted(queue, key=lambda q: -q["score"])
        first, second = queue[0]["id"], queue[1]["id"]
        r = client.post(
            f"/api/missions/clean-air/suggestions/{first}/accept", json={"reviewed_by": "bo"}
        )
        assert r.status_code == 200 and r.json()["provenance"] == "reviewed"
        r = client.post(f"/api/missions/clean-air/suggestions/{second}/reject")
        assert r.status_code == 200 and r.json()["rejected"] == second
        left = client.get("/api/missions/clean-air/suggestions").json()
        assert {q["id"] for q in left} == {q["id"] for q in queue} - {first, second}
        assert client.get("/api/missions/nope/suggestions").status_code == 404
        assert client.post(f"/api/missions/clean-air/suggestions/{first}/reject").status_code == 422


def _said(output: str) -> str:
    """CLI output without the error box's borders and line wrapping."""
    return " ".join(output.replace("│", " ").split())


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_cli_map_writes_ids_labels_scores_and_resumes(tmp_path: Path) -> None:
    texts = [
        "Clean drinking water and latrines for rural schools",
        "Solar home systems for off-grid households",
        "Community health workers fight malaria",
    ] * 5
    source = _csv(tmp_path / "in.csv", [{"key": str(i), "body": x} for i, x in enumerate(texts)])
    out = tmp_path / "out.csv"
    runner = CliRunner()
    args = ["map", str(source), "--id-column", "key", "--text-column", "body", "-o", str(out)]
    result = runner.invoke(cli, [*args, "--batch-size", "4", "--explain"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == [str(i) for i in range(15)]
    assert [r["labels"].split(";")[0] for r in rows[:3]] == ["6", "7", "3"]
    assert all(len(r["labels"].split(";")) == len(r["scores"].split(";")) for r in rows)
    assert "matched" in rows[1]["explanation"]
    full = out.read_text(encoding="utf-8")
    # Interrupted after 7 rows and half a line: --resume finishes the same file.
    lines = full.splitlines(keepends=True)
    out.write_text("".join(lines[:8]) + lines[8][:5], encoding="utf-8")
    result = runner.invoke(cli, [*args, "--batch-size", "4", "--explain", "--resume"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == full
    bad = runner.invoke(cli, [*args[:-4], "--text-column", "nope", "-o", str(out)])
    assert bad.exit_code == 2 and "no column 'nope'" in _said(bad.output)
    assert out.read_text(encoding="utf-8") == full  # nothing was overwritten


def test_cli_map_with_a_taxonomy_file(tmp_path: Path) -> None:
    taxonomy = tmp_path / "tax.json"
    taxonomy.write_text(
        json.dumps(
            [
                {"id": "rail", "label": "Rail", "query": "rail* OR train*"},
                {"id": "road", "label": "Road safety", "keywords": ["road safety", "speed"]},
            ]
        ),
        encoding="utf-8",
    )
    source = _csv(tmp_path / "in.csv", [{"id": "1", "text": "New railway line and trains"}])
    result = CliRunner().invoke(cli, ["map", str(source), "--taxonomy", str(taxonomy)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("1,rail,")
    broken = tmp_path / "broken.csv"
    broken.write_text("id,label,query\nrail,Rail,(rail\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["map", str(source), "--taxonomy", str(broken)])
    assert result.exit_code == 2 and "row 2, field 'query'" in _said(result.output)


def test_cli_map_portfolio(stored: Database) -> None:
    result = CliRunner().invoke(cli, ["map-portfolio", "clean-air", "-d", stored.url])
    assert result.exit_code == 0, result.output
    assert "suggested contributions for 4 activities" in result.stdout
    assert _contributions(stored)[("A-3", "heating")][0] == "suggested"
    every = CliRunner().invoke(
        cli, ["map-portfolio", "clean-air", "--at-least-one", "-d", stored.url]
    )
    assert every.exit_code == 0, every.output
    suggested = {(a, o) for (a, o), (p, _, _) in _contributions(stored).items() if p == "suggested"}
    assert {a for a, _ in suggested} == {"A-0", "A-1", "A-2", "A-3"}
    assert ("A-2", "heating") in suggested  # its best, "buses", is already a manual link
    missing = CliRunner().invoke(cli, ["map-portfolio", "nope", "-d", stored.url])
    assert missing.exit_code == 1


def test_every_map_option_is_documented() -> None:
    # Docs drift fails the build: each option of the two commands is in docs/mapping.md.
    import typer.main

    docs = (Path(__file__).parents[1] / "docs" / "mapping.md").read_text(encoding="utf-8")
    commands = typer.main.get_command(cli).commands  # type: ignore[attr-defined]
    for name in ("map", "map-portfolio"):
        command = commands[name]
        assert f"missionkit {name}" in docs
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag.startswith("--"):
                    assert flag in docs, (name, flag)


def test_cli_map_against_a_stored_missions_objectives(stored: Database, tmp_path: Path) -> None:
    source = _csv(
        tmp_path / "in.csv",
        [{"id": "p1", "text": "Battery electric buses"}, {"id": "p2", "text": "Heat pumps"}],
    )
    args = ["map", str(source), "--taxonomy", "mission:clean-air", "-d", stored.url]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert [(r["id"], r["labels"].split(";")[0]) for r in rows] == [
        ("p1", "buses"),
        ("p2", "heating"),
    ]
    missing = CliRunner().invoke(cli, [*args[:3], "mission:nope", "-d", stored.url])
    assert missing.exit_code == 2 and "no mission 'nope'" in _said(missing.output)


def test_cli_resume_refuses_an_output_of_another_input(tmp_path: Path) -> None:
    source = _csv(tmp_path / "in.csv", [{"id": str(i), "text": "school"} for i in range(3)])
    out = tmp_path / "out.csv"
    out.write_text("id,labels,scores\nzz,4,0.900\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["map", str(source), "-o", str(out), "--resume"])
    assert result.exit_code == 2 and "belongs to another input" in _said(result.output)
    out.write_text("something else\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["map", str(source), "-o", str(out), "--resume"])
    assert result.exit_code == 2 and "not an output of 'missionkit map'" in _said(result.output)
