"""The services behind the pages, on SQLite and PostgreSQL, against hand-computed figures.

The fixture's portfolio (tests/factories.py): three activities of EUR 500,000.10 (two
grants, one procurement; all demonstration; all in DE212; each serving "buses" with
weight 0.8), plus one EUR 100 loan in research split between FR and DE21.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from missionkit.services import cockpit, explorer, record_pages
from missionkit.store.db import Database

TODAY = dt.date(2026, 1, 15)


def test_portfolio_summary_groups_the_budget(db: Database, demo: dict[str, Any]) -> None:
    with db.reading() as session:
        summary = cockpit.portfolio_summary(session, demo["mission_id"])
    assert summary["currency"] == "EUR"
    assert summary["activities"] == 4 and summary["organisations"] == 2
    assert summary["budget"] == Decimal("1500100.30")
    by_instrument = {r["key"]: (r["activities"], r["budget"]) for r in summary["by_instrument"]}
    assert by_instrument == {
        "grant": (2, Decimal("1000000.20")),
        "procurement": (1, Decimal("500000.10")),
        "loan": (1, Decimal("100.00")),
    }
    # Stages come in the order of the innovation cycle, not by size.
    assert [r["key"] for r in summary["by_stage"]] == ["research", "demonstration"]


def test_objectives_served_weighs_by_contribution(db: Database, demo: dict[str, Any]) -> None:
    with db.reading() as session:
        served = {o["slug"]: o for o in cockpit.objectives_served(session, demo["mission_id"])}
    buses = served["buses"]
    assert buses["activities"] == 3 and buses["budget"] == Decimal("1500000.30")
    assert buses["weighted_budget"] == pytest.approx(0.8 * 1_500_000.30)
    assert buses["share"] == pytest.approx(0.8 * 1_500_000.30 / 1_500_100.30)
    assert served["heating"]["activities"] == 0 and served["heating"]["share"] == 0
    # Parents come before their children, with a depth for indenting.
    order = list(served)
    assert order.index("traffic") < order.index("buses")
    assert served["buses"]["depth"] == 1 and served["traffic"]["depth"] == 0
    # "traffic" has no activity of its own; with its sub-objective it has all three.
    assert served["traffic"]["activities"] == 0
    assert served["traffic"]["with_children"] == {
        "activities": 3,
        "budget": Decimal("1500000.30"),
    }
    assert "with_children" not in served["buses"]


def test_regional_spread_splits_multi_region_budgets(db: Database, demo: dict[str, Any]) -> None:
    with db.reading() as session:
        spread = cockpit.regional_spread(session, demo["mission_id"])
    countries = {c["code"]: c for c in spread["countries"]}
    assert countries["DE"]["budget"] == pytest.approx(1_500_000.30 + 50)
    assert countries["FR"]["budget"] == pytest.approx(50)
    assert countries["DE"]["activities"] == 4 and countries["DE"]["regions"] == 2
    total = sum(c["budget"] for c in spread["countries"])
    assert total == pytest.approx(1_500_100.30)  # nothing counted twice
    assert sum(c["share"] for c in spread["countries"]) == pytest.approx(1.0)
    assert spread["activities_without_region"] == 0


def test_recent_reviews_and_time_left(db: Database, demo: dict[str, Any]) -> None:
    with db.reading() as session:
        reviews = cockpit.recent_reviews(session, demo["mission_id"])
        page = cockpit.cockpit(session, "clean-air", TODAY)
    assert [r["title"] for r in reviews] == ["Mid-term review"]
    assert reviews[0]["objective"]["title"] == "Electric buses"
    assert page["mission"]["time_left"] == "4 years 11 months left"
    assert cockpit.time_left(dt.date(2026, 2, 1), TODAY) == "17 days left"
    assert cockpit.time_left(dt.date(2025, 12, 31), TODAY) == "15 days past the deadline"


def test_indicator_cards_carry_the_progress_services_status(
    db: Database, demo: dict[str, Any]
) -> None:
    from missionkit.services import progress

    with db.reading() as session:
        _, cards = cockpit.indicator_cards(session, demo["mission_id"], TODAY)
        expected = progress.mission_progress(session, demo["mission_id"], TODAY)
    (card,) = cards
    objective = next(o for o in expected["objectives"] if o["slug"] == "traffic")
    assert card["status"] == objective["indicators"][0]["assessment"]["status"]
    # The chart's latest value is the whole-area one, not the regional row of the same day.
    assert card["latest"]["value"] == 35.1 and card["latest"]["region"] is None


def _explore(db: Database, mission_id: int, **params: str) -> dict[str, Any]:
    with db.reading() as session:
        return explorer.explore(session, mission_id, explorer.Filters.parse(params))


def _identifiers(result: dict[str, Any]) -> list[str]:
    return [r["identifier"] for r in result["rows"]]


def test_explorer_filters(db: Database, demo: dict[str, Any]) -> None:
    m = demo["mission_id"]
    assert _identifiers(_explore(db, m, instrument="procurement")) == ["A-1"]
    assert _identifiers(_explore(db, m, q="pilot 2")) == ["A-2"]
    assert _identifiers(_explore(db, m, q="PILOT", sort="identifier")) == ["A-0", "A-1", "A-2"]
    assert _identifiers(_explore(db, m, region="FR")) == ["X-1"]
    assert len(_explore(db, m, region="DE")["rows"]) == 4  # DE212 and DE21 are in DE
    assert _identifiers(_explore(db, m, sector="héat pumps")) == ["X-1"]
    assert _identifiers(_explore(db, m, sector="heat")) == []  # whole items, not substrings
    assert _identifiers(_explore(db, m, stage="research")) == ["X-1"]
    assert _explore(db, m, budget_min="1000")["total"] == 3
    assert _identifiers(_explore(db, m, budget_max="1,000")) == ["X-1"]
    traffic = str(demo["objectives"]["traffic"])
    heating = str(demo["objectives"]["heating"])
    assert _explore(db, m, objective=traffic)["total"] == 3  # via its sub-objective "buses"
    assert _explore(db, m, objective=heating)["total"] == 0
    assert _explore(db, m, q="100%_")["total"] == 0  # LIKE wildcards are literal


def test_explorer_sorts_and_pages(db: Database, demo: dict[str, Any]) -> None:
    m = demo["mission_id"]
    result = _explore(db, m, sort="budget")
    assert _identifiers(result)[0] == "X-1"
    assert result["budget"] == Decimal("1500100.30") and result["total"] == 4
    assert _identifiers(_explore(db, m, sort="-identifier")) == ["X-1", "A-2", "A-1", "A-0"]
    past_the_end = _explore(db, m, page="9")
    assert past_the_end["page"] == 1 and past_the_end["first"] == 1 and past_the_end["last"] == 4


def test_bad_filter_values_are_reported_not_fatal() -> None:
    f = explorer.Filters.parse({"budget_min": "lots", "sort": "drop table", "page": "-1"})
    assert {p.path for p in f.problems} == {"budget_min", "sort", "page"}
    assert f.budget_min is None and f.sort == explorer.DEFAULT_SORT and f.page == 1
    low_high = explorer.Filters.parse({"budget_min": "10", "budget_max": "5"})
    assert [p.path for p in low_high.problems] == ["budget_max"]


def test_exports_neutralise_formulas(db: Database, demo: dict[str, Any]) -> None:
    """OWASP CSV injection advice: a cell starting with = + - @ is prefixed with '."""
    assert explorer.safe_cell("=1+1") == "'=1+1" and explorer.safe_cell("-3") == "'-3"
    assert explorer.safe_cell("@SUM(A1)") == "'@SUM(A1)" and explorer.safe_cell("+1") == "'+1"
    assert explorer.safe_cell("plain") == "plain" and explorer.safe_cell(-3) == -3
    f = explorer.Filters.parse({"sort": "identifier"})
    with db.reading() as session:
        text = "".join(explorer.to_csv(explorer.export_rows(session, demo["mission_id"], f)))
    lines = text.splitlines()
    assert lines[0].split(",")[:3] == ["identifier", "title", "kind"]
    assert len(lines) == 5
    assert lines[4].startswith('X-1,"\'=HYPERLINK(""http://evil"")",project,loan')


def test_objective_activity_and_organisation_pages(db: Database, demo: dict[str, Any]) -> None:
    with db.reading() as session:
        objective = record_pages.objective_page(session, demo["objectives"]["buses"], TODAY)
        activity = record_pages.activity_page(session, demo["extra_id"], TODAY)
    assert objective["served"]["activities"] == 3
    assert [s["stage"] for s in objective["stages"]] == ["demonstration"]
    assert objective["parent"]["title"] == "Cut traffic emissions"
    assert activity["activity"]["regions"] == ["FR", "DE21"] and activity["contributions"] == []


def _reference(activities: list[dict[str, Any]], served: dict[int, set[int]], f: Any) -> set[str]:
    """The explorer's filters written out in plain Python over the API's records."""
    out = set()
    for a in activities:
        text = " ".join(str(a[k] or "") for k in ("title", "summary", "identifier", "call"))
        budget = a["public_contribution"]
        if any(term not in text.lower() for term in f.q.lower().split()):
            continue
        if f.instrument and a["instrument"] != f.instrument:
            continue
        if f.stage and a["stage"] != f.stage:
            continue
        if f.region and not any(code.startswith(f.region) for code in a["regions"]):
            continue
        if f.sector and f.sector not in a["sectors"]:
            continue
        if f.objective is not None and not served.get(a["id"], set()) & f.objective_ids:
            continue
        if f.budget_min is not None and (budget is None or budget < f.budget_min):
            continue
        if f.budget_max is not None and (budget is None or budget > f.budget_max):
            continue
        out.add(a["identifier"])
    return out


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "bus"},
        {"q": "electric 1"},
        {"instrument": "grant", "budget_min": "500000"},
        {"region": "DE2", "stage": "demonstration"},
        {"region": "FR", "q": "hyperlink"},
        {"sector": "energy", "budget_max": "100"},
        {"objective": "traffic", "instrument": "procurement"},
        {"objective": "buses", "q": "pilot", "budget_min": "1", "budget_max": "600000"},
    ],
)
def test_explorer_agrees_with_a_plain_python_filter(
    db: Database, demo: dict[str, Any], params: dict[str, str]
) -> None:
    from missionkit.services import records
    from missionkit.services.catalogue import ACTIVITIES, CONTRIBUTIONS

    if "objective" in params:
        params = {**params, "objective": str(demo["objectives"][params["objective"]])}
    f = explorer.Filters.parse(params)
    with db.reading() as session:
        query = records.Query(filters={"mission_id": demo["mission_id"]}, limit=1000)
        activities = records.list_page(session, ACTIVITIES, query)["items"]
        links = records.list_page(session, CONTRIBUTIONS, records.Query(limit=1000))["items"]
        found = explorer.explore(session, demo["mission_id"], f)
    served: dict[int, set[int]] = {}
    for c in links:
        served.setdefault(c["activity_id"], set()).add(c["objective_id"])
    objectives = demo["objectives"]
    subtree = {
        objectives["traffic"]: {objectives["traffic"], objectives["buses"]},
        objectives["buses"]: {objectives["buses"]},
    }

    names = ("q", "instrument", "stage", "region", "sector", "objective", "budget_min",
             "budget_max")  # fmt: skip
    expected = SimpleNamespace(
        **{name: getattr(f, name) for name in names},
        objective_ids=subtree.get(f.objective, set()) if f.objective else set(),
    )
    want = _reference(activities, served, expected)
    assert {r["identifier"] for r in found["rows"]} == want
    assert found["total"] == len(want)
