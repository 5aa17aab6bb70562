"""Before/after comparison without a comparison group: the weakest design, kept honest.

The change is the mean of each unit's after − before difference, with a paired t interval
(the units' own variation cancels). Without a comparison group the change also contains
every trend, season and shock of the period, and units picked because they were doing badly
drift back towards the mean on their own; the result says so every time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from missionkit.experiments.types import Estimate, ExperimentInputError

ASSUMPTIONS = (
    "no comparison group: the change is attributed to the policy only if nothing else "
    "changed between the two measurements",
    "paired t interval on the unit-level differences (approximately normal mean difference)",
)


@dataclass(frozen=True)
class BeforeAfterResult:
    change: Estimate  # mean(after − before)
    relative_change: float | None  # change / mean(before)
    n_units: int
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]


def analyse(
    before: Sequence[float], after: Sequence[float], *, alpha: float = 0.05
) -> BeforeAfterResult:
    """Mean within-unit change from ``before`` to ``after`` (same units, same order)."""
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise ExperimentInputError("after", "needs one value per unit in before")
    if b.size < 2:
        raise ExperimentInputError("before", "needs at least 2 units")
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(a))):
        raise ExperimentInputError("before", "values must be finite numbers")
    diff = a - b
    n = diff.size
    mean = float(diff.mean())
    se = float(diff.std(ddof=1)) / math.sqrt(n)
    dof = float(n - 1)
    q = float(stats.t.ppf(1 - alpha / 2, dof))
    p = 2 * float(stats.t.sf(abs(mean) / se, dof)) if se > 0 else float("nan")
    warnings = [
        "before/after without a comparison group is descriptive: trends, seasons and other "
        "shocks are mixed into the change; add comparison units (difference-in-differences) "
        "to attribute it"
    ]
    if n < 30:
        warnings.append(f"only {n} units: the t interval relies on near-normal differences")
    base = float(b.mean())
    return BeforeAfterResult(
        change=Estimate(mean, se, mean - q * se, mean + q * se, p, dof),
        relative_change=None if base == 0 else mean / base,
        n_units=n,
        assumptions=ASSUMPTIONS,
        warnings=tuple(warnings),
    )
