"""Diversity and inequality indices against textbook values, worked examples and a second,
independent implementation; property tests with hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missionkit.portfolio import (
    DistanceMatrix,
    cosine_distances,
    diversity,
    effective_number,
    gini,
    hhi,
    indices,
    ordinal_distance,
    rao_stirling,
    shannon,
    theil_decomposition,
    theil_t,
)
from tests.test_portfolio_cases import small_portfolio

approx = pytest.approx


def gini_pairwise(values: list[float], weights: list[float] | None = None) -> float:
    """Second implementation: the mean absolute difference over all ordered pairs,
    G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu)  (Cowell 2011, Measuring Inequality,
    3rd ed., eq. (2.3) in its population-weighted form)."""
    w = [1.0] * len(values) if weights is None else weights
    big_w = sum(w)
    mu = sum(wi * xi for wi, xi in zip(w, values, strict=True)) / big_w
    total = sum(
        wi * wj * abs(xi - xj)
        for wi, xi in zip(w, values, strict=True)
        for wj, xj in zip(w, values, strict=True)
    )
    return total / (2 * big_w**2 * mu)


# --- Gini ---------------------------------------------------------------------------------


def test_gini_textbook_value() -> None:
    # (1, 2, 3, 4, 5): sum over ordered pairs of |x_i - x_j| = 2 x (4x1 + 3x2 + 2x3 + 1x4) = 40;
    # G = 40 / (2 x 5^2 x 3) = 0.2667 (the mean-absolute-difference definition; e.g.
    # Cowell 2011, sec. 2.3; Damgaard & Weiner 2000 give the same n^2 form).
    assert gini([1, 2, 3, 4, 5]) == approx(4 / 15)
    assert gini_pairwise([1, 2, 3, 4, 5]) == approx(4 / 15)


def test_gini_known_cases() -> None:
    assert gini([7, 7, 7]) == 0.0
    assert gini([0, 0, 0, 10]) == approx(0.75)  # all to one of n: 1 - 1/n
    # Integer weights equal repeating the value: (1,1,1,5) == values (1, 5) weighted (3, 1).
    assert gini([1, 5], [3, 1]) == approx(gini([1, 1, 1, 5]))
    with pytest.raises(ValueError, match="sum to zero"):
        gini([0, 0])
    with pytest.raises(ValueError, match="non-negative"):
        gini([1, -1])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1e6), st.floats(0.01, 1e4)), min_size=1, max_size=25).filter(
        lambda xs: sum(x * w for x, w in xs) > 1e-6
    )
)
def test_gini_matches_the_pairwise_formula(pairs: list[tuple[float, float]]) -> None:
    values = [x for x, _ in pairs]
    weights = [w for _, w in pairs]
    assert gini(values, weights) == approx(gini_pairwise(values, weights), abs=1e-9)
    assert gini(values) == approx(gini_pairwise(values), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=30).filter(lambda xs: sum(xs) > 1e-6),
       st.randoms(use_true_random=False), st.floats(0.01, 1e3))  # fmt: skip
def test_gini_properties(values: list[float], rnd: object, scale: float) -> None:
    g = gini(values)
    assert 0.0 <= g < 1.0
    shuffled = list(values)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert gini(shuffled) == approx(g, abs=1e-12)
    assert gini([v * scale for v in values]) == approx(g, abs=1e-9)
    assert gini([values[0]] * len(values)) == 0.0 if values[0] > 0 else True


# --- Theil ----------------------------------------------------------------------------------


def test_theil_by_hand() -> None:
    # x = (1, 2, 3), equal weights: mu = 2, T = 1/3 [0.5 ln 0.5 + 1 ln 1 + 1.5 ln 1.5].
    expected = (0.5 * math.log(0.5) + 0 + 1.5 * math.log(1.5)) / 3
    assert theil_t([1, 2, 3]) == approx(expected)
    assert theil_t([4, 4, 4]) == 0.0
    # Zero values contribute 0 ln 0 = 0: (0, 10) -> T = 1/2 x 2 ln 2 = ln 2 (the maximum ln n).
    assert theil_t([0, 10]) == approx(math.log(2))


def test_theil_decomposition_by_hand() -> None:
    # Two groups: a = (1, 3), b = (6). Equal weights; total 10, mu = 10/3.
    d = theil_decomposition([1, 3, 6], None, ["a", "a", "b"])
    s_a, q_a, s_b, q_b = 0.4, 2 / 3, 0.6, 1 / 3
    between = s_a * math.log(s_a / q_a) + s_b * math.log(s_b / q_b)
    t_a = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)  # inside a: shares 1/4, 3/4
    assert d.between == approx(between)
    assert d.within == approx(s_a * t_a)
    assert d.total == approx(theil_t([1, 3, 6]))
    assert d.between + d.within == approx(d.total, abs=1e-12)
    assert [g.group for g in d.groups] == ["a", "b"]
    assert d.groups[1].theil == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1e6), st.floats(0.01, 1e4), st.sampled_from("abcd")),
        min_size=1, max_size=30,
    ).filter(lambda xs: sum(x * w for x, w, _ in xs) > 1e-6)
)  # fmt: skip
def test_theil_decomposition_sums_to_total(rows: list[tuple[float, float, str]]) -> None:
    values = [x for x, _, _ in rows]
    weights = [w for _, w, _ in rows]
    groups = [g for _, _, g in rows]
    d = theil_decomposition(values, weights, groups)
    assert d.between + d.within == approx(d.total, rel=1e-9, abs=1e-9)
    assert d.total == approx(theil_t(values, weights), abs=1e-12)
    assert d.between >= -1e-12 and d.within >= -1e-12
    # Order does not matter.
    order = sorted(range(len(rows)), key=lambda i: (groups[i], -values[i]))
    again = theil_decomposition([values[i] for i in order], [weights[i] for i in order],
                                [groups[i] for i in order])  # fmt: skip
    assert again.total == approx(d.total, abs=1e-12)
    assert again.between == approx(d.between, abs=1e-12)


# --- Shannon, HHI, Rao–Stirling -------------------------------------------------------------


def test_shannon_and_hhi_known_values() -> None:
    assert shannon([1, 1, 1, 1]) == approx(math.log(4))
    assert effective_number([1, 1, 1, 1]) == approx(4.0)
    assert shannon([5]) == 0.0
    assert shannon([0.5, 0.25, 0.25]) == approx(1.5 * math.log(2))  # 1.5 bits in nats
    assert hhi([1, 1, 1, 1]) == approx(0.25)
    assert hhi([30, 30, 20, 20]) * 10_000 == approx(2600)  # the DoJ worked example scale
    assert hhi([100]) == 1.0
    with pytest.raises(ValueError, match="sum to zero"):
        hhi([0, 0])


def test_rao_stirling_worked_example() -> None:
    # Three categories, p = (0.5, 0.3, 0.2), d_12 = 0.2, d_13 = 0.8, d_23 = 0.6.
    # Each unordered pair:  0.2 x 0.5 x 0.3 = 0.030
    #                       0.8 x 0.5 x 0.2 = 0.080
    #                       0.6 x 0.3 x 0.2 = 0.036   -> 0.146
    # Stirling (2007) sums over ordered pairs i != j, so each pair counts twice: 0.292.
    p = [0.5, 0.3, 0.2]
    d = [[0.0, 0.2, 0.8], [0.2, 0.0, 0.6], [0.8, 0.6, 0.0]]
    assert rao_stirling(p, d) == approx(0.292)
    assert rao_stirling(p, d, pairs="unordered") == approx(0.146)
    assert rao_stirling([50, 30, 20], d) == approx(0.292)  # amounts or shares alike
    # alpha = 0 makes every distance 1: Gini–Simpson = 1 - HHI = 1 - 0.38 = 0.62.
    assert rao_stirling(p, d, alpha=0.0) == approx(0.62)
    assert rao_stirling(p, [[0, 1, 1], [1, 0, 1], [1, 1, 0]]) == approx(1 - hhi(p))
    with pytest.raises(ValueError, match="symmetric"):
        rao_stirling(p, [[0, 0.2, 0.8], [0.3, 0, 0.6], [0.8, 0.6, 0]])
    with pytest.raises(ValueError, match="3 x 3"):
        rao_stirling(p, [[0, 1], [1, 0]])


def test_distance_matrices() -> None:
    m = DistanceMatrix.from_pairs({("a", "b"): 0.2, ("a", "c"): 0.8, ("c", "b"): 0.6})
    assert m.categories == ("a", "b", "c")
    assert m.array(["c", "a"]).tolist() == [[0.0, 0.8], [0.8, 0.0]]
    with pytest.raises(ValueError, match="no distance between 'a' and 'c'"):
        DistanceMatrix.from_pairs({("a", "b"): 0.2}, ["a", "b", "c"])
    with pytest.raises(ValueError, match="no category 'z'"):
        m.array(["z"])
    stages = ordinal_distance()
    assert stages.array(["research", "diffusion"]).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert stages.array(["research", "development"])[0, 1] == 0.25
    # 1 - cosine: (1,1,0) vs (1,0,0) -> 1 - 1/sqrt(2); orthogonal -> 1.
    d = cosine_distances([[1, 1, 0], [1, 0, 0], [0, 0, 1]])
    assert d[0, 1] == approx(1 - 1 / math.sqrt(2))
    assert d[0, 2] == approx(1.0) and d[1, 2] == approx(1.0)


def test_portfolio_sector_diversity_by_hand() -> None:
    # Sector budgets: water 200 (A1 half) + 300 (A2) = 500, health 200, energy 200; A4's 100
    # has no sector (10 % unclassified). p = (5/9, 2/9, 2/9).
    div = diversity(small_portfolio(), "sector")
    ix = div.portfolio
    p = {"water": 5 / 9, "health": 2 / 9, "energy": 2 / 9}
    assert ix.shares == approx(p)
    assert ix.unclassified_share == approx(0.1)
    assert ix.shannon == approx(-sum(v * math.log(v) for v in p.values()))
    assert ix.hhi == approx(33 / 81)
    assert ix.hhi_points == approx(33 / 81 * 10_000)
    # Derived distances: water in {A1, A2}, health in {A1}, energy in {A3}.
    # cos(water, health) = 1 / sqrt(2 x 1) -> d = 0.2929; the other pairs never meet -> 1.
    d_wh = 1 - 1 / math.sqrt(2)
    assert div.distance.array(["water", "health"])[0, 1] == approx(d_wh)
    expected = 2 * (d_wh * 5 / 9 * 2 / 9 + 1 * 5 / 9 * 2 / 9 + 1 * 2 / 9 * 2 / 9)
    assert ix.rao_stirling == approx(expected)
    # O2: A2 half (150, water) and A3 half (100, energy): p = (0.6, 0.4).
    o2 = next(o for o in div.objectives if o.objective == "O2").indices
    assert o2.shares == approx({"water": 0.6, "energy": 0.4})
    assert o2.hhi == approx(0.52)
    coasts = next(o for o in div.objectives if o.objective == "O3").indices
    assert coasts.shannon is None and coasts.categories == 0


def test_stage_diversity_uses_ordinal_distance() -> None:
    div = diversity(small_portfolio(), "stage")
    # research 400, demonstration 200, deployment 400 (of 1000): distances 0.5, 0.75, 0.25.
    p = {"research": 0.4, "demonstration": 0.2, "deployment": 0.4}
    expected = 2 * (0.5 * 0.4 * 0.2 + 0.75 * 0.4 * 0.4 + 0.25 * 0.2 * 0.4)
    assert div.portfolio.shares == approx(p)
    assert div.portfolio.rao_stirling == approx(expected)
    assert div.distance.kind == "ordinal"


amounts = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e", "f"]), st.floats(0.001, 1e6), min_size=1
)


@settings(max_examples=60, deadline=None)
@given(amounts, st.floats(0.01, 1e4), st.randoms(use_true_random=False))
def test_indices_are_invariant_to_order_and_scale(
    data: dict[str, float], scale: float, rnd: object
) -> None:
    names = sorted(data)
    rng = np.random.default_rng(len(names))
    raw = rng.uniform(0, 1, (len(names), len(names)))
    sym = (raw + raw.T) / 2
    np.fill_diagonal(sym, 0.0)
    dist = DistanceMatrix.from_array(names, sym, "user")
    base = indices(data, dist)
    items = list(data.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    shuffled = indices(dict(items), dist)
    scaled = indices({k: v * scale for k, v in data.items()}, dist)
    for other in (shuffled, scaled):
        assert other.shannon == approx(base.shannon, abs=1e-9)
        assert other.hhi == approx(base.hhi, abs=1e-12)
        assert other.rao_stirling == approx(base.rao_stirling, abs=1e-12)
    assert base.hhi is not None and 1 / len(names) - 1e-12 <= base.hhi <= 1.0
    assert base.shannon is not None and base.shannon <= math.log(len(names)) + 1e-12
