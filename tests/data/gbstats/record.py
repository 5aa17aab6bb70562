"""Record GrowthBook gbstats outputs on fixed inputs, for tests/test_experiments_gbstats.py.

gbstats pins old numpy/pandas, so it runs in its own virtual environment:

    python3 -m venv /tmp/gbvenv && /tmp/gbvenv/bin/pip install gbstats==0.8.0
    /tmp/gbvenv/bin/python tests/data/gbstats/record.py > tests/data/gbstats/cases.json

The output holds, for each case, the inputs and gbstats' results (frequentist two-sided,
sequential and Bayesian, relative and absolute), so the test suite can compare missionkit's
engine to gbstats without installing it.
"""

import importlib.metadata
import json
import sys

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm

MEAN_CASES = [
    # README example of missionkit's analyze-ab, then a few shapes: small, skewed, big, negative
    {"a": [3407, 1396.87, 52377.9], "b": [3461, 1500.25, 62384.1]},
    {"a": [12, 30.5, 110.25], "b": [15, 52.0, 230.0]},
    {"a": [5000, 25000.0, 400000.0], "b": [4900, 25300.0, 420000.0]},
    {"a": [250, -120.0, 900.0], "b": [260, -95.0, 840.0]},
    {"a": [100000, 53210.0, 140000.0], "b": [100500, 54002.0, 142500.0]},
]
PROPORTION_CASES = [
    {"a": [3407, 412], "b": [3461, 468]},
    {"a": [40, 9], "b": [38, 15]},
    {"a": [150000, 4500], "b": [150300, 4400]},
]
CUPED_CASES = [
    # n, post sum, post sum of squares, pre sum, pre sum of squares, sum of post*pre
    {
        "a": [1000, 10250.0, 135000.0, 10010.0, 130500.0, 130000.0],
        "b": [1010, 10800.0, 145000.0, 10100.0, 131000.0, 134500.0],
    },
    {
        "a": [200, 410.0, 1300.0, 395.0, 1150.0, 1020.0],
        "b": [210, 470.0, 1550.0, 420.0, 1250.0, 1180.0],
    },
]
SRM_CASES = [
    {"users": [5021, 4979], "weights": [0.5, 0.5]},
    {"users": [5200, 4800], "weights": [0.5, 0.5]},
    {"users": [3300, 3350, 3450], "weights": [1, 1, 1]},
    {"users": [2000, 7900], "weights": [0.2, 0.8]},
]


def freq(res):
    return {"expected": res.expected, "ci": list(res.ci), "p_value": res.p_value}


def bayes(res):
    return {
        "expected": res.expected,
        "ci": list(res.ci),
        "chance_to_win": res.chance_to_win,
        "risk": list(res.risk),
        "stddev": res.uplift.stddev,
    }


def run(a, b):
    out = {}
    for diff in ("relative", "absolute"):
        out[f"frequentist_{diff}"] = freq(
            TwoSidedTTest(a, b, FrequentistConfig(difference_type=diff)).compute_result()
        )
        out[f"sequential_{diff}"] = freq(
            SequentialTwoSidedTTest(
                a, b, SequentialConfig(difference_type=diff, sequential_tuning_parameter=5000)
            ).compute_result()
        )
        out[f"bayesian_{diff}"] = bayes(
            EffectBayesianABTest(a, b, EffectBayesianConfig(difference_type=diff)).compute_result()
        )
        prior = GaussianPrior(mean=0.0, variance=0.3**2, proper=True)
        out[f"bayesian_proper_{diff}"] = bayes(
            EffectBayesianABTest(
                a, b, EffectBayesianConfig(difference_type=diff, prior_effect=prior)
            ).compute_result()
        )
    return out


def main():
    cases = []
    for c in MEAN_CASES:
        a = SampleMeanStatistic(n=c["a"][0], sum=c["a"][1], sum_squares=c["a"][2])
        b = SampleMeanStatistic(n=c["b"][0], sum=c["b"][1], sum_squares=c["b"][2])
        cases.append({"kind": "mean", "input": c, "gbstats": run(a, b)})
    for c in PROPORTION_CASES:
        a = ProportionStatistic(n=c["a"][0], sum=c["a"][1])
        b = ProportionStatistic(n=c["b"][0], sum=c["b"][1])
        cases.append({"kind": "proportion", "input": c, "gbstats": run(a, b)})
    for c in CUPED_CASES:
        stats = []
        for n, ys, yss, xs, xss, xy in (c["a"], c["b"]):
            stats.append(
                RegressionAdjustedStatistic(
                    n=n,
                    post_statistic=SampleMeanStatistic(n=n, sum=ys, sum_squares=yss),
                    pre_statistic=SampleMeanStatistic(n=n, sum=xs, sum_squares=xss),
                    post_pre_sum_of_products=xy,
                    theta=0,
                )
            )
        cases.append({"kind": "cuped", "input": c, "gbstats": run(*stats)})
    srm = [{"input": c, "p_value": check_srm(c["users"], c["weights"])} for c in SRM_CASES]
    json.dump(
        {
            "gbstats_version": importlib.metadata.version("gbstats"),
            "python": sys.version.split()[0],
            "cases": cases,
            "srm": srm,
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
