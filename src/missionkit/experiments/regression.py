"""Least squares with cluster-robust standard errors, shared by the clustered A/B analysis
and difference-in-differences.

The sandwich (X'X)⁻¹ (Σ_g X_g'e_g e_g'X_g) (X'X)⁻¹ with the CR1 small-sample factor
G/(G − 1)·(N − 1)/(N − K) and t(G − 1) reference distribution, the convention of Stata's
``vce(cluster)`` and statsmodels' ``cov_type="cluster"``. With few clusters (under ~30–50)
these standard errors are too small (Cameron, Gelbach & Miller 2008); results say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

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


def bootstrap_note(result: BootstrapResult) -> str:
    """The warning that reports the bootstrap p-value next to the CR1 one."""
    how = "all sign patterns" if result.enumerated else f"{result.draws} draws"
    return (
        f"wild cluster bootstrap p = {result.p_value:.4g} ({result.weights} weights, {how}); "
        "with this few clusters prefer it to the CR1 p-value"
    )


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


BootstrapWeights = Literal["rademacher", "webb"]
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class BootstrapResult:
    """Wild cluster bootstrap test of one coefficient being 0."""

    p_value: float
    t_stat: float
    draws: int
    enumerated: bool  # all 2^G Rademacher sign patterns used (the p-value is exact)
    weights: BootstrapWeights
    n_clusters: int


def wild_cluster_bootstrap(
    y: FloatArray,
    x: FloatArray,
    cluster: NDArray[np.intp],
    column: int,
    *,
    draws: int = 9999,
    weights: BootstrapWeights = "rademacher",
    seed: int = 0,
    chunk: int = 2000,
    partial: Callable[[FloatArray], FloatArray] | None = None,
) -> BootstrapResult:
    """Restricted wild cluster bootstrap (WCR) p-value for H0: coefficient ``column`` = 0.

    Cameron, Gelbach & Miller (2008); Roodman, MacKinnon, Nielsen & Webb (2019, "Fast and
    wild", Stata Journal 19(1)). The null is imposed: restricted residuals are flipped by one
    weight per cluster (Rademacher ±1, or Webb's six-point weights for very few clusters),
    the model is refitted, and the bootstrap CR1 t statistics are compared with the
    original one: p = share of draws with |t*| >= |t|. With Rademacher weights and 2^G below
    ``draws`` every sign pattern is enumerated, so the p-value is deterministic. The draws
    are computed in closed form (each t* from G-dimensional algebra, no refits).

    When fixed effects were swept out of ``y`` and ``x`` beforehand, ``partial`` must apply
    the same sweep to a matrix of columns: the flipped residuals are swept again, so the
    result equals the bootstrap of the regression with explicit dummies.
    """
    n, k = x.shape
    g = int(cluster.max()) + 1
    if g < 2:
        raise ExperimentInputError("cluster", "need at least 2 clusters")
    if not 0 <= column < k:
        raise ExperimentInputError("column", "no such coefficient")
    bread = np.linalg.inv(x.T @ x)
    fit = ols(y, x, cluster)
    with np.errstate(divide="ignore", invalid="ignore"):  # a perfect fit: t is infinite
        t_stat = float(fit.coef[column] / np.sqrt(fit.cov[column, column]))
    factor = g / (g - 1) * (n - 1) / (n - k)
    others = [c for c in range(k) if c != column]
    if others:
        xr = x[:, others]
        restricted = np.linalg.lstsq(xr, y, rcond=None)[0]
        u = y - xr @ restricted
    else:
        u = y.copy()

    def by_cluster(values: FloatArray) -> FloatArray:
        cols = [np.bincount(cluster, weights=values[:, c], minlength=g) for c in range(k)]
        return np.asarray(np.column_stack(cols), dtype=np.float64)  # G x k

    r = bread[column]  # row of (X'X)^-1 for the tested coefficient
    xr_dot = x @ r  # n
    c_mat = (by_cluster(x * u[:, None]) @ bread).T  # k x G: effect of flipping cluster g
    if partial is None:
        flip = np.diag(np.bincount(cluster, weights=xr_dot * u, minlength=g))  # G x G
    else:
        if n * g > 50_000_000:
            raise ExperimentInputError(
                "cluster", f"{g} clusters are too many for the bootstrap (and CR1 is reliable)"
            )
        spread = np.zeros((n, g))
        spread[np.arange(n), cluster] = u
        swept = partial(spread)  # n x G: each cluster's residuals after the sweep
        flip = np.asarray(
            np.column_stack(
                [np.bincount(cluster, weights=xr_dot * swept[:, h], minlength=g) for h in range(g)]
            ),
            dtype=np.float64,
        )  # flip[g, h]: score of cluster g when cluster h's residuals flip
    m_mat = by_cluster(x * xr_dot[:, None]) @ c_mat  # G x G
    rng = np.random.Generator(np.random.PCG64(seed))
    enumerate_all = weights == "rademacher" and 2**g < draws
    total = 2**g if enumerate_all else draws
    exceed = 0
    for start in range(0, total, chunk):
        size = min(chunk, total - start)
        if enumerate_all:
            codes = np.arange(start, start + size)
            bits = (codes[None, :] >> np.arange(g)[:, None]) & 1
            v = (2.0 * bits - 1.0).astype(np.float64)
        elif weights == "rademacher":
            v = rng.choice(np.array([-1.0, 1.0]), size=(g, size))
        else:
            v = rng.choice(WEBB, size=(g, size))
        beta = c_mat[column] @ v
        q = flip @ v - m_mat @ v
        se = np.sqrt(factor * np.sum(q * q, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            t_boot = np.where(se > 0, beta / se, 0.0)
        # ties count as exceedances (the all-ones and all-minus-ones patterns reproduce
        # |t| exactly; rounding must not decide them): p = #{|t*| >= |t|} / B
        exceed += int(np.sum(np.abs(t_boot) >= abs(t_stat) * (1 - 1e-10)))
    return BootstrapResult(exceed / total, t_stat, total, enumerate_all, weights, g)
