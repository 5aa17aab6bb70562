"""The portfolio analyses of a stored mission, through the API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from missionkit.api.app import create_app
from missionkit.cli.main import app as cli
from missionkit.services.transfer import import_document
from missionkit.store.db import Database
from tests.conftest import bearer
from tests.factories import document, variant, write


@pytest.fixture
def stored(db: Database, tmp_path: Path) -> Database:
    doc = variant(document(activities=4))
    # One activity in another currency: left out, and the report says so.
    doc["missions"][0]["activities"][3]["currency"] = "GBP"
    import_document(db, write(doc, tmp_path / "d.json"))
    return db


def test_api_portfolio_analysis(stored: Database) -> None:
    with TestClient(
        create_app(stored), headers=bearer(stored, "root", ["read"], is_admin=True)
    ) as client:
        data = client.get("/api/missions/clean-air/portfolio").json()
        assert client.get("/api/missions/nope/portfolio").status_code == 404
    assert data["currency"] == "EUR"
    assert data["notes"] == [
        "1 activities in other currencies than EUR are left out (no exchange rates are applied)."
    ]
    # Three EUR activities of 500,000.10 each; each gives 0.8 of its budget to 'buses'.
    assert data["coverage"]["total_budget"] == pytest.approx(3 * 500_000.10)
    buses = next(o for o in data["coverage"]["objectives"] if o["objective"] == "buses")
    assert buses["activities"] == 3 and buses["budget"] == pytest.approx(0.8 * 3 * 500_000.10)
    uncovered = data["coverage"]["uncovered_objectives"]
    assert "heating" in uncovered
    assert any("'Clean heating'" in f for f in data["headline_findings"])


def test_cli_portfolio_report(stored: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["portfolio", "report", "clean-air", "-d", stored.url])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Portfolio report: Clean air in every city by 2030")
    assert "## Headline findings" in result.stdout and "| Electric buses |" in result.stdout
    target = tmp_path / "report.json"
    result = runner.invoke(
        cli,
        [
            "portfolio",
            "report",
            "clean-air",
            "-d",
            stored.url,
            "--format",
            "json",
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(target.read_text())["mission"]["slug"] == "clean-air"
    bad = runner.invoke(cli, ["portfolio", "report", "clean-air", "-d", stored.url, "-f", "pdf"])
    assert bad.exit_code == 2 and "must be one of md, html, xlsx, json" in bad.stderr


def test_html_and_xlsx_reports_carry_the_same_findings(stored: Database, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    runner = CliRunner()
    page = runner.invoke(cli, ["portfolio", "report", "clean-air", "-d", stored.url, "-f", "html"])
    assert page.exit_code == 0, page.stderr
    assert page.stdout.startswith("<!doctype html>") and "http" not in page.stdout
    assert '<th scope="col">objective</th>' in page.stdout
    target = tmp_path / "report.xlsx"
    made = runner.invoke(
        cli, ["portfolio", "report", "clean-air", "-d", stored.url, "-f", "xlsx", "-o", str(target)]
    )
    assert made.exit_code == 0, made.stderr
    book = load_workbook(target)
    assert book.sheetnames[0] == "Headline findings"
    cells = [c.value for row in book["Headline findings"].iter_rows() for c in row]
    assert any(isinstance(v, str) and "'Clean heating'" in v for v in cells)
    needs_file = runner.invoke(
        cli, ["portfolio", "report", "clean-air", "-d", stored.url, "-f", "xlsx"]
    )
    assert needs_file.exit_code == 2 and "give a file" in needs_file.stderr


def test_spreadsheet_cells_never_become_formulas() -> None:
    """The XLSX report writes every text cell through the shared rule (tested in
    tests/test_spreadsheet.py)."""
    from missionkit.services import portfolio_report, spreadsheet

    assert portfolio_report.safe_cell is spreadsheet.safe_cell


def test_api_single_analysis_matches_the_full_report(stored: Database) -> None:
    admin = bearer(stored, "root", ["read"], is_admin=True)
    with TestClient(create_app(stored), headers=admin) as client:
        full = client.get("/api/missions/clean-air/portfolio").json()
        for name in ("coverage", "coherence", "stage_balance", "drift", "spatial_equity"):
            one = client.get(f"/api/missions/clean-air/portfolio/{name}").json()
            assert one[name] == full[name], name
            assert one["notes"] == full["notes"]
        ranked = client.get("/api/missions/clean-air/portfolio/findings").json()["findings"]
        assert [f["text"] for f in ranked][:10] == full["headline_findings"]
        assert client.get("/api/missions/clean-air/portfolio/astrology").status_code == 422
        assert client.get("/api/missions/nope/portfolio/coverage").status_code == 404
        nuts = client.get("/api/missions/clean-air/portfolio/spatial_equity?level=nuts2")
        assert nuts.status_code == 200 and nuts.json()["spatial_equity"]["level"] == "nuts2"
