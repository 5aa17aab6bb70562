"""Policy experiments analysed through the registry from panel data, over HTTP on SQLite and
PostgreSQL, against published results:

- Callaway & Sant'Anna (2021) on mpdta, as published by the R ``did`` package (simple
  aggregation -0.0400; pre-test p 0.16812);
- Kessler & Roth (2014) organ donations (causaldata 0.1.5): two-way fixed effects -0.0225
  with state-clustered SE 0.0060, as in Huntington-Klein, *The Effect* (2021), ch. 18;
- before/after against scipy's paired t test.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy import stats

from missionkit.domain.problems import InvalidInput
from missionkit.services.experiment_panels import panel_rows_from_csv
from tests.factories import MISSION, post

MPDTA = list(csv.DictReader((Path(__file__).parent / "data/did/mpdta.csv").open()))


def _register(client: TestClient, design: str, **plan: Any) -> int:
    post(client, "/api/missions", MISSION)
    body = {
        "slug": f"pilot-{design.replace('_', '-')}",
        "title": "Minimum wage roll-out",
        "question": "Does the policy change teen employment?",
        "stage": "instrument_choice",
        "design": design,
        "unit": "county",
        "plan": {
            "arms": [{"name": "comparison"}, {"name": "policy"}],
            "primary_metric": {"name": "log teen employment", "kind": "mean"},
            **plan,
        },
    }
    eid = int(post(client, "/api/missions/clean-air/experiments", body)["id"])
    locked = client.post(f"/api/experiments/{eid}/lock", json={"locked_by": "Ana"})
    assert locked.status_code in (200, 201), locked.text
    return eid


def _mpdta_rows() -> list[dict[str, Any]]:
    rows = []
    for r in MPDTA:
        first = int(r["first.treat"])
        year = int(r["year"])
        treated = 1.0 if first and year >= first else 0.0
        rows.append(
            {"unit": r["countyreal"], "time": year, "outcome": float(r["lemp"]), "treated": treated}
        )
    return rows


def test_staggered_roll_out_reproduces_the_published_callaway_santanna_results(
    client: TestClient,
) -> None:
    eid = _register(client, "staggered", planned_sample=600)
    response = client.post(f"/api/experiments/{eid}/analyse-panel", json={"rows": _mpdta_rows()})
    assert response.status_code == 200, response.text
    result = response.json()
    cs = result["report"]["callaway_santanna"]
    assert cs["aggregations"]["simple"]["overall"]["estimate"] == pytest.approx(-0.0400, abs=5e-5)
    assert cs["aggregations"]["dynamic"]["overall"]["estimate"] == pytest.approx(-0.0772, abs=5e-5)
    assert cs["pretrend_p_value"] == pytest.approx(0.16812, abs=5e-6)
    assert any("staggered adoption" in w for w in result["report"]["twfe"]["warnings"])
    assert result["report"]["event_study"]["effects"]
    assert result["plan"]["number"] == 1 and result["units"] == 500 and result["rows"] == 2500
    assert result["deviations"] == ["500 units, below the planned 600 (less power)"]

    got = client.get(f"/api/experiments/{eid}").json()
    assert got["status"] == "analysed" and got["last_analysis"]["kind"] == "panel"
    decision = {
        "decision": "stop",
        "decided_by": "Board",
        "decided_on": "2026-06-01",
        "learning": "Employment fell after adoption; do not extend.",
    }
    assert client.post(f"/api/experiments/{eid}/decisions", json=decision).status_code == 201
    learning = client.get("/api/missions/clean-air/learning").json()
    assert [e["learning"] for e in learning] == [decision["learning"]]


def test_difference_in_differences_reproduces_the_organ_donation_estimate(
    client: TestClient,
) -> None:
    from causaldata import organ_donations

    od = organ_donations.load_pandas().data
    rows = [
        {
            "unit": state,
            "time": int(quarter),
            "outcome": float(rate),
            "treated": float(state == "California" and quarter >= 4),
        }
        for state, quarter, rate in zip(od.State, od.Quarter_Num, od.Rate, strict=True)
    ]
    eid = _register(client, "did")
    result = client.post(f"/api/experiments/{eid}/analyse-panel", json={"rows": rows}).json()
    twfe = result["report"]["twfe"]
    assert twfe["estimate"]["estimate"] == pytest.approx(-0.0225, abs=5e-5)
    assert twfe["estimate"]["se"] == pytest.approx(0.0060, abs=5e-5)
    assert twfe["n_clusters"] == 27
    assert any("only 27 clusters" in w for w in twfe["warnings"])
    assert "callaway_santanna" not in result["report"]
    assert result["deviations"] == []


def test_before_after_is_the_paired_change(client: TestClient) -> None:
    before = [3.1, 2.4, 5.0, 4.2, 3.3, 2.9]
    after = [3.5, 2.9, 5.1, 4.9, 3.2, 3.6]
    rows = [{"unit": f"u{i}", "time": "1", "outcome": y} for i, y in enumerate(before)]
    rows += [{"unit": f"u{i}", "time": "2", "outcome": y} for i, y in enumerate(after)]
    eid = _register(client, "before_after")
    result = client.post(f"/api/experiments/{eid}/analyse-panel", json={"rows": rows}).json()
    change = result["report"]["before_after"]["change"]
    reference = stats.ttest_rel(after, before)
    assert change["p_value"] == pytest.approx(reference.pvalue, rel=1e-10)
    assert change["estimate"] == pytest.approx(sum(after) / 6 - sum(before) / 6, rel=1e-12)
    assert any("descriptive" in w for w in result["report"]["before_after"]["warnings"])


def test_bad_panels_are_refused_with_the_row_and_nothing_is_kept(client: TestClient) -> None:
    eid = _register(client, "did")
    rows = [
        {"unit": "a", "time": 1, "outcome": 1.0, "treated": 0},
        {"unit": "a", "time": 2, "outcome": 2.0, "treated": 1},
        {"unit": "b", "time": 1, "outcome": 1.0, "treated": 0},
        {"unit": "b", "time": 2, "outcome": 1.5, "treated": 0},
    ]
    cases = [
        ([*rows[:3], {**rows[3], "treated": None}], "rows[3].treated"),
        ([*rows[:3], {**rows[3], "time": 1}], "rows[3]"),
        ([*rows[:3], {**rows[3], "outcome": "many"}], '"rows",3,"outcome"'),
        (rows[:3], "rows"),
    ]
    for body, field in cases:
        response = client.post(f"/api/experiments/{eid}/analyse-panel", json={"rows": body})
        assert response.status_code == 422, response.text
        assert field in response.text, (field, response.text)
    assert client.get(f"/api/experiments/{eid}").json()["status"] == "registered"


def test_panels_are_only_for_policy_designs_and_locked_plans(client: TestClient) -> None:
    eid = _register(client, "ab")
    rows = [{"unit": "a", "time": 1, "outcome": 1.0, "treated": 0}] * 4
    response = client.post(f"/api/experiments/{eid}/analyse-panel", json={"rows": rows})
    assert response.status_code == 409 and "arm summaries" in response.text
    body = {
        "slug": "draft-did",
        "title": "Draft",
        "question": "?",
        "stage": "process",
        "design": "did",
        "unit": "region",
        "plan": {
            "arms": [{"name": "a"}, {"name": "b"}],
            "primary_metric": {"name": "m", "kind": "mean"},
        },
    }
    draft = post(client, "/api/missions/clean-air/experiments", body)["id"]
    response = client.post(f"/api/experiments/{draft}/analyse-panel", json={"rows": rows})
    assert response.status_code == 409 and "lock the plan" in response.text


def test_csv_panels_name_the_row_and_column() -> None:
    columns = {"unit": "county", "time": "year", "outcome": "lemp", "treated": "d"}
    good = "county,year,lemp,d\n1,2004,8.1,0\n1,2005,8.3,1\n"
    assert panel_rows_from_csv(good, columns)[1] == {
        "unit": "1",
        "time": "2005",
        "outcome": 8.3,
        "treated": 1.0,
    }
    bad = [
        ("county,year,lemp,d\n1,2004,eight,0\n", "row 2", "'eight' is not a number"),
        ("county,year,lemp,d\n1,2004,8.1,0\n1,,8.3,1\n", "row 3", "'year' is empty"),
        ("county,when,lemp,d\n", "columns.time", "no column 'year'"),
        ("county,year,lemp,d\n", "file", "no data rows"),
        ("", "file", "is empty"),
    ]
    for text, field, words in bad:
        with pytest.raises(InvalidInput) as caught:
            panel_rows_from_csv(text, columns)
        [problem] = caught.value.problems
        assert (problem.path, words in problem.message) == (field, True), problem
