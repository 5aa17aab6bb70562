"""A whole A/B (or multi-arm) summary analysed in one call: every treatment arm against the
control, frequentist and Bayesian, plus the sample-ratio check.

The input is the JSON summary the CLI and API accept::

    {"control": "A", "alpha": 0.05, "weights": {"A": 1, "B": 1},
     "arms": {"A": {"n": 3407, "sum": 1396.87, "sum_squares": 52377.9}, "B": {...}}}

Each arm has ``n`` and either ``sum`` and ``sum_squares`` (a mean metric) or ``successes``
(a proportion). ``control`` defaults to the first arm, ``alpha`` to 0.05 and ``weights``
(the planned split, for the sample-ratio check) to equal. Mean arms may also carry a
pre-period covariate (``pre_sum``, ``pre_sum_squares``, ``sum_products`` = Σ y·x): every arm
must then have all three, and the comparison uses CUPED. ``analyse(..., sequential=True)``
adds always-valid intervals for results that are monitored as they come in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from missionkit.experiments import bayesian, cuped, frequentist, sequential, srm
from missionkit.experiments.types import ArmSummary, Estimate, ExperimentInputError, MetricKind


@dataclass(frozen=True)
class AbInput:
    arms: dict[str, ArmSummary]
    control: str
    alpha: float
    weights: dict[str, float] | None
    covariates: dict[str, cuped.CovariateArm] | None = None


@dataclass(frozen=True)
class ArmResult:
    arm: str
    n: int
    mean: float
    absolute: Estimate
    relative: Estimate | None
    chance_to_win: float
    risk_control: float  # expected loss of keeping control (scale: ``bayes_scale``)
    risk_treatment: float  # expected loss of shipping this arm
    bayes_scale: bayesian.Scale
    warnings: tuple[str, ...]
    sequential_absolute: Estimate | None = None  # always-valid interval and p-value
    sequential_relative: Estimate | None = None
    cuped_theta: float | None = None
    variance_reduction: float | None = None


@dataclass(frozen=True)
class AbReport:
    metric: MetricKind
    control: str
    control_n: int
    control_mean: float
    alpha: float
    arms: tuple[ArmResult, ...]
    srm: srm.SrmResult
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]


COVARIATE_FIELDS = ("pre_sum", "pre_sum_squares", "sum_products")


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExperimentInputError(field, "must be a number")
    if not math.isfinite(value):
        raise ExperimentInputError(field, "must be finite")
    return float(value)


def parse_summary(data: Any) -> AbInput:
    """Validate a summary document; errors name the field (``arms.B.successes``)."""
    if not isinstance(data, Mapping):
        raise ExperimentInputError("(document)", "must be a JSON object")
    unknown = set(data) - {"control", "alpha", "arms", "weights"}
    if unknown:
        raise ExperimentInputError(str(sorted(unknown)[0]) or "(empty key)", "unknown field")
    raw_arms = data.get("arms")
    if not isinstance(raw_arms, Mapping) or len(raw_arms) < 2:
        raise ExperimentInputError("arms", "must be an object with at least two arms")
    arms: dict[str, ArmSummary] = {}
    kinds: set[str] = set()
    for name, arm in raw_arms.items():
        where = f"arms.{name}"
        if not isinstance(arm, Mapping):
            raise ExperimentInputError(where, "must be an object")
        extra = set(arm) - {"n", "sum", "sum_squares", "successes", *COVARIATE_FIELDS}
        if extra:
            raise ExperimentInputError(
                f"{where}.{sorted(extra)[0] or '(empty key)'}", "unknown field"
            )
        if "n" not in arm:
            raise ExperimentInputError(f"{where}.n", "is required")
        n = _number(arm["n"], f"{where}.n")
        if n != int(n) or n < 2:
            raise ExperimentInputError(f"{where}.n", "must be a whole number >= 2")
        if "successes" in arm:
            if "sum" in arm or "sum_squares" in arm:
                raise ExperimentInputError(where, "give either successes or sum and sum_squares")
            s = _number(arm["successes"], f"{where}.successes")
            arms[str(name)] = ArmSummary.from_successes(int(n), s, field=where)
            kinds.add("proportion")
        else:
            for key in ("sum", "sum_squares"):
                if key not in arm:
                    raise ExperimentInputError(
                        f"{where}.{key}", "is required (or give successes for a proportion)"
                    )
            arms[str(name)] = ArmSummary.from_sums(
                int(n),
                _number(arm["sum"], f"{where}.sum"),
                _number(arm["sum_squares"], f"{where}.sum_squares"),
                field=where,
            )
            kinds.add("mean")
    if len(kinds) > 1:
        raise ExperimentInputError("arms", "mix of mean and proportion arms")
    covariates = _covariates(raw_arms, arms)
    control = data.get("control", next(iter(arms)))
    if not isinstance(control, str) or control not in arms:
        raise ExperimentInputError("control", f"must name one of the arms ({', '.join(arms)})")
    alpha = _number(data.get("alpha", 0.05), "alpha")
    if not 0 < alpha < 1:
        raise ExperimentInputError("alpha", "must be between 0 and 1")
    weights = None
    if "weights" in data:
        raw = data["weights"]
        if not isinstance(raw, Mapping) or set(raw) != set(arms):
            raise ExperimentInputError("weights", "must give one weight for every arm")
        weights = {str(k): _number(v, f"weights.{k}") for k, v in raw.items()}
        if any(v <= 0 for v in weights.values()):
            raise ExperimentInputError("weights", "must be > 0")
    return AbInput(arms, control, alpha, weights, covariates)


def _covariates(
    raw_arms: Mapping[str, Any], arms: dict[str, ArmSummary]
) -> dict[str, cuped.CovariateArm] | None:
    """Pre-period covariates for CUPED: all arms or none."""
    having = [name for name, arm in raw_arms.items() if set(COVARIATE_FIELDS) & set(arm)]
    if not having:
        return None
    out: dict[str, cuped.CovariateArm] = {}
    for name, arm in raw_arms.items():
        where = f"arms.{name}"
        if "successes" in arm:
            raise ExperimentInputError(where, "pre-period covariates need a mean metric")
        for key in COVARIATE_FIELDS:
            if key not in arm:
                raise ExperimentInputError(
                    f"{where}.{key}", "is required when any arm has a pre-period covariate"
                )
        pre_sum = _number(arm["pre_sum"], f"{where}.pre_sum")
        pre_ss = _number(arm["pre_sum_squares"], f"{where}.pre_sum_squares")
        n = arms[str(name)].n
        if pre_ss < pre_sum * pre_sum / n - 1e-9 * max(1.0, abs(pre_ss)):
            raise ExperimentInputError(
                f"{where}.pre_sum_squares", "is smaller than pre_sum**2/n, which no data can give"
            )
        out[str(name)] = cuped.CovariateArm(
            n=n,
            post_sum=float(arm["sum"]),
            post_sum_squares=float(arm["sum_squares"]),
            pre_sum=pre_sum,
            pre_sum_squares=pre_ss,
            post_pre_sum_products=_number(arm["sum_products"], f"{where}.sum_products"),
        )
    return out


def analyse(spec: AbInput, *, sequential_tuning: float | None = None) -> AbReport:
    """Every treatment arm against the control.

    With ``sequential_tuning`` (GrowthBook's default is 5000) each arm also gets
    always-valid intervals and p-values (:mod:`missionkit.experiments.sequential`).
    """
    control = spec.arms[spec.control]
    names = list(spec.arms)
    ratio = srm.check(
        [spec.arms[a].n for a in names],
        [spec.weights[a] for a in names] if spec.weights else None,
    )
    results = []
    for name in names:
        if name == spec.control:
            continue
        arm = spec.arms[name]
        base = control
        theta = reduction = None
        cuped_warnings: tuple[str, ...] = ()
        if spec.covariates is not None:
            adjusted = cuped.adjust(spec.covariates[spec.control], spec.covariates[name])
            base, arm = adjusted.control, adjusted.treatment
            theta, reduction = adjusted.theta, adjusted.variance_reduction
            cuped_warnings = adjusted.warnings
        comp = frequentist.compare(base, arm, alpha=spec.alpha)
        arm_warnings = comp.warnings + cuped_warnings
        scale: bayesian.Scale = "relative" if base.raw_mean != 0 else "absolute"
        bayes = bayesian.analyse(base, arm, scale=scale, alpha=spec.alpha)
        seq_abs = seq_rel = None
        if sequential_tuning is not None:
            seq_abs = sequential.analyse(
                base, arm, scale="absolute", alpha=spec.alpha, tuning=sequential_tuning
            ).estimate
            if base.raw_mean != 0:
                seq_rel = sequential.analyse(
                    base, arm, scale="relative", alpha=spec.alpha, tuning=sequential_tuning
                ).estimate
        results.append(
            ArmResult(
                arm=name,
                n=arm.n,
                mean=arm.raw_mean,
                absolute=comp.absolute,
                relative=comp.relative,
                chance_to_win=bayes.chance_to_win,
                risk_control=bayes.risk_control,
                risk_treatment=bayes.risk_treatment,
                bayes_scale=scale,
                warnings=arm_warnings,
                sequential_absolute=seq_abs,
                sequential_relative=seq_rel,
                cuped_theta=theta,
                variance_reduction=reduction,
            )
        )
    warnings = list(ratio.warnings)
    if len(results) > 1:
        warnings.append(
            f"{len(results)} treatment arms compared with the control: p-values are not "
            "adjusted for multiple comparisons (Bonferroni: use alpha "
            f"{spec.alpha / len(results):.3g})"
        )
    assumptions: tuple[str, ...] = (
        *frequentist.ASSUMPTIONS,
        "Bayesian chance to win: improper flat prior on the "
        + ("relative" if control.raw_mean != 0 else "absolute")
        + " effect (GrowthBook default)",
        "sample-ratio check against "
        + ("the given weights" if spec.weights else "an equal planned split"),
    )
    if spec.covariates is not None:
        assumptions += (
            "CUPED: outcomes adjusted by a pre-period covariate, theta pooled over the two "
            "arms compared (randomisation keeps the covariate independent of the arm)",
        )
    if sequential_tuning is not None:
        assumptions += (
            f"sequential intervals: asymptotic confidence sequence, tuning {sequential_tuning:g}",
        )
    return AbReport(
        metric=control.kind,
        control=spec.control,
        control_n=control.n,
        control_mean=control.mean,
        alpha=spec.alpha,
        arms=tuple(results),
        srm=ratio,
        assumptions=assumptions,
        warnings=tuple(warnings),
    )
