"""How fast are the difference-in-differences estimators, against reference implementations
run in the same process on the same panel?

For staggered panels of 1,000 / 10,000 / 50,000 units over 10 periods (4 adoption cohorts
and never-treated units, seeded), times:

- ``callaway-santanna``: ``did.callaway_santanna`` (all ATT(g,t) with analytical standard
  errors) plus the four aggregations, against a plain pandas twin of ATT(g,t) and its
  standard errors (groupby means and sums of squares of the outcome changes). "agree":
  every ATT(g,t) and standard error within 1e-9 relative.
- ``twfe``: ``did.twfe`` (alternating demeaning, CR1 clustered by unit) against
  linearmodels ``PanelOLS`` with entity and time effects, clustered by entity. "agree": the
  coefficients within 1e-8 relative (the standard errors differ by the documented
  small-sample factor).

Each row is the best of ``--repeat`` runs (wall clock, ``time.perf_counter``); ratio =
reference time / missionkit time (above 1: missionkit is faster).

    .venv/bin/python benchmarks/bench_experiments.py                 # about a minute
    .venv/bin/python benchmarks/bench_experiments.py --sizes 1000 --repeat 5

Needs pandas and linearmodels (dev dependencies, not runtime ones).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from missionkit.experiments import did

PERIODS = 10
COHORTS = (4, 6, 8, 10)


def panel(units: int, seed: int = 1) -> pd.DataFrame:
    """A balanced staggered panel with unit effects, period effects and dynamic effects."""
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, *COHORTS], size=units, p=[0.4, 0.15, 0.15, 0.15, 0.15])
    unit = np.repeat(np.arange(units), PERIODS)
    period = np.tile(np.arange(1, PERIODS + 1), units)
    g = np.repeat(cohort, PERIODS)
    exposure = np.where((g > 0) & (period >= g), period - g + 1, 0)
    y = (
        np.repeat(rng.normal(0, 1, units), PERIODS)
        + 0.1 * period
        + 0.05 * exposure
        + rng.normal(0, 0.5, units * PERIODS)
    )
    return pd.DataFrame({"unit": unit, "period": period, "g": g, "y": y})


def pandas_att_gt(frame: pd.DataFrame) -> dict[tuple[int, int], tuple[float, float]]:
    """ATT(g,t) and analytical SEs with the never-treated and a varying base period."""
    wide = frame.pivot(index="unit", columns="period", values="y")
    g = frame.groupby("unit")["g"].first()
    out: dict[tuple[int, int], tuple[float, float]] = {}
    for cohort in COHORTS:
        for t in range(2, PERIODS + 1):
            base = t - 1 if t < cohort else cohort - 1
            dy = wide[t] - wide[base]
            parts = dy.groupby(g.where(g.isin([0, cohort]))).agg(["mean", "count", "var"])
            m1, n1, v1 = parts.loc[cohort]
            m0, n0, v0 = parts.loc[0]
            se = np.sqrt(v1 * (n1 - 1) / n1**2 + v0 * (n0 - 1) / n0**2)
            out[(cohort, t)] = (float(m1 - m0), float(se))
    return out


def ours_cs(frame: pd.DataFrame) -> dict[tuple[int, int], tuple[float, float]]:
    res = did.callaway_santanna(
        frame.y.to_numpy(), frame.unit.to_numpy(), frame.period.to_numpy(), frame.g.to_numpy()
    )
    for kind in ("simple", "dynamic", "group", "calendar"):
        res.aggregate(kind)  # type: ignore[arg-type]
    return {(int(e.group), int(e.time)): (e.estimate.estimate, e.estimate.se) for e in res.effects}


def ours_twfe(frame: pd.DataFrame) -> float:
    d = ((frame.g > 0) & (frame.period >= frame.g)).astype(float).to_numpy()
    return did.twfe(
        frame.y.to_numpy(), d, frame.unit.to_numpy(), frame.period.to_numpy()
    ).estimate.estimate


def linearmodels_twfe(frame: pd.DataFrame) -> float:
    from linearmodels.panel import PanelOLS

    data = frame.assign(d=((frame.g > 0) & (frame.period >= frame.g)).astype(float))
    data = data.set_index(["unit", "period"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = PanelOLS(data.y, data[["d"]], entity_effects=True, time_effects=True).fit(
            cov_type="clustered", cluster_entity=True
        )
    return float(fit.params["d"])


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'units':>7} {'rows':>8}  {'estimator':<18} {'missionkit s':>12} "
          f"{'reference s':>12} {'ratio':>6}  agree  reference")  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        frame = panel(size)
        t_ours, ours = best(lambda f=frame: ours_cs(f), args.repeat)
        t_ref, ref = best(lambda f=frame: pandas_att_gt(f), args.repeat)
        agree = ours.keys() == ref.keys() and all(
            np.allclose(ours[k], ref[k], rtol=1e-9, atol=0) for k in ref
        )
        print(f"{size:>7} {len(frame):>8}  {'callaway-santanna':<18} {t_ours:>12.3f} "
              f"{t_ref:>12.3f} {t_ref / t_ours:>6.2f}  {agree!s:<5}  pandas twin "
              "(ATT(g,t) only; ours adds 4 aggregations)")  # fmt: skip
        t_ours, b_ours = best(lambda f=frame: ours_twfe(f), args.repeat)
        t_ref, b_ref = best(lambda f=frame: linearmodels_twfe(f), args.repeat)
        agree = bool(np.isclose(b_ours, b_ref, rtol=1e-8, atol=0))
        print(f"{size:>7} {len(frame):>8}  {'twfe':<18} {t_ours:>12.3f} {t_ref:>12.3f} "
              f"{t_ref / t_ours:>6.2f}  {agree!s:<5}  linearmodels PanelOLS")  # fmt: skip


if __name__ == "__main__":
    main()
