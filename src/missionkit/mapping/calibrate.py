"""Small, dependency-free learners: logistic regression, isotonic and Platt calibration.

numpy only: the combination has a handful of features, so Newton's method converges in
a few steps and nothing heavier (scikit-learn, torch) is worth installing for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]


def sigmoid(z: Vector) -> Vector:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def logit(p: Vector, eps: float = 1e-6) -> Vector:
    q = np.clip(p, eps, 1 - eps)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


def fit_logistic(
    x: NDArray[np.floating],
    y: NDArray[np.floating],
    *,
    l2: float = 1e-2,
    prior: Vector | None = None,
    sample_weight: Vector | None = None,
    iterations: int = 50,
    intercept_l2: float = 0.0,
) -> tuple[Vector, float]:
    """Weights and intercept minimising log-loss + l2/2 * |w - prior|^2 (Newton/IRLS).

    ``prior`` lets a model with little data stay near known-good weights (used when
    learning from a few reviewer decisions). The intercept is penalised only with
    ``intercept_l2`` > 0 — needed when the outcomes may all be alike (e.g. a reviewer
    accepted every suggestion so far), where an unpenalised intercept runs to infinity.
    """
    n, k = x.shape
    design = np.hstack([np.asarray(x, dtype=np.float64), np.ones((n, 1))])
    target = np.asarray(y, dtype=np.float64)
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    centre = np.zeros(k + 1)
    if prior is not None:
        centre[:k] = prior
    penalty = np.full(k + 1, l2)
    penalty[k] = intercept_l2
    beta = centre.copy()
    for _ in range(iterations):
        p = sigmoid(design @ beta)
        grad = design.T @ (weight * (p - target)) + penalty * (beta - centre)
        h = weight * p * (1 - p)
        hess = (design * h[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return beta[:k], float(beta[k])


@dataclass(frozen=True)
class Isotonic:
    """A non-decreasing step map from scores to probabilities (pool-adjacent-violators).

    Between knots the probability is interpolated linearly, so close scores get close
    probabilities; outside the fitted range it is held at the end values.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]

    @classmethod
    def fit(cls, scores: Vector, labels: Vector, prior_strength: float = 1.0) -> Isotonic:
        """Fit on scores and 0/1 outcomes; each block is shrunk toward the base rate."""
        order = np.argsort(scores, kind="mergesort")
        s = np.asarray(scores, dtype=np.float64)[order]
        t = np.asarray(labels, dtype=np.float64)[order]
        base = float(t.mean()) if t.size else 0.5
        # Blocks: [sum of outcomes, count, min score, max score]
        sums: list[float] = []
        counts: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        for value, outcome in zip(s, t, strict=True):
            sums.append(float(outcome))
            counts.append(1.0)
            lows.append(float(value))
            highs.append(float(value))
            while len(sums) > 1 and sums[-2] / counts[-2] >= sums[-1] / counts[-1]:
                last_sum, last_count, last_high = sums.pop(), counts.pop(), highs.pop()
                lows.pop()
                sums[-1] += last_sum
                counts[-1] += last_count
                highs[-1] = last_high
        xs: list[float] = []
        ys: list[float] = []
        for total, count, low, high in zip(sums, counts, lows, highs, strict=True):
            p = (total + prior_strength * base) / (count + prior_strength)
            xs.append((low + high) / 2)
            ys.append(p)
        return cls(tuple(xs), tuple(ys))

    def __call__(self, scores: Vector) -> Vector:
        if not self.x:
            return np.asarray(scores, dtype=np.float64)
        return np.asarray(np.interp(scores, self.x, self.y), dtype=np.float64)


@dataclass(frozen=True)
class Platt:
    """Platt scaling: p = sigmoid(a * score + b), fitted by logistic regression."""

    a: float
    b: float

    @classmethod
    def fit(cls, scores: Vector, labels: Vector) -> Platt:
        w, b = fit_logistic(np.asarray(scores).reshape(-1, 1), labels, l2=1e-6)
        return cls(float(w[0]), b)

    def __call__(self, scores: Vector) -> Vector:
        return sigmoid(self.a * np.asarray(scores, dtype=np.float64) + self.b)


def expected_calibration_error(probs: Vector, labels: Vector, bins: int = 10) -> float:
    """Mean |predicted - observed| over equal-width probability bins, weighted by count."""
    p = np.asarray(probs, dtype=np.float64)
    t = np.asarray(labels, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += float(mask.sum()) * abs(float(p[mask].mean()) - float(t[mask].mean()))
    return total / max(1, p.size)
