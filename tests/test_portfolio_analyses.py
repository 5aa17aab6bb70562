"""Coverage, directionality, stage balance, instrument mix, drift and findings, checked
against figures worked out by hand for the portfolio described in test_portfolio_cases."""

from __future__ import annotations

import json

import pytest

from missionkit.portfolio import (
    NONE,
    CoverageThresholds,
    ProvenanceWeights,
    coverage,
    coverage_matrix,
    directionality,
    drift,
    findings,
    headline_findings,
    instrument_mix,
    spatial_equity,
    stage_balance,
)
from tests.test_portfolio_cases import small_portfolio

approx = pytest.approx


# --- coverage ---------------------------------------------------------------------------


def test_objective_by_stage_matrix_by_hand() -> None:
    m = coverage_matrix(small_portfolio(), "objective", "stage")
    # A1 400 -> O1 research; A2 150 -> O1a and 150 -> O2 at deployment; A3 100 -> O2 and
    # 100 unallocated at demonstration; A4 100 unallocated at deployment (TRL 8).
    assert m.table("budget") == {
        NONE: {"demonstration": 100.0, "deployment": 100.0, "research": 0.0},
        "O1": {"demonstration": 0.0, "deployment": 0.0, "research": 400.0},
        "O1a": {"demonstration": 0.0, "deployment": 150.0, "research": 0.0},
        "O2": {"demonstration": 100.0, "deployment": 150.0, "research": 0.0},
    }
    assert m.table("activities")["O2"] == {"demonstration": 1, "deployment": 1, "research": 0}
    assert sum(c.budget for c in m.cells) == approx(1000.0)
    assert sum(c.share for c in m.cells) == approx(1.0)
    wide = m.pivot("budget")
    assert wide.columns == ["objective", "demonstration", "deployment", "research"]
    assert wide["objective"].to_list() == [NONE, "O1", "O1a", "O2"]
    assert wide.filter(wide["objective"] == "O2")["deployment"].item() == approx(150.0)
    json.dumps(m.to_dict())


def test_region_by_instrument_splits_budget_equally_over_regions() -> None:
    m = coverage_matrix(small_portfolio(), "region", "instrument")
    table = m.table("budget")
    # A1 (grant, 400) in DE21 and DE22: 200 each; A2 (procurement 300) in DE21.
    assert table["DE21"] == {"grant": 200.0, "loan": 0.0, "procurement": 300.0}
    assert table["DE22"]["grant"] == 200.0
    assert table["FR10"]["grant"] == 200.0
    assert table[NONE]["loan"] == 100.0
    assert m.table("activities")["DE21"] == {"grant": 1, "loan": 0, "procurement": 1}


def test_objective_by_region_multiplies_weights_and_region_split() -> None:
    table = coverage_matrix(small_portfolio(), "objective", "region").table()
    assert table["O1"]["DE21"] == 200.0 and table["O1"]["DE22"] == 200.0  # 400 x 1 x 1/2
    assert table["O2"]["DE21"] == 150.0 and table["O2"]["FR10"] == 100.0


def test_same_dimension_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="different dimensions"):
        coverage_matrix(small_portfolio(), "stage", "stage")


def test_coverage_statuses_and_unmapped_activities() -> None:
    c = coverage(small_portfolio(), thresholds=CoverageThresholds(share=0.2, activities=2))
    by_id = {o.objective: o for o in c.objectives}
    # O1 itself: A1's 400; with its sub-objective O1a: 550 from A1 and A2.
    assert (by_id["O1"].budget, by_id["O1"].activities) == (400.0, 1)
    assert (by_id["O1"].total_budget, by_id["O1"].total_activities) == (550.0, 2)
    assert by_id["O1"].status == "covered"
    assert by_id["O1a"].status == "thin"  # 15 % and one activity
    assert (by_id["O2"].total_budget, by_id["O2"].status) == (250.0, "covered")
    assert by_id["O3"].status == "none"
    assert c.uncovered_objectives == ("O3",)
    assert c.thin_objectives == ("O1a",)
    assert c.unmapped_activities == ("A4",)
    assert c.unmapped_budget == 100.0
    assert c.unallocated_budget == approx(200.0)  # A4's 100 and half of A3
    # Default thresholds (5 %, 3 activities): every objective has fewer than 3 activities.
    default = coverage(small_portfolio())
    assert default.thin_objectives == ("O1", "O1a", "O2")


# --- directionality ---------------------------------------------------------------------


def test_directionality_by_hand() -> None:
    d = directionality(small_portfolio())
    # A1 400 x 1 (manual); A2 150 x 1 (reviewed) + 150 x 0.5 (score); A3 100 x 0.8; A4 0.
    assert d.directed_budget == approx(400 + 150 + 75 + 80)
    assert d.share == approx(0.705)
    calls = {g.key: (g.budget, g.directed_budget) for g in d.by_call}
    assert calls == {"C1": approx((700.0, 625.0)), "C2": approx((300.0, 80.0))}
    assert [g.key for g in d.least_directed] == ["C2", "C1"]
    years = {g.key: g.share for g in d.by_year}
    assert years == {"2021": approx(1.0), "2022": approx(305 / 500), NONE: 0.0}
    objectives = {g.key: (g.budget, g.directed_budget) for g in d.by_objective}
    assert objectives == {"O1": approx((400.0, 400.0)), "O1a": approx((150.0, 150.0)),
                          "O2": approx((250.0, 155.0)), "O3": (0.0, 0.0)}  # fmt: skip
    assert d.by_provenance == approx({"manual": 400.0, "reviewed": 150.0, "suggested": 155.0})
    json.dumps(d.to_dict())


def test_provenance_weights_are_configurable() -> None:
    p = small_portfolio()
    flat = directionality(p, ProvenanceWeights(suggested=0.5, suggested_uses_score=False))
    assert flat.directed_budget == approx(400 + 150 + 75 + 50)
    confirmed = directionality(p, ProvenanceWeights(suggested=0.0, suggested_uses_score=False))
    assert confirmed.directed_budget == approx(550.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        ProvenanceWeights(manual=1.5)


# --- stage balance, instrument mix, drift ------------------------------------------------


def test_stage_balance_and_gaps_by_hand() -> None:
    s = stage_balance(small_portfolio())
    whole = {x.stage: x.budget for x in s.portfolio.stages}
    assert whole == {"research": 400.0, "development": 0.0, "demonstration": 200.0,
                     "deployment": 400.0, "diffusion": 0.0}  # fmt: skip
    assert s.portfolio.missing == ("development", "diffusion")
    by_id = {o.objective: o for o in s.objectives}
    # O1 includes its sub-objective O1a: A1's research and A2's deployment.
    assert {x.stage: x.budget for x in by_id["O1"].stages}["deployment"] == 150.0
    assert by_id["O1"].gap == "research but no development, demonstration or diffusion"
    assert not by_id["O1"].no_deployment
    assert by_id["O1a"].gap == "deployment but no diffusion"
    assert by_id["O2"].earliest == "demonstration"
    assert by_id["O2"].gap == "demonstration but no diffusion"
    assert {x.stage: x.share for x in by_id["O2"].stages}["deployment"] == approx(0.6)
    assert by_id["O3"].gap is None and by_id["O3"].budget == 0.0
    assert s.gaps == ("O1", "O1a", "O2")


def test_instrument_mix_and_trend_by_hand() -> None:
    m = instrument_mix(small_portfolio())
    assert {c.instrument: c.share for c in m.portfolio} == approx(
        {"grant": 0.6, "procurement": 0.3, "loan": 0.1}
    )
    o2 = {c.instrument: c.share for c in m.by_objective if c.key == "O2"}
    assert o2 == approx({"procurement": 0.6, "grant": 0.4})
    y2022 = {c.instrument: c.share for c in m.by_year if c.key == "2022"}
    assert y2022 == approx({"procurement": 0.6, "grant": 0.4})
    trend = {t.instrument: (t.first_share, t.last_share, t.change) for t in m.trend}
    assert trend == {"grant": approx((1.0, 0.4, -0.6)), "procurement": approx((0.0, 0.6, 0.6))}


def test_drift_per_year_and_per_call() -> None:
    d = drift(small_portfolio())
    assert [p.period for p in d.periods] == ["2021", "2022", NONE]
    assert [p.directed_share for p in d.periods] == approx([1.0, 0.61, 0.0])
    assert d.periods[1].stage_shares["deployment"] == approx(0.6)
    assert d.periods[1].instrument_shares == approx({"grant": 0.4, "procurement": 0.6})
    assert d.directed_share_change == approx(-0.39)
    assert d.stage_share_change["research"] == approx(-1.0)
    calls = drift(small_portfolio(), "call")
    assert [p.period for p in calls.periods] == ["C1", "C2"]
    assert calls.periods[1].stage_shares == approx(
        {"research": 0.0, "development": 0.0, "demonstration": 2 / 3, "deployment": 1 / 3,
         "diffusion": 0.0}
    )  # fmt: skip
    assert calls.directed_share_change is None


# --- findings -----------------------------------------------------------------------------


def test_headline_findings_rank_the_gaps_first() -> None:
    p = small_portfolio()
    spatial = spatial_equity(p, "nuts2")
    texts = headline_findings(
        p, thresholds=CoverageThresholds(share=0.2, activities=2), spatial=spatial, limit=None
    )
    assert texts[0] == "Objective 'Coasts' has no activity."
    assert texts[1] == (
        "Objective 'Green roofs' receives 15% of the budget (1 activity) "
        "and has deployment but no diffusion activity."
    )
    assert (
        "Objective 'Cool cities' has research but no development, demonstration or diffusion "
        "activity (55% of the budget)."
    ) in texts
    assert "1 activity (EUR 100, 10% of the budget) contributes to no objective." in texts
    assert any(
        t.startswith("2 of 4 regions get less than 50% of their population share") for t in texts
    )
    assert "The directed share fell from 100% in 2021 to 61% in 2022." in texts
    ranked = findings(p, thresholds=CoverageThresholds(share=0.2, activities=2))
    assert [f.tier for f in ranked] == sorted(f.tier for f in ranked)
    assert headline_findings(p, limit=2) == [f.text for f in findings(p)][:2]
