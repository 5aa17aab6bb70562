"""Coherence: the portfolio's collaboration network (networkx; no home-made graph code).

* The **bipartite** graph links each activity to each organisation that takes part in it.
* The **activity network** is its projection on activities: two activities are linked
  when they share an organisation (edge weight = number of shared organisations).
* The **organisation network** is its projection on organisations: two organisations are
  linked when they work in the same activity (weight = number of shared activities).

Reported: connected components of both networks and the share of nodes (and, for
activities, of budget) in the largest; communities of the activity network (Louvain,
``networkx.community.louvain_communities`` with a fixed seed, or greedy modularity); the
organisations with the highest betweenness centrality in the organisation network
(normalised, unweighted shortest paths: an organisation that sits on many shortest paths
between others bridges otherwise separate groups); and isolated activities, which share
no organisation with any other activity (including activities without participants).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.types import Result, share

__all__ = [
    "Bridge",
    "Coherence",
    "Community",
    "NetworkSummary",
    "activity_network",
    "bipartite_network",
    "coherence",
    "organisation_network",
]

CommunityMethod = Literal["louvain", "greedy"]


def bipartite_network(portfolio: Portfolio) -> Any:
    """``networkx.Graph`` with nodes ``("activity", id)`` (every activity, attribute
    ``budget``) and ``("organisation", id)``, attribute ``bipartite`` 0 / 1."""
    graph: Any = nx.Graph()
    ids = portfolio.activities.get_column("id").to_list()
    budgets = portfolio.activities.get_column("budget").to_list()
    graph.add_nodes_from(
        (("activity", a), {"bipartite": 0, "budget": b}) for a, b in zip(ids, budgets, strict=True)
    )
    links = portfolio.participations.select("activity", "organisation").unique()
    orgs = links.get_column("organisation").unique().sort().to_list()
    graph.add_nodes_from((("organisation", o), {"bipartite": 1}) for o in orgs)
    graph.add_edges_from((("activity", a), ("organisation", o)) for a, o in links.iter_rows())
    return graph


def _projection(graph: Any, kind: str) -> Any:
    nodes = [n for n in graph.nodes if n[0] == kind]
    projected: Any
    if len(nodes) == graph.number_of_nodes():  # nothing on the other side: no links
        projected = nx.Graph()
        projected.add_nodes_from(nodes)
    else:
        projected = nx.bipartite.weighted_projected_graph(graph, nodes)
    return nx.relabel_nodes(projected, {n: n[1] for n in nodes})


def activity_network(portfolio: Portfolio) -> Any:
    """Activities linked by shared organisations (``weight`` = how many they share)."""
    return _projection(bipartite_network(portfolio), "activity")


def organisation_network(portfolio: Portfolio) -> Any:
    """Organisations linked by shared activities (``weight`` = how many they share)."""
    return _projection(bipartite_network(portfolio), "organisation")


@dataclass(frozen=True, slots=True)
class NetworkSummary(Result):
    """Size and connectedness of one network."""

    nodes: int
    edges: int
    components: int
    largest_component: int
    largest_share: float
    isolated: int


@dataclass(frozen=True, slots=True)
class Community(Result):
    """A community of the activity network (two or more activities)."""

    id: int
    size: int
    budget: float
    activities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Bridge(Result):
    """An organisation with high betweenness centrality in the organisation network."""

    organisation: str
    betweenness: float
    activities: int
    partners: int


@dataclass(frozen=True, slots=True)
class Coherence(Result):
    """The collaboration network in figures (see the module doc).

    ``largest_component_budget_share`` is the budget share of the activities in the
    largest component of the activity network. ``communities`` lists communities of two or
    more activities, largest first; ``singletons`` counts the rest. ``modularity`` is None
    when the activity network has no edges.
    """

    activity_network: NetworkSummary
    organisation_network: NetworkSummary
    participations: int
    largest_component_budget_share: float
    communities: tuple[Community, ...]
    singletons: int
    modularity: float | None
    method: CommunityMethod
    seed: int
    bridges: tuple[Bridge, ...]
    isolated_activities: tuple[str, ...]
    isolated_budget: float


def _summary(graph: Any) -> tuple[NetworkSummary, set[Any]]:
    components = sorted(nx.connected_components(graph), key=lambda c: (-len(c), min(c)))
    largest: set[Any] = set(components[0]) if components else set()
    n = graph.number_of_nodes()
    summary = NetworkSummary(
        nodes=n,
        edges=graph.number_of_edges(),
        components=len(components),
        largest_component=len(largest),
        largest_share=share(len(largest), n),
        isolated=sum(1 for _ in nx.isolates(graph)),
    )
    return summary, largest


def coherence(
    portfolio: Portfolio,
    *,
    top: int = 10,
    seed: int = 42,
    method: CommunityMethod = "louvain",
    betweenness_sample: int | None = None,
) -> Coherence:
    """Components, communities, bridging organisations and isolated activities.

    ``betweenness_sample`` estimates betweenness from that many source nodes (networkx's
    ``k``, seeded) instead of all of them, for large networks.
    """
    graph = bipartite_network(portfolio)
    acts = _projection(graph, "activity")
    orgs = _projection(graph, "organisation")
    act_summary, largest = _summary(acts)
    org_summary, _ = _summary(orgs)
    budget = dict(
        zip(
            portfolio.activities.get_column("id").to_list(),
            portfolio.activities.get_column("budget").to_list(),
            strict=True,
        )
    )
    total = portfolio.total_budget
    found: Any
    if method == "louvain":
        found = nx.community.louvain_communities(acts, weight="weight", seed=seed)
    else:
        found = nx.community.greedy_modularity_communities(acts, weight="weight")
    groups = sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))
    communities = tuple(
        Community(i, len(c), float(sum(budget[a] for a in c)), tuple(c))
        for i, c in enumerate(g for g in groups if len(g) > 1)
    )
    modularity = (
        float(nx.community.modularity(acts, found, weight="weight"))
        if acts.number_of_edges() > 0
        else None
    )
    k = None
    if betweenness_sample is not None and betweenness_sample < orgs.number_of_nodes():
        k = betweenness_sample
    centrality = nx.betweenness_centrality(orgs, k=k, normalized=True, seed=seed)
    ranked = sorted(centrality.items(), key=lambda kv: (-kv[1], kv[0]))[: max(top, 0)]
    bridges = tuple(
        Bridge(o, float(c), int(graph.degree(("organisation", o))), int(orgs.degree(o)))
        for o, c in ranked
        if c > 0
    )
    isolated = sorted(nx.isolates(acts), key=lambda a: (-budget[a], a))
    return Coherence(
        activity_network=act_summary,
        organisation_network=org_summary,
        participations=graph.number_of_edges(),
        largest_component_budget_share=share(float(sum(budget[a] for a in largest)), total)
        if act_summary.largest_component > 1
        else 0.0,
        communities=communities,
        singletons=sum(1 for g in groups if len(g) == 1),
        modularity=modularity,
        method=method,
        seed=seed,
        bridges=bridges,
        isolated_activities=tuple(isolated),
        isolated_budget=float(sum(budget[a] for a in isolated)),
    )
