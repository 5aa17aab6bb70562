"""Experiments travel with their mission: export → import keeps the locked plans (and
checks their hashes), the assignment and the decision log, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from missionkit.domain.problems import InvalidInput
from missionkit.services import experiment_analysis as analysis
from missionkit.services import experiments as registry
from missionkit.services.export import export_document
from missionkit.services.transfer import check_document, import_document
from missionkit.store import tables as t
from missionkit.store.db import Database
from missionkit.store.migrate import upgrade
from tests.factories import document, variant, write

EXPERIMENT: dict[str, Any] = {
    "slug": "assessment-criteria",
    "title": "Do impact-first criteria change what is shortlisted?",
    "question": "Does scoring impact first raise the share of mission-relevant proposals?",
    "hypothesis": "By 5 points.",
    "stage": "process",
    "design": "ab",
    "unit": "proposal",
    "objective": "traffic",
    "activity": "A-1",
    "plan": {
        "arms": [{"name": "current"}, {"name": "impact-first"}],
        "primary_metric": {"name": "shortlisted", "kind": "proportion"},
        "planned_sample": 40,
    },
}


def _export(db: Database) -> str:
    buffer = io.StringIO()
    export_document(db, buffer)
    return buffer.getvalue()


def _run_an_experiment(db: Database) -> int:
    """Register, lock twice (two versions), randomise, analyse and decide."""
    with db.transaction() as s:
        eid = int(registry.create_experiment(s, "clean-air", EXPERIMENT)["id"])
        when = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
        registry.lock_plan(s, eid, {"locked_by": "Ana"}, now=when)
        plan = {**EXPERIMENT["plan"], "planned_sample": 60}
        registry.update_experiment(s, eid, {"plan": plan})
        registry.lock_plan(s, eid, {"locked_by": "Ana", "note": "more units"}, now=when)
        units = [{"unit": f"P-{i:03}"} for i in range(60)]
        registry.randomise_units(s, eid, {"seed": 7, "units": units})
        summary = {
            "arms": {
                "current": {"n": 30, "successes": 9},
                "impact-first": {"n": 30, "successes": 15},
            }
        }
        analysis.analyse_experiment(s, eid, summary)
        registry.record_decision(
            s,
            eid,
            {
                "decision": "iterate",
                "decided_by": "Board",
                "decided_on": "2026-06-01",
                "learning": "Promising; rerun with more calls.",
            },
        )
    return eid


def _history(db: Database, eid: int) -> dict[str, Any]:
    with db.reading() as s:
        found = registry.get_experiment(s, eid)
        rows = s.execute(
            select(t.ExperimentAssignment.unit, t.ExperimentAssignment.arm)
            .where(t.ExperimentAssignment.experiment_id == eid)
            .order_by(t.ExperimentAssignment.unit)
        ).all()
    for d in found["decisions"]:
        del d["id"]
    for p in found["plan_versions"]:  # SQLite keeps no zone; the instant is the same
        p["locked_at"] = dt.datetime.fromisoformat(p["locked_at"]).replace(tzinfo=None)
    return {
        **{k: v for k, v in found.items() if k not in ("id", "version")},
        "assignment": [tuple(r) for r in rows],
    }


def test_experiments_round_trip_with_their_whole_history(db: Database, tmp_path: Path) -> None:
    import_document(db, write(document(), tmp_path / "in.json"))
    eid = _run_an_experiment(db)
    first = _export(db)
    exported = json.loads(first)["missions"][0]["experiments"]
    assert [e["slug"] for e in exported] == ["assessment-criteria"]
    assert [p["number"] for p in exported[0]["plan_versions"]] == [1, 2]
    assert len(exported[0]["assignments"]) == 60
    assert exported[0]["decisions"][0]["decision"] == "iterate"
    assert exported[0]["objective"] == "traffic" and exported[0]["activity"] == "A-1"

    other = Database(f"sqlite:///{tmp_path / 'other.sqlite'}")
    upgrade(other.engine)
    report = import_document(other, write(json.loads(first), tmp_path / "out.json"))
    assert report.experiments == 1
    assert _export(other) == first
    with other.reading() as s:
        new_id = s.scalar(select(t.Experiment.id))
    assert new_id is not None
    assert _history(other, new_id) == _history(db, eid)
    with other.reading() as s:
        learning = registry.mission_learning(s, "clean-air")
    assert [entry["learning"] for entry in learning] == ["Promising; rerun with more calls."]


def _with_experiment(tmp_path: Path, change: dict[str, Any]) -> Path:
    doc = variant(document())
    experiment: dict[str, Any] = {**EXPERIMENT, **change}
    doc["missions"][0]["experiments"] = [experiment]
    return write(doc, tmp_path / "doc.json")


def _locked(content: dict[str, Any], number: int = 1) -> dict[str, Any]:
    from missionkit.experiments.plan import ExperimentPlan, content_hash

    full = ExperimentPlan.model_validate(content).model_dump(mode="json")
    return {
        "number": number,
        "content": full,
        "content_hash": content_hash(full),
        "locked_at": "2026-03-01T09:30:00Z",
        "locked_by": "Ana",
    }


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"objective": "nowhere"}, "missions[0].experiments[0].objective", "unknown objective"),
        ({"activity": "A-404"}, "missions[0].experiments[0].activity", "unknown activity"),
        ({"status": "registered"}, "missions[0].experiments[0]", "needs at least one locked plan"),
        ({"stage": "someday"}, "missions[0].experiments[0].stage", "Input should be"),
    ],
)
def test_bad_experiments_are_named_by_path(
    tmp_path: Path, change: dict[str, Any], path: str, words: str
) -> None:
    problems = check_document(_with_experiment(tmp_path, change))
    assert any(p.path == path and words in p.message for p in problems), problems


def test_a_plan_changed_after_locking_is_refused_and_nothing_is_written(
    db: Database, tmp_path: Path
) -> None:
    version = _locked(EXPERIMENT["plan"])
    version["content"]["planned_sample"] = 400  # edited after the hash was taken
    path = _with_experiment(tmp_path, {"status": "registered", "plan_versions": [version]})
    with pytest.raises(InvalidInput) as caught:
        import_document(db, path)
    [problem] = caught.value.problems
    assert problem.path == "missions[0].experiments[0].plan_versions[0]"
    assert "changed after locking" in problem.message
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(t.Mission)) == 0


def test_assignment_must_follow_a_locked_plan_and_assign_each_unit_once(tmp_path: Path) -> None:
    locked = {"status": "randomised", "plan_versions": [_locked(EXPERIMENT["plan"])]}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"seed": 1, "randomised_plan": 1, "assignments": [{"unit": "u", "arm": "x"}]}, "arm 'x'"),
        (
            {
                "seed": 1,
                "randomised_plan": 1,
                "assignments": [{"unit": "u", "arm": "current"}, {"unit": "u", "arm": "current"}],
            },
            "assigned twice",
        ),
        ({"assignments": [{"unit": "u", "arm": "current"}]}, "needs its seed"),
        (
            {"seed": 1, "randomised_plan": 2, "assignments": [{"unit": "u", "arm": "current"}]},
            "not a locked",
        ),
    ]
    for change, words in cases:
        problems = check_document(_with_experiment(tmp_path, {**locked, **change}))
        assert [p.path for p in problems] == ["missions[0].experiments[0]"], (change, problems)
        assert words in problems[0].message


def test_two_experiments_with_one_slug_are_refused(tmp_path: Path) -> None:
    doc = variant(document())
    doc["missions"][0]["experiments"] = [EXPERIMENT, EXPERIMENT]
    problems = check_document(write(doc, tmp_path / "doc.json"))
    assert [(p.path, p.message.split(" (")[0]) for p in problems] == [
        ("missions[0].experiments[1].slug", "experiment 'assessment-criteria' appears twice")
    ]
