"""Diversity of a portfolio: Shannon, Herfindahl–Hirschman and Rao–Stirling.

Pure index functions over budget amounts (or shares) per category, then
:func:`diversity`, which applies them to one dimension of a portfolio and of each objective.

* Shannon entropy ``H = -sum_i p_i ln p_i`` (natural log; Shannon 1948) and its effective
  number of categories ``exp(H)`` (Hill 1973, order 1).
* Herfindahl–Hirschman ``HHI = sum_i p_i^2`` on 0..1; ``x 10,000`` is the competition
  authorities' points convention (shares in percent squared, e.g. US DoJ/FTC 2023
  Merger Guidelines). ``1 - HHI`` is the Gini–Simpson index.
* Rao–Stirling ``D = sum_{i != j} d_ij^alpha (p_i p_j)^beta`` (Stirling 2007, eq. on p. 712;
  Rao 1982 for alpha = beta = 1). The sum runs over **ordered** pairs, so each unordered pair
  counts twice, as in Stirling's formula; with every ``d_ij = 1`` it then equals
  Gini–Simpson ``1 - HHI``. ``pairs="unordered"`` halves it (the convention of some
  software, e.g. Porter & Rafols 2009 report the ordered form too).

References: Stirling, A. (2007) "A general framework for analysing diversity in science,
technology and society", J. R. Soc. Interface 4(15):707–719, doi:10.1098/rsif.2007.0213.
Rao, C. R. (1982) "Diversity and dissimilarity coefficients: a unified approach", Theor.
Popul. Biol. 21:24–43. Leydesdorff & Rafols (2011) on cosine-based distances.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from missionkit.domain.vocab import STAGES
from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.parts import cross, numbered_parts, totals
from missionkit.portfolio.types import NONE, Dimension, Result

__all__ = [
    "DistanceMatrix",
    "Diversity",
    "DiversityIndices",
    "ObjectiveDiversity",
    "cooccurrence_distance",
    "cosine_distances",
    "diversity",
    "effective_number",
    "hhi",
    "indices",
    "proportions",
    "rao_stirling",
    "shannon",
]

Pairs = Literal["ordered", "unordered"]
FloatArray = npt.NDArray[np.float64]


def proportions(values: Sequence[float] | FloatArray) -> FloatArray:
    """Non-negative amounts -> shares summing to 1. Raises ValueError on a negative or
    non-finite amount, or a zero total."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError("expected a one-dimensional sequence of amounts")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("amounts must be finite and non-negative")
    total = float(arr.sum())
    if total <= 0:
        raise ValueError("the amounts sum to zero: shares are undefined")
    return arr / total


def shannon(values: Sequence[float] | FloatArray) -> float:
    """Shannon entropy ``-sum p ln p`` (natural log; empty categories contribute 0)."""
    p = proportions(values)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum()) + 0.0


def effective_number(values: Sequence[float] | FloatArray) -> float:
    """``exp(H)``: the number of equally funded categories with the same Shannon entropy."""
    return math.exp(shannon(values))


def hhi(values: Sequence[float] | FloatArray) -> float:
    """Herfindahl–Hirschman index ``sum p^2`` on 0..1 (x 10,000 for the points scale)."""
    p = proportions(values)
    return float((p * p).sum())


def _check_distance(d: FloatArray, n: int) -> None:
    if d.shape != (n, n):
        raise ValueError(f"the distance matrix must be {n} x {n}, not {d.shape}")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("distances must be finite and non-negative")
    if not np.allclose(d, d.T):
        raise ValueError("the distance matrix must be symmetric")
    if np.any(np.diag(d) != 0):
        raise ValueError("a category's distance to itself must be 0")


def rao_stirling(
    values: Sequence[float] | FloatArray,
    distance: Sequence[Sequence[float]] | FloatArray,
    *,
    pairs: Pairs = "ordered",
    alpha: float = 1.0,
    beta: float = 1.0,
) -> float:
    """Rao–Stirling diversity ``sum_{i != j} d_ij^alpha (p_i p_j)^beta``.

    ``distance[i][j]`` is the disparity between categories ``i`` and ``j`` (symmetric, zero
    diagonal). ``pairs="ordered"`` (Stirling 2007) counts (i, j) and (j, i);
    ``"unordered"`` counts each pair once (half the ordered value).
    """
    p = proportions(values)
    d = np.asarray(distance, dtype=np.float64)
    _check_distance(d, p.size)
    off = ~np.eye(p.size, dtype=bool)
    terms = np.power(d, alpha) * np.power(np.outer(p, p), beta)
    total = float(terms[off].sum())
    return total if pairs == "ordered" else total / 2


def cosine_distances(profiles: Sequence[Sequence[float]] | FloatArray) -> FloatArray:
    """``1 - cosine similarity`` between the rows of a category x item matrix.

    A row of zeros (a category seen nowhere) is at distance 1 from every other category.
    """
    m = np.asarray(profiles, dtype=np.float64)
    norms = np.sqrt((m * m).sum(axis=1))
    safe = np.where(norms > 0, norms, 1.0)
    unit = m / safe[:, None]
    d = 1.0 - unit @ unit.T
    d = np.clip(d, 0.0, 1.0) if np.all(m >= 0) else np.clip(d, 0.0, 2.0)
    np.fill_diagonal(d, 0.0)
    return (d + d.T) / 2


@dataclass(frozen=True, slots=True)
class DistanceMatrix(Result):
    """Distances between named categories (symmetric, zero diagonal, non-negative).

    ``kind`` records where it came from: ``user``, ``cooccurrence`` (1 - cosine similarity
    of the categories' activity profiles), ``ordinal`` (stage steps apart / 4) or
    ``unit`` (1 between any two different categories).
    """

    categories: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    kind: str = "user"

    def __post_init__(self) -> None:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("category names must be unique")
        n = len(self.categories)
        values = np.asarray(self.values, dtype=np.float64)
        _check_distance(values.reshape(n, n) if values.size == n * n else values, n)

    @classmethod
    def from_pairs(
        cls, pairs: Mapping[tuple[str, str], float], categories: Sequence[str] | None = None
    ) -> DistanceMatrix:
        """Build from ``{(a, b): d}``; one direction per pair is enough. Raises ValueError
        when a pair of ``categories`` has no distance."""
        names = (
            list(categories) if categories is not None else sorted({c for p in pairs for c in p})
        )
        index = {c: i for i, c in enumerate(names)}
        m = np.zeros((len(names), len(names)))
        filled = np.eye(len(names), dtype=bool)
        for (a, b), v in pairs.items():
            if a not in index or b not in index:
                continue
            i, j = index[a], index[b]
            if filled[i, j] and i != j and m[i, j] != v:
                raise ValueError(f"two different distances for {a!r} and {b!r}")
            m[i, j] = m[j, i] = v
            filled[i, j] = filled[j, i] = True
        missing = np.argwhere(~filled)
        if missing.size:
            i, j = missing[0]
            raise ValueError(f"no distance between {names[i]!r} and {names[j]!r}")
        return cls(tuple(names), tuple(tuple(float(x) for x in row) for row in m))

    @classmethod
    def from_array(
        cls, categories: Sequence[str], values: Sequence[Sequence[float]] | FloatArray, kind: str
    ) -> DistanceMatrix:
        m = np.asarray(values, dtype=np.float64)
        return cls(tuple(categories), tuple(tuple(float(x) for x in row) for row in m), kind)

    def array(self, categories: Sequence[str]) -> FloatArray:
        """The sub-matrix for ``categories`` (in that order). Raises ValueError for a
        category the matrix does not know."""
        index = {c: i for i, c in enumerate(self.categories)}
        unknown = [c for c in categories if c not in index]
        if unknown:
            raise ValueError(f"the distance matrix has no category {unknown[0]!r}")
        rows = [index[c] for c in categories]
        n = len(self.categories)
        full = np.asarray(self.values, dtype=np.float64).reshape(n, n)
        return full[np.ix_(rows, rows)]


def ordinal_distance(categories: Sequence[str] = STAGES) -> DistanceMatrix:
    """Steps apart along an ordered scale over the widest step count: stages 0..1."""
    n = len(categories)
    scale = max(n - 1, 1)
    values = [[abs(i - j) / scale for j in range(n)] for i in range(n)]
    return DistanceMatrix.from_array(categories, values, "ordinal")


def cooccurrence_distance(portfolio: Portfolio, dimension: Dimension) -> DistanceMatrix:
    """``1 - cosine`` between categories' binary activity profiles.

    Category ``a``'s profile marks the activities that have ``a``; the cosine of two
    profiles is ``n_ab / sqrt(n_a n_b)`` (Salton's cosine of co-occurrence counts). Two
    categories that always appear together are at distance 0, two that never do at 1.
    Single-valued dimensions (instrument, call, year) therefore give distance 1 between
    any two different categories.
    """
    members = (
        numbered_parts(portfolio, dimension)
        .filter((pl.col("fraction") > 0) & (pl.col("value") != NONE))
        .select("activity", "value")
        .unique()
    )
    pairs = (
        members.join(members, on="activity", suffix="_b")
        .group_by("value", "value_b")
        .agg(pl.len().alias("n"))
        .collect()
    )
    names = sorted(set(pairs.get_column("value").to_list()))
    index = {c: i for i, c in enumerate(names)}
    counts = np.zeros((len(names), len(names)))
    for a, b, n in pairs.iter_rows():
        counts[index[a], index[b]] = n
    diag = np.sqrt(np.diag(counts))
    safe = np.where(diag > 0, diag, 1.0)
    cos = counts / np.outer(safe, safe)
    d = np.clip(1.0 - cos, 0.0, 1.0)
    np.fill_diagonal(d, 0.0)
    return DistanceMatrix.from_array(names, d, "cooccurrence")


@dataclass(frozen=True, slots=True)
class DiversityIndices(Result):
    """All indices for one distribution of budget over categories.

    ``categories`` counts categories with a positive share. The indices are ``None`` when
    no budget falls in a known category. ``unclassified_share`` is the budget share with no
    value in the dimension (``(none)``), left out of the shares.
    """

    categories: int
    shannon: float | None
    effective_number: float | None
    hhi: float | None
    hhi_points: float | None
    gini_simpson: float | None
    rao_stirling: float | None
    unclassified_share: float
    shares: dict[str, float]


def indices(
    amounts: Mapping[str, float],
    distance: DistanceMatrix | None = None,
    *,
    pairs: Pairs = "ordered",
    alpha: float = 1.0,
    beta: float = 1.0,
) -> DiversityIndices:
    """Every index for ``{category: amount}``; a ``(none)`` key counts as unclassified.

    Without ``distance`` Rao–Stirling uses unit distances (then equal to Gini–Simpson).
    """
    known = {k: float(v) for k, v in amounts.items() if k != NONE and v > 0}
    whole = sum(float(v) for v in amounts.values() if v > 0)
    unclassified = (whole - sum(known.values())) / whole if whole > 0 else 0.0
    if not known:
        return DiversityIndices(0, None, None, None, None, None, None, unclassified, {})
    names = sorted(known)
    values = np.array([known[k] for k in names])
    d = 1.0 - np.eye(len(names)) if distance is None else distance.array(names)
    h = shannon(values)
    c = hhi(values)
    p = proportions(values)
    return DiversityIndices(
        categories=len(names),
        shannon=h,
        effective_number=math.exp(h),
        hhi=c,
        hhi_points=c * 10_000,
        gini_simpson=1.0 - c,
        rao_stirling=rao_stirling(values, d, pairs=pairs, alpha=alpha, beta=beta),
        unclassified_share=unclassified,
        shares={k: float(s) for k, s in zip(names, p, strict=True)},
    )


@dataclass(frozen=True, slots=True)
class ObjectiveDiversity(Result):
    """One objective's diversity over the dimension (the budget allocated to it and to its
    sub-objectives)."""

    objective: str
    title: str
    indices: DiversityIndices


@dataclass(frozen=True, slots=True)
class Diversity(Result):
    """Diversity of the portfolio and of each objective over one dimension."""

    dimension: Dimension
    distance: DistanceMatrix
    pairs: Pairs
    portfolio: DiversityIndices
    objectives: tuple[ObjectiveDiversity, ...]


def diversity(
    portfolio: Portfolio,
    dimension: Dimension = "sector",
    distance: DistanceMatrix | None = None,
    *,
    pairs: Pairs = "ordered",
    alpha: float = 1.0,
    beta: float = 1.0,
) -> Diversity:
    """Indices of the budget's spread over ``dimension`` (portfolio and per objective).

    Without ``distance``, stages use :func:`ordinal_distance` and every other dimension
    :func:`cooccurrence_distance` computed on the whole portfolio. Per-objective figures
    are skipped when the dimension is ``objective`` itself.
    """
    if distance is None:
        distance = (
            ordinal_distance(STAGES)
            if dimension == "stage"
            else cooccurrence_distance(portfolio, dimension)
        )
    whole = {
        str(v): float(b)
        for v, b in totals(portfolio, dimension).select("value", "budget").iter_rows()
    }
    overall = indices(whole, distance, pairs=pairs, alpha=alpha, beta=beta)
    objectives: list[ObjectiveDiversity] = []
    if dimension != "objective":
        table = cross(portfolio, "objective", dimension, rollup=True)
        per: dict[str, dict[str, float]] = {}
        for o, v, b in table.select("row", "column", "budget").iter_rows():
            per.setdefault(str(o), {})[str(v)] = float(b)
        for o, title in portfolio.objective_titles().items():
            amounts = per.get(o, {})
            objectives.append(
                ObjectiveDiversity(
                    o, title, indices(amounts, distance, pairs=pairs, alpha=alpha, beta=beta)
                )
            )
    return Diversity(dimension, distance, pairs, overall, tuple(objectives))
