"""Inequality indices: Gini (weighted and unweighted) and Theil T with its decomposition.

Values ``x_i`` (e.g. funding per head of region ``i``) carry weights ``w_i`` (e.g. the
region's population; all 1 for the unweighted index). ``W = sum w_i`` and the weighted mean
``mu = sum w_i x_i / W``.

Gini (the mean-absolute-difference definition, Gini 1912; Cowell 2011, *Measuring
Inequality*, 3rd ed., sec. 2.3 and Technical Appendix A.3)::

    G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu)

computed here in O(n log n) from the Lorenz curve: sort by ``x``, let ``q_i = w_i / W`` and
``L_i`` the cumulative share of the total ``sum w x`` up to and including ``i``; then
``G = 1 - sum_i q_i (L_{i-1} + L_i)`` (the trapezoid area, exact for the formula above).
Example: (1, 2, 3, 4, 5) unweighted gives 40 / (2 x 25 x 3) = 0.2667.

Theil T (Theil 1967, *Economics and Information Theory*; Conceição & Ferreira 2000, "The
Young Person's Guide to the Theil Index", UTIP Working Paper 14)::

    T = sum_i (w_i / W) (x_i / mu) ln(x_i / mu)  =  sum_i s_i ln(s_i / q_i)

with ``s_i = w_i x_i / sum w x`` the share of the total and ``0 ln 0 = 0``. For groups
``g``: ``T = sum_g s_g ln(s_g / q_g)`` (between) ``+ sum_g s_g T_g`` (within), where ``T_g``
is the Theil index inside group ``g``; the two parts add up to ``T`` exactly.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from missionkit.portfolio.types import Result

__all__ = ["TheilDecomposition", "TheilGroup", "gini", "theil_decomposition", "theil_t"]

FloatArray = npt.NDArray[np.float64]


def _prepare(
    values: Sequence[float] | FloatArray, weights: Sequence[float] | FloatArray | None
) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(values, dtype=np.float64)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if x.ndim != 1 or w.shape != x.shape:
        raise ValueError("values and weights must be one-dimensional and of equal length")
    if x.size == 0:
        raise ValueError("no values")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
        raise ValueError("values and weights must be finite")
    if np.any(x < 0) or np.any(w < 0):
        raise ValueError("values and weights must be non-negative")
    if float(w.sum()) <= 0:
        raise ValueError("the weights sum to zero")
    if float((w * x).sum()) <= 0:
        raise ValueError("the values sum to zero: inequality is undefined")
    return x, w


def gini(
    values: Sequence[float] | FloatArray, weights: Sequence[float] | FloatArray | None = None
) -> float:
    """Gini coefficient of ``values`` (weighted by ``weights``; unweighted when None).

    0 when all values are equal; below 1 for any finite set (at most ``1 - min q_i``).
    Raises ValueError for negative values or weights, or a zero total.
    """
    x, w = _prepare(values, weights)
    present = x[w > 0]
    if np.all(present == present[0]):
        return 0.0  # exactly, rather than a rounding residue
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    q = w / w.sum()
    amounts = w * x
    cum = np.cumsum(amounts) / amounts.sum()
    previous = np.concatenate(([0.0], cum[:-1]))
    return float(min(max(1.0 - float((q * (previous + cum)).sum()), 0.0), 1.0))


def theil_t(
    values: Sequence[float] | FloatArray, weights: Sequence[float] | FloatArray | None = None
) -> float:
    """Theil T index ``sum s_i ln(s_i / q_i)`` (0 = equal; at most ``ln(W / min w)``)."""
    x, w = _prepare(values, weights)
    return _theil(x, w)


def _theil(x: FloatArray, w: FloatArray) -> float:
    q = w / w.sum()
    s = (w * x) / (w * x).sum()
    keep = s > 0
    return max(float((s[keep] * np.log(s[keep] / q[keep])).sum()), 0.0)


@dataclass(frozen=True, slots=True)
class TheilGroup(Result):
    """One group's part: ``share`` of the total, ``weight_share`` (e.g. of population),
    its own Theil index ``theil``, ``between`` = share x ln(share / weight_share) and
    ``within`` = share x theil."""

    group: str
    members: int
    share: float
    weight_share: float
    theil: float
    between: float
    within: float


@dataclass(frozen=True, slots=True)
class TheilDecomposition(Result):
    """``total = between + within`` (exactly, up to rounding); groups sorted by name."""

    total: float
    between: float
    within: float
    groups: tuple[TheilGroup, ...]


def theil_decomposition(
    values: Sequence[float] | FloatArray,
    weights: Sequence[float] | FloatArray | None,
    groups: Sequence[Hashable],
) -> TheilDecomposition:
    """Theil T of ``values`` split into between- and within-group parts."""
    x, w = _prepare(values, weights)
    if len(groups) != x.size:
        raise ValueError("one group label per value is needed")
    total_amount = float((w * x).sum())
    total_weight = float(w.sum())
    labels = np.asarray([str(g) for g in groups])
    parts: list[TheilGroup] = []
    for label in sorted(set(labels.tolist())):
        mask = labels == label
        amount = float((w[mask] * x[mask]).sum())
        s_g = amount / total_amount
        q_g = float(w[mask].sum()) / total_weight
        inner = _theil(x[mask], w[mask]) if amount > 0 and float(w[mask].sum()) > 0 else 0.0
        between = s_g * np.log(s_g / q_g) if s_g > 0 else 0.0
        parts.append(
            TheilGroup(label, int(mask.sum()), s_g, q_g, inner, float(between), s_g * inner)
        )
    between_total = float(sum(p.between for p in parts))
    within_total = float(sum(p.within for p in parts))
    return TheilDecomposition(_theil(x, w), between_total, within_total, tuple(parts))
