"""The experiment pages (web/experiments.py), on SQLite and PostgreSQL: the whole cycle
through the forms (register, lock, randomise, upload results, analyse, decide), refused
input named at its field or row with nothing written, uploads that are too large or not
text, and who may do what. Numbers on the pages are compared with the API's and the
engines' answers to the same input, never with constants copied from a run."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from missionkit.domain.problems import InvalidInput
from missionkit.experiments import design
from missionkit.services import audit
from missionkit.services import experiment_pages as helpers
from missionkit.services import experiments as svc
from missionkit.services.maps import mission_id_for
from missionkit.store.db import Database
from missionkit.web import experiments as pages_module
from missionkit.web.experiment_views import interval_svg
from tests.factories import MISSION, post
from tests.web.test_page_access import _csrf, _user, sign_in

LIST = "/missions/clean-air/experiments"

FORM = {
    "title": "Impact-first assessment criteria",
    "slug": "impact-first",
    "question": "Does scoring mission impact first raise the share of relevant proposals?",
    "hypothesis": "By 10 points.",
    "stage": "process",
    "design": "ab",
    "unit": "proposal",
    "arms": "current-criteria\nnew-criteria, 1, impact scored first",
    "primary_metric": "proposals shortlisted",
    "primary_kind": "proportion",
    "minimum_detectable_effect": "0.1",
    "planned_sample": "400",
    "randomisation": "stratified",
    "analysis": "Difference in proportions, two-sided.",
}
UNITS = "unit,stratum\n" + "\n".join(f"P-{i:03d},{['small', 'large'][i % 2]}" for i in range(400))
TOTALS = {"current-criteria": (200, 48), "new-criteria": (200, 71)}


@pytest.fixture
def browser(db: Database, client: TestClient, anonymous: TestClient) -> TestClient:
    """clean-air (unpublished) and an editor of it, signed in through the page."""
    post(client, "/api/missions", MISSION)
    _user(db, "ed", "clean-air", "editor")
    assert sign_in(anonymous, "ed").status_code == 303
    return anonymous


def _token(browser: TestClient, path: str = LIST) -> str:
    return _csrf(browser.get(path).text)


def _errors(text: str) -> list[str]:
    """Every problem a page shows: per field, and in a section's alert."""
    found = re.findall(r'class="field-error" id="[^"]+">([^<]*)<', text)
    for block in re.findall(r'role="alert"[^>]*>(.*?)</div>', text, flags=re.S):
        found += re.findall(r"<li>(.*?)</li>", block, flags=re.S)
    return [html.unescape(f) for f in found]


def _register(browser: TestClient, **changes: str) -> int:
    token = _token(browser, f"{LIST}/new")
    done = browser.post(
        f"{LIST}/new", data=FORM | changes | {"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303, _errors(done.text)
    match = re.fullmatch(r"/experiments/(\d+)\?done=registered", done.headers["location"])
    assert match
    return int(match[1])


def _table(token: str) -> dict[str, str]:
    data = {"csrf_token": token, "mode": "table"}
    for i, (arm, (n, successes)) in enumerate(TOTALS.items()):
        data |= {f"arm-{i}": arm, f"n-{i}": str(n), f"successes-{i}": str(successes)}
    return data


def _experiment(db: Database, eid: int) -> dict[str, Any]:
    with db.reading() as s:
        return svc.get_experiment(s, eid)


def test_the_whole_cycle_through_the_pages(
    db: Database, browser: TestClient, client: TestClient
) -> None:
    listing = browser.get(LIST)
    assert "No experiments yet" in listing.text and f'href="{LIST}/new"' in listing.text
    cockpit = browser.get("/missions/clean-air").text  # no decision yet: links, no table
    assert f'href="{LIST}"' in cockpit and f'href="{LIST}/new"' in cockpit
    assert "No experiment of this mission has ended in a decision yet" in cockpit
    eid = _register(browser)
    page = f"/experiments/{eid}"
    shown = browser.get(f"{page}?done=registered")
    assert pages_module.DONE["registered"] in shown.text
    assert "impact scored first" in shown.text and ">draft<" in shown.text
    assert "<strong>draft</strong>" in browser.get(LIST).text

    token = _csrf(shown.text)
    locked = browser.post(
        f"{page}/lock", data={"csrf_token": token, "locked_by": "Ana"}, follow_redirects=False
    )
    assert locked.status_code == 303 and locked.headers["location"].endswith("done=locked#versions")
    after = _experiment(db, eid)
    digest = after["plan_versions"][0]["content_hash"]
    assert (
        digest in browser.get(page).text and "<strong>locked v1</strong>" in browser.get(LIST).text
    )

    randomised = browser.post(
        f"{page}/randomise",
        data={"csrf_token": token, "seed": "7"},
        files={"file": ("units.csv", UNITS.encode("utf-8-sig"), "text/csv")},
        follow_redirects=False,
    )
    assert randomised.status_code == 303, _errors(randomised.text)
    counts = _experiment(db, eid)["randomisation"]["counts"]
    assert sum(counts.values()) == 400
    text = browser.get(page).text
    assert "Sample-ratio check: p = " in text and "no mismatch" in text
    assert f'href="/api/experiments/{eid}/assignments.csv"' in text
    exported = browser.get(f"/api/experiments/{eid}/assignments.csv")  # the page's link
    assert exported.status_code == 200 and len(list(csv.reader(io.StringIO(exported.text)))) == 401

    analysed = browser.post(f"{page}/results", data=_table(token), follow_redirects=False)
    assert analysed.status_code == 303, _errors(analysed.text)
    stored = _experiment(db, eid)["last_analysis"]
    reference = client.post(
        "/api/experiments/analyze-ab",
        json={"arms": {a: {"n": n, "successes": s} for a, (n, s) in TOTALS.items()}},
    ).json()
    (arm,) = reference["arms"]
    assert stored["report"]["arms"][0]["absolute"] == pytest.approx(arm["absolute"])
    text = browser.get(page).text
    assert "Follows plan <strong>version 1</strong>" in text and digest in text
    effect = arm["absolute"]["estimate"] * 100
    assert f"{effect:.3g} pts" in text  # in percentage points
    assert f"{arm['chance_to_win'] * 100:.1f} %" in text
    assert '<svg class="chart"' in text and "intervals" in text
    assert "No deviation from the plan." in text

    decided = browser.post(
        f"{page}/decisions",
        data={"csrf_token": token, "decision": "scale", "decided_by": "Board",
              "decided_on": "2026-06-01", "learning": "Impact-first shortlists more."},
        follow_redirects=False,
    )  # fmt: skip
    assert decided.status_code == 303
    assert "Impact-first shortlists more." in browser.get(page).text
    cockpit = browser.get("/missions/clean-air").text
    assert "Experiments: decisions and learning" in cockpit and "Impact-first shortlists" in cockpit
    assert f'href="{LIST}">All experiments of this mission</a>' in cockpit
    assert "<strong>decided</strong>" in browser.get(LIST).text
    with db.reading() as s:
        trail = audit.entries(s, mission_id_for(s, "clean-air"))
    mine = [
        (e["action"], e["interface"], e["username"]) for e in trail if e["entity"] == "experiments"
    ]
    assert sorted(mine) == sorted(
        (a, "web", "ed") for a in ("create", "lock", "randomise", "analyse", "decide")
    )


def test_a_refused_registration_names_each_field_keeps_the_text_and_writes_nothing(
    db: Database, browser: TestClient, client: TestClient
) -> None:
    bad = FORM | {"slug": "Not A Slug", "arms": "a, -1\nb", "primary_metric": "", "alpha": "2"}
    token = _token(browser, f"{LIST}/new")
    refused = browser.post(f"{LIST}/new", data=bad | {"csrf_token": token})
    assert refused.status_code == 422
    text = refused.text
    for field in ("slug", "arms", "primary_metric", "alpha"):
        assert f'id="f-{field}-error"' in text, field
    assert "line 1 (weight)" in text
    assert 'value="Not A Slug"' in text and "a, -1\nb</textarea>" in text
    with db.reading() as s:
        assert svc.list_experiments(s, "clean-air") == []
    # The same shapes as the API: its message for the slug is the page's.
    api = client.post(
        "/api/missions/clean-air/experiments",
        json={"slug": "Not A Slug", "title": "t", "question": "q", "stage": "process",
              "design": "ab", "unit": "u", "plan": {"arms": [{"name": "a"}, {"name": "b"}],
              "primary_metric": {"name": "m", "kind": "mean"}}},
    )  # fmt: skip
    (slug_problem,) = [p for p in api.json()["detail"] if p["loc"][-1] == "slug"]
    assert slug_problem["msg"] in html.unescape(text)
    unknown = browser.post(f"{LIST}/new", data=FORM | {"objective": "nope", "csrf_token": token})
    assert unknown.status_code == 422
    assert "no objective 'nope' in this mission" in html.unescape(unknown.text)
    assert 'id="f-objective-error"' in unknown.text
    _register(browser)
    again = browser.post(f"{LIST}/new", data=FORM | {"csrf_token": token})
    assert again.status_code == 422 and "already exists" in html.unescape(again.text)


def test_bad_units_name_the_row_and_column_and_nothing_is_assigned(
    db: Database, browser: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    eid = _register(browser)
    page = f"/experiments/{eid}"
    token = _token(browser, page)
    browser.post(f"{page}/lock", data={"csrf_token": token, "locked_by": "Ana"})
    cases = {
        "unit,stratum\nP-1,small\nP-2,": "row 3 (stratum): is required for stratified",
        "unit,stratum\nP-1,small\n" + "x" * 201 + ",small": "row 3, column 1 (unit)",
        "stratum,unit\nsmall,P-1\nlarge,": "row 3, column 2 (unit)",
        "unit,colour\nP-1,red": "row 1, column 2 (colour): unknown column",
    }
    for units, expected in cases.items():
        refused = browser.post(
            f"{page}/randomise", data={"csrf_token": token, "seed": "7", "units": units}
        )
        assert refused.status_code == 422
        assert any(expected in e for e in _errors(refused.text)), (expected, _errors(refused.text))
        assert html.escape(units) in refused.text  # kept to mend
    bad_seed = browser.post(
        f"{page}/randomise", data={"csrf_token": token, "seed": "-1", "units": UNITS}
    )
    assert bad_seed.status_code == 422 and any("seed" in e for e in _errors(bad_seed.text))
    latin = browser.post(
        f"{page}/randomise",
        data={"csrf_token": token, "seed": "1"},
        files={"file": ("u.csv", "unit\nZürich".encode("latin-1"))},
    )
    assert latin.status_code == 422 and any("not UTF-8" in e for e in _errors(latin.text))
    monkeypatch.setattr(pages_module, "MAX_UPLOAD", 1000)
    big = browser.post(
        f"{page}/randomise",
        data={"csrf_token": token, "seed": "1"},
        files={"file": ("u.csv", UNITS.encode())},
    )
    assert big.status_code == 422 and any("larger than" in e for e in _errors(big.text))
    assert _experiment(db, eid)["randomisation"] is None
    assert _experiment(db, eid)["status"] == "registered"


def test_results_by_paste_json_and_unit_outcomes(db: Database, browser: TestClient) -> None:
    eid = _register(browser)
    page = f"/experiments/{eid}"
    token = _token(browser, page)
    too_early = browser.post(f"{page}/results", data=_table(token))
    assert too_early.status_code == 409  # analyse before locking: refused as a page
    assert "lock the plan" in too_early.text
    browser.post(f"{page}/lock", data={"csrf_token": token, "locked_by": "Ana"})
    bad = browser.post(
        f"{page}/results",
        data={
            "csrf_token": token,
            "mode": "text",
            "kind": "summary",
            "data": "arm,successes,n\nnew-criteria,x,200",
        },
    )
    assert bad.status_code == 422
    assert "row 2, column 2 (successes): 'x' is not a number" in _errors(bad.text)
    too_many = _table(token) | {"successes-1": "300"}
    refused = browser.post(f"{page}/results", data=too_many)
    assert refused.status_code == 422
    assert "arms.new-criteria.successes: must be <= n" in _errors(refused.text)
    assert 'value="300"' in refused.text
    assert _experiment(db, eid)["last_analysis"] is None
    document = (
        '{"arms": {"current-criteria": {"n": 200, "successes": 48},'
        ' "new-criteria": {"n": 150, "successes": 50}}}'
    )
    done = browser.post(
        f"{page}/results",
        data={"csrf_token": token, "mode": "text"},
        files={"file": ("s.json", document.encode())},
        follow_redirects=False,
    )
    assert done.status_code == 303
    analysis = _experiment(db, eid)["last_analysis"]
    assert any("below the planned 400" in d for d in analysis["deviations"])
    assert "below the planned 400" in browser.get(page).text
    units = "\n".join(f"P-{i:03d},{['small', 'large'][i % 2]}" for i in range(40))
    browser.post(f"{page}/randomise", data={"csrf_token": token, "seed": "3", "units": units})
    outcomes = "unit,value\nP-000,1\nP-001,0\nP-999,1"
    unknown = browser.post(
        f"{page}/results",
        data={"csrf_token": token, "mode": "text", "kind": "outcomes", "data": outcomes},
    )
    assert unknown.status_code == 422
    assert any(
        e.startswith("row 4 (unit): 'P-999' was never assigned") for e in _errors(unknown.text)
    )
    good = "\n".join(f"P-{i:03d},{i % 3 == 0:d}" for i in range(40))
    done = browser.post(
        f"{page}/results",
        data={"csrf_token": token, "mode": "text", "kind": "outcomes", "data": good},
        follow_redirects=False,
    )
    assert done.status_code == 303
    report = _experiment(db, eid)["last_analysis"]["report"]
    assert report["control_n"] + report["arms"][0]["n"] == 40


def test_the_power_check_is_the_design_engines(browser: TestClient) -> None:
    eid = _register(browser)
    text = browser.get(f"/experiments/{eid}", params={"baseline": "0.25"}).text
    expected = design.proportions(baseline=0.25, effect=0.1, n_control=200, alpha=0.05)
    needed = design.proportions(baseline=0.25, effect=0.1, power=0.8, alpha=0.05)
    assert f"{expected.power * 100:.0f} % power" in text
    assert f"about {needed.n_control * 2:,}" in text or f"about {needed.n_control * 2}" in text
    assert (
        "<strong>No:</strong>" in text if expected.power < 0.8 else "<strong>Yes:</strong>" in text
    )
    wrong = browser.get(f"/experiments/{eid}", params={"baseline": "1.5"}).text
    assert "baseline" in " ".join(_errors(wrong))
    mean = _register(browser, slug="mean-one", primary_kind="mean", minimum_detectable_effect="2")
    text = browser.get(
        f"/experiments/{mean}", params={"sd": "10", "icc": "0.05", "cluster_size": "20"}
    ).text
    clustered = design.means(sd=10, effect=2, n_control=200, icc=0.05, cluster_size=20)
    assert f"{clustered.power * 100:.0f} % power" in text


def test_editing_the_draft_after_locking_and_a_stale_edit(
    db: Database, browser: TestClient
) -> None:
    eid = _register(browser)
    page = f"/experiments/{eid}"
    token = _token(browser, page)
    browser.post(f"{page}/lock", data={"csrf_token": token, "locked_by": "Ana"})
    form = browser.get(f"{page}/edit").text
    assert "Plan version 1 is locked" in form
    assert "new-criteria, 1, impact scored first" in form
    version = re.search(r'name="version" value="(\d+)"', form)
    assert version
    changed = {k: v for k, v in FORM.items() if k != "slug"} | {"planned_sample": "600"}
    saved = browser.post(
        f"{page}/edit",
        data=changed | {"csrf_token": token, "version": version[1]},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "has changed since locked version 1" in browser.get(page).text
    stale = browser.post(
        f"{page}/edit", data=changed | {"csrf_token": token, "version": version[1]}
    )
    assert stale.status_code == 422 and "Someone else saved" in stale.text
    browser.post(f"{page}/lock", data={"csrf_token": token, "locked_by": "Ana", "note": "600"})
    versions = _experiment(db, eid)["plan_versions"]
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[1]["content"]["planned_sample"] == 600
    unchanged = browser.post(
        f"{page}/lock", data={"csrf_token": token, "locked_by": "Ana"}, follow_redirects=False
    )
    assert unchanged.headers["location"].endswith("done=unchanged#versions")


def test_who_may_see_and_change(db: Database, browser: TestClient, client: TestClient) -> None:
    eid = _register(browser)
    page = f"/experiments/{eid}"
    no_token = browser.post(f"{page}/lock", data={"locked_by": "Ana"})
    assert no_token.status_code == 403 and "The form expired" in no_token.text
    assert _experiment(db, eid)["plan_versions"] == []
    with TestClient(browser.app) as viewer, TestClient(browser.app) as stranger:
        _user(db, "viewer1", "clean-air", "viewer")
        _user(db, "outsider")
        sign_in(viewer, "viewer1")
        sign_in(stranger, "outsider")
        seen = viewer.get(page)
        assert seen.status_code == 200 and "Impact-first" in seen.text
        assert f'action="{page}/lock"' not in seen.text and "Edit the draft plan" not in seen.text
        refused = viewer.post(
            f"{page}/lock", data={"csrf_token": _csrf(seen.text), "locked_by": "x"}
        )
        assert refused.status_code == 403
        assert stranger.get(page).status_code == 404 and stranger.get(LIST).status_code == 404
        assert stranger.get("/experiments/999999").status_code == 404
    with TestClient(browser.app) as nobody:
        assert nobody.post(f"{page}/lock", data={"locked_by": "x"}).status_code == 401
    assert _experiment(db, eid)["plan_versions"] == []


def test_reading_pasted_tables() -> None:
    units, lines = helpers.parse_units("\n\nP-1\nP-2,s,c\n")
    assert units == [{"unit": "P-1"}, {"unit": "P-2", "stratum": "s", "cluster": "c"}]
    assert lines == [3, 4]
    assert helpers.parse_summary("arm,n,sum,sum_squares\nA,10,5.5,9\nB,12,6,8") == {
        "arms": {"A": {"n": 10, "sum": 5.5, "sum_squares": 9.0},
                 "B": {"n": 12, "sum": 6.0, "sum_squares": 8.0}}
    }  # fmt: skip
    with pytest.raises(InvalidInput) as e:
        helpers.parse_summary("A,10.5,3")
    assert str(e.value) == "row 1, column 2 (n): '10.5' is not a whole number"
    with pytest.raises(InvalidInput) as e:
        helpers.parse_summary('{"arms": [}')
    assert "line 1, column 11" in str(e.value)  # at the "}"
    with pytest.raises(InvalidInput) as e:
        helpers.parse_outcomes("unit,value\n")
    assert "only a header" in str(e.value)
    svg = interval_svg([("B", 2.0, -1.0, 5.0), ("C", 4.0, 1.0, 7.0)], " pts", "x", "Effects")
    assert svg.count("<circle") == 2 and "B: 2 pts (from -1 to 5)" in svg


def _panel(staggered: bool = False) -> str:
    """40 units over 5 periods; 20 treated from period 3 (10 from 4 when staggered)."""
    lines = ["unit,time,outcome,treated"]
    for i in range(40):
        start = (3 if i < 10 or not staggered else 4) if i < 20 else None
        for period in range(1, 6):
            treated = int(start is not None and period >= start)
            outcome = 10 + i % 7 + 0.5 * period + 2 * treated + (i * period % 5) / 10
            lines.append(f"U{i:02d},{period},{outcome:.2f},{treated}")
    return "\n".join(lines)


@pytest.mark.parametrize("kind", ["did", "staggered", "before_after"])
def test_policy_experiments_take_a_panel(db: Database, browser: TestClient, kind: str) -> None:
    eid = _register(browser, slug=f"policy-{kind.replace('_', '-')}", design=kind,
                    primary_kind="mean", randomisation="simple")  # fmt: skip
    page = f"/experiments/{eid}"
    token = _token(browser, page)
    browser.post(f"{page}/lock", data={"csrf_token": token, "locked_by": "Ana"})
    shown = browser.get(page).text
    assert 'value="panel"' in shown and 'value="table"' not in shown
    text = _panel(kind == "staggered")
    if kind == "before_after":
        text = "\n".join(r for r in text.splitlines() if r.split(",")[1] in ("time", "2", "3"))
    bad = text.replace("U05,2,", "U05,2,x", 1)
    refused = browser.post(
        f"{page}/results", data={"csrf_token": token, "mode": "panel", "data": bad}
    )
    assert refused.status_code == 422
    assert any(e.startswith("row ") and "not a number" in e for e in _errors(refused.text))
    assert _experiment(db, eid)["last_analysis"] is None
    done = browser.post(
        f"{page}/results",
        data={"csrf_token": token, "mode": "panel"},
        files={"file": ("panel.csv", text.encode())},
        follow_redirects=False,
    )
    assert done.status_code == 303, _errors(done.text)
    report = _experiment(db, eid)["last_analysis"]["report"]
    headline = (
        report["before_after"]["change"] if kind == "before_after" else report["twfe"]["estimate"]
    )
    shown = browser.get(page).text
    assert f"{headline['estimate']:.3g}" in shown
    assert ("Event study" in shown) == (kind != "before_after")
    decided = browser.post(f"{page}/decisions", data={"csrf_token": token, "decision": "iterate",
                           "decided_by": "Board", "decided_on": "2026-06-01", "learning": "More."},
                           follow_redirects=False)  # fmt: skip
    assert decided.status_code == 303
