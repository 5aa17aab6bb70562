"""Import, export and check of whole mission-map documents, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from missionkit.domain.problems import InvalidInput
from missionkit.services.export import export_document
from missionkit.services.transfer import check_document, import_document
from missionkit.store import tables as t
from missionkit.store.db import Database
from tests.factories import activity, document, variant, write


def export_text(db: Database, slugs: list[str] | None = None) -> str:
    buffer = io.StringIO()
    export_document(db, buffer, slugs)
    return buffer.getvalue()


def counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (
                t.Mission,
                t.Objective,
                t.Indicator,
                t.Observation,
                t.Activity,
                t.Participation,
                t.Contribution,
                t.WorkItem,
                t.Review,
                t.Organisation,
                t.Region,
            )
        }


def test_round_trip_is_lossless(db: Database, tmp_path: Path) -> None:
    import_document(db, write(document(), tmp_path / "in.json"))
    first = export_text(db)
    (tmp_path / "out.json").write_text(first, encoding="utf-8")

    other = Database(f"sqlite:///{tmp_path / 'other.sqlite'}")
    from missionkit.store.migrate import upgrade

    upgrade(other.engine)
    import_document(other, tmp_path / "out.json")
    assert export_text(other) == first
    parsed = json.loads(first)
    assert parsed["missions"][0]["activities"][0]["total_cost"] == 1_000_000.5
    assert parsed["missions"][0]["objectives"][1]["parent"] == "traffic"


def test_import_writes_every_noun(db: Database, tmp_path: Path) -> None:
    report = import_document(db, write(document(activities=4), tmp_path / "in.json"))
    assert report.missions == ["clean-air"] and report.activities == 4
    found = counts(db)
    assert found["activities"] == 4 and found["participations"] == 8
    assert found["contributions"] == 4 and found["work_items"] == 4
    assert found["observations"] == 3 and found["reviews"] == 1
    # DE212 brings its ancestors DE21, DE2 and DE from the NUTS reference.
    assert found["regions"] == 4


def test_bad_row_late_in_a_big_import_leaves_the_database_as_it_was(
    db: Database, tmp_path: Path
) -> None:
    import_document(db, write(document(activities=1), tmp_path / "first.json"))
    before = counts(db)
    doc = variant(document(activities=0))
    doc["missions"][0]["slug"] = "second"
    doc["missions"][0]["activities"] = [activity(i) for i in range(10, 20)]
    for a in doc["missions"][0]["activities"]:
        a["work_items"] = []
    doc["missions"][0]["reviews"][0]["activity"] = "A-10"
    doc["missions"][0]["activities"][8]["currency"] = "XYZ"  # after several batches were written
    with pytest.raises(InvalidInput) as caught:
        import_document(db, write(doc, tmp_path / "bad.json"), batch_size=2)
    assert [p.path for p in caught.value.problems] == ["missions[0].activities[8].currency"]
    assert counts(db) == before


def test_every_problem_is_listed_with_its_path(tmp_path: Path) -> None:
    doc = variant(document())
    mission = doc["missions"][0]
    mission["deadline"] = "2020-01-01"
    mission["objectives"][1]["parent"] = "nowhere"
    mission["indicators"][0]["target_value"] = 99
    mission["activities"][1]["contributions"][0]["objective"] = "missing"
    mission["activities"][2]["organisations"][0]["organisation"] = "XI-PIC-000"
    mission["activities"][2]["identifier"] = "A-0"
    mission["activities"][0]["regions"] = ["ZZ99"]
    doc["organisations"][0]["country"] = "Deutschland"
    problems = {p.path: p.message for p in check_document(write(doc, tmp_path / "d.json"))}
    assert set(problems) == {
        "organisations[0].country",
        "missions[0].deadline",
        "missions[0].objectives[1].parent",
        "missions[0].indicators[0].target_value",
        "missions[0].activities[0].regions[0]",
        "missions[0].activities[1].contributions[0].objective",
        "missions[0].activities[2].organisations[0].organisation",
        "missions[0].activities[2].identifier",
    }
    assert (
        "unknown objective 'missing'"
        in problems["missions[0].activities[1].contributions[0].objective"]
    )


def test_check_reports_broken_json_and_wrong_format(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "missionkit.mission-map", "missions": [', encoding="utf-8")
    (problem,) = check_document(broken)
    assert "not valid JSON" in problem.message
    wrong = write({"format": "something-else", "missions": []}, tmp_path / "wrong.json")
    assert [p.path for p in check_document(wrong)] == ["format"]


def test_existing_mission_is_a_conflict_unless_replaced(db: Database, tmp_path: Path) -> None:
    path = write(document(), tmp_path / "in.json")
    import_document(db, path)
    with pytest.raises(InvalidInput) as caught:
        import_document(db, path)
    assert "already exists" in caught.value.problems[0].message
    changed = variant(document())
    changed["missions"][0]["title"] = "Renamed"
    import_document(db, write(changed, tmp_path / "changed.json"), replace=True)
    assert json.loads(export_text(db))["missions"][0]["title"] == "Renamed"
    assert counts(db)["missions"] == 1


def test_replacing_a_parent_keeps_its_children_attached(db: Database, tmp_path: Path) -> None:
    doc = document()
    child: dict[str, Any] = {
        **variant(doc["missions"][0]),
        "slug": "berlin",
        "parent": "clean-air",
        "activities": [],
        "reviews": [],
    }
    doc["missions"].append(child)
    import_document(db, write(doc, tmp_path / "both.json"))
    import_document(db, write(document(), tmp_path / "parent.json"), replace=True)
    exported = json.loads(export_text(db))
    assert [(m["slug"], m["parent"]) for m in exported["missions"]] == [
        ("berlin", "clean-air"),
        ("clean-air", None),
    ]


def test_export_of_one_mission_carries_only_what_it_uses(db: Database, tmp_path: Path) -> None:
    doc = document()
    other = variant(doc["missions"][0])
    other.update(slug="other", regions=["FR"], activities=[], reviews=[])
    other["indicators"][0]["observations"] = []
    doc["missions"].append(other)
    import_document(db, write(doc, tmp_path / "two.json"))
    one = json.loads(export_text(db, ["other"]))
    assert [m["slug"] for m in one["missions"]] == ["other"]
    assert [r["code"] for r in one["regions"]] == ["FR"]
    assert one["organisations"] == []
    with pytest.raises(InvalidInput):
        export_text(db, ["nope"])
