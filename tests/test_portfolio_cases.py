"""A small portfolio every figure of which is worked out by hand in the portfolio tests.

Budget 1000 in four activities::

    A1  400  grant        research       C1  2021  DE21, DE22  water, health  O1 1.0 manual
    A2  300  procurement  deployment     C1  2022  DE21        water          O1a 0.6 reviewed,
                                                               O2 0.6 suggested (score 0.5)
    A3  200  grant        demonstration  C2  2022  FR10        energy         O2 0.5 suggested
                                                               (score 0.8)
    A4  100  loan         (TRL 7-8)      C2  -     -           -              -

A2's weights sum to 1.2, so each becomes 0.5 (150 each). A3 leaves half its budget
unallocated. A4's stage comes from its TRL (8 -> deployment). O1a is a sub-objective of
O1; O3 has no activity. Organisations: A1 {x, y}, A2 {y, z}, A3 {w}, A4 none.
"""

from __future__ import annotations

from typing import Any

from missionkit.portfolio import Portfolio

ACTIVITIES: list[dict[str, Any]] = [
    {"id": "A1", "budget": 400.0, "instrument": "grant", "stage": "research", "call": "C1",
     "year": 2021, "regions": ["DE21", "DE22"], "sectors": ["water", "health"]},
    {"id": "A2", "budget": 300.0, "instrument": "procurement", "stage": "deployment",
     "call": "C1", "year": 2022, "regions": ["DE21"], "sectors": ["water"]},
    {"id": "A3", "budget": 200.0, "instrument": "grant", "stage": "demonstration", "call": "C2",
     "year": 2022, "regions": ["FR10"], "sectors": ["energy"]},
    {"id": "A4", "budget": 100.0, "instrument": "loan", "trl_min": 7, "trl_max": 8,
     "call": "C2"},
]  # fmt: skip
CONTRIBUTIONS: list[dict[str, Any]] = [
    {"activity": "A1", "objective": "O1", "weight": 1.0, "provenance": "manual"},
    {"activity": "A2", "objective": "O1a", "weight": 0.6, "provenance": "reviewed"},
    {"activity": "A2", "objective": "O2", "weight": 0.6, "provenance": "suggested", "score": 0.5},
    {"activity": "A3", "objective": "O2", "weight": 0.5, "provenance": "suggested", "score": 0.8},
]
OBJECTIVES: list[dict[str, Any]] = [
    {"id": "O1", "title": "Cool cities"},
    {"id": "O1a", "title": "Green roofs", "parent": "O1"},
    {"id": "O2", "title": "Dry farms"},
    {"id": "O3", "title": "Coasts"},
]
PARTICIPATIONS: list[dict[str, Any]] = [
    {"activity": "A1", "organisation": "x", "role": "lead"},
    {"activity": "A1", "organisation": "y"},
    {"activity": "A2", "organisation": "y", "role": "lead"},
    {"activity": "A2", "organisation": "z"},
    {"activity": "A3", "organisation": "w", "role": "lead"},
]
REGIONS: list[dict[str, Any]] = [
    {"code": "DE21", "population": 4.0, "gdp_per_head": 50.0, "group": "strong innovator"},
    {"code": "DE22", "population": 1.0, "gdp_per_head": 30.0, "group": "strong innovator"},
    {"code": "FR10", "population": 12.0, "gdp_per_head": 60.0, "group": "strong innovator"},
    {"code": "FRK2", "population": 8.0, "gdp_per_head": 25.0, "group": "moderate innovator"},
]


def small_portfolio() -> Portfolio:
    return Portfolio.from_records(ACTIVITIES, CONTRIBUTIONS, PARTICIPATIONS, OBJECTIVES, REGIONS)


# --- the portfolio's own construction and validation ------------------------------------

import polars as pl  # noqa: E402
import pytest  # noqa: E402

from missionkit.portfolio import PortfolioError, stage_from_trl  # noqa: E402


def test_small_portfolio_is_built_as_described() -> None:
    p = small_portfolio()
    assert p.total_budget == 1000.0
    stages = dict(p.activities.select("id", "stage").iter_rows())
    assert stages == {"A1": "research", "A2": "deployment", "A3": "demonstration",
                      "A4": "deployment"}  # fmt: skip
    assert p.activities.filter(pl.col("stage_from_trl")).get_column("id").to_list() == ["A4"]
    alloc = {(a, o): (s, b) for a, o, s, b in p.allocation.select(
        "activity", "objective", "share", "budget").iter_rows()}  # fmt: skip
    # A2's weights 0.6 + 0.6 = 1.2 > 1 are divided by 1.2: 0.5 each, 150 each.
    assert alloc[("A2", "O1a")] == pytest.approx((0.5, 150.0))
    assert alloc[("A2", "O2")] == pytest.approx((0.5, 150.0))
    # A3's single weight 0.5 stays 0.5: the other half is unallocated.
    assert alloc[("A3", "O2")] == pytest.approx((0.5, 100.0))


@pytest.mark.parametrize(
    ("trl", "stage"),
    [(1, "research"), (3, "research"), (4, "development"), (5, "development"),
     (6, "demonstration"), (7, "demonstration"), (8, "deployment"), (9, "deployment"),
     (None, None)],
)  # fmt: skip
def test_trl_bands(trl: int | None, stage: str | None) -> None:
    assert stage_from_trl(trl) == stage


@pytest.mark.parametrize(
    ("activities", "contributions", "message"),
    [
        ([{"id": "A", "budget": -1.0}], [],
         "activities[0] (A), field 'budget': must be a number >= 0"),
        ([{"id": "A", "budget": "10"}], [], "activities[0] (A), field 'budget': must be a number"),
        ([{"id": "A"}], [], "activities[0] (A), field 'budget': is required"),
        ([{"id": "A", "budget": 1.0}, {"id": "A", "budget": 2.0}], [],
         "activities[1] (A), field 'id': the same activity id appears twice"),
        ([{"id": "A", "budget": 1.0, "instrument": "gift"}], [],
         "activities[0] (A), field 'instrument': must be one of"),
        ([{"id": "A", "budget": 1.0, "stage": "pilot"}], [],
         "activities[0] (A), field 'stage': must be one of"),
        ([{"id": "A", "budget": 1.0, "trl_min": 5, "trl_max": 3}], [],
         "activities[0] (A), field 'trl_max': must not be below trl_min"),
        ([{"id": "A", "budget": 1.0, "regions": "DE21"}], [],
         "activities[0] (A), field 'regions': must be a list of strings"),
        ([{"id": "A", "budget": 1.0, "colour": "red"}], [],
         "activities[0] (A), field 'colour': unknown field"),
        ([{"id": "A", "budget": 1.0}], [{"activity": "B", "objective": "O"}],
         "contributions[0] (B -> O), field 'activity': must be the id of an activity"),
        ([{"id": "A", "budget": 1.0}], [{"activity": "A", "objective": "O", "weight": 1.5}],
         "contributions[0] (A -> O), field 'weight': must be between 0 and 1, got 1.5"),
        ([{"id": "A", "budget": 1.0}],
         [{"activity": "A", "objective": "O", "provenance": "guessed"}],
         "contributions[0] (A -> O), field 'provenance': must be one of"),
        ([{"id": "A", "budget": 1.0}],
         [{"activity": "A", "objective": "O"}, {"activity": "A", "objective": "O"}],
         "contributions[1] (A -> O), field 'objective': the same activity -> objective link"),
    ],
)  # fmt: skip
def test_validation_names_record_and_field(
    activities: list[dict[str, Any]], contributions: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(PortfolioError) as caught:
        Portfolio.from_records(activities, contributions)
    assert str(caught.value).startswith(message), str(caught.value)


def test_validation_of_objectives_participations_and_regions() -> None:
    acts = [{"id": "A", "budget": 1.0}]
    with pytest.raises(
        PortfolioError,
        match=r"objectives\[0\] \(a\), field 'parent': the objective is its own ancestor",
    ):
        Portfolio.from_records(acts, objectives=[{"id": "a", "parent": "b"},
                                                 {"id": "b", "parent": "a"}])  # fmt: skip
    with pytest.raises(PortfolioError, match=r"contributions\[0\] \(A -> Z\), field 'objective'"):
        Portfolio.from_records(
            acts, [{"activity": "A", "objective": "Z"}], objectives=[{"id": "a"}]
        )
    with pytest.raises(PortfolioError, match=r"participations\[0\] \(A -> o\), field 'role'"):
        Portfolio.from_records(acts, participations=[{"activity": "A", "organisation": "o",
                                                      "role": "boss"}])  # fmt: skip
    with pytest.raises(PortfolioError, match=r"regions\[0\] \(DE21\), field 'population'"):
        Portfolio.from_records(acts, regions=[{"code": "DE21", "population": -5.0}])
    error = PortfolioError("activities", 3, "A4", "budget", "must be a number")
    assert (error.table, error.index, error.key, error.field) == ("activities", 3, "A4", "budget")


def test_from_frames_matches_from_records_and_checks_columns() -> None:
    p = Portfolio.from_frames(
        pl.DataFrame(ACTIVITIES),
        pl.DataFrame(CONTRIBUTIONS),
        pl.DataFrame(PARTICIPATIONS),
        pl.DataFrame(OBJECTIVES),
        pl.DataFrame(REGIONS).lazy(),
    )
    q = small_portfolio()
    assert p.activities.equals(q.activities)
    assert p.allocation.equals(q.allocation)
    with pytest.raises(PortfolioError, match="field 'budget': column is missing"):
        Portfolio.from_frames(pl.DataFrame({"id": ["A"]}))
    with pytest.raises(PortfolioError, match="field 'budget': cannot be read as"):
        Portfolio.from_frames(pl.DataFrame({"id": ["A"], "budget": ["lots"]}))
    with pytest.raises(PortfolioError, match=r"activities\[1\] \(B\), field 'budget'"):
        Portfolio.from_frames(pl.DataFrame({"id": ["A", "B"], "budget": [1.0, float("nan")]}))


def test_objectives_default_to_those_contributions_name() -> None:
    p = Portfolio.from_records([{"id": "A", "budget": 1.0}], [{"activity": "A", "objective": "O"}])
    assert p.objectives.rows() == [("O", None, "O")]


def test_from_documents_reads_connector_shaped_dicts() -> None:
    doc = {
        "identifier": "cordis:1", "title": "T", "instrument": "grant", "stage": "research",
        "public_contribution": 12.5, "start": "2023-05-01", "call": "X", "regions": ["ES"],
        "sectors": ["water"], "organisations": [{"organisation": "o1", "role": "lead"}],
        "contributions": [{"objective": "ob", "weight": 1.0, "provenance": "manual"}],
    }  # fmt: skip
    p = Portfolio.from_documents(
        [doc], [{"slug": "ob", "title": "Objective"}],
        [{"code": "ES", "population": 48, "scoreboard_group": "moderate innovator"}],
    )  # fmt: skip
    row = p.activities.row(0, named=True)
    assert (row["id"], row["budget"], row["year"], row["regions"]) == (
        "cordis:1",
        12.5,
        2023,
        ["ES"],
    )
    assert p.participations.rows() == [("cordis:1", "o1", "lead")]
    assert p.regions.select("code", "population", "group").rows() == [
        ("ES", 48.0, "moderate innovator")
    ]
    with pytest.raises(PortfolioError, match="public_contribution"):
        Portfolio.from_documents([{**doc, "public_contribution": None}])
    zero = Portfolio.from_documents([{**doc, "public_contribution": None}], missing_budget="zero")
    assert zero.total_budget == 0.0
