"""The collaboration network, by hand and cross-checked against networkx run directly on
graphs the test builds itself (components, isolates, edges, weights, exact betweenness and
seeded Louvain must agree exactly; the Leiden partition is checked through its modularity,
which networkx recomputes)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

from missionkit.portfolio import (
    Portfolio,
    activity_network,
    coherence,
    organisation_communities,
    organisation_network,
)
from missionkit.portfolio.coherence import CommunityMethod
from tests.test_portfolio_cases import small_portfolio

approx = pytest.approx


def test_small_network_by_hand() -> None:
    # A1 {x, y} and A2 {y, z} share y; A3 {w} shares nothing; A4 has no organisation.
    c = coherence(small_portfolio())
    assert c.activity_network.nodes == 4 and c.activity_network.edges == 1
    assert c.activity_network.weight == 1
    assert c.activity_network.components == 3
    assert c.activity_network.largest_component == 2
    assert c.activity_network.largest_share == 0.5
    assert c.largest_component_budget_share == approx(0.7)  # A1 + A2 = 700 of 1000
    assert c.isolated_activities == ("A3", "A4")
    assert c.isolated_budget == 300.0
    # Organisations: x - y - z is a path, w alone. y lies on the one shortest path between
    # x and z: 1 of the 3 pairs among the other three nodes -> normalised betweenness 1/3.
    assert c.organisation_network.components == 2
    assert c.organisation_network.edges == 2 and c.organisation_network.isolated == 1
    assert [(b.organisation, b.betweenness, b.activities, b.partners) for b in c.bridges] == [
        ("y", approx(1 / 3), 2, 2)
    ]
    assert c.betweenness_exact and c.betweenness_sources == 4
    assert [com.activities for com in c.communities] == [("A1", "A2")]
    assert c.communities[0].organisations == 3
    assert c.singletons == 2
    assert c.participations == 5


def _random_portfolio(seed: int, n: int = 60, orgs: int = 70) -> tuple[Portfolio, list[Any]]:
    rng = random.Random(seed)
    acts = [{"id": f"a{i}", "budget": float(rng.randint(1, 100))} for i in range(n)]
    links: set[tuple[str, str]] = set()
    for i in range(n):
        for _ in range(rng.randint(0, 3)):
            links.add((f"a{i}", f"o{rng.randint(0, orgs)}"))
    parts = [{"activity": a, "organisation": o} for a, o in sorted(links)]
    return Portfolio.from_records(acts, participations=parts), sorted(links)


def _networkx_graphs(n: int, links: list[tuple[str, str]]) -> tuple[Any, Any]:
    """The activity and organisation networks, built here independently of the engine;
    the organisation network with sorted nodes and sorted edges (u < v)."""
    members: dict[str, set[str]] = {}
    for a, o in links:
        members.setdefault(o, set()).add(a)
    g: Any = nx.Graph()
    g.add_nodes_from(f"a{i}" for i in range(n))
    for acts in members.values():
        ordered = sorted(acts)
        for i, u in enumerate(ordered):
            for v in ordered[i + 1 :]:
                w = g.edges[u, v]["weight"] + 1 if g.has_edge(u, v) else 1
                g.add_edge(u, v, weight=w)
    by_activity: dict[str, list[str]] = {}
    for a, o in links:
        by_activity.setdefault(a, []).append(o)
    weights: dict[tuple[str, str], int] = {}
    for orgs in by_activity.values():
        ordered = sorted(orgs)
        for i, u in enumerate(ordered):
            for v in ordered[i + 1 :]:
                weights[u, v] = weights.get((u, v), 0) + 1
    og: Any = nx.Graph()
    og.add_nodes_from(sorted(members))
    og.add_weighted_edges_from((u, v, w) for (u, v), w in sorted(weights.items()))
    return g, og


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_network_figures_match_networkx(seed: int) -> None:
    portfolio, links = _random_portfolio(seed)
    g, og = _networkx_graphs(60, links)
    mine = activity_network(portfolio)
    assert set(mine.nodes) == set(g.nodes)
    assert {frozenset(e) for e in mine.edges} == {frozenset(e) for e in g.edges}
    assert all(mine.edges[u, v]["weight"] == g.edges[u, v]["weight"] for u, v in g.edges)
    assert {frozenset(e) for e in organisation_network(portfolio).edges} == {
        frozenset(e) for e in og.edges
    }

    c = coherence(portfolio, seed=7)
    components = list(nx.connected_components(g))
    assert c.activity_network.components == len(components)
    assert c.activity_network.largest_component == max(len(x) for x in components)
    assert c.activity_network.edges == g.number_of_edges()
    assert c.activity_network.weight == g.size(weight="weight")
    assert set(c.isolated_activities) == set(nx.isolates(g))
    assert c.activity_network.isolated == nx.number_of_isolates(g)
    assert c.organisation_network.components == nx.number_connected_components(og)
    assert c.organisation_network.edges == og.number_of_edges()
    assert c.organisation_network.weight == og.size(weight="weight")
    assert c.organisation_network.isolated == nx.number_of_isolates(og)

    betweenness = nx.betweenness_centrality(og, normalized=True)
    top = sorted(betweenness.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(b.organisation, b.betweenness) for b in c.bridges] == [
        (o, approx(v)) for o, v in top if v > 0
    ]
    assert all(b.partners == og.degree(b.organisation) for b in c.bridges)

    # Leiden (igraph): a partition of every organisation whose modularity networkx agrees on.
    groups, q = organisation_communities(portfolio, method="leiden", seed=7)
    assert sorted(o for grp in groups for o in grp) == sorted(og.nodes)
    assert q == approx(nx.community.modularity(og, [set(x) for x in groups], weight="weight"))
    assert c.modularity == approx(q)


@pytest.mark.parametrize("seed", [1, 4])
def test_louvain_matches_networkx_exactly(seed: int) -> None:
    portfolio, links = _random_portfolio(seed)
    _, og = _networkx_graphs(60, links)
    groups, q = organisation_communities(portfolio, method="louvain", seed=5)
    expected = nx.community.louvain_communities(og, weight="weight", seed=5)
    assert {frozenset(x) for x in groups} == {frozenset(x) for x in expected}
    assert q == approx(nx.community.modularity(og, expected, weight="weight"))


def test_activities_join_the_community_of_most_of_their_partners() -> None:
    # Organisations {p, q, r} form one tight group (three shared activities) and {s, t}
    # another; activity M works with p, q and s: two of its three partners are in the first.
    acts = [{"id": x, "budget": 1.0} for x in ("A", "B", "C", "D", "E", "M")]
    links = [("A", "p"), ("A", "q"), ("B", "q"), ("B", "r"), ("C", "p"), ("C", "r"),
             ("D", "s"), ("D", "t"), ("E", "s"), ("E", "t"), ("M", "p"), ("M", "q"),
             ("M", "s")]  # fmt: skip
    p = Portfolio.from_records(
        acts, participations=[{"activity": a, "organisation": o} for a, o in links]
    )
    groups, _ = organisation_communities(p, method="louvain", seed=1)
    assert {frozenset(x) for x in groups} == {frozenset("pqr"), frozenset("st")}
    methods: tuple[CommunityMethod, ...] = ("louvain", "leiden", "greedy")
    for method in methods:
        c = coherence(p, method=method, seed=1)
        assert [x.activities for x in c.communities] == [("A", "B", "C", "M"), ("D", "E")]
        assert [x.organisations for x in c.communities] == [3, 2]


def test_sampled_betweenness_is_the_networkx_estimator() -> None:
    portfolio, links = _random_portfolio(5, n=120, orgs=60)
    _, og = _networkx_graphs(120, links)
    k, n = 12, og.number_of_nodes()
    c = coherence(portfolio, betweenness_sample=k, seed=3, top=1000)
    assert not c.betweenness_exact and c.betweenness_sources == k
    # The same seeded sources; networkx's subset betweenness from them, scaled as networkx's
    # own k-sample estimate is (sum of dependencies x n / k, normalised by (n-1)(n-2)).
    ids = sorted(og.nodes)
    sources = [ids[i] for i in np.sort(np.random.default_rng(3).choice(n, size=k, replace=False))]
    subset = nx.betweenness_centrality_subset(og, sources, ids, normalized=False)
    expected = {o: 2 * v * n / (k * (n - 1) * (n - 2)) for o, v in subset.items() if v > 0}
    assert {b.organisation: b.betweenness for b in c.bridges} == approx(expected)
    exact = coherence(portfolio, betweenness_sample=None)
    assert exact.betweenness_exact and exact.betweenness_sources == n


def test_large_projection_skips_only_the_distinct_edge_count() -> None:
    portfolio, _ = _random_portfolio(6)
    full, capped = coherence(portfolio), coherence(portfolio, max_projection_links=0)
    assert capped.activity_network.edges is None
    assert full.activity_network.edges is not None
    assert capped.activity_network.weight == full.activity_network.weight
    assert capped.isolated_activities == full.isolated_activities


def test_portfolio_without_participations() -> None:
    p = Portfolio.from_records([{"id": "a", "budget": 1.0}, {"id": "b", "budget": 2.0}])
    c = coherence(p)
    assert c.activity_network.components == 2
    assert c.isolated_activities == ("b", "a")  # larger budget first
    assert c.modularity is None and c.bridges == () and c.communities == ()
    assert c.singletons == 2


_CHILD = """
import json, random, sys
from missionkit.portfolio import Portfolio, coherence
rng = random.Random(11)
acts = [{"id": f"act-{i}", "budget": float(rng.randint(1, 9))} for i in range(400)]
links = sorted({(f"act-{i}", f"org-{rng.randint(0, 150)}") for i in range(400) for _ in range(3)})
rng.shuffle(links)  # the engine must not depend on input order either
p = Portfolio.from_records(acts, participations=[{"activity": a, "organisation": o}
                                                 for a, o in links])
out = {m: coherence(p, method=m, seed=42, betweenness_sample=20).to_dict()
       for m in sys.argv[1:]}
print(json.dumps(out, sort_keys=True))
"""


def test_identical_across_processes_with_different_string_hashing() -> None:
    root = Path(__file__).resolve().parents[1]
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root / "src")}
        run = subprocess.run(
            [sys.executable, "-c", _CHILD, "leiden", "louvain"],
            capture_output=True, text=True, env=env, check=True, timeout=120,
        )  # fmt: skip
        outputs.append(json.loads(run.stdout))
    assert outputs[0] == outputs[1]
    assert outputs[0]["leiden"]["communities"]  # not trivially equal
