"""Student's t distribution for integer degrees of freedom, without SciPy.

Trend fits have ``n - 2`` degrees of freedom, always a whole number, so the closed forms of
Abramowitz & Stegun (1964), *Handbook of Mathematical Functions*, 26.7.3 (odd) and 26.7.4
(even) give the distribution exactly as finite sums; quantiles come from bisection. With
``c2 = df / (df + t^2)`` (cos^2 theta) and ``s = t / sqrt(df + t^2)`` (sin theta),
``A(t) = P(|T| <= t)`` is

- odd ``df``: ``(2/pi) * (theta + s * sqrt(c2) * (1 + 2/3 c2 + 2*4/(3*5) c2^2 + ...))``
  with ``df - 2`` the last power of cos theta, and ``theta = atan(t / sqrt(df))``;
- even ``df``: ``s * (1 + 1/2 c2 + 1*3/(2*4) c2^2 + ...)``, last power ``df - 2``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def t_cdf(x: float, df: int) -> float:
    """P(T <= x) for Student's t with ``df`` >= 1 degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {df}")
    if math.isinf(x):
        return 1.0 if x > 0 else 0.0
    t = abs(x)
    r = df + t * t
    c2 = df / r
    s = t / math.sqrt(r)
    if df % 2:
        theta = math.atan(t / math.sqrt(df))
        term = total = 1.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        a = (2.0 / math.pi) * (theta + (s * math.sqrt(c2) * total if df > 1 else 0.0))
    else:
        term = total = 1.0
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        a = s * total
    return 0.5 + 0.5 * a if x >= 0 else 0.5 - 0.5 * a


def t_cdf_array(x: NDArray[np.float64], df: int) -> NDArray[np.float64]:
    """``t_cdf`` over an array, one ``df`` for all elements."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {df}")
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.abs(x)
        r = df + t * t
        c2 = df / r
        s = t / np.sqrt(r)
        total = np.ones_like(t)
        term = np.ones_like(t)
        if df % 2:
            theta = np.arctan(t / math.sqrt(df))
            for k in range(1, (df - 1) // 2):
                term *= c2 * ((2 * k) / (2 * k + 1))
                total += term
            a = (2.0 / math.pi) * (theta + (s * np.sqrt(c2) * total if df > 1 else 0.0))
        else:
            for k in range(1, df // 2):
                term *= c2 * ((2 * k - 1) / (2 * k))
                total += term
            a = s * total
        a = np.where(np.isinf(t), 1.0, a)
    return np.where(x >= 0, 0.5 + 0.5 * a, 0.5 - 0.5 * a)


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t (bisection to machine precision)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1, not {p}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return hi
