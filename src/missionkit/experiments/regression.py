"""Least squares with cluster-robust standard errors, shared by the clustered A/B analysis
and difference-in-differences.

The sandwich (X'X)⁻¹ (Σ_g X_g'e_g e_g'X_g) (X'X)⁻¹ with the CR1 small-sample factor
G/(G − 1)·(N − 1)/(N − K) and t(G − 1) reference distribution, the convention of Stata's
``vce(cluster)`` and statsmodels' ``cov_type="cluster"``. With few clusters (under ~30–50)
these standard errors are too small (Cameron, Gelbach & Miller 2008); results say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from missionkit.experiments.types import ExperimentInputError

FEW_CLUSTERS = 30
SOME_CLUSTERS = 50

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class OlsFit:
    coef: FloatArray
    cov: FloatArray
    residuals: FloatArray
    n_obs: int
    n_clusters: int
    dof: float  # for t intervals: G − 1 when clustered, N − K otherwise


def cluster_codes(cluster: NDArray[np.generic]) -> tuple[NDArray[np.intp], int]:
    """Dense integer codes of a cluster label array and the number of clusters."""
    if cluster.size == 0:
        return np.zeros(0, dtype=np.intp), 0
    # sort-based factorisation: much faster than np.unique's hashing for large arrays
    order = np.argsort(cluster, kind="stable")
    ordered = cluster[order]
    starts = np.empty(ordered.size, dtype=bool)
    starts[0] = True
    starts[1:] = ordered[1:] != ordered[:-1]
    codes = np.empty(ordered.size, dtype=np.intp)
    codes[order] = np.cumsum(starts) - 1
    return codes, int(starts.sum())


def ols(
    y: FloatArray,
    x: FloatArray,
    cluster: NDArray[np.intp] | None = None,
    *,
    absorbed: int = 0,
) -> OlsFit:
    """OLS of ``y`` on ``x`` with cluster-robust (CR1) or HC1 covariance.

    ``absorbed`` counts parameters swept out before the call (fixed effects removed by
    demeaning); it enters N − K only when there is no clustering, because fixed effects
    nested in clusters do not change the CR1 factor (Stata ``xtreg, fe vce(cluster)``).
    """
    n, k = x.shape
    if n <= k:
        raise ExperimentInputError("data", f"{n} observations cannot identify {k} parameters")
    xtx = x.T @ x
    try:
        bread = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        raise ExperimentInputError("data", "regressors are collinear") from None
    coef = bread @ (x.T @ y)
    e = y - x @ coef
    if cluster is None:
        scores = x * e[:, None]
        meat = scores.T @ scores
        factor = n / (n - k - absorbed)
        g = n
        dof = float(n - k - absorbed)
    else:
        g = int(cluster.max()) + 1
        if g < 2:
            raise ExperimentInputError("cluster", "need at least 2 clusters")
        cluster_scores = x * e[:, None]
        sums = np.column_stack(
            [np.bincount(cluster, weights=cluster_scores[:, j], minlength=g) for j in range(k)]
        ).astype(np.float64)
        meat = sums.T @ sums
        factor = g / (g - 1) * (n - 1) / (n - k)
        dof = float(g - 1)
    cov = factor * bread @ meat @ bread
    return OlsFit(coef, cov, e, n, g, dof)


def cluster_warnings(n_clusters: int, clustered: bool) -> list[str]:
    if not clustered:
        return []
    if n_clusters < FEW_CLUSTERS:
        return [
            f"only {n_clusters} clusters: cluster-robust standard errors are biased downwards "
            f"below ~{FEW_CLUSTERS}-{SOME_CLUSTERS} clusters; treat intervals as optimistic "
            "(a wild cluster bootstrap or randomisation inference is safer)"
        ]
    if n_clusters < SOME_CLUSTERS:
        return [f"{n_clusters} clusters: cluster-robust inference is approximate"]
    return []
