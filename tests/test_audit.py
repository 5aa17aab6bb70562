"""The audit trail: every change recorded with who, when, what and how; none editable."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from missionkit.domain.access import Actor
from missionkit.domain.problems import InvalidInput
from missionkit.services import audit, records
from missionkit.services.catalogue import INDICATORS, MISSIONS, OBJECTIVES
from missionkit.services.transfer import import_document
from missionkit.store.db import Database
from missionkit.store.tables import AuditEntry
from tests.factories import MISSION, document, write

ANA = Actor(user_id=None, username="ana", interface="web")


def test_create_update_delete_are_recorded_with_before_and_after(db: Database) -> None:
    with db.transaction() as s:
        mission = records.create(s, MISSIONS, MISSION, actor=ANA)
        objective = records.create(
            s, OBJECTIVES, {"mission_id": mission["id"], "slug": "air", "title": "Air"}, actor=ANA
        )
        records.update(s, OBJECTIVES, objective["id"], {"title": "Clean air"}, actor=ANA)
        records.remove(s, OBJECTIVES, objective["id"])
    with db.reading() as s:
        trail = audit.entries(s, mission["id"])
    assert [(e["action"], e["entity"]) for e in trail] == [
        ("delete", "objectives"),
        ("update", "objectives"),
        ("create", "objectives"),
        ("create", "missions"),
    ]
    deleted, updated, created = trail[0], trail[1], trail[2]
    assert updated["before"]["title"] == "Air" and updated["after"]["title"] == "Clean air"
    assert created["before"] is None and created["after"]["slug"] == "air"
    assert deleted["after"] is None and deleted["before"]["title"] == "Clean air"
    assert (updated["username"], updated["interface"]) == ("ana", "web")
    assert (deleted["username"], deleted["interface"]) == ("system", "python")
    assert all(e["mission_id"] == mission["id"] for e in trail)


def test_a_refused_change_leaves_no_entry(db: Database) -> None:
    with db.transaction() as s:
        mission = records.create(s, MISSIONS, MISSION, actor=ANA)
    bad = {
        "mission_id": mission["id"],
        "slug": "x",
        "name": "X",
        "unit": "t",
        "direction": "decrease",
        "baseline_value": 10,
        "baseline_date": "2024-01-01",
        "target_value": 20,
        "target_date": "2030-01-01",
    }
    with pytest.raises(InvalidInput), db.transaction() as s:
        records.create(s, INDICATORS, bad, actor=ANA)
    with db.reading() as s:
        assert [e["entity"] for e in audit.entries(s)] == ["missions"]


def test_the_database_refuses_to_edit_or_delete_entries(db: Database) -> None:
    with db.transaction() as s:
        records.create(s, MISSIONS, MISSION, actor=ANA)
    for statement in (
        update(AuditEntry).values(username="mallory"),
        delete(AuditEntry),
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(statement)
    with db.reading() as s:
        assert s.scalar(select(AuditEntry.username)) == "ana"
        assert s.scalar(text("select count(*) from audit_entries")) == 1


def test_an_import_is_one_entry_per_mission(db: Database, tmp_path: Path) -> None:
    import_document(db, write(document(3), tmp_path / "doc.json"))
    with db.reading() as s:
        (entry,) = audit.entries(s)
    assert (entry["action"], entry["entity"], entry["entity_key"]) == (
        "import",
        "missions",
        "clean-air",
    )
    assert entry["interface"] == "import" and entry["after"]["activities"] == 3


def test_csv_export_cannot_smuggle_formulas_into_a_spreadsheet() -> None:
    items = [
        {c: None for c in audit.COLUMNS}
        | {
            "id": 1,
            "username": '=HYPERLINK("http://x")',
            "entity_key": "-2+3",
            "after": {"title": "@SUM(A1)"},
            "mission_id": -1,
        }
    ]
    rows = list(csv.reader(io.StringIO("".join(audit.csv_lines(items)))))
    header, row = rows
    assert header == list(audit.COLUMNS)
    cells = dict(zip(header, row, strict=True))
    assert cells["username"] == '\'=HYPERLINK("http://x")'
    assert cells["entity_key"] == "'-2+3"
    assert cells["after"] == '{"title": "@SUM(A1)"}'
    assert cells["mission_id"] == "-1", "numbers stay numbers"
    assert cells["before"] == ""
