"""A/B statistics against statsmodels 0.15 on raw data, closed forms and properties.

(GrowthBook gbstats agreement is in tests/test_experiments_gbstats.py.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from missionkit.experiments import ab, bayesian, clustered, cuped, frequentist, sequential, srm
from missionkit.experiments.types import ArmSummary, ExperimentInputError, to_plain


def _summary(x: np.ndarray) -> ArmSummary:
    return ArmSummary.from_sums(int(x.size), float(x.sum()), float(x @ x))


def test_welch_matches_statsmodels_ttest_ind() -> None:
    # Reference: statsmodels.stats.weightstats.ttest_ind(usevar="unequal") and
    # CompareMeans.tconfint_diff on the raw data.
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

    rng = np.random.default_rng(11)
    a, b = rng.gamma(2.0, 3.0, 80), rng.gamma(2.2, 3.0, 55)
    res = frequentist.compare(_summary(a), _summary(b))
    t, p, dof = ttest_ind(b, a, usevar="unequal")
    lo, hi = CompareMeans(DescrStatsW(b), DescrStatsW(a)).tconfint_diff(usevar="unequal")
    assert res.absolute.estimate == pytest.approx(b.mean() - a.mean(), rel=1e-12)
    assert res.absolute.p_value == pytest.approx(p, rel=1e-9)
    assert res.absolute.dof == pytest.approx(dof, rel=1e-9)
    assert (res.absolute.ci_low, res.absolute.ci_high) == pytest.approx((lo, hi), rel=1e-9)
    assert res.absolute.estimate / res.absolute.se == pytest.approx(t, rel=1e-9)


def test_difference_in_proportions_uses_the_wald_standard_error() -> None:
    # Reference: statsmodels confint_proportions_2indep(method="wald", compare="diff").
    from statsmodels.stats.proportion import confint_proportions_2indep

    c, t = ArmSummary.from_successes(20000, 1000), ArmSummary.from_successes(20000, 1100)
    res = frequentist.compare(c, t)
    lo, hi = confint_proportions_2indep(1100, 20000, 1000, 20000, method="wald", compare="diff")
    # statsmodels uses normal quantiles, we (like gbstats) t(Welch dof): compare the SE and
    # the centre exactly, and the bounds to the t/normal quantile difference.
    assert res.absolute.se == pytest.approx((hi - lo) / (2 * stats.norm.ppf(0.975)), rel=1e-9)
    assert (res.absolute.ci_low + res.absolute.ci_high) / 2 == pytest.approx((lo + hi) / 2)
    assert (res.absolute.ci_low, res.absolute.ci_high) == pytest.approx((lo, hi), abs=2e-7)
    assert res.absolute.se == pytest.approx(math.sqrt(0.05 * 0.95 / 20000 + 0.055 * 0.945 / 20000))


def test_relative_effect_delta_method_covers_simulated_truth() -> None:
    # The delta-method interval for (mu_t - mu_c)/mu_c must cover the truth ~95% of the time.
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(400):
        a, b = rng.normal(10, 4, 300), rng.normal(11, 4, 300)
        rel = frequentist.compare(_summary(a), _summary(b)).relative
        assert rel is not None
        covered += rel.ci_low <= 0.1 <= rel.ci_high
    assert 0.92 <= covered / 400 <= 0.98


def test_bayesian_proper_prior_shrinks_towards_prior_mean() -> None:
    c, t = ArmSummary.from_successes(200, 20), ArmSummary.from_successes(200, 30)
    flat = bayesian.analyse(c, t)
    proper = bayesian.analyse(c, t, prior=bayesian.GaussianPrior(0.0, 0.3**2, proper=True))
    assert 0 < proper.expected < flat.expected
    assert proper.posterior_sd < flat.posterior_sd
    # chance to win is P(effect > 0) under the posterior, by definition
    assert flat.chance_to_win == pytest.approx(stats.norm.sf(0, flat.expected, flat.posterior_sd))
    inverse = bayesian.analyse(c, t, inverse=True)
    assert inverse.chance_to_win == pytest.approx(1 - flat.chance_to_win)


def test_expected_loss_closed_form_matches_numerical_integration() -> None:
    from scipy import integrate

    for mu, sigma in [(0.1, 0.3), (-0.2, 0.05), (0.0, 1.0)]:
        pos, neg = bayesian.expected_losses(mu, sigma)
        num_pos = integrate.quad(lambda x, m=mu, s=sigma: x * stats.norm.pdf(x, m, s), 0, np.inf)[0]
        num_neg = integrate.quad(lambda x, m=mu, s=sigma: -x * stats.norm.pdf(x, m, s), -np.inf, 0)[
            0
        ]
        assert (pos, neg) == pytest.approx((num_pos, num_neg), rel=1e-7, abs=1e-12)


def test_sequential_interval_is_wider_than_fixed_horizon() -> None:
    c, t = ArmSummary.from_sums(5000, 5000.0, 10000.0), ArmSummary.from_sums(5000, 5200.0, 10500.0)
    fixed = frequentist.compare(c, t).absolute
    seq = sequential.analyse(c, t).estimate
    assert seq.ci_low < fixed.ci_low and seq.ci_high > fixed.ci_high
    assert seq.p_value >= fixed.p_value


def test_sequential_type_one_error_under_continuous_monitoring() -> None:
    # Peeking after every batch: a fixed-horizon test rejects far more than alpha, the
    # always-valid interval stays near or below alpha.
    rng = np.random.default_rng(2)
    naive = valid = 0
    runs = 200
    for _ in range(runs):
        a, b = rng.normal(0, 1, 2000), rng.normal(0, 1, 2000)
        rejected_naive = rejected_valid = False
        for k in range(100, 2001, 100):
            sa, sb = _summary(a[:k]), _summary(b[:k])
            rejected_naive |= frequentist.compare(sa, sb).absolute.p_value < 0.05
            rejected_valid |= sequential.analyse(sa, sb, tuning=2000).estimate.p_value < 0.05
        naive += rejected_naive
        valid += rejected_valid
    assert naive / runs > 0.15
    assert valid / runs <= 0.07


def test_cuped_from_units_reduces_variance_and_keeps_the_effect() -> None:
    rng = np.random.default_rng(8)
    pre_a, pre_b = rng.normal(10, 3, 1000), rng.normal(10, 3, 1000)
    post_a = pre_a + rng.normal(0, 1, 1000)
    post_b = pre_b + 0.2 + rng.normal(0, 1, 1000)
    res = cuped.adjust(
        cuped.CovariateArm.from_units(post_a, pre_a), cuped.CovariateArm.from_units(post_b, pre_b)
    )
    # theta is the pooled OLS slope of post on pre
    x, y = np.concatenate([pre_a, pre_b]), np.concatenate([post_a, post_b])
    assert res.theta == pytest.approx(np.cov(y, x)[0, 1] / np.var(x, ddof=1), rel=1e-10)
    assert res.variance_reduction > 0.85  # corr(pre, post) ~ 0.95
    adjusted = frequentist.compare(res.control, res.treatment).absolute
    raw = frequentist.compare(_summary(post_a), _summary(post_b)).absolute
    assert adjusted.se < 0.4 * raw.se
    assert adjusted.ci_low < 0.2 < adjusted.ci_high


def test_cluster_robust_matches_statsmodels_ols_cluster() -> None:
    # Reference: statsmodels OLS(...).fit(cov_type="cluster") (CR1, t with G-1 df).
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(24), rng.integers(5, 30, 24))
    d = (g % 2).astype(float)
    y = 1.0 + 0.3 * d + rng.normal(0, 1, 24)[g] + rng.normal(0, 1, g.size)
    ours = clustered.analyse(y.tolist(), d.tolist(), g.tolist())
    ref = sm.OLS(y, sm.add_constant(d)).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    assert ours.absolute.estimate == pytest.approx(ref.params[1], rel=1e-12)
    assert ours.absolute.se == pytest.approx(ref.bse[1], rel=1e-10)
    assert ours.absolute.p_value == pytest.approx(ref.pvalues[1], rel=1e-8)
    lo, hi = ref.conf_int()[1]
    assert (ours.absolute.ci_low, ours.absolute.ci_high) == pytest.approx((lo, hi), rel=1e-9)
    assert ours.n_clusters == 24
    assert any("only 24 clusters" in w for w in ours.warnings)
    assert ours.icc > 0.2  # between-cluster variance equals within here (ICC ~ 0.5)


def test_srm_flags_a_broken_split() -> None:
    ok = srm.check([5021, 4979])
    bad = srm.check([5200, 4800])
    assert not ok.mismatch and bad.mismatch and bad.warnings
    assert bad.chi_square == pytest.approx(16.0)
    with pytest.raises(ExperimentInputError, match="weights"):
        srm.check([1, 2], [1.0])


SUMMARY = {
    "control": "A",
    "arms": {
        "A": {"n": 3407, "sum": 1396.87, "sum_squares": 52377.9},
        "B": {"n": 3461, "sum": 1500.25, "sum_squares": 62384.1},
        "C": {"n": 3390, "sum": 1700.0, "sum_squares": 60000.0},
    },
}


def test_ab_report_compares_every_arm_with_the_control() -> None:
    report = ab.analyse(ab.parse_summary(SUMMARY))
    assert [a.arm for a in report.arms] == ["B", "C"]
    b = report.arms[0]
    direct = frequentist.compare(
        ArmSummary.from_sums(3407, 1396.87, 52377.9), ArmSummary.from_sums(3461, 1500.25, 62384.1)
    )
    assert b.absolute == direct.absolute and b.relative == direct.relative
    assert 0 < b.chance_to_win < 1
    assert any("multiple comparisons" in w for w in report.warnings)
    plain = to_plain(report)
    assert plain["arms"][0]["relative"]["p_value"] == pytest.approx(direct.relative.p_value)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"arms": {"A": {"n": 10, "successes": 3}}}, "arms: must be an object with at least two"),
        (
            {"arms": {"A": {"n": 10, "successes": 3}, "B": {"n": 10, "successes": 11}}},
            "arms.B.successes: must be <= n",
        ),
        (
            {"arms": {"A": {"n": 10, "successes": 3}, "B": {"n": 1.5, "successes": 1}}},
            "arms.B.n: must be a whole number",
        ),
        (
            {"arms": {"A": {"n": 10, "sum": 3}, "B": {"n": 10, "sum": 4, "sum_squares": 9}}},
            "arms.A.sum_squares: is required",
        ),
        (
            {
                "arms": {
                    "A": {"n": 10, "sum": 30, "sum_squares": 10},
                    "B": {"n": 10, "sum": 4, "sum_squares": 9},
                }
            },
            "arms.A.sum_squares: is smaller",
        ),
        (
            {"arms": {"A": {"n": 10, "successes": 3}, "B": {"n": 10, "sum": 4, "sum_squares": 9}}},
            "arms: mix of mean and proportion",
        ),
        (
            {
                "control": "Z",
                "arms": {"A": {"n": 10, "successes": 3}, "B": {"n": 10, "successes": 4}},
            },
            "control: must name one of the arms",
        ),
        (
            {"alpha": 2, "arms": {"A": {"n": 10, "successes": 3}, "B": {"n": 10, "successes": 4}}},
            "alpha: must be between",
        ),
        (
            {"arms": {"A": {"n": "ten", "successes": 3}, "B": {"n": 10, "successes": 4}}},
            "arms.A.n: must be a number",
        ),
        (
            {"arms": {"A": {"n": 10, "successes": 3, "x": 1}, "B": {"n": 10, "successes": 4}}},
            "arms.A.x: unknown field",
        ),
    ],
)
def test_bad_summaries_name_the_field(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ExperimentInputError) as info:
        ab.parse_summary(doc)
    assert str(info.value).startswith(message)


@settings(max_examples=60, deadline=None)
@given(
    n1=st.integers(2, 5000),
    n2=st.integers(2, 5000),
    p1=st.floats(0.01, 0.99),
    p2=st.floats(0.01, 0.99),
)
def test_swapping_arms_flips_the_absolute_effect(n1: int, n2: int, p1: float, p2: float) -> None:
    a = ArmSummary.from_successes(n1, round(n1 * p1))
    b = ArmSummary.from_successes(n2, round(n2 * p2))
    if a.variance == 0 and b.variance == 0:
        return
    ab_ = frequentist.compare(a, b).absolute
    ba = frequentist.compare(b, a).absolute
    assert ab_.estimate == pytest.approx(-ba.estimate, abs=1e-12)
    assert ab_.p_value == pytest.approx(ba.p_value, rel=1e-9, abs=1e-300)
    assert ab_.ci_low <= ab_.estimate <= ab_.ci_high


def test_cuped_flags_pre_period_imbalance_and_a_useless_covariate() -> None:
    rng = np.random.default_rng(9)
    pre_a, pre_b = rng.normal(10, 3, 500), rng.normal(11, 3, 500)  # arms differ before
    post_a, post_b = rng.normal(0, 1, 500), rng.normal(0, 1, 500)  # unrelated to pre
    res = cuped.adjust(
        cuped.CovariateArm.from_units(post_a, pre_a), cuped.CovariateArm.from_units(post_b, pre_b)
    )
    assert res.pre_period_smd == pytest.approx(
        (pre_b.mean() - pre_a.mean()) / math.sqrt((pre_a.var(ddof=1) + pre_b.var(ddof=1)) / 2)
    )
    assert any("pre-period imbalance" in w for w in res.warnings)
    assert any("barely reduces" in w for w in res.warnings)
    assert res.assumptions


@pytest.mark.parametrize("n_clusters", [6, 9, 12])
def test_wild_cluster_bootstrap_matches_wildboottest_by_enumeration(n_clusters: int) -> None:
    # Reference: wildboottest 0.3.2 (WCR11, Rademacher, null imposed). With 2^G < B both
    # enumerate every sign pattern, so the p-values are deterministic. The all-ones and
    # all-minus-ones patterns reproduce |t| exactly; we count these two ties as
    # exceedances, wildboottest leaves them to rounding, hence "+ 0 or 2 patterns".
    import warnings

    import pandas as pd
    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    from missionkit.experiments.regression import cluster_codes, wild_cluster_bootstrap

    rng = np.random.default_rng(n_clusters)
    g = np.repeat(np.arange(n_clusters), rng.integers(5, 20, n_clusters))
    d = (g % 2).astype(float)
    covariate = rng.normal(size=g.size)
    y = 0.6 * d + 0.5 * covariate + rng.normal(0, 1, n_clusters)[g] + rng.normal(size=g.size)
    frame = pd.DataFrame({"const": 1.0, "d": d, "x": covariate})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = wildboottest(sm.OLS(y, frame), param="d", cluster=g, B=9999, show=False, seed=1)
    ours = wild_cluster_bootstrap(y, frame.to_numpy(), cluster_codes(g)[0], 1)
    assert ours.enumerated and ours.draws == 2**n_clusters
    assert ours.t_stat == pytest.approx(float(ref["statistic"].iloc[0]), rel=1e-9)
    gap = ours.p_value - float(ref["p-value"].iloc[0])
    assert gap == pytest.approx(0.0, abs=1e-12) or gap == pytest.approx(2 / 2**n_clusters)


def test_wild_cluster_bootstrap_with_random_draws_agrees_with_wildboottest() -> None:
    import warnings

    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    rng = np.random.default_rng(21)
    g = np.repeat(np.arange(20), 15)
    d = (g < 10).astype(float)
    y = 0.35 * d + rng.normal(0, 1, 20)[g] + rng.normal(size=g.size)
    ours = clustered.analyse(y.tolist(), d.tolist(), g.tolist(), draws=19999, seed=3)
    assert ours.bootstrap is not None and not ours.bootstrap.enumerated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = wildboottest(
            sm.OLS(y, sm.add_constant(d)), param="x1", cluster=g, B=19999, show=False, seed=5,
            weights_type="rademacher",
        )  # fmt: skip
    # independent random draws: Monte Carlo error of a p-value near 0.2 at B=19999 is ~0.003
    assert ours.bootstrap.p_value == pytest.approx(float(ref["p-value"].iloc[0]), abs=0.015)
    assert any("wild cluster bootstrap p" in w for w in ours.warnings)
    assert clustered.analyse(y.tolist(), d.tolist(), g.tolist(), bootstrap=False).bootstrap is None


def test_before_after_matches_scipy_paired_t_test_and_warns() -> None:
    # Reference: scipy.stats.ttest_rel (paired t test) on the same units.
    from missionkit.experiments import before_after

    rng = np.random.default_rng(12)
    before = rng.normal(50, 10, 25)
    after = before + rng.normal(2, 4, 25)
    res = before_after.analyse(before.tolist(), after.tolist())
    ref = stats.ttest_rel(after, before)
    assert res.change.estimate == pytest.approx(float(np.mean(after - before)))
    assert res.change.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    lo, hi = ref.confidence_interval()
    assert (res.change.ci_low, res.change.ci_high) == pytest.approx((lo, hi), rel=1e-10)
    assert any("without a comparison group" in w for w in res.warnings)
    with pytest.raises(ExperimentInputError, match="after"):
        before_after.analyse([1.0, 2.0], [1.0])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)  # fmt: skip
ARM = st.fixed_dictionaries(
    {},
    optional={
        "n": JSON | st.integers(-5, 50),
        "sum": JSON | st.floats(-100, 100),
        "sum_squares": JSON | st.floats(-10, 1000),
        "successes": JSON | st.integers(-5, 60),
        "pre_sum": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    doc=st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"arms": st.dictionaries(st.text(min_size=1, max_size=3), ARM | JSON, max_size=4)},
            optional={"control": JSON, "alpha": JSON, "weights": JSON},
        ),
    )
)
def test_any_json_summary_parses_or_names_the_problem(doc: object) -> None:
    try:
        spec = ab.parse_summary(doc)
    except ExperimentInputError as e:
        assert e.field and e.message
        return
    try:
        report = ab.analyse(spec)
    except ExperimentInputError as e:  # e.g. both arms constant
        assert e.field and e.message
        return
    for arm in report.arms:
        assert 0.0 <= arm.chance_to_win <= 1.0
