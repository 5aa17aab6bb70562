"""Sequential monitoring: confidence intervals that stay valid however often one looks.

The asymptotic confidence sequence of Waudby-Smith et al. (2023, "Time-uniform central limit
theory and asymptotic confidence sequences", eq. 9 with the mixing parameter of eq. 161), the
method GrowthBook uses (gbstats ``SequentialTwoSidedTTest``). With N = n_c + n_t, s² = N·Var(Δ̂)
and tuning parameter N* (the sample size at which the interval is tightest; GrowthBook's
default 5000), ρ² = (−2 ln α + ln(−2 ln α + 1)) / N* and the half-width is

    s · √( 2(Nρ² + 1) / (N²ρ²) · ln( √(Nρ² + 1) / α ) ).

The always-valid p-value is 1/E with the mixture e-value E = exp(ρ² N Δ̂²/(2 s² (Nρ²+1))) /
√(Nρ²+1) (Waudby-Smith et al., eq. 155), capped at 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from missionkit.experiments.bayesian import Scale
from missionkit.experiments.frequentist import (
    absolute_variance,
    arm_warnings,
    check_arms,
    relative_variance,
)
from missionkit.experiments.types import ArmSummary, Estimate, ExperimentInputError

DEFAULT_TUNING = 5000.0


@dataclass(frozen=True)
class SequentialResult:
    scale: Scale
    estimate: Estimate  # interval and p-value are always-valid
    tuning: float
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]


def rho(alpha: float, tuning: float) -> float:
    """Mixing parameter that makes the sequence tightest at ``tuning`` observations."""
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def analyse(
    control: ArmSummary,
    treatment: ArmSummary,
    *,
    scale: Scale = "absolute",
    alpha: float = 0.05,
    tuning: float = DEFAULT_TUNING,
) -> SequentialResult:
    """Always-valid interval and p-value of the effect at the current sample size."""
    check_arms(control, treatment, alpha)
    if not tuning > 0:
        raise ExperimentInputError("tuning", "must be > 0")
    diff = treatment.mean - control.mean
    if scale == "relative":
        if control.raw_mean == 0:
            raise ExperimentInputError("control", "mean is 0: use the absolute scale")
        point, var = diff / control.raw_mean, relative_variance(control, treatment)
    else:
        point, var = diff, absolute_variance(control, treatment)
    n = control.n + treatment.n
    r = rho(alpha, tuning)
    s2 = var * n
    nr2 = n * r * r + 1
    width = math.sqrt(s2) * math.sqrt(2 * nr2 * math.log(math.sqrt(nr2) / alpha) / (n * r) ** 2)
    log_e = r * r * (point * point * n / var) / (2 * nr2) - 0.5 * math.log(nr2)
    p_value = 1.0 if log_e <= 0 else min(1.0, math.exp(-log_e))
    assumptions = (
        "asymptotic confidence sequence (Waudby-Smith et al. 2023): valid at every look",
        f"tuning parameter N* = {tuning:g} (interval tightest near that total sample size)",
    )
    return SequentialResult(
        scale=scale,
        estimate=Estimate(point, math.sqrt(var), point - width, point + width, p_value),
        tuning=tuning,
        assumptions=assumptions,
        warnings=tuple(arm_warnings(control, treatment)),
    )
