"""CUPED: variance reduction with a pre-period covariate (Deng et al. 2013).

Each unit's outcome Y is replaced by Y − θ·X, with X the same metric measured before the
experiment. θ = Cov(Y, X)/Var(X) is estimated on both arms pooled (randomisation makes X
independent of the arm, so the adjustment cannot bias the effect), exactly as gbstats
``compute_theta``. The adjusted variance is Var(Y) + θ²Var(X) − 2θCov(Y, X); relative effects
keep the unadjusted control mean as denominator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from missionkit.experiments.types import ArmSummary, ExperimentInputError


@dataclass(frozen=True)
class CovariateArm:
    """Sufficient statistics of one arm with its pre-period covariate."""

    n: int
    post_sum: float
    post_sum_squares: float
    pre_sum: float
    pre_sum_squares: float
    post_pre_sum_products: float

    @classmethod
    def from_units(cls, post: Sequence[float], pre: Sequence[float]) -> CovariateArm:
        y, x = np.asarray(post, dtype=float), np.asarray(pre, dtype=float)
        if y.shape != x.shape:
            raise ExperimentInputError("pre", "must have one value per unit")
        return cls(
            int(y.size),
            float(y.sum()),
            float(y @ y),
            float(x.sum()),
            float(x @ x),
            float(y @ x),
        )


WEAK_REDUCTION = 0.01
IMBALANCE_SMD = 0.1


@dataclass(frozen=True)
class CupedResult:
    theta: float
    control: ArmSummary  # adjusted
    treatment: ArmSummary  # adjusted
    variance_reduction: float  # 1 − adjusted/unadjusted variance of the difference
    pre_period_smd: float  # standardized mean difference of the covariate between arms
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _var(n: int, s: float, ss: float) -> float:
    return 0.0 if n <= 1 else (ss - s * s / n) / (n - 1)


def _cov(n: int, sy: float, sx: float, sxy: float) -> float:
    return 0.0 if n <= 1 else (sxy - sy * sx / n) / (n - 1)


def theta(control: CovariateArm, treatment: CovariateArm) -> float:
    """Pooled regression coefficient of the outcome on the covariate (0 if X is constant)."""
    n = control.n + treatment.n
    sy = control.post_sum + treatment.post_sum
    sx = control.pre_sum + treatment.pre_sum
    vx = _var(n, sx, control.pre_sum_squares + treatment.pre_sum_squares)
    vy = _var(n, sy, control.post_sum_squares + treatment.post_sum_squares)
    if vx == 0 or vy == 0:
        return 0.0
    sxy = control.post_pre_sum_products + treatment.post_pre_sum_products
    return _cov(n, sy, sx, sxy) / vx


def _adjusted(arm: CovariateArm, th: float) -> ArmSummary:
    if arm.n < 2:
        raise ExperimentInputError("n", "each arm needs at least 2 units")
    mean_y, mean_x = arm.post_sum / arm.n, arm.pre_sum / arm.n
    vy = _var(arm.n, arm.post_sum, arm.post_sum_squares)
    vx = _var(arm.n, arm.pre_sum, arm.pre_sum_squares)
    cxy = _cov(arm.n, arm.post_sum, arm.pre_sum, arm.post_pre_sum_products)
    return ArmSummary(
        n=arm.n,
        mean=mean_y - th * mean_x,
        variance=max(vy + th * th * vx - 2 * th * cxy, 0.0),
        kind="mean",
        unadjusted_mean=mean_y,
    )


def adjust(control: CovariateArm, treatment: CovariateArm) -> CupedResult:
    """Covariate-adjusted arm summaries, ready for the frequentist or Bayesian analysis."""
    th = theta(control, treatment)
    c, t = _adjusted(control, th), _adjusted(treatment, th)
    raw = (
        _var(control.n, control.post_sum, control.post_sum_squares) / control.n
        + _var(treatment.n, treatment.post_sum, treatment.post_sum_squares) / treatment.n
    )
    adj = c.variance / c.n + t.variance / t.n
    reduction = 0.0 if raw == 0 else 1 - adj / raw
    # balance check: randomisation should leave the pre-period covariate equal across arms
    vx_c = _var(control.n, control.pre_sum, control.pre_sum_squares)
    vx_t = _var(treatment.n, treatment.pre_sum, treatment.pre_sum_squares)
    pooled = ((vx_c + vx_t) / 2) ** 0.5
    diff = treatment.pre_sum / treatment.n - control.pre_sum / control.n
    smd = 0.0 if pooled == 0 else diff / pooled
    warnings = []
    if abs(smd) > IMBALANCE_SMD:
        warnings.append(
            f"pre-period imbalance: the covariate differs by {smd:+.2f} standard deviations "
            "between arms; check the randomisation"
        )
    if reduction < WEAK_REDUCTION:
        warnings.append("the covariate barely reduces variance: it hardly predicts the outcome")
    assumptions = (
        "covariate measured before assignment (unaffected by treatment)",
        "theta pooled over both arms (Deng et al. 2013; gbstats compute_theta)",
    )
    return CupedResult(th, c, t, reduction, smd, assumptions, tuple(warnings))
