"""Spatial equity on the hand-worked portfolio of test_portfolio_cases.

Attribution at NUTS 2: A1 (400) in DE21 and DE22 -> 200 each; A2 (300) -> DE21; A3 (200) ->
FR10; A4 (100) lists no region. Funding DE21 500, DE22 200, FR10 200, FRK2 0 (total 900);
populations 4, 1, 12, 8 (total 25).
"""

from __future__ import annotations

import math

import pytest

from missionkit.portfolio import Portfolio, gini, spatial_equity, theil_t
from tests.test_portfolio_cases import ACTIVITIES, REGIONS, small_portfolio
from tests.test_portfolio_indices import gini_pairwise

approx = pytest.approx

FUNDING = {"DE21": 500.0, "DE22": 200.0, "FR10": 200.0, "FRK2": 0.0}
PEOPLE = {"DE21": 4.0, "DE22": 1.0, "FR10": 12.0, "FRK2": 8.0}


def test_attribution_and_per_capita() -> None:
    s = spatial_equity(small_portfolio(), "nuts2")
    by_code = {r.code: r for r in s.regions}
    assert {c: r.funding for c, r in by_code.items()} == approx(FUNDING)
    assert by_code["DE21"].per_capita == approx(125.0)
    assert by_code["DE22"].per_capita == approx(200.0)
    assert [r.code for r in s.regions] == ["DE22", "DE21", "FR10", "FRK2"]  # per head, desc
    assert by_code["DE21"].activities == 2
    assert by_code["FR10"].name == "Ile-de-France"
    assert s.attributed_budget == approx(900.0)
    assert s.unattributed == {"no region listed": 100.0}
    assert s.attributed_budget + sum(s.unattributed.values()) == approx(s.total_budget)


def test_inequality_indices_by_hand() -> None:
    s = spatial_equity(small_portfolio(), "nuts2")
    x = [FUNDING[c] / PEOPLE[c] for c in FUNDING]
    w = [PEOPLE[c] for c in FUNDING]
    assert s.gini == approx(gini_pairwise(x, w))
    assert s.gini_unweighted == approx(gini_pairwise(x))
    # Theil T = sum s_i ln(s_i / q_i) with funding shares s and population shares q.
    shares = {c: FUNDING[c] / 900 for c in FUNDING}
    people = {c: PEOPLE[c] / 25 for c in FUNDING}
    total = sum(shares[c] * math.log(shares[c] / people[c]) for c in FUNDING if shares[c] > 0)
    assert s.theil is not None
    assert s.theil.total == approx(total)
    # By country: DE s = 7/9, q = 1/5; FR s = 2/9, q = 4/5.
    between = 7 / 9 * math.log((7 / 9) / 0.2) + 2 / 9 * math.log((2 / 9) / 0.8)
    t_de = 5 / 7 * math.log((5 / 7) / (4 / 5)) + 2 / 7 * math.log((2 / 7) / (1 / 5))
    t_fr = math.log(1 / (12 / 20))  # FR10 holds all of FR's funding with 12 of its 20 people
    assert s.theil.between == approx(between)
    assert s.theil.within == approx(7 / 9 * t_de + 2 / 9 * t_fr)
    assert s.theil.between + s.theil.within == approx(s.theil.total, abs=1e-12)
    assert [g.group for g in s.theil.groups] == ["DE", "FR"]
    assert theil_t(x, w) == approx(total)


def test_left_behind_concentration_and_capacity() -> None:
    s = spatial_equity(small_portfolio(), "nuts2")
    # Ratio of funding share to population share: DE21 (5/9)/0.16 = 3.47, DE22 5.56,
    # FR10 (2/9)/0.48 = 0.46, FRK2 0 -> two regions below one half.
    ratios = {r.code: r.ratio for r in s.regions}
    assert ratios["FR10"] == approx((2 / 9) / 0.48)
    assert s.left_behind == ("FRK2", "FR10")
    assert spatial_equity(small_portfolio(), "nuts2", fraction=0.4).left_behind == ("FRK2",)
    # Top 10 % of 4 regions -> the top 1: DE21 with 500 of 900.
    assert s.top_regions == ("DE21",) and s.top_share == approx(5 / 9)
    # Spearman: per head ranks (FRK2 1, FR10 2, DE21 3, DE22 4) vs GDP ranks
    # (FRK2 1, DE22 2, DE21 3, FR10 4): d^2 = 0 + 4 + 0 + 4 = 8; rho = 1 - 6x8/(4x15) = 0.2.
    assert s.capacity_correlation == approx(0.2)


def test_group_by_table_group_and_need_reference() -> None:
    s = spatial_equity(small_portfolio(), "nuts2", group_by="group")
    assert s.theil is not None
    assert [g.group for g in s.theil.groups] == ["moderate innovator", "strong innovator"]
    assert s.theil.between + s.theil.within == approx(s.theil.total)
    regions = [{**r, "need": 1.0} for r in REGIONS]
    p = Portfolio.from_records(ACTIVITIES, regions=regions)
    need = spatial_equity(p, "nuts2", reference="need")
    # Equal need: each region should have 1/4; FR10 has 2/9 (ratio 0.89), FRK2 0.
    assert need.left_behind == ("FRK2",)


def test_country_level_climbs_the_nuts_tree() -> None:
    regions = [{"code": "DE", "population": 84.0}, {"code": "FR", "population": 68.0},
               {"code": "FR10", "population": 12.0}]  # fmt: skip
    p = Portfolio.from_records(ACTIVITIES, regions=regions)
    s = spatial_equity(p, "country")
    assert {r.code: r.funding for r in s.regions} == approx({"DE": 700.0, "FR": 200.0})
    # Without a level the table mixes FR and its region FR10: refused, not double counted.
    with pytest.raises(ValueError, match="pass a level"):
        spatial_equity(p)
    nuts1 = spatial_equity(p, "nuts1")
    assert nuts1.regions == ()
    assert nuts1.unattributed == {"no region listed": 100.0,
                                  "not in the region table at this level": 900.0}  # fmt: skip


def test_user_regions_with_their_own_parents() -> None:
    acts = [{"id": "a", "budget": 60.0, "regions": ["n1", "s1"]},
            {"id": "b", "budget": 30.0, "regions": ["zz"]}]  # fmt: skip
    regions = [
        {"code": "north", "level": None, "population": 10.0},
        {"code": "south", "population": 30.0},
        {"code": "n1", "parent": "north"},
        {"code": "s1", "parent": "south"},
    ]
    # n1/s1 are not in the universe when it is "every row": they nest in north/south.
    p = Portfolio.from_records(acts, regions=regions)
    with pytest.raises(ValueError, match="pass a level"):
        spatial_equity(p)
    nested = [
        {"code": "n1", "parent": "north", "level": "nuts3"},
        {"code": "s1", "parent": "south", "level": "nuts3"},
    ]
    p = Portfolio.from_records(acts, regions=[*regions[:2], *nested])
    s = spatial_equity(p, "nuts3")
    assert {r.code: r.funding for r in s.regions} == {"n1": 30.0, "s1": 30.0}
    assert s.unattributed == {"unknown region code": 30.0}
    assert s.gini is None  # n1 and s1 have no population


@pytest.mark.parametrize("factor", [0.001, 3.0, 1e6])
def test_scaling_budgets_leaves_shares_and_indices_unchanged(factor: float) -> None:
    base = spatial_equity(small_portfolio(), "nuts2")
    scaled_acts = [{**a, "budget": a["budget"] * factor} for a in ACTIVITIES]
    s = spatial_equity(Portfolio.from_records(scaled_acts, regions=REGIONS), "nuts2")
    assert [r.funding_share for r in s.regions] == approx([r.funding_share for r in base.regions])
    assert s.gini == approx(base.gini)
    assert s.theil is not None and base.theil is not None
    assert s.theil.total == approx(base.theil.total)
    assert gini([1, 2, 3]) == approx(gini([1 * factor, 2 * factor, 3 * factor]))


def test_top_regions_name_only_funded_regions() -> None:
    # The top 100 % of four regions are all four, but FRK2 received nothing: naming it
    # among "the regions that receive the funding" would mislead a board.
    s = spatial_equity(small_portfolio(), "nuts2", top_fraction=1.0)
    assert s.top_regions == ("DE21", "DE22", "FR10")
    assert s.top_share == approx(1.0)
