"""Difference-in-differences against published results and linearmodels.

References:
- Callaway & Sant'Anna (2021, J. Econometrics 225(2)) on the mpdta data, as published by the
  R package ``did`` (README and the ``aggte`` reference page, did 2.x): ATT(g,t) point
  estimates to 4 decimals, the Wald pre-test p-value 0.16812 (analytical, so exact), and the
  aggregations. Published standard errors are multiplier-bootstrap draws, so ours
  (analytical) are compared within 12%.
- linearmodels 7.1 ``PanelOLS`` (entity and time effects, clustered by entity) for TWFE on
  the organ donations data of Kessler & Roth (2014) shipped by ``causaldata`` 0.1.5
  (``organ_donations``; California's active-choice policy from 2011 Q3), and on mpdta.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missionkit.experiments import did
from missionkit.experiments.types import ExperimentInputError

MPDTA = list(csv.DictReader((Path(__file__).parent / "data/did/mpdta.csv").open()))
Y = [float(r["lemp"]) for r in MPDTA]
UNIT = [r["countyreal"] for r in MPDTA]
YEAR = [float(r["year"]) for r in MPDTA]
GROUP = [float(r["first.treat"]) for r in MPDTA]

# did README / reference pages: (group, time) -> (ATT, bootstrap SE)
PUBLISHED_ATT_GT = {
    (2004, 2004): (-0.0105, 0.0241),
    (2004, 2005): (-0.0704, 0.0313),
    (2004, 2006): (-0.1373, 0.0380),
    (2004, 2007): (-0.1008, 0.0337),
    (2006, 2004): (0.0065, 0.0223),
    (2006, 2005): (-0.0028, 0.0196),
    (2006, 2006): (-0.0046, 0.0188),
    (2006, 2007): (-0.0412, 0.0202),
    (2007, 2004): (0.0305, 0.0154),
    (2007, 2005): (-0.0027, 0.0168),
    (2007, 2006): (-0.0311, 0.0190),
    (2007, 2007): (-0.0261, 0.0182),
}


@pytest.fixture(scope="module")
def cs() -> did.CallawaySantAnnaResult:
    return did.callaway_santanna(Y, UNIT, YEAR, GROUP)


def test_group_time_effects_match_did_package(cs: did.CallawaySantAnnaResult) -> None:
    got = {(int(e.group), int(e.time)): e for e in cs.effects}
    assert set(got) == set(PUBLISHED_ATT_GT)
    for key, (att, se) in PUBLISHED_ATT_GT.items():
        assert got[key].estimate.estimate == pytest.approx(att, abs=5e-5), key
        assert got[key].estimate.se == pytest.approx(se, rel=0.12), key
    assert cs.n_units == 500


def test_pretest_p_value_matches_did_package(cs: did.CallawaySantAnnaResult) -> None:
    # "P-value for pre-test of parallel trends assumption: 0.16812"
    assert cs.pretrend_p_value == pytest.approx(0.16812, abs=5e-6)
    assert not any("pre-trends" in w for w in cs.warnings)


@pytest.mark.parametrize(
    ("kind", "att", "se"),
    [
        ("simple", -0.0400, 0.0119),
        ("dynamic", -0.0772, 0.0208),
        ("group", -0.0310, 0.0126),
        ("calendar", -0.0417, 0.0175),
    ],
)
def test_aggregations_match_did_package(
    cs: did.CallawaySantAnnaResult, kind: did.Aggregation, att: float, se: float
) -> None:
    # did ``aggte`` reference page examples (did 2.x, never-treated control)
    agg = cs.aggregate(kind)
    assert agg.overall.estimate == pytest.approx(att, abs=5e-5)
    assert agg.overall.se == pytest.approx(se, rel=0.12)


def test_dynamic_and_group_effects_match_did_package(cs: did.CallawaySantAnnaResult) -> None:
    dyn = dict(cs.aggregate("dynamic").by)
    published = {
        -3: 0.0305,
        -2: -0.0006,
        -1: -0.0245,
        0: -0.0199,
        1: -0.0510,
        2: -0.1373,
        3: -0.1008,
    }
    for e, value in published.items():
        assert dyn[float(e)].estimate == pytest.approx(value, abs=5e-5)
    grp = dict(cs.aggregate("group").by)
    for g, value in {2004: -0.0797, 2006: -0.0229, 2007: -0.0261}.items():
        assert grp[float(g)].estimate == pytest.approx(value, abs=5e-5)
    cal = dict(cs.aggregate("calendar").by)
    for t, value in {2004: -0.0105, 2005: -0.0704, 2006: -0.0488, 2007: -0.0371}.items():
        assert cal[float(t)].estimate == pytest.approx(value, abs=5e-5)


def test_not_yet_treated_control_group_uses_more_controls() -> None:
    never = did.callaway_santanna(Y, UNIT, YEAR, GROUP)
    notyet = did.callaway_santanna(Y, UNIT, YEAR, GROUP, control_group="notyet")
    by_key = {(e.group, e.time): e for e in notyet.effects}
    # 2004 cohort in 2004: controls are never-treated plus the 2006 and 2007 cohorts
    e = by_key[(2004.0, 2004.0)]
    assert e.n_control == sum(1 for g in GROUP[::5] if g == 0 or g > 2004)
    assert e.n_control > {(x.group, x.time): x for x in never.effects}[(2004.0, 2004.0)].n_control
    # the last cohort in its own year has only never-treated controls either way
    assert by_key[(2007.0, 2007.0)].estimate.estimate == pytest.approx(-0.0261, abs=5e-5)


def _linearmodels_twfe(frame: object, y: str, d: str) -> tuple[float, float, float]:
    from linearmodels.panel import PanelOLS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = PanelOLS(frame[y], frame[[d]], entity_effects=True, time_effects=True).fit(  # type: ignore[index]
            cov_type="clustered", cluster_entity=True
        )
    return float(fit.params[d]), float(fit.std_errors[d]), float(fit.df_resid)


def test_twfe_matches_linearmodels_on_organ_donations() -> None:
    # Kessler & Roth (2014) organ donor registrations; reference: linearmodels 7.1 PanelOLS
    from causaldata import organ_donations

    od = organ_donations.load_pandas().data
    od["treated"] = ((od.State == "California") & (od.Quarter_Num >= 4)).astype(float)
    ours = did.twfe(
        od.Rate.tolist(), od.treated.tolist(), od.State.tolist(), od.Quarter_Num.tolist()
    )
    b, se, df_resid = _linearmodels_twfe(od.set_index(["State", "Quarter_Num"]), "Rate", "treated")
    assert ours.estimate.estimate == pytest.approx(b, rel=1e-10)
    # Same sandwich; the small-sample factors differ by convention: linearmodels scales by
    # N / df_resid (counting the absorbed effects), we by G/(G-1)·(N-1)/(N-K) (Stata).
    n, g = 162, 27
    assert ours.estimate.se**2 / (g / (g - 1)) == pytest.approx(se**2 * df_resid / n, rel=1e-9)
    assert ours.n_clusters == 27 and ours.estimate.dof == 26
    assert any("only 27 clusters" in w for w in ours.warnings)
    assert not ours.staggered


def test_twfe_matches_linearmodels_on_mpdta_and_warns_about_staggering() -> None:
    import pandas as pd

    frame = pd.DataFrame({"y": Y, "unit": UNIT, "year": YEAR, "g": GROUP})
    frame["d"] = ((frame.g > 0) & (frame.year >= frame.g)).astype(float)
    ours = did.twfe(Y, frame.d.tolist(), UNIT, YEAR)
    b, se, df_resid = _linearmodels_twfe(frame.set_index(["unit", "year"]), "y", "d")
    assert ours.estimate.estimate == pytest.approx(b, rel=1e-10)
    assert ours.estimate.se**2 / (500 / 499) == pytest.approx(se**2 * df_resid / 2500, rel=1e-9)
    assert ours.staggered and any("Callaway" in w for w in ours.warnings)


def test_twfe_on_unbalanced_panel_matches_dummy_regression() -> None:
    # Alternating demeaning must equal least squares with explicit unit and time dummies.
    rng = np.random.default_rng(7)
    units = np.repeat(np.arange(30), 6)
    times = np.tile(np.arange(6), 30)
    keep = rng.random(units.size) > 0.15
    units, times = units[keep], times[keep]
    d = ((units < 12) & (times >= 3)).astype(float)
    y = 0.5 * d + units * 0.1 + times * 0.2 + rng.normal(size=units.size)
    ours = did.twfe(y.tolist(), d.tolist(), units.tolist(), times.tolist())
    x = np.column_stack([d, np.eye(30)[units], np.eye(6)[times][:, 1:]])
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    assert ours.estimate.estimate == pytest.approx(beta[0], rel=1e-9)


def test_event_study_recovers_a_known_dynamic_effect() -> None:
    # Simulated staggered roll-out with no noise: effects 1 + e after adoption, 0 before.
    rows = []
    for unit in range(40):
        g = [4, 6, 0, 0][unit % 4]
        for t in range(1, 9):
            effect = (1 + t - g) if g and t >= g else 0.0
            rows.append((unit, t, g, unit * 0.3 + t * 0.1 + effect))
    u, t, g, y = (list(c) for c in zip(*rows, strict=True))
    es = did.event_study(y, u, t, g)
    got = {e.event_time: e.estimate.estimate for e in es.effects}
    assert -1 not in got
    for e, value in got.items():
        assert value == pytest.approx(1 + e if e >= 0 else 0.0, abs=1e-9)


def test_event_study_flags_pre_trends() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for unit in range(60):
        g = 5 if unit < 30 else 0
        for t in range(1, 9):
            trend = 0.4 * t if g else 0.0  # treated units drift up before adoption
            rows.append((unit, t, g, trend + rng.normal(scale=0.1)))
    u, t, g, y = (list(c) for c in zip(*rows, strict=True))
    es = did.event_study(y, u, t, g)
    assert es.pretrend_p_value is not None and es.pretrend_p_value < 1e-6
    assert any("pre-trends" in w for w in es.warnings)


def test_bad_panels_are_named() -> None:
    with pytest.raises(ExperimentInputError, match="unit: a unit appears twice"):
        did.twfe([1.0, 2.0], [0.0, 1.0], ["a", "a"], [1, 1])
    with pytest.raises(ExperimentInputError, match="treated: does not vary"):
        did.twfe([1.0, 2.0, 3.0, 4.0], [0.0] * 4, ["a", "a", "b", "b"], [1, 2, 1, 2])
    with pytest.raises(ExperimentInputError, match="not balanced"):
        did.callaway_santanna(Y[:-1], UNIT[:-1], YEAR[:-1], GROUP[:-1])
    with pytest.raises(ExperimentInputError, match="first_treated: no never-treated"):
        did.callaway_santanna(Y, UNIT, YEAR, [g or 2007.0 for g in GROUP])


@settings(max_examples=25, deadline=None)
@given(
    effect=st.floats(-5, 5, allow_nan=False),
    unit_fe=st.lists(st.floats(-10, 10), min_size=8, max_size=8),
)
def test_twfe_is_exact_without_noise(effect: float, unit_fe: list[float]) -> None:
    # y = unit effect + time effect + effect * D has TWFE estimate exactly ``effect``.
    rows = [(i, t) for i in range(8) for t in range(5)]
    d = [1.0 if i < 4 and t >= 2 else 0.0 for i, t in rows]
    y = [unit_fe[i] + 0.7 * t + effect * di for (i, t), di in zip(rows, d, strict=True)]
    res = did.twfe(y, d, [i for i, _ in rows], [t for _, t in rows])
    assert res.estimate.estimate == pytest.approx(effect, abs=1e-8)


def test_event_study_matches_linearmodels_on_mpdta() -> None:
    # Reference: linearmodels 7.1 PanelOLS with relative-time dummies (reference period -1),
    # entity and time effects, clustered by county.
    import pandas as pd
    from linearmodels.panel import PanelOLS

    es = did.event_study(Y, UNIT, YEAR, GROUP)
    frame = pd.DataFrame({"y": Y, "unit": UNIT, "year": YEAR, "g": GROUP})
    rel = (frame.year - frame.g).where(frame.g > 0)
    names = []
    for e in sorted(rel.dropna().unique()):
        if e == -1:
            continue
        name = f"e{int(e)}".replace("-", "m")
        frame[name] = (rel == e).astype(float)
        names.append(name)
    panel = frame.set_index(["unit", "year"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = PanelOLS(panel.y, panel[names], entity_effects=True, time_effects=True).fit(
            cov_type="clustered", cluster_entity=True
        )
    for effect, name in zip(es.effects, names, strict=True):
        assert effect.estimate.estimate == pytest.approx(fit.params[name], rel=1e-8, abs=1e-12)
        # same sandwich; linearmodels scales by N/df_resid, we by G/(G-1) (see above)
        ours = effect.estimate.se**2 / (500 / 499) * ((2500 - len(names)) / 2499)
        assert ours == pytest.approx(fit.std_errors[name] ** 2 * fit.df_resid / 2500, rel=1e-8)


def test_estimators_leave_the_callers_arrays_alone() -> None:
    g = np.array(GROUP, dtype=float)
    before = g.copy()
    did.callaway_santanna(Y, UNIT, YEAR, g)
    did.event_study(Y, UNIT, YEAR, g)
    assert np.array_equal(g, before)


def test_event_study_plot_places_points_by_value() -> None:
    import xml.etree.ElementTree as ET

    from missionkit.experiments.plot import event_study_svg

    es = did.event_study(Y, UNIT, YEAR, GROUP)
    root = ET.fromstring(event_study_svg(es, title="Teen employment"))
    ns = "{http://www.w3.org/2000/svg}"
    circles = {int(c.get("data-event-time", "")): c for c in root.iter(f"{ns}circle")}
    assert sorted(circles) == [-4, -3, -2, -1, 0, 1, 2, 3]
    assert circles[-1].get("class") == "reference" and circles[2].get("class") == "post"
    y = {e: float(c.get("cy", "nan")) for e, c in circles.items()}
    zero = next(float(line.get("y1", "nan")) for line in root.iter(f"{ns}line")
                if line.get("class") == "zero")  # fmt: skip
    assert y[-1] == pytest.approx(zero, abs=0.1)
    assert y[2] > y[0] > zero > y[-3]  # -0.132 < -0.018 < 0 < 0.025 (SVG y grows downwards)
    x = {e: float(c.get("cx", "nan")) for e, c in circles.items()}
    assert x[-4] < x[-1] < x[0] < x[3]
    assert "Teen employment" in (root.find(f"{ns}title").text or "")  # type: ignore[union-attr]


@settings(max_examples=25, deadline=None)
@given(
    effects=st.lists(st.floats(-3, 3, allow_nan=False), min_size=12, max_size=12),
    trend=st.floats(-1, 1),
    control=st.sampled_from(["never", "notyet"]),
)
def test_callaway_santanna_is_exact_without_noise(
    effects: list[float], trend: float, control: did.ControlGroup
) -> None:
    # Cohorts 3, 4, 5 over periods 1..6 plus never-treated units; each cohort-period effect
    # is arbitrary (heterogeneous, dynamic). Without noise every ATT(g,t) is recovered
    # exactly, pre-periods are 0, and "group" averages each cohort's post effects.
    cohorts = (3, 4, 5)
    effect = {}
    k = 0
    for g in cohorts:
        for t in range(g, 7):
            effect[(g, t)] = effects[k % 12]
            k += 1
    y, unit, time, first = [], [], [], []
    for i in range(24):
        g = [0, 3, 4, 5][i % 4]
        for t in range(1, 7):
            y.append(i * 0.5 + trend * t + effect.get((g, t), 0.0))
            unit.append(i)
            time.append(t)
            first.append(g)
    res = did.callaway_santanna(y, unit, time, first, control_group=control)
    for e in res.effects:
        # the base period (g - 1 after adoption, t - 1 before) is untreated, so the
        # comparison isolates the cohort-period effect; pre-periods compare untreated changes
        expected = effect[(int(e.group), int(e.time))] if e.time >= e.group else 0.0
        assert e.estimate.estimate == pytest.approx(expected, abs=1e-9)
    by_group = dict(res.aggregate("group").by)
    for g in cohorts:
        post = [effect[(g, t)] for t in range(g, 7)]
        assert by_group[float(g)].estimate == pytest.approx(sum(post) / len(post), abs=1e-9)


@pytest.mark.parametrize("n_units", [7, 10])
def test_twfe_wild_bootstrap_equals_the_dummy_variable_regression(n_units: int) -> None:
    # Reference: wildboottest 0.3.2 on OLS with explicit unit and period dummies, clustered
    # by unit; both enumerate all 2^G sign patterns. Equal up to the two exact ties (see
    # test_experiments_ab), which we count and wildboottest leaves to rounding.
    import pandas as pd
    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    rng = np.random.default_rng(n_units)
    unit = np.repeat(np.arange(n_units), 6)
    time = np.tile(np.arange(6), n_units)
    d = ((unit < n_units // 2) & (time >= 3)).astype(float)
    y = (0.3 * d + rng.normal(0, 1, n_units)[unit] + rng.normal(0, 1, 6)[time]
         + rng.normal(size=unit.size))  # fmt: skip
    x = pd.concat(
        [pd.DataFrame({"d": d}), pd.get_dummies(unit, prefix="u", dtype=float),
         pd.get_dummies(time, prefix="t", drop_first=True, dtype=float)], axis=1,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = wildboottest(sm.OLS(y, x), param="d", cluster=unit, B=9999, show=False, seed=1)
    ours = did.twfe(y.tolist(), d.tolist(), unit.tolist(), time.tolist())
    assert ours.bootstrap is not None and ours.bootstrap.enumerated
    gap = ours.bootstrap.p_value - float(ref["p-value"].iloc[0])
    assert gap == pytest.approx(0.0, abs=1e-12) or gap == pytest.approx(2 / 2**n_units)
    assert any("wild cluster bootstrap" in w for w in ours.warnings)
