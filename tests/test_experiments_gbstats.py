"""missionkit.experiments against GrowthBook's stats engine.

Reference: gbstats 0.8.0 (PyPI), outputs recorded by tests/data/gbstats/record.py into
tests/data/gbstats/cases.json (see the README there for the exact command).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from missionkit.experiments import ab, bayesian, cuped, frequentist, sequential, srm
from missionkit.experiments.types import ArmSummary

DATA = json.loads((Path(__file__).parent / "data" / "gbstats" / "cases.json").read_text())
CASES = DATA["cases"]
REL = 1e-9


def _arms(case: dict[str, Any]) -> tuple[ArmSummary, ArmSummary]:
    a, b = case["input"]["a"], case["input"]["b"]
    if case["kind"] == "mean":
        return ArmSummary.from_sums(*a), ArmSummary.from_sums(*b)
    if case["kind"] == "proportion":
        return ArmSummary.from_successes(*a), ArmSummary.from_successes(*b)
    adjusted = cuped.adjust(cuped.CovariateArm(*a), cuped.CovariateArm(*b))
    return adjusted.control, adjusted.treatment


def _ids(case: dict[str, Any]) -> str:
    return f"{case['kind']}-{case['input']['a'][0]}"


def test_recorded_with_gbstats_0_8_0() -> None:
    assert DATA["gbstats_version"] == "0.8.0"
    assert len(CASES) == 10


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("scale", ["relative", "absolute"])
def test_frequentist_matches_gbstats(case: dict[str, Any], scale: str) -> None:
    ref = case["gbstats"][f"frequentist_{scale}"]
    control, treatment = _arms(case)
    result = frequentist.compare(control, treatment)
    est = result.relative if scale == "relative" else result.absolute
    assert est is not None
    assert est.estimate == pytest.approx(ref["expected"], rel=REL)
    assert [est.ci_low, est.ci_high] == pytest.approx(ref["ci"], rel=1e-8)
    assert est.p_value == pytest.approx(ref["p_value"], rel=1e-7, abs=1e-12)


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("scale", ["relative", "absolute"])
def test_sequential_matches_gbstats(case: dict[str, Any], scale: str) -> None:
    ref = case["gbstats"][f"sequential_{scale}"]
    control, treatment = _arms(case)
    result = sequential.analyse(control, treatment, scale=scale, tuning=5000)  # type: ignore[arg-type]
    assert result.estimate.estimate == pytest.approx(ref["expected"], rel=REL)
    assert [result.estimate.ci_low, result.estimate.ci_high] == pytest.approx(ref["ci"], rel=1e-8)
    assert result.estimate.p_value == pytest.approx(ref["p_value"], rel=1e-7, abs=1e-12)


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("scale", ["relative", "absolute"])
@pytest.mark.parametrize("proper", [False, True])
def test_bayesian_matches_gbstats(case: dict[str, Any], scale: str, proper: bool) -> None:
    key = f"bayesian_{'proper_' if proper else ''}{scale}"
    ref = case["gbstats"][key]
    control, treatment = _arms(case)
    # gbstats' prior is on the relative scale by default (prior_type="relative")
    prior = bayesian.GaussianPrior(mean=0.0, variance=0.09, proper=proper, scale="relative")
    result = bayesian.analyse(control, treatment, scale=scale, prior=prior)  # type: ignore[arg-type]
    assert result.expected == pytest.approx(ref["expected"], rel=REL, abs=1e-15)
    assert result.posterior_sd == pytest.approx(ref["stddev"], rel=REL)
    assert [result.ci_low, result.ci_high] == pytest.approx(ref["ci"], rel=1e-8)
    assert result.chance_to_win == pytest.approx(ref["chance_to_win"], rel=1e-8, abs=1e-12)
    # gbstats computes the risk through scipy's truncated normal; ours is closed-form
    assert [result.risk_control, result.risk_treatment] == pytest.approx(
        ref["risk"], rel=1e-6, abs=1e-12
    )


@pytest.mark.parametrize("case", DATA["srm"], ids=lambda c: str(c["input"]["users"]))
def test_srm_matches_gbstats(case: dict[str, Any]) -> None:
    got = srm.check(case["input"]["users"], case["input"]["weights"])
    assert got.p_value == pytest.approx(case["p_value"], rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "cuped"], ids=_ids)
def test_ab_summary_with_covariates_matches_gbstats_cuped(case: dict[str, Any]) -> None:
    # The JSON summary path (CLI / API) with pre-period fields = gbstats RegressionAdjusted.
    def arm(v: list[float]) -> dict[str, float]:
        keys = ("n", "sum", "sum_squares", "pre_sum", "pre_sum_squares", "sum_products")
        return dict(zip(keys, v, strict=True))

    doc = {"arms": {"a": arm(case["input"]["a"]), "b": arm(case["input"]["b"])}}
    report = ab.analyse(ab.parse_summary(doc), sequential_tuning=5000)
    (got,) = report.arms
    ref = case["gbstats"]
    assert got.relative is not None and got.sequential_relative is not None
    assert [got.relative.ci_low, got.relative.ci_high] == pytest.approx(
        ref["frequentist_relative"]["ci"], rel=1e-8
    )
    assert got.absolute.p_value == pytest.approx(ref["frequentist_absolute"]["p_value"], rel=1e-7)
    assert got.chance_to_win == pytest.approx(ref["bayesian_relative"]["chance_to_win"], rel=1e-8)
    assert [got.sequential_relative.ci_low, got.sequential_relative.ci_high] == pytest.approx(
        ref["sequential_relative"]["ci"], rel=1e-8
    )
    assert got.variance_reduction is not None and got.variance_reduction > 0
