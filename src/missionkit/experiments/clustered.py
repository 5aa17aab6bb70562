"""Cluster-randomised comparison: difference in means with cluster-robust inference.

When whole clusters (regions, schools, calls) are assigned, units in a cluster share shocks
and a unit-level test overstates precision. The effect is the coefficient of the treatment
indicator in y = a + b·treated + e, with CR1 cluster-robust standard errors and a t(G − 1)
reference (see :mod:`missionkit.experiments.regression`). The intra-cluster correlation is
estimated by one-way ANOVA to show how much clustering costs (design effect).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from missionkit.experiments.regression import (
    FEW_CLUSTERS,
    BootstrapResult,
    bootstrap_note,
    cluster_codes,
    cluster_warnings,
    ols,
    wild_cluster_bootstrap,
)
from missionkit.experiments.types import Estimate, ExperimentInputError


@dataclass(frozen=True)
class ClusteredResult:
    absolute: Estimate
    n_obs: int
    n_clusters: int
    clusters_control: int
    clusters_treatment: int
    icc: float  # ANOVA estimate, floored at 0
    design_effect: float
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]
    bootstrap: BootstrapResult | None = None  # wild cluster bootstrap test of no effect


def _anova_icc(y: np.ndarray, codes: np.ndarray, g: int) -> tuple[float, float]:
    """One-way ANOVA ICC and mean cluster size m0 (unequal sizes, Donner 1986)."""
    sizes = np.bincount(codes, minlength=g).astype(float)
    n = float(y.size)
    means = np.bincount(codes, weights=y, minlength=g) / sizes
    ssb = float(np.sum(sizes * (means - y.mean()) ** 2))
    ssw = float(np.sum((y - means[codes]) ** 2))
    msb = ssb / (g - 1)
    msw = ssw / (n - g) if n > g else 0.0
    m0 = (n - float(np.sum(sizes**2)) / n) / (g - 1)
    den = msb + (m0 - 1) * msw
    icc = 0.0 if den <= 0 else max(0.0, (msb - msw) / den)
    return icc, float(sizes.mean())


def analyse(
    outcome: Sequence[float],
    treated: Sequence[int | bool],
    cluster: Sequence[object],
    *,
    alpha: float = 0.05,
    bootstrap: bool | None = None,
    draws: int = 9999,
    seed: int = 0,
) -> ClusteredResult:
    """Difference in means (treated − control) with cluster-robust inference.

    ``bootstrap`` adds a wild cluster bootstrap p-value (default: when there are fewer
    than 30 clusters, where CR1 standard errors are unreliable).
    """
    y = np.asarray(outcome, dtype=float)
    d = np.asarray(treated, dtype=float)
    if not (y.shape == d.shape and len(cluster) == y.size):
        raise ExperimentInputError("data", "outcome, treated and cluster must have equal length")
    if not np.all(np.isfinite(y)):
        raise ExperimentInputError("outcome", "must be finite numbers")
    if not np.all((d == 0) | (d == 1)):
        raise ExperimentInputError("treated", "must be 0 or 1")
    codes, g = cluster_codes(np.asarray(cluster, dtype=object).astype(str))
    arms_per_cluster = np.zeros((g, 2), dtype=int)
    np.add.at(arms_per_cluster, (codes, d.astype(int)), 1)
    mixed = int(np.sum((arms_per_cluster > 0).all(axis=1)))
    g_treat = int(np.sum(arms_per_cluster[:, 1] > 0))
    g_ctrl = int(np.sum(arms_per_cluster[:, 0] > 0))
    if g_treat == 0 or g_ctrl == 0:
        raise ExperimentInputError("treated", "both arms need at least one cluster")
    x = np.column_stack([np.ones_like(y), d])
    fit = ols(y, x, codes)
    b, se = float(fit.coef[1]), math.sqrt(float(fit.cov[1, 1]))
    q = float(stats.t.ppf(1 - alpha / 2, fit.dof))
    p = 2 * float(stats.t.sf(abs(b) / se, fit.dof)) if se > 0 else float("nan")
    icc, m = _anova_icc(y, codes, g)
    warnings = cluster_warnings(g, True)
    boot = None
    if bootstrap or (bootstrap is None and g < FEW_CLUSTERS):
        boot = wild_cluster_bootstrap(y, x, codes, 1, draws=draws, seed=seed)
        warnings.append(bootstrap_note(boot))
    if mixed:
        warnings.append(
            f"{mixed} clusters contain both arms: assignment was not by cluster, or labels "
            "are wrong"
        )
    if min(g_treat, g_ctrl) < 0.5 * max(g_treat, g_ctrl):
        warnings.append(f"imbalanced clusters: {g_ctrl} control vs {g_treat} treated")
    return ClusteredResult(
        absolute=Estimate(b, se, b - q * se, b + q * se, p, fit.dof),
        n_obs=fit.n_obs,
        n_clusters=g,
        clusters_control=g_ctrl,
        clusters_treatment=g_treat,
        icc=icc,
        design_effect=1 + (m - 1) * icc,
        assumptions=(
            "clusters independent; arbitrary correlation within a cluster",
            "CR1 cluster-robust variance, t distribution with G - 1 degrees of freedom",
        ),
        warnings=tuple(warnings),
        bootstrap=boot,
    )
