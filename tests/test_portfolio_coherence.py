"""The collaboration network, by hand and cross-checked against networkx run directly on a
graph the test builds itself."""

from __future__ import annotations

import random
from typing import Any

import networkx as nx
import pytest

from missionkit.portfolio import (
    Portfolio,
    activity_network,
    coherence,
    organisation_network,
)
from tests.test_portfolio_cases import small_portfolio

approx = pytest.approx


def test_small_network_by_hand() -> None:
    # A1 {x, y} and A2 {y, z} share y; A3 {w} shares nothing; A4 has no organisation.
    c = coherence(small_portfolio())
    assert c.activity_network.nodes == 4 and c.activity_network.edges == 1
    assert c.activity_network.components == 3
    assert c.activity_network.largest_component == 2
    assert c.activity_network.largest_share == 0.5
    assert c.largest_component_budget_share == approx(0.7)  # A1 + A2 = 700 of 1000
    assert c.isolated_activities == ("A3", "A4")
    assert c.isolated_budget == 300.0
    # Organisations: x - y - z is a path, w alone. y lies on the one shortest path between
    # x and z: 1 of the 3 pairs among the other three nodes -> normalised betweenness 1/3.
    assert c.organisation_network.components == 2
    assert [(b.organisation, b.betweenness, b.activities, b.partners) for b in c.bridges] == [
        ("y", approx(1 / 3), 2, 2)
    ]
    assert [com.activities for com in c.communities] == [("A1", "A2")]
    assert c.singletons == 2
    assert c.participations == 5


def _random_portfolio(seed: int) -> tuple[Portfolio, list[tuple[str, str]]]:
    rng = random.Random(seed)
    acts = [{"id": f"a{i}", "budget": float(rng.randint(1, 100))} for i in range(60)]
    links: set[tuple[str, str]] = set()
    for i in range(60):
        for _ in range(rng.randint(0, 3)):
            links.add((f"a{i}", f"o{rng.randint(0, 70)}"))
    parts = [{"activity": a, "organisation": o} for a, o in sorted(links)]
    return Portfolio.from_records(acts, participations=parts), sorted(links)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_network_figures_match_networkx(seed: int) -> None:
    portfolio, links = _random_portfolio(seed)
    # Built here, independently: activities linked when they share an organisation.
    members: dict[str, set[str]] = {}
    for a, o in links:
        members.setdefault(o, set()).add(a)
    g: Any = nx.Graph()
    g.add_nodes_from(f"a{i}" for i in range(60))
    for acts in members.values():
        ordered = sorted(acts)
        for i, u in enumerate(ordered):
            for v in ordered[i + 1 :]:
                w = g.edges[u, v]["weight"] + 1 if g.has_edge(u, v) else 1
                g.add_edge(u, v, weight=w)
    mine = activity_network(portfolio)
    assert set(mine.nodes) == set(g.nodes)
    assert {frozenset(e) for e in mine.edges} == {frozenset(e) for e in g.edges}
    assert all(mine.edges[u, v]["weight"] == g.edges[u, v]["weight"] for u, v in g.edges)

    c = coherence(portfolio, seed=7)
    components = list(nx.connected_components(g))
    assert c.activity_network.components == len(components)
    assert c.activity_network.largest_component == max(len(x) for x in components)
    assert set(c.isolated_activities) == set(nx.isolates(g))
    expected = nx.community.louvain_communities(g, weight="weight", seed=7)
    assert {frozenset(x.activities) for x in c.communities} == {
        frozenset(x) for x in expected if len(x) > 1
    }
    assert c.modularity == approx(nx.community.modularity(g, expected, weight="weight"))

    # Organisations linked when they share an activity.
    og: Any = nx.Graph()
    og.add_nodes_from(o for _, o in links)
    by_activity: dict[str, list[str]] = {}
    for a, o in links:
        by_activity.setdefault(a, []).append(o)
    for orgs in by_activity.values():
        og.add_edges_from((u, v) for i, u in enumerate(orgs) for v in orgs[i + 1 :])
    assert {frozenset(e) for e in organisation_network(portfolio).edges} == {
        frozenset(e) for e in og.edges
    }
    assert c.organisation_network.components == nx.number_connected_components(og)
    betweenness = nx.betweenness_centrality(og, normalized=True)
    top = sorted(betweenness.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(b.organisation, b.betweenness) for b in c.bridges] == [
        (o, approx(v)) for o, v in top if v > 0
    ]


def test_greedy_modularity_and_sampled_betweenness() -> None:
    portfolio, _ = _random_portfolio(4)
    greedy = coherence(portfolio, method="greedy", betweenness_sample=10, seed=3)
    assert greedy.method == "greedy"
    assert sum(x.size for x in greedy.communities) + greedy.singletons == 60
    assert greedy.bridges == coherence(portfolio, method="greedy", betweenness_sample=10,
                                       seed=3).bridges  # fmt: skip


def test_portfolio_without_participations() -> None:
    p = Portfolio.from_records([{"id": "a", "budget": 1.0}, {"id": "b", "budget": 2.0}])
    c = coherence(p)
    assert c.activity_network.components == 2
    assert c.isolated_activities == ("b", "a")  # larger budget first
    assert c.modularity is None and c.bridges == () and c.communities == ()
