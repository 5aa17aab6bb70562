"""Property tests on random portfolios: breakdowns add up, scaling budgets changes no share,
record order changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missionkit.portfolio import (
    DIMENSIONS,
    Portfolio,
    coverage_matrix,
    directionality,
    diversity,
    spatial_equity,
    stage_balance,
)

approx = pytest.approx
STAGE = st.sampled_from(["research", "development", "demonstration", "deployment", "diffusion"])
REGION = st.sampled_from(["DE21", "DE22", "FR10", "FRK2", "ES51"])


@st.composite
def portfolios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    n = draw(st.integers(1, 12))
    acts = [
        {
            "id": f"a{i}",
            "budget": float(draw(st.integers(0, 10_000_000))),
            "instrument": draw(st.sampled_from(["grant", "loan", "prize"])),
            "stage": draw(st.none() | STAGE),
            "call": draw(st.none() | st.sampled_from(["C1", "C2"])),
            "year": draw(st.none() | st.integers(2020, 2024)),
            "regions": draw(st.lists(REGION, max_size=3, unique=True)),
            "sectors": draw(st.lists(st.sampled_from("pqrs"), max_size=3, unique=True)),
        }
        for i in range(n)
    ]
    links = [
        {
            "activity": f"a{i}",
            "objective": o,
            "weight": draw(st.floats(0, 1)),
            "provenance": draw(st.sampled_from(["manual", "suggested", "reviewed"])),
            "score": draw(st.none() | st.floats(0, 1)),
        }
        for i in range(n)
        for o in draw(st.lists(st.sampled_from(["o1", "o2", "o3"]), max_size=3, unique=True))
    ]
    return acts, links


PEOPLE = [("DE21", 4.7), ("DE22", 1.2), ("FR10", 12.3), ("FRK2", 6.9), ("ES51", 7.8)]
REGIONS = [{"code": c, "population": p} for c, p in PEOPLE]
OBJECTIVES = [{"id": "o1"}, {"id": "o2", "parent": "o1"}, {"id": "o3"}]


def build(acts: list[dict[str, Any]], links: list[dict[str, Any]]) -> Portfolio:
    return Portfolio.from_records(acts, links, objectives=OBJECTIVES, regions=REGIONS)


@settings(max_examples=25, deadline=None)
@given(portfolios(), st.sampled_from(DIMENSIONS), st.sampled_from(DIMENSIONS))
def test_every_matrix_adds_up_to_the_budget(data: Any, rows: Any, columns: Any) -> None:
    if rows == columns:
        return
    p = build(*data)
    m = coverage_matrix(p, rows, columns)
    assert sum(c.budget for c in m.cells) == approx(p.total_budget, rel=1e-9, abs=1e-6)
    assert stage_balance(p).portfolio.budget == approx(p.total_budget, rel=1e-9, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(portfolios(), st.floats(0.001, 1000))
def test_scaling_all_budgets_leaves_shares_unchanged(data: Any, factor: float) -> None:
    acts, links = data
    base = build(acts, links)
    scaled = build([{**a, "budget": a["budget"] * factor} for a in acts], links)
    a, b = directionality(base), directionality(scaled)
    assert b.share == approx(a.share, abs=1e-9)
    assert [g.share for g in b.by_call] == approx([g.share for g in a.by_call], abs=1e-9)
    ma = coverage_matrix(base, "objective", "stage").table("share")
    mb = coverage_matrix(scaled, "objective", "stage").table("share")
    assert ma.keys() == mb.keys()
    for row in ma:
        assert mb[row] == approx(ma[row], abs=1e-9)
    da, db = diversity(base, "sector").portfolio, diversity(scaled, "sector").portfolio
    assert db.shares == approx(da.shares, abs=1e-9)
    sa, sb = spatial_equity(base, "nuts2"), spatial_equity(scaled, "nuts2")
    assert (sa.gini is None) == (sb.gini is None)
    if sa.gini is not None and sb.gini is not None:
        assert sb.gini == approx(sa.gini, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(portfolios(), st.randoms(use_true_random=False))
def test_record_order_changes_nothing(data: Any, rnd: Any) -> None:
    acts, links = data
    base = build(acts, links)
    acts2, links2 = list(acts), list(links)
    rnd.shuffle(acts2)
    rnd.shuffle(links2)
    other = build(acts2, links2)
    assert directionality(other).to_dict() == approx_dict(directionality(base).to_dict())
    assert coverage_matrix(other, "region", "objective").table() == approx_table(
        coverage_matrix(base, "region", "objective").table()
    )
    sa, sb = spatial_equity(base, "nuts2"), spatial_equity(other, "nuts2")
    assert [r.code for r in sa.regions] == [r.code for r in sb.regions]
    if sa.theil is not None and sb.theil is not None:
        assert sb.theil.total == approx(sa.theil.total, abs=1e-12)
        assert sb.theil.between + sb.theil.within == approx(sb.theil.total, abs=1e-9)


def approx_table(table: dict[str, dict[str, float]]) -> dict[str, Any]:
    return {k: approx(v, rel=1e-9, abs=1e-6) for k, v in table.items()}


def approx_dict(d: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, float):
            out[k] = approx(v, rel=1e-9, abs=1e-6)
        elif isinstance(v, list):
            out[k] = [approx_dict(x) if isinstance(x, dict) else x for x in v]
        elif isinstance(v, dict):
            out[k] = approx_dict(v)
        else:
            out[k] = v
    return out
