"""The demo document and the connectors it is built from (CORDIS CSV, 360Giving).

Reads the real data sets in ``shared/data`` (set ``MISSIONKIT_DATA`` to point elsewhere);
the tests that need them are skipped with a reason when they are absent. Expected values
were checked by hand against the files:

* ``participants.csv`` row 62, UNIVERSITEIT ANTWERPEN (PIC 999902870), NUTS 3 name
  "Arr. Antwerpen" = NUTS 2021 ``BE211`` (``reference/nuts2021.csv``: ``BE211,Arr. Antwerpen,3``).
* GEOSYSTEMS HELLAS (PIC 943294737), NUTS 3 name "Κεντρικός Τομέας Αθηνών (Kentrikos Tomeas
  Athinon)" = ``EL303`` (``EL303,Kentrikos Tomeas Athinon,3``): the Latin name in parentheses.
* REGILIENCE's coordinator "Institute for European Energy and Climate Policy Stichting,
  Netherlands" is PIC 923763690 (``participants.csv`` row 566).
"""

from __future__ import annotations

import csv
import json
import os
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from missionkit.connectors.cordis import (
    PARTICIPANT_COLUMNS,
    PROJECT_COLUMNS,
    ImportProblem,
    read_participants,
    read_projects,
    repair_mojibake,
    resolve_region_label,
)
from missionkit.connectors.giving360 import read_360giving_csv, read_360giving_json
from missionkit.demo.build import build_demo_document
from missionkit.demo.pilots import run_demo_pilots
from missionkit.domain.access import system_actor
from missionkit.domain.document import DocumentChecker, MissionMapDocument
from missionkit.services import experiments
from missionkit.services.transfer import import_document
from missionkit.store.db import Database

DATA = Path(
    os.environ.get("MISSIONKIT_DATA") or Path(__file__).resolve().parents[2] / "shared/data"
)
ADAPTATION = DATA / "eu-adaptation-mission"
GIVING = DATA / "360giving-samples"
needs_data = pytest.mark.skipif(
    not (ADAPTATION / "projects.csv").exists() or not (GIVING / "baring.json").exists(),
    reason=f"the shared data sets are not at {DATA} (set MISSIONKIT_DATA)",
)
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    if not (ADAPTATION / "projects.csv").exists() or not (GIVING / "baring.json").exists():
        pytest.skip(f"the shared data sets are not at {DATA} (set MISSIONKIT_DATA)")
    return build_demo_document(DATA)


def _mission(document: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(m for m in document["missions"] if m["slug"] == slug)


def _by_acronym(document: dict[str, Any], acronym: str) -> dict[str, Any]:
    activities = _mission(document, "eu-climate-adaptation")["activities"]
    return next(a for a in activities if a["title"].startswith(f"{acronym}:"))


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the demo document ----------------------------------------------------------------------


def test_demo_document_validates_as_a_mission_map(document: dict[str, Any]) -> None:
    text = json.dumps(document)  # JSON-ready: no dates or Decimals left in it
    parsed = MissionMapDocument.model_validate(json.loads(text))
    assert [m.slug for m in parsed.missions] == ["eu-climate-adaptation", "baring-arts-and-society"]


def test_demo_document_has_no_cross_reference_problems(document: dict[str, Any]) -> None:
    checker = DocumentChecker()
    checker.parse_header(document)
    headers = checker.parse_missions(document["missions"])
    assert all(h is not None for h in headers)
    for i, mission in enumerate(document["missions"]):
        for j, activity in enumerate(mission["activities"]):
            assert checker.parse_activity(i, j, activity) is not None
    assert checker.finish() == []


def test_demo_builds_quickly(document: dict[str, Any]) -> None:
    started = time.perf_counter()
    build_demo_document(DATA)
    assert time.perf_counter() - started < 3.0


def test_adaptation_mission_has_all_46_projects(document: dict[str, Any]) -> None:
    activities = _mission(document, "eu-climate-adaptation")["activities"]
    assert len(activities) == 46
    assert len({a["identifier"] for a in activities}) == 46
    assert all(a["identifier"].startswith("cordis:") for a in activities)
    assert all(a["currency"] == "EUR" and a["instrument"] == "grant" for a in activities)


def test_eu_contribution_total_equals_the_csv_to_the_cent(document: dict[str, Any]) -> None:
    rows = _csv_rows(ADAPTATION / "projects.csv")
    expected = sum(
        Decimal(r["EU financial contribution (euro)"]).quantize(CENT, ROUND_HALF_UP) for r in rows
    )
    activities = _mission(document, "eu-climate-adaptation")["activities"]
    total = sum(Decimal(str(a["public_contribution"])) for a in activities)
    assert total == expected == Decimal("460666290.79")


def test_organisation_counts(document: dict[str, Any]) -> None:
    pics = {
        r["Participant Identification Code"][-9:]
        for r in _csv_rows(ADAPTATION / "participants.csv")
    }
    identifiers = [o["identifier"] for o in document["organisations"]]
    assert len(identifiers) == len(set(identifiers))
    assert len(pics) == 872  # 908 rows; 36 PICs appear once for H2020 and once for Horizon Europe
    assert {i.removeprefix("XI-PIC-") for i in identifiers if i.startswith("XI-PIC-")} == pics
    # Coordinators with no legal-name match in participants.csv become new organisations.
    assert sorted(i for i in identifiers if i.startswith("missionkit:org:")) == [
        "missionkit:org:climate-kic-holding-bv",
        "missionkit:org:natural-resources-institute",
        "missionkit:org:univerzitet-u-novom-sadu-poljoprivredni-fakultet-novi-sad",
    ]
    assert len(identifiers) == 872 + 3 + 49  # + Baring recipients and the Foundation


def test_participant_nuts_names_become_nuts_codes(document: dict[str, Any]) -> None:
    orgs = {o["identifier"]: o for o in document["organisations"]}
    antwerp = orgs["XI-PIC-999902870"]
    assert (antwerp["name"], antwerp["country"], antwerp["region"]) == (
        "UNIVERSITEIT ANTWERPEN",
        "BE",
        "BE211",
    )
    assert antwerp["type"] == "academic"
    assert orgs["XI-PIC-943294737"]["region"] == "EL303"  # Greek name, Latin in parentheses
    assert orgs["XI-PIC-943294737"]["country"] == "GR"


def test_coordinator_is_the_lead_organisation(document: dict[str, Any]) -> None:
    regilience = _by_acronym(document, "REGILIENCE")
    assert regilience["organisations"] == [{"organisation": "XI-PIC-923763690", "role": "lead"}]
    # Matched through the mojibake repair and a punctuation-insensitive name key.
    sponge = _by_acronym(document, "SpongeBoost")
    assert sponge["organisations"][0]["organisation"] == "XI-PIC-999994632"


def test_project_fields(document: dict[str, Any]) -> None:
    regilience = _by_acronym(document, "REGILIENCE")
    assert regilience["identifier"] == "cordis:101036560"
    assert regilience["url"] == "https://cordis.europa.eu/project/id/101036560"
    assert (regilience["start"], regilience["end"], regilience["status"]) == (
        "2021-11-01",
        "2025-10-31",
        "completed",
    )
    assert regilience["stage"] == "diffusion"  # CSA
    assert regilience["call"] == "LC-GD-1-3-2020"
    assert "La Réunion (France)" in regilience["summary"]
    assert "not a CORDIS abstract" in regilience["summary"]
    assert "FRY4" in regilience["regions"] and "ES" in regilience["regions"]
    assert _by_acronym(document, "TransformAr")["stage"] == "demonstration"  # IA
    assert _by_acronym(document, "CLIMAAX")["stage"] == "research"  # HORIZON-RIA


def test_every_observation_of_generated_series_says_so(document: dict[str, Any]) -> None:
    mission = _mission(document, "eu-climate-adaptation")
    pathways = next(i for i in mission["indicators"] if i["slug"] == "resilience-pathways")
    assert all(o["provenance"] == "generated for the demo" for o in pathways["observations"])
    assert any(o.get("region") for o in pathways["observations"])
    assert all("generated" in r["title"] for r in mission["reviews"])
    climaax = _by_acronym(document, "CLIMAAX")
    assert [w["key"] for w in climaax["work_items"]] == [
        f"missionkit-demo/adaptation#{n}" for n in (1, 2, 3)
    ]


def test_contributions_follow_the_keyword_rule(document: dict[str, Any]) -> None:
    for mission in document["missions"]:
        for activity in mission["activities"]:
            weights = [c["weight"] for c in activity["contributions"]]
            assert len(weights) <= 2
            if weights:
                assert sum(weights) == pytest.approx(1.0)
            assert all(0 <= c["score"] <= 1 for c in activity["contributions"])
    # REGILIENCE: category "Support to regions" (x2) + Governance + Mainstreaming adaptation
    # = 4 of its 6 tag points fall under prepare-and-plan.
    regilience = _by_acronym(document, "REGILIENCE")
    assert regilience["contributions"][0]["objective"] == "prepare-and-plan"
    assert regilience["contributions"][0]["score"] == pytest.approx(4 / 6, abs=1e-3)


def test_baring_portfolio(document: dict[str, Any]) -> None:
    baring = _mission(document, "baring-arts-and-society")
    assert len(baring["activities"]) == 53
    assert len(baring["indicators"]) == 1
    grant = next(
        a for a in baring["activities"] if a["identifier"] == "360G-baringfoundation-20140044"
    )
    assert grant["start"] == "2015-03-02"  # plannedDates startDate "02/03/2015" is dd/mm/yyyy
    assert {"organisation": "GB-CHC-258583", "role": "funder"} in grant["organisations"]


# --- connectors on their own ----------------------------------------------------------------


def test_repair_mojibake() -> None:
    assert repair_mojibake("La R√©union (France)") == "La Réunion (France)"
    assert repair_mojibake("Tiranë") == "Tiranë"  # correct text is left alone
    assert repair_mojibake("GMBH ‚Äì UFZ") == "GMBH – UFZ"


def test_region_labels_resolve_only_exact_names() -> None:
    assert resolve_region_label("Murcia Region (Spain)") == ["ES"]
    assert resolve_region_label("La Réunion (France)") == ["FRY4"]
    assert resolve_region_label("Malta") == ["MT"]
    assert resolve_region_label("Vecht River Basin (Netherlands/Germany)") == ["NL", "DE"]
    assert resolve_region_label("Torino (Italy)") == ["IT"]  # a city: no NUTS 3 guess
    assert resolve_region_label("Central Greece Region") == []


def _write_csv(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)
    return path


PARTICIPANT = {
    "Legal Name": "EXAMPLE UNIVERSITY",
    "Participant Identification Code": "https://example.org/org-details/999999999",
    "Participant Type": "HES",
    "Funding programme": "HORIZON",
    "Country/Territory": "Belgium",
    "CITY": "Antwerpen",
    "NUTS 1 Name": "VLAAMS GEWEST",
    "NUTS 2 Name": "Prov. Antwerpen",
    "NUTS 3 Name": "Arr. Antwerpen",
}
PROJECT = {
    "ACRONYM": "GOOD",
    "TITLE": "A good project",
    "Project id": "https://cordis.europa.eu/project/id/101000001",
    "Project Start Date": "2023-01-01",
    "Project End Date": "2026-12-31",
    "Total budget (euro)": "1000.00",
    "EU financial contribution (euro)": "900.5",
    "TOPIC_CODE": "HORIZON-MISS-2022-CLIMA-01-01",
    "Type of Action": "HORIZON-RIA",
    "category": "Water management",
    "climate_risks": "Drought",
    "main_themes": "Water management; Governance",
    "regions": "Zeeland (Netherlands)",
    "coordinator": "Example University, Belgium",
    "website": "-",
}


def test_small_files_import(tmp_path: Path) -> None:
    people = read_participants(_write_csv(tmp_path / "p.csv", PARTICIPANT_COLUMNS, [PARTICIPANT]))
    assert people.organisations[0]["region"] == "BE211"
    parts = read_projects(_write_csv(tmp_path / "projects.csv", PROJECT_COLUMNS, [PROJECT]), people)
    (activity,) = parts.activities
    assert activity["organisations"] == [{"organisation": "XI-PIC-999999999", "role": "lead"}]
    assert (activity["public_contribution"], activity["stage"], activity["regions"]) == (
        900.5,
        "research",
        ["NL34"],
    )


def test_a_bad_amount_names_file_row_and_column(tmp_path: Path) -> None:
    people = read_participants(_write_csv(tmp_path / "p.csv", PARTICIPANT_COLUMNS, [PARTICIPANT]))
    broken = {
        **PROJECT,
        "Project id": "https://cordis.europa.eu/project/id/2",
        "Total budget (euro)": "lots",
    }
    path = _write_csv(tmp_path / "projects.csv", PROJECT_COLUMNS, [PROJECT, broken])
    with pytest.raises(ImportProblem) as caught:
        read_projects(path, people)
    problem = caught.value
    assert (problem.file, problem.row, problem.column) == (str(path), 3, "Total budget (euro)")
    assert str(problem).startswith(f"{path}, row 3, column 'Total budget (euro)': not an amount")


def test_a_domain_rule_names_the_column(tmp_path: Path) -> None:
    people = read_participants(_write_csv(tmp_path / "p.csv", PARTICIPANT_COLUMNS, [PARTICIPANT]))
    broken = {**PROJECT, "EU financial contribution (euro)": "2000"}
    path = _write_csv(tmp_path / "projects.csv", PROJECT_COLUMNS, [broken])
    with pytest.raises(ImportProblem, match="exceeds the total cost") as caught:
        read_projects(path, people)
    assert (caught.value.row, caught.value.column) == (2, "EU financial contribution (euro)")


def test_bad_participant_type_and_missing_column(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "p.csv", PARTICIPANT_COLUMNS, [{**PARTICIPANT, "Participant Type": "XYZ"}]
    )
    with pytest.raises(ImportProblem, match="unknown type 'XYZ'") as caught:
        read_participants(path)
    assert (caught.value.row, caught.value.column) == (2, "Participant Type")
    short = _write_csv(tmp_path / "short.csv", PARTICIPANT_COLUMNS[:-1], [])
    with pytest.raises(ImportProblem, match="missing from the header") as caught:
        read_participants(short)
    assert (caught.value.row, caught.value.column) == (1, "NUTS 3 Name")


def test_360giving_json_bad_date_names_grant_and_field(tmp_path: Path) -> None:
    grant = {
        "id": "360G-example-1",
        "title": "A grant",
        "currency": "GBP",
        "amountAwarded": 100,
        "awardDate": "31/02/2015",
        "recipientOrganization": [{"id": "GB-CHC-1", "name": "A charity"}],
        "fundingOrganization": [{"id": "GB-CHC-2", "name": "A funder"}],
    }
    path = tmp_path / "grants.json"
    path.write_text(json.dumps({"grants": [grant]}), encoding="utf-8")
    with pytest.raises(ImportProblem, match="not a date") as caught:
        read_360giving_json(path)
    assert (caught.value.row, caught.value.column) == (1, "awardDate")


@needs_data
def test_360giving_csv_reads_dd_mm_yyyy_dates() -> None:
    parts = read_360giving_csv(GIVING / "IndigoTrust_360giving.csv")
    assert len(parts.activities) == 269
    first = parts.activities[0]
    assert (first["identifier"], first["start"], first["end"]) == (
        "360G-indigotrust:IND1",
        "2001-03-26",  # "26/03/2001 00:00"
        "2002-03-25",  # + "12 months"
    )
    identifiers = {o["identifier"] for o in parts.organisations}
    assert "DUMMY01" not in identifiers  # a placeholder shared by 76 recipients, not an org-id


@needs_data
def test_demo_pilots_run_through_the_registry(
    db: Database, document: dict[str, Any], tmp_path: Path
) -> None:
    """The demo's pilots take the registry's real path; their data are labelled generated."""
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    import_document(db, path)
    assert run_demo_pilots(db, system_actor("cli")) == [
        "outline-coaching",
        "pathway-support-roll-out",
    ]
    with db.reading() as s:
        listed = {e["slug"]: e for e in experiments.list_experiments(s, "eu-climate-adaptation")}
        coaching = experiments.get_experiment(s, listed["outline-coaching"]["id"])
        learning = experiments.mission_learning(s, "eu-climate-adaptation")
    assert listed["pathway-support-roll-out"]["status"] == "registered"
    assert coaching["status"] == "decided" and "generated data" in coaching["title"]
    assert coaching["randomisation"]["counts"] == {
        "feedback-with-coaching": 120,
        "written-feedback-only": 120,
    }
    analysis = coaching["last_analysis"]
    assert analysis["deviations"] == [] and analysis["plan"]["number"] == 1
    [arm] = analysis["report"]["arms"]
    assert arm["n"] == 120 and analysis["report"]["control_n"] == 120
    [entry] = learning
    assert entry["learning"].startswith("Demo, generated data.")
    assert f"{arm['absolute']['estimate'] * 100:+.1f} points" in entry["learning"]
