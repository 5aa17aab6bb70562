"""The experiment registry through the HTTP API (in process), on SQLite and PostgreSQL:
register, lock (content hash), randomise (reproducible, CSV), analyse against the plan,
decide, and the learning log. Statistics are checked against references elsewhere
(tests/test_experiments_*.py); here the numbers are compared with the engine's."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from missionkit.experiments import ab, randomise
from missionkit.experiments.plan import ExperimentPlan, canonical_json, content_hash
from tests.factories import MISSION, post

PLAN: dict[str, Any] = {
    "arms": [{"name": "current-criteria"}, {"name": "new-criteria"}],
    "primary_metric": {"name": "proposals shortlisted", "kind": "proportion"},
    "minimum_detectable_effect": 0.05,
    "planned_sample": 400,
    "randomisation": "stratified",
    "analysis": "Difference in proportions, two-sided, alpha 0.05.",
}
EXPERIMENT: dict[str, Any] = {
    "slug": "assessment-criteria",
    "title": "Do impact-first assessment criteria change what gets shortlisted?",
    "question": "Does scoring mission impact first raise the share of mission-relevant proposals?",
    "hypothesis": "Impact-first scoring raises the share by 5 points.",
    "stage": "process",
    "design": "ab",
    "unit": "proposal",
    "plan": PLAN,
}
SUMMARY = {
    "arms": {
        "current-criteria": {"n": 200, "successes": 48},
        "new-criteria": {"n": 200, "successes": 71},
    }
}


@pytest.fixture
def experiment(client: TestClient) -> dict[str, Any]:
    post(client, "/api/missions", MISSION)
    return post(client, "/api/missions/clean-air/experiments", EXPERIMENT)


def _lock(client: TestClient, eid: int, who: str = "Ana") -> Any:
    response = client.post(f"/api/experiments/{eid}/lock", json={"locked_by": who})
    assert response.status_code in (200, 201), response.text
    return response


def _units(n: int = 400) -> list[dict[str, str]]:
    return [{"unit": f"P-{i:04d}", "stratum": ["small", "large"][i % 2]} for i in range(n)]


def test_register_lock_randomise_analyse_decide(
    client: TestClient, experiment: dict[str, Any]
) -> None:
    eid = experiment["id"]
    assert experiment["status"] == "draft" and not experiment["plan_locked"]

    locked = _lock(client, eid)
    assert locked.status_code == 201
    version = locked.json()
    expected = hashlib.sha256(
        canonical_json(ExperimentPlan.model_validate(PLAN).model_dump(mode="json")).encode()
    ).hexdigest()
    assert version["number"] == 1 and version["content_hash"] == expected
    assert version["locked_by"] == "Ana" and version["locked_at"]
    again = _lock(client, eid)  # unchanged plan: same version, nothing new
    assert again.status_code == 200 and again.json()["number"] == 1

    r = client.post(f"/api/experiments/{eid}/randomise", json={"seed": 2026, "units": _units()})
    assert r.status_code == 201, r.text
    assert r.json()["counts"] == {"current-criteria": 200, "new-criteria": 200}
    assert (
        client.post(
            f"/api/experiments/{eid}/randomise", json={"seed": 1, "units": _units()}
        ).status_code
        == 409
    )  # never redrawn

    exported = client.get(f"/api/experiments/{eid}/assignments.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 400 and rows[0]["seed"] == "2026" and rows[0]["plan"] == "1"
    # reproducible: the engine with the same seed gives the same assignment
    again_assigned = randomise.assign(
        [randomise.Unit(u["unit"], u["stratum"]) for u in _units()],
        {"current-criteria": 1.0, "new-criteria": 1.0},
        seed=2026,
        method="stratified",
    )
    assert {r["unit"]: r["arm"] for r in rows} == {
        a.unit: a.arm for a in again_assigned.assignments
    }
    for stratum in ("small", "large"):  # stratified: 100/100 within each stratum
        arms = [r["arm"] for r in rows if r["stratum"] == stratum]
        assert arms.count("new-criteria") == 100

    analysed = client.post(f"/api/experiments/{eid}/analyse", json=SUMMARY)
    assert analysed.status_code == 200, analysed.text
    body = analysed.json()
    assert body["plan"] == {"number": 1, "content_hash": expected}
    assert body["deviations"] == []
    direct = ab.analyse(ab.parse_summary({**SUMMARY, "control": "current-criteria"}))
    arm = body["report"]["arms"][0]
    assert arm["absolute"]["estimate"] == pytest.approx(direct.arms[0].absolute.estimate)
    assert arm["chance_to_win"] == pytest.approx(direct.arms[0].chance_to_win)

    decided = post(
        client,
        f"/api/experiments/{eid}/decisions",
        {"decision": "scale", "decided_by": "Programme board", "decided_on": "2026-11-20",
         "learning": "Impact-first criteria shortlist more mission-relevant proposals."},
    )  # fmt: skip
    assert decided["plan_number"] == 1
    full = client.get(f"/api/experiments/{eid}").json()
    assert full["status"] == "decided" and full["decisions"][0]["decision"] == "scale"
    log = client.get("/api/missions/clean-air/learning").json()
    assert log[0]["experiment"] == "assessment-criteria" and log[0]["decision"] == "scale"


def test_changed_plan_is_a_new_version_and_analysis_names_deviations(
    client: TestClient, experiment: dict[str, Any]
) -> None:
    eid = experiment["id"]
    _lock(client, eid)
    client.post(f"/api/experiments/{eid}/randomise", json={"seed": 7, "units": _units()})
    changed = client.patch(
        f"/api/experiments/{eid}",
        json={"plan": {**PLAN, "planned_sample": 600}},
        headers={"If-Match": f'"{client.get(f"/api/experiments/{eid}").json()["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert not changed.json()["plan_locked"]
    v2 = _lock(client, eid, "Ben").json()
    assert v2["number"] == 2 and v2["content_hash"] != content_hash(PLAN)
    assert v2["content_hash"] == content_hash(ExperimentPlan.model_validate(
        {**PLAN, "planned_sample": 600}))  # fmt: skip
    assert client.get(f"/api/experiments/{eid}").json()["plan_locked"]
    body = client.post(f"/api/experiments/{eid}/analyse", json={**SUMMARY, "alpha": 0.1}).json()
    assert body["plan"]["number"] == 2
    assert not any("draft plan has changed" in d for d in body["deviations"])
    text = " | ".join(body["deviations"])
    assert "alpha 0.1 instead of the planned 0.05" in text
    assert "sample 400 is below the planned 600" in text
    assert "randomised under plan version 1" in text
    versions = client.get(f"/api/experiments/{eid}").json()["plan_versions"]
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["content"]["planned_sample"] == 400  # the old version is untouched


def test_order_of_operations_is_enforced(client: TestClient, experiment: dict[str, Any]) -> None:
    eid = experiment["id"]
    assert client.post(f"/api/experiments/{eid}/analyse", json=SUMMARY).status_code == 409
    r = client.post(f"/api/experiments/{eid}/randomise", json={"seed": 1, "units": _units()})
    assert r.status_code == 409 and "lock the plan" in r.json()["detail"]
    decision = {"decision": "stop", "decided_by": "x", "decided_on": "2026-01-01", "learning": "y"}
    assert client.post(f"/api/experiments/{eid}/decisions", json=decision).status_code == 409


def test_bad_input_is_422_with_the_field(client: TestClient, experiment: dict[str, Any]) -> None:
    eid = experiment["id"]
    _lock(client, eid)
    bad = {"arms": {"current-criteria": {"n": 10, "successes": 3},
                    "new-criteria": {"n": 10, "successes": 12}}}  # fmt: skip
    r = client.post(f"/api/experiments/{eid}/analyse", json=bad)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "arms.new-criteria.successes"
    r = client.post(
        "/api/missions/clean-air/experiments",
        json={**EXPERIMENT, "slug": "two", "plan": {**PLAN, "control": "nope"}},
    )
    assert r.status_code == 422 and "nope" in json.dumps(r.json())
    r = client.post(
        "/api/missions/clean-air/experiments",
        json={**EXPERIMENT, "slug": "three", "objective": "missing"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "objective"
    dup = client.post("/api/missions/clean-air/experiments", json=EXPERIMENT)
    assert dup.status_code == 409
    stale = client.patch(
        f"/api/experiments/{eid}", json={"title": "x"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    too_big = client.post(
        f"/api/experiments/{eid}/randomise", json={"seed": 2**31, "units": _units()}
    )
    assert too_big.status_code == 422 and too_big.json()["detail"][0]["loc"][-1] == "seed"
    units = [{"unit": "a", "stratum": "s"}, {"unit": "b"}]
    r = client.post(f"/api/experiments/{eid}/randomise", json={"seed": 1, "units": units})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "units[1].stratum"


def test_stateless_statistics_routes(client: TestClient) -> None:
    r = client.post("/api/experiments/analyze-ab", json=SUMMARY)
    assert r.status_code == 200 and r.json()["control"] == "current-criteria"
    r = client.post(
        "/api/experiments/power", json={"metric": "mean", "sd": 1, "effect": 0.5, "power": 0.8}
    )
    assert r.status_code == 200 and r.json()["n_control"] == 64
    r = client.post("/api/experiments/power", json={"metric": "proportion", "effect": 0.1})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "baseline"


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 300),
    seed=st.integers(0, 2**32),
    w=st.lists(st.integers(1, 5), min_size=2, max_size=4),
)
def test_assignment_is_exact_reproducible_and_order_free(n: int, seed: int, w: list[int]) -> None:
    arms = {f"arm{i}": float(x) for i, x in enumerate(w)}
    units = [randomise.Unit(f"u{i}") for i in range(n)]
    first = randomise.assign(units, arms, seed=seed)
    shuffled = randomise.assign(list(reversed(units)), arms, seed=seed)
    assert {a.unit: a.arm for a in first.assignments} == {
        a.unit: a.arm for a in shuffled.assignments
    }
    for name, weight in arms.items():  # counts within one of the exact quota
        assert abs(first.counts[name] - n * weight / sum(arms.values())) < 1


def test_clustered_assignment_keeps_clusters_whole() -> None:
    units = [randomise.Unit(f"u{i}", cluster=f"c{i % 40}") for i in range(400)]
    result = randomise.assign(units, {"a": 1.0, "b": 1.0}, seed=3, method="clustered")
    arm_of_cluster: dict[str | None, set[str]] = {}
    for a in result.assignments:
        arm_of_cluster.setdefault(a.cluster, set()).add(a.arm)
    assert all(len(s) == 1 for s in arm_of_cluster.values())
    assert result.clusters == {"a": 20, "b": 20}


def test_unit_outcomes_of_a_cluster_randomised_pilot(client: TestClient) -> None:
    # 40 regions of 10 applicants, randomised by region; outcomes share a regional shock.
    import numpy as np

    from missionkit.experiments import clustered

    post(client, "/api/missions", MISSION)
    plan = {**PLAN, "randomisation": "clustered", "planned_sample": 400,
            "primary_metric": {"name": "score", "kind": "mean"}}  # fmt: skip
    exp = post(
        client,
        "/api/missions/clean-air/experiments",
        {**EXPERIMENT, "design": "cluster", "plan": plan},
    )
    eid = exp["id"]
    _lock(client, eid)
    units = [{"unit": f"A-{i:03d}", "cluster": f"R{i // 10:02d}"} for i in range(400)]
    r = client.post(f"/api/experiments/{eid}/randomise", json={"seed": 11, "units": units})
    assert r.status_code == 201 and r.json()["clusters"] == {
        "current-criteria": 20,
        "new-criteria": 20,
    }
    arm_of = {
        row["unit"]: row["arm"]
        for row in csv.DictReader(
            io.StringIO(client.get(f"/api/experiments/{eid}/assignments.csv").text)
        )
    }
    rng = np.random.default_rng(5)
    shock = rng.normal(0, 1, 40)
    outcomes = [
        {"unit": u["unit"], "value": float(
            0.3 * (arm_of[u["unit"]] == "new-criteria") + shock[i // 10] + rng.normal(0, 1))}
        for i, u in enumerate(units)
    ]  # fmt: skip
    body = client.post(f"/api/experiments/{eid}/analyse", json={"outcomes": outcomes}).json()
    robust = body["cluster_robust"]["new-criteria"]
    direct = clustered.analyse(
        [o["value"] for o in outcomes],
        [int(arm_of[o["unit"]] == "new-criteria") for o in outcomes],
        [u["cluster"] for u in units],
    )
    assert robust["absolute"]["se"] == pytest.approx(direct.absolute.se)
    assert robust["n_clusters"] == 40
    naive = body["report"]["arms"][0]["absolute"]
    assert naive["estimate"] == pytest.approx(robust["absolute"]["estimate"])
    assert robust["absolute"]["se"] > 1.5 * naive["se"]  # clustering matters here
    assert body["deviations"] == []
    summary_only = client.post(
        f"/api/experiments/{eid}/analyse",
        json={"arms": {k: {"n": 200, "sum": 10.0, "sum_squares": 500.0} for k in arm_of.values()}},
    ).json()
    assert any("randomised in clusters" in d for d in summary_only["deviations"])
    bad = client.post(
        f"/api/experiments/{eid}/analyse", json={"outcomes": [*outcomes, {"unit": "Z", "value": 1}]}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "outcomes[400].unit"


def test_cli_randomise_and_learning_over_the_registry(
    client: TestClient, experiment: dict[str, Any], tmp_path: Any
) -> None:
    # The registry through `missionkit experiment randomise/learning` on the same database.
    from typer.testing import CliRunner

    from missionkit.cli.main import app

    runner = CliRunner()
    url = str(client.app.state.database.url)  # type: ignore[attr-defined]
    eid = experiment["id"]
    units = tmp_path / "units.csv"
    units.write_text("unit,stratum\n" + "".join(f"P-{i},{['a', 'b'][i % 2]}\n" for i in range(40)))
    args = ["experiment", "randomise", str(eid), str(units), "--seed", "9", "-d", url]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "lock the plan" in result.stderr  # not locked yet
    _lock(client, eid)
    out = tmp_path / "assignment.csv"
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "Assigned 40 units under plan version 1 (seed 9)" in result.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 40 and {r["arm"] for r in rows} == {"current-criteria", "new-criteria"}
    assert rows == list(csv.DictReader(io.StringIO(
        client.get(f"/api/experiments/{eid}/assignments.csv").text)))  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text("id\nx\n")
    result = runner.invoke(app, ["experiment", "randomise", str(eid), str(bad), "--seed", "1",
                                 "-d", url])  # fmt: skip
    assert result.exit_code == 2 and "no 'unit' column" in result.stderr

    client.post(f"/api/experiments/{eid}/analyse", json=SUMMARY)
    post(client, f"/api/experiments/{eid}/decisions",
         {"decision": "iterate", "decided_by": "Board", "decided_on": "2026-10-01",
          "learning": "Promising; rerun with more calls."})  # fmt: skip
    result = runner.invoke(app, ["experiment", "learning", "clean-air", "-d", url, "--json"])
    assert result.exit_code == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert entry["decision"] == "iterate" and entry["experiment"] == "assessment-criteria"
    result = runner.invoke(app, ["experiment", "learning", "nope", "-d", url])
    assert result.exit_code == 1
