"""Design: power, sample size and minimum detectable effect before a pilot starts.

Two-arm comparisons with unequal allocation (``ratio`` = treatment size / control size, the
statsmodels convention) and clustering. Means use the two-sample t test with the noncentral
t distribution (as statsmodels ``TTestIndPower``); proportions use Cohen's arcsine effect
size h = 2·asin(√p2) − 2·asin(√p1) with the normal test (as statsmodels ``NormalIndPower``
with ``proportion_effectsize``). When whole clusters (schools, regions, calls) are
randomised, every sample size is divided by the design effect 1 + (m − 1)·ICC (Donner &
Klar 2000) before the power is computed, and the required sizes are rounded up to whole
clusters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from scipy import optimize, stats

from missionkit.experiments.types import ExperimentInputError, MetricKind

Solve = Literal["power", "sample_size", "mde"]

MIN_CLUSTERS_PER_ARM = 15


@dataclass(frozen=True)
class DesignResult:
    """A design: the sizes, the effect and the power they give together."""

    metric: MetricKind
    solved_for: Solve
    alpha: float
    power: float
    n_control: int
    n_treatment: int
    effect: float  # absolute difference (means: in outcome units; proportions: p2 - p1)
    standardized_effect: float  # Cohen's d for means, Cohen's h for proportions
    baseline: float | None  # the control proportion (proportions only)
    design_effect: float
    icc: float
    cluster_size: float
    clusters_control: int | None
    clusters_treatment: int | None
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def n_total(self) -> int:
        return self.n_control + self.n_treatment


def design_effect(icc: float, cluster_size: float) -> float:
    """Variance inflation of a cluster-randomised design, 1 + (m − 1)·ICC."""
    if not 0 <= icc <= 1:
        raise ExperimentInputError("icc", "must be between 0 and 1")
    if cluster_size < 1:
        raise ExperimentInputError("cluster_size", "must be >= 1")
    return 1 + (cluster_size - 1) * icc


def _check_common(alpha: float, ratio: float) -> None:
    if not 0 < alpha < 1:
        raise ExperimentInputError("alpha", "must be between 0 and 1")
    if not ratio > 0:
        raise ExperimentInputError("ratio", "must be > 0")


def _power_t(d: float, n1: float, n2: float, alpha: float) -> float:
    """Two-sided two-sample t-test power for standardized effect ``d``."""
    df = n1 + n2 - 2
    if df <= 0:
        return float("nan")
    nc = d * math.sqrt(n1 * n2 / (n1 + n2))
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def _power_z(h: float, n1: float, n2: float, alpha: float) -> float:
    """Two-sided normal-test power for standardized effect ``h``."""
    crit = stats.norm.ppf(1 - alpha / 2)
    shift = h * math.sqrt(n1 * n2 / (n1 + n2))
    return float(stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift))


def _cohen_h(p1: float, p2: float) -> float:
    return 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))


def _notes(
    metric: MetricKind, icc: float, m: float, c1: int | None, c2: int | None, power: float
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    assumptions = [
        "two-sided test; units independent within arms"
        + (" after the design effect for clustering" if icc > 0 and m > 1 else ""),
        "two-sample t test, common standard deviation (noncentral t)"
        if metric == "mean"
        else "normal approximation with Cohen's arcsine effect size h",
    ]
    if icc > 0 and m > 1:
        assumptions.append("equal cluster sizes; ICC known (design effect 1 + (m - 1)·ICC)")
    warnings = []
    if c1 is not None and c2 is not None and min(c1, c2) < MIN_CLUSTERS_PER_ARM:
        warnings.append(
            f"only {min(c1, c2)} clusters in the smaller arm: with fewer than "
            f"{MIN_CLUSTERS_PER_ARM} per arm cluster-robust inference is unreliable"
        )
    if power < 0.8:
        warnings.append(f"power {power:.2f} is below the conventional 0.80")
    return tuple(assumptions), tuple(warnings)


def _result(
    metric: MetricKind,
    solved: Solve,
    *,
    alpha: float,
    power: float,
    n1: float,
    ratio: float,
    effect: float,
    std_effect: float,
    baseline: float | None,
    icc: float,
    m: float,
    power_at: Callable[[float, float], float],
) -> DesignResult:
    """Round to whole units (and clusters); a solved sample size reports the power it
    actually gives after rounding."""
    deff = design_effect(icc, m)
    clustered = icc > 0 and m > 1
    n_control = math.ceil(n1 - 1e-9)
    n_treatment = math.ceil(n1 * ratio - 1e-9)
    c1 = c2 = None
    if m > 1:
        c1, c2 = math.ceil(n_control / m - 1e-9), math.ceil(n_treatment / m - 1e-9)
        if solved == "sample_size":  # whole clusters
            n_control, n_treatment = math.ceil(c1 * m), math.ceil(c2 * m)
    if solved == "sample_size":
        power = power_at(n_control, n_treatment)
    assumptions, warnings = _notes(metric, icc if clustered else 0.0, m, c1, c2, power)
    return DesignResult(
        metric=metric,
        solved_for=solved,
        alpha=alpha,
        power=power,
        n_control=n_control,
        n_treatment=n_treatment,
        effect=effect,
        standardized_effect=std_effect,
        baseline=baseline,
        design_effect=deff,
        icc=icc,
        cluster_size=m,
        clusters_control=c1,
        clusters_treatment=c2,
        assumptions=assumptions,
        warnings=warnings,
    )


def _solve_n(power_of_n: Callable[[float], float], target: float, smallest: float) -> float:
    """Smallest (real) control-arm size reaching ``target`` power.

    ``smallest`` is the least control arm allowed (each arm >= 2 effective units); when
    it already reaches the target it is the answer, not a hair above it (which rounds up
    to a whole unit more than needed).
    """
    lo, hi = smallest, max(4.0, 2 * smallest)
    while power_of_n(hi) < target:
        hi *= 2
        if hi > 1e12:
            raise ExperimentInputError("effect", "too small to detect with any sample size")
    if power_of_n(lo) >= target:
        return lo
    return float(optimize.brentq(lambda n: power_of_n(n) - target, lo, hi, xtol=1e-10))


def means(
    *,
    sd: float,
    effect: float | None = None,
    n_control: float | None = None,
    power: float | None = None,
    ratio: float = 1.0,
    alpha: float = 0.05,
    icc: float = 0.0,
    cluster_size: float = 1.0,
) -> DesignResult:
    """Solve a two-sample design for a mean metric.

    Give exactly two of ``effect`` (absolute difference in means), ``n_control`` and
    ``power``; the third is computed. ``sd`` is the outcome's standard deviation.
    """
    _check_common(alpha, ratio)
    if not sd > 0:
        raise ExperimentInputError("sd", "must be > 0")
    deff = design_effect(icc, cluster_size)
    given = [x is not None for x in (effect, n_control, power)]
    if sum(given) != 2:
        raise ExperimentInputError("design", "give exactly two of effect, n_control, power")

    def pw(d: float, n1: float, n2: float | None = None) -> float:
        return _power_t(d, n1 / deff, (n1 * ratio if n2 is None else n2) / deff, alpha)

    if power is not None and not 0 < power < 1:
        raise ExperimentInputError("power", "must be between 0 and 1")
    if n_control is not None and n_control * min(1.0, ratio) / deff < 2:
        raise ExperimentInputError("n_control", "too small: each arm needs >= 2 effective units")
    if effect is not None and effect == 0:
        raise ExperimentInputError("effect", "must not be 0")
    if power is None:
        assert effect is not None and n_control is not None
        d = abs(effect) / sd
        solved: Solve = "power"
        n1 = float(n_control)
        power = pw(d, n1)
    elif n_control is None:
        assert effect is not None
        d = abs(effect) / sd
        solved = "sample_size"
        n1 = _solve_n(lambda n: pw(d, n), power, 2 * deff / min(1.0, ratio))
    else:
        target = power
        solved = "mde"
        n1 = float(n_control)
        hi = 1.0
        while pw(hi, n1) < target:
            hi *= 2
            if hi > 64:
                raise ExperimentInputError("n_control", "too small to reach the power")
        d = float(optimize.brentq(lambda x: pw(x, n1) - target, 1e-9, hi, xtol=1e-12))
        effect = d * sd
    return _result(
        "mean",
        solved,
        alpha=alpha,
        power=power,
        n1=n1,
        ratio=ratio,
        effect=abs(effect),
        std_effect=d,
        baseline=None,
        icc=icc,
        m=cluster_size,
        power_at=lambda n_c, n_t: pw(d, n_c, n_t),
    )


def proportions(
    *,
    baseline: float,
    effect: float | None = None,
    n_control: float | None = None,
    power: float | None = None,
    ratio: float = 1.0,
    alpha: float = 0.05,
    icc: float = 0.0,
    cluster_size: float = 1.0,
) -> DesignResult:
    """Solve a two-sample design for a proportion metric.

    ``baseline`` is the control proportion; ``effect`` the absolute change p2 − p1 (positive
    or negative). Give exactly two of ``effect``, ``n_control`` and ``power``. The minimum
    detectable effect is reported as an increase over the baseline.
    """
    _check_common(alpha, ratio)
    if not 0 < baseline < 1:
        raise ExperimentInputError("baseline", "must be strictly between 0 and 1")
    deff = design_effect(icc, cluster_size)
    given = [x is not None for x in (effect, n_control, power)]
    if sum(given) != 2:
        raise ExperimentInputError("design", "give exactly two of effect, n_control, power")
    if effect is not None and not (0 < baseline + effect < 1 and effect != 0):
        raise ExperimentInputError("effect", "baseline + effect must be strictly within (0, 1)")
    if power is not None and not 0 < power < 1:
        raise ExperimentInputError("power", "must be between 0 and 1")
    if n_control is not None and n_control * min(1.0, ratio) / deff < 2:
        raise ExperimentInputError("n_control", "too small: each arm needs >= 2 effective units")

    def pw(h: float, n1: float, n2: float | None = None) -> float:
        return _power_z(h, n1 / deff, (n1 * ratio if n2 is None else n2) / deff, alpha)

    if power is None:
        assert effect is not None and n_control is not None
        h = abs(_cohen_h(baseline, baseline + effect))
        solved: Solve = "power"
        n1 = float(n_control)
        power = pw(h, n1)
    elif n_control is None:
        assert effect is not None
        h = abs(_cohen_h(baseline, baseline + effect))
        solved = "sample_size"
        n1 = _solve_n(lambda n: pw(h, n), power, 2 * deff / min(1.0, ratio))
    else:
        target = power
        solved = "mde"
        n1 = float(n_control)
        h_max = abs(_cohen_h(baseline, 1.0))
        if pw(h_max, n1) < target:
            raise ExperimentInputError("n_control", "too small to reach the power at any effect")
        h = float(optimize.brentq(lambda x: pw(x, n1) - target, 1e-12, h_max, xtol=1e-14))
        # invert h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1)) for p2 above the baseline
        p2 = math.sin(math.asin(math.sqrt(baseline)) + h / 2) ** 2
        effect = p2 - baseline
    return _result(
        "proportion",
        solved,
        alpha=alpha,
        power=power,
        n1=n1,
        ratio=ratio,
        effect=effect,
        std_effect=h,
        baseline=baseline,
        icc=icc,
        m=cluster_size,
        power_at=lambda n_c, n_t: pw(h, n_c, n_t),
    )
