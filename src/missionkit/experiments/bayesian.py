"""Bayesian comparison of two arms: chance to win and expected loss.

GrowthBook's effect-based approach (gbstats ``EffectBayesianABTest``): the likelihood of the
effect Δ (relative by default, else absolute) is normal with the frequentist point estimate
and variance; the prior on Δ is normal N(μ₀, σ₀²). With the default *improper flat prior* the
posterior is the likelihood itself; with a proper prior the posterior precision is
1/v + 1/σ₀² and the mean the precision-weighted average. Chance to win is P(Δ > 0 | data)
(P(Δ < 0) for metrics where lower is better). Expected loss ("risk") of shipping treatment is
E[max(−Δ, 0)] and of keeping control E[max(Δ, 0)], in closed form:
E[max(Δ, 0)] = μ Φ(μ/σ) + σ φ(μ/σ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import stats

from missionkit.experiments.frequentist import (
    absolute_variance,
    arm_warnings,
    check_arms,
    relative_variance,
)
from missionkit.experiments.types import ArmSummary, ExperimentInputError

Scale = Literal["relative", "absolute"]


@dataclass(frozen=True)
class GaussianPrior:
    """Normal prior on the effect, on the scale ``scale``; ignored unless ``proper``.

    The default is improper (flat), as in GrowthBook. When a proper prior is wanted, the
    field defaults (mean 0, standard deviation 0.3 on the relative scale: lifts beyond ±60%
    are a priori unlikely) are the weakly informative choice the tests check against gbstats.
    """

    mean: float = 0.0
    variance: float = 0.09
    proper: bool = False
    scale: Scale = "relative"


@dataclass(frozen=True)
class BayesianResult:
    scale: Scale
    expected: float  # posterior mean of the effect
    posterior_sd: float
    ci_low: float  # equal-tailed credible interval
    ci_high: float
    chance_to_win: float
    risk_control: float  # expected loss of keeping control
    risk_treatment: float  # expected loss of shipping treatment
    prior: GaussianPrior
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]


def expected_losses(mu: float, sigma: float) -> tuple[float, float]:
    """(E[max(Δ,0)], E[max(−Δ,0)]) for Δ ~ N(mu, sigma²)."""
    if sigma <= 0:
        return max(mu, 0.0), max(-mu, 0.0)
    z = mu / sigma
    pdf = float(stats.norm.pdf(z))
    pos = mu * float(stats.norm.cdf(z)) + sigma * pdf
    neg = -mu * float(stats.norm.cdf(-z)) + sigma * pdf
    return pos, neg


def analyse(
    control: ArmSummary,
    treatment: ArmSummary,
    *,
    scale: Scale = "relative",
    prior: GaussianPrior | None = None,
    alpha: float = 0.05,
    inverse: bool = False,
) -> BayesianResult:
    """Posterior of the effect of treatment over control, chance to win and risk.

    ``inverse`` marks a metric where lower is better (chance to win is then P(Δ < 0)).
    """
    check_arms(control, treatment, alpha)
    prior = prior or GaussianPrior()
    if scale == "relative" and control.raw_mean == 0:
        raise ExperimentInputError("control", "mean is 0: use the absolute scale")
    diff = treatment.mean - control.mean
    if scale == "relative":
        data_mean = diff / control.raw_mean
        data_var = relative_variance(control, treatment)
    else:
        data_mean = diff
        data_var = absolute_variance(control, treatment)
    prior_mean, prior_var = prior.mean, prior.variance
    if prior.scale != scale and prior.proper:  # rescale as gbstats does
        m = control.raw_mean
        if prior.scale == "absolute":
            prior_mean, prior_var = prior_mean / abs(m), prior_var / m**2
        else:
            prior_mean, prior_var = prior_mean * abs(m), prior_var * m**2
    if prior.proper and not prior_var > 0:
        raise ExperimentInputError("prior.variance", "must be > 0")
    if prior.proper:
        precision = 1 / data_var + 1 / prior_var
        mean = (data_mean / data_var + prior_mean / prior_var) / precision
    else:
        precision = 1 / data_var
        mean = data_mean
    sd = math.sqrt(1 / precision)
    p_up = float(stats.norm.sf(0, mean, sd))
    ci_low, ci_high = (float(x) for x in stats.norm.ppf([alpha / 2, 1 - alpha / 2], mean, sd))
    risk_ctrl, risk_trt = expected_losses(mean, sd)
    if inverse:
        risk_ctrl, risk_trt = risk_trt, risk_ctrl
    assumptions = (
        "normal likelihood for the effect (large-sample approximation)",
        f"prior on the {scale} effect: "
        + (
            f"normal, mean {prior_mean:g}, variance {prior_var:g}"
            if prior.proper
            else "improper flat prior (posterior = likelihood)"
        ),
    )
    return BayesianResult(
        scale=scale,
        expected=mean,
        posterior_sd=sd,
        ci_low=ci_low,
        ci_high=ci_high,
        chance_to_win=1 - p_up if inverse else p_up,
        risk_control=risk_ctrl,
        risk_treatment=risk_trt,
        prior=prior,
        assumptions=assumptions,
        warnings=tuple(arm_warnings(control, treatment)),
    )
