"""Fixed-horizon frequentist comparison of two arms.

The absolute effect is the Welch difference in means (proportions are means of 0/1, with
variance p(1 − p)); the relative effect (treatment − control) / control uses the delta
method, Var ≈ v_t/(μ_c² n_t) + v_c μ_t²/(μ_c⁴ n_c). Both use a t reference distribution with
Welch–Satterthwaite degrees of freedom, exactly as GrowthBook's gbstats
(``frequentist/tests.py``), so the numbers agree with that engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from missionkit.experiments.types import ArmSummary, Estimate, ExperimentInputError

SMALL_ARM = 30
MIN_EVENTS = 5
ASSUMPTIONS = (
    "units randomised independently (no clustering)",
    "Welch t test: unequal variances, approximately normal sample means",
    "relative effect by the delta method (first-order Taylor expansion)",
)


@dataclass(frozen=True)
class Comparison:
    """Treatment against control: absolute and relative effects, with notes."""

    control: ArmSummary
    treatment: ArmSummary
    alpha: float
    absolute: Estimate
    relative: Estimate | None  # None when the control mean is 0
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]


def welch_dof(control: ArmSummary, treatment: ArmSummary) -> float:
    """Welch–Satterthwaite degrees of freedom of the difference in means."""
    a = control.variance / control.n
    b = treatment.variance / treatment.n
    den = a * a / (control.n - 1) + b * b / (treatment.n - 1)
    return float("inf") if den == 0 else (a + b) ** 2 / den


def absolute_variance(control: ArmSummary, treatment: ArmSummary) -> float:
    return control.variance / control.n + treatment.variance / treatment.n


def relative_variance(control: ArmSummary, treatment: ArmSummary) -> float:
    """Delta-method variance of (μ_t − μ_c)/μ_c, over the unadjusted means."""
    mc, mt = control.raw_mean, treatment.raw_mean
    return treatment.variance / (mc**2 * treatment.n) + control.variance * mt**2 / (
        mc**4 * control.n
    )


def t_estimate(point: float, variance: float, dof: float, alpha: float) -> Estimate:
    """Two-sided t interval and p-value for a point estimate and its variance."""
    se = math.sqrt(variance)
    q = float(stats.t.ppf(1 - alpha / 2, dof))
    p = 2 * float(stats.t.sf(abs(point) / se, dof)) if se > 0 else float("nan")
    return Estimate(point, se, point - q * se, point + q * se, p, dof)


def check_arms(control: ArmSummary, treatment: ArmSummary, alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ExperimentInputError("alpha", "must be between 0 and 1")
    for name, arm in (("control", control), ("treatment", treatment)):
        if arm.n < 2:
            raise ExperimentInputError(f"{name}.n", "needs at least 2 units")
    if control.variance <= 0 and treatment.variance <= 0:
        raise ExperimentInputError("arms", "both arms have zero variance: nothing to test")


def arm_warnings(control: ArmSummary, treatment: ArmSummary) -> list[str]:
    """Warnings about small arms, rare events and lopsided allocation."""
    out: list[str] = []
    if min(control.n, treatment.n) < SMALL_ARM:
        out.append(
            f"small sample: {min(control.n, treatment.n)} units in the smaller arm; the "
            "t approximation may be poor for skewed outcomes"
        )
    for name, arm in (("control", control), ("treatment", treatment)):
        if arm.kind == "proportion":
            events = arm.mean * arm.n
            if min(events, arm.n - events) < MIN_EVENTS:
                out.append(
                    f"{name}: fewer than {MIN_EVENTS} successes or failures; the normal "
                    "approximation for proportions is unreliable"
                )
    big, small = max(control.n, treatment.n), min(control.n, treatment.n)
    if big > 4 * small:
        out.append(f"imbalanced arms ({control.n} vs {treatment.n}): check the allocation")
    return out


def compare(control: ArmSummary, treatment: ArmSummary, *, alpha: float = 0.05) -> Comparison:
    """Welch comparison of two arms, absolute and relative (delta method)."""
    check_arms(control, treatment, alpha)
    dof = welch_dof(control, treatment)
    absolute = t_estimate(
        treatment.mean - control.mean, absolute_variance(control, treatment), dof, alpha
    )
    warnings = arm_warnings(control, treatment)
    relative = None
    if control.raw_mean == 0:
        warnings.append("control mean is 0: the relative effect is undefined")
    else:
        relative = t_estimate(
            (treatment.mean - control.mean) / control.raw_mean,
            relative_variance(control, treatment),
            dof,
            alpha,
        )
    return Comparison(control, treatment, alpha, absolute, relative, ASSUMPTIONS, tuple(warnings))
