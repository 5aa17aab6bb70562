"""Coherence: the portfolio's collaboration network, at any size.

* The **bipartite** graph links each activity to each organisation that takes part in it.
* The **activity network** is its projection on activities: two activities are linked
  when they share an organisation (edge weight = number of shared organisations).
* The **organisation network** is its projection on organisations: two organisations are
  linked when they work in the same activity (weight = number of shared activities).

The activity network is never built: at a million activities it would hold tens of
millions of links. Everything about it follows from the bipartite graph, since two
activities are connected in the projection exactly when they are connected in the
bipartite graph: components come from ``scipy.sparse.csgraph.connected_components`` on the
bipartite adjacency matrix, an activity is isolated when its component holds no other
activity, and the projection's total weight is ``sum d(d-1)/2`` over organisation degrees.
Its number of distinct edges needs the sparse product ``B Bᵀ``, so it is counted only while
that stays small (``max_projection_links``) and is ``None`` above.

Communities are found on the weighted organisation network, by default with the Leiden
algorithm of igraph (modularity, seeded; Traag, Waltman & van Eck 2019), or with networkx's
Louvain or greedy modularity for small graphs; each activity then joins the community
holding most of its organisations.
Betweenness (bridging organisations) is computed on the organisation network with igraph:
exactly while the work (nodes × (nodes + edges)) stays below ``EXACT_BETWEENNESS_WORK``,
otherwise estimated from a seeded sample of source organisations (Brandes & Pich 2007), the
estimator networkx's ``betweenness_centrality(k=...)`` uses.

Every graph is built from nodes sorted by id and edges sorted by node, and every random
choice is drawn from ``seed``, so the same portfolio gives the same figures in any process
(string hashing, which varies per process, never decides an order).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

import igraph as ig  # type: ignore[import-untyped, unused-ignore]
import networkx as nx  # type: ignore[import-untyped, unused-ignore]
import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse import csgraph

from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.types import Result, share

__all__ = [
    "EXACT_BETWEENNESS_WORK",
    "Bridge",
    "Coherence",
    "Community",
    "NetworkSummary",
    "activity_network",
    "bipartite_network",
    "coherence",
    "organisation_communities",
    "organisation_network",
]

CommunityMethod = Literal["leiden", "louvain", "greedy"]

EXACT_BETWEENNESS_WORK = 5_000_000
"""Betweenness is exact while ``nodes × (nodes + edges)`` of the organisation network stays
at or below this (about a tenth of a second); above it ``"auto"`` samples sources."""

LARGE_NETWORK_EDGES = 1_000_000
"""Above this many organisation-network edges Leiden runs one iteration instead of two
(about 40 % less time; on the generated million-activity portfolio modularity 0.155
instead of 0.159). Every iteration keeps Leiden's guarantee of connected communities."""

MIN_SOURCES = 8
"""The fewest sampled sources ``"auto"`` uses on a large network."""

MAX_PROJECTION_LINKS = 5_000_000
"""Above this many ``sum d(d-1)/2`` pairs the activity network's distinct edges are not
counted (``edges`` is None); its weight, components and isolates are still exact."""


# --- the integer view of the bipartite graph ----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bipartite:
    """Activities ``0..na-1`` and organisations ``0..no-1``, each numbered in id order;
    one ``(activity, organisation)`` pair per link, sorted."""

    activity_ids: list[str]
    organisation_ids: list[str]
    budgets: np.ndarray
    act: np.ndarray
    org: np.ndarray

    @property
    def na(self) -> int:
        return len(self.activity_ids)

    @property
    def no(self) -> int:
        return len(self.organisation_ids)

    def matrix(self) -> sp.csr_matrix:
        """The ``na × no`` incidence matrix (1 per link)."""
        ones = np.ones(len(self.act), dtype=np.int64)
        return sp.csr_matrix((ones, (self.act, self.org)), shape=(self.na, self.no))

    def adjacency(self) -> sp.csr_matrix:
        """The symmetric adjacency matrix of the bipartite graph: activities first."""
        n = self.na + self.no
        ones = np.ones(len(self.act), dtype=np.int8)
        return sp.csr_matrix((ones, (self.act, self.na + self.org)), shape=(n, n))


def _bipartite(portfolio: Portfolio) -> _Bipartite:
    """Number activities and organisations in id order and keep each distinct link once."""
    acts = portfolio.activities.select("id", "budget").sort("id")
    ids = acts.get_column("id")
    links = portfolio.participations
    # Dense ranks number strings in sorted order. Activity ids are unique and every link's
    # activity is one of them (Portfolio validates both), so ranking the ids together with
    # the links' activities gives each link its activity's position in ``ids`` (faster
    # than a binary search among a million strings).
    both = pl.concat([ids, links.get_column("activity")]).rank("dense").to_numpy()
    a = both[len(ids) :].astype(np.int64) - 1
    # Organisations repeat (a few per activity): a hash join on the sorted distinct ids is
    # faster there than a dense rank, a binary search or an Enum cast.
    orgs = links.get_column("organisation").unique().sort()
    numbers = pl.DataFrame({"organisation": orgs}).with_row_index("number")
    o = (
        links.select("organisation")
        .join(numbers, on="organisation", how="left", maintain_order="left")
        .get_column("number")
        .to_numpy()
        .astype(np.int64)
    )
    no = len(orgs)
    act, org = np.divmod(_sorted_unique(a * max(no, 1) + o), max(no, 1))
    return _Bipartite(
        activity_ids=ids.to_list(),
        organisation_ids=orgs.to_list(),
        budgets=acts.get_column("budget").to_numpy().astype(np.float64),
        act=act,
        org=org,
    )


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting: numpy 2.4's hash-based ``np.unique`` takes 40 times longer
    on a few million distinct integers."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


# --- networkx views, for small graphs and for cross-checks ---------------------------------


def bipartite_network(portfolio: Portfolio) -> Any:
    """``networkx.Graph`` with nodes ``("activity", id)`` (every activity, attribute
    ``budget``) and ``("organisation", id)``, attribute ``bipartite`` 0 / 1; nodes and edges
    added in sorted order."""
    b = _bipartite(portfolio)
    graph: Any = nx.Graph()
    graph.add_nodes_from(
        (("activity", a), {"bipartite": 0, "budget": float(x)})
        for a, x in zip(b.activity_ids, b.budgets.tolist(), strict=True)
    )
    graph.add_nodes_from((("organisation", o), {"bipartite": 1}) for o in b.organisation_ids)
    graph.add_edges_from(
        (("activity", b.activity_ids[a]), ("organisation", b.organisation_ids[o]))
        for a, o in zip(b.act.tolist(), b.org.tolist(), strict=True)
    )
    return graph


def _projection(graph: Any, kind: str) -> Any:
    nodes = sorted(n for n in graph.nodes if n[0] == kind)
    projected: Any
    if len(nodes) == graph.number_of_nodes():  # nothing on the other side: no links
        projected = nx.Graph()
        projected.add_nodes_from(nodes)
    else:
        projected = nx.bipartite.weighted_projected_graph(graph, nodes)
    return nx.relabel_nodes(projected, {n: n[1] for n in nodes})


def activity_network(portfolio: Portfolio) -> Any:
    """Activities linked by shared organisations (``weight`` = how many they share).
    Materialised: for small portfolios and cross-checks only."""
    return _projection(bipartite_network(portfolio), "activity")


def organisation_network(portfolio: Portfolio) -> Any:
    """Organisations linked by shared activities (``weight`` = how many they share)."""
    return _projection(bipartite_network(portfolio), "organisation")


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkSummary(Result):
    """Size and connectedness of one network.

    ``edges`` is None for an activity network too large to count distinct edges in (see
    ``MAX_PROJECTION_LINKS``); ``weight`` is the sum of edge weights (shared partners or
    shared activities), always exact.
    """

    nodes: int
    edges: int | None
    components: int
    largest_component: int
    largest_share: float
    isolated: int
    weight: int = 0


@dataclass(frozen=True, slots=True)
class Community(Result):
    """A community of the collaboration network holding two or more activities."""

    id: int
    size: int
    budget: float
    activities: tuple[str, ...]
    organisations: int = 0


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
    largest component of the activity network. ``communities`` lists communities of the
    bipartite graph with two or more activities, largest first; ``singletons`` counts the
    communities with one. ``modularity`` (of that partition of the bipartite graph) is None
    when there are no links. ``betweenness_sources`` is how many source organisations the
    betweenness was computed from; ``betweenness_exact`` whether that was all of them.
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
    betweenness_sources: int = 0
    betweenness_exact: bool = True


# --- the analysis --------------------------------------------------------------------------


def _side(labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Component sizes on one side, its largest component (ties: the one holding the
    smallest node number) and the number of components.

    Returns ``(size of each node's component, largest label, components, largest size)``.
    """
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.int64(-1), 0, 0  # type: ignore[return-value]
    sizes = np.bincount(labels)
    present, first = np.unique(labels, return_index=True)
    order = np.lexsort((first, -sizes[present]))
    largest = present[order[0]]
    return sizes[labels], largest, len(present), int(sizes[largest])


def _pairs(degrees: np.ndarray) -> int:
    d = degrees.astype(np.int64)
    return int((d * (d - 1) // 2).sum())


def _distinct_edges(product: sp.csr_matrix) -> int:
    """Off-diagonal non-zeros of a symmetric product, halved: distinct projected edges."""
    coo = product.tocoo()
    return int(np.count_nonzero(coo.row < coo.col))


def _organisation_graph(b: _Bipartite) -> tuple[sp.coo_matrix, np.ndarray]:
    """The organisation network's edges (upper triangle of ``Bᵀ B``, sorted, with the
    number of shared activities as data) and each organisation's partner count."""
    m = b.matrix()
    product = sp.triu(m.T @ m, k=1, format="csr")
    product.sort_indices()  # row by row, columns sorted: no global sort of the edges
    upper = product.tocoo()
    partners = np.bincount(upper.row, minlength=b.no) + np.bincount(upper.col, minlength=b.no)
    return upper, partners


def _igraph(n: int, edges: sp.coo_matrix) -> Any:
    graph = ig.Graph(n=n, edges=list(zip(edges.row.tolist(), edges.col.tolist(), strict=True)))
    graph.es["weight"] = edges.data.astype(np.float64).tolist()
    return graph


def _org_communities(
    b: _Bipartite, edges: sp.coo_matrix, graph: Any, method: CommunityMethod, seed: int
) -> tuple[np.ndarray, float | None]:
    """A community label per organisation (weighted organisation network) and the
    partition's weighted modularity (None without edges)."""
    if edges.nnz == 0:
        return np.arange(b.no, dtype=np.int64), None
    if method == "leiden":
        iterations = 2 if edges.nnz <= LARGE_NETWORK_EDGES else 1
        ig.set_random_number_generator(random.Random(seed))
        try:
            found = graph.community_leiden(
                objective_function="modularity", weights="weight", n_iterations=iterations
            )
        finally:
            ig.set_random_number_generator(random)
        labels = np.asarray(found.membership, dtype=np.int64)
        return labels, float(graph.modularity(found.membership, weights="weight"))
    g: Any = nx.Graph()
    g.add_nodes_from(range(b.no))
    g.add_weighted_edges_from(
        zip(edges.row.tolist(), edges.col.tolist(), edges.data.tolist(), strict=True)
    )
    groups = (
        nx.community.louvain_communities(g, weight="weight", seed=seed)
        if method == "louvain"
        else nx.community.greedy_modularity_communities(g, weight="weight")
    )
    labels = np.empty(b.no, dtype=np.int64)
    for label, members in enumerate(groups):
        labels[list(members)] = label
    return labels, float(nx.community.modularity(g, groups, weight="weight"))


def _activity_communities(b: _Bipartite, org_labels: np.ndarray) -> np.ndarray:
    """Each activity joins the community holding most of its organisations (ties: the one
    holding its first organisation in id order); an activity without organisations is a
    community of its own (labels after the organisations' ones)."""
    width = int(org_labels.max()) + 1 if b.no else 0
    own = np.arange(b.na, dtype=np.int64) + width
    if len(b.act) == 0:
        return own
    # Per (activity, community): its links and its first organisation in id order; then
    # per activity the row with most links, ties to the smallest first organisation (no two
    # rows of one activity share a first organisation, so the order is total). Polars'
    # group_by and sort take about half the time of np.unique's sort on 3M links.
    best = (
        pl.DataFrame({"activity": b.act, "community": org_labels[b.org], "organisation": b.org})
        .group_by("activity", "community")
        .agg(pl.len().alias("links"), pl.col("organisation").min())
        .sort(["activity", "links", "organisation"], descending=[False, True, False])
        .unique("activity", keep="first", maintain_order=True)
    )
    own[best.get_column("activity").to_numpy()] = best.get_column("community").to_numpy()
    return own


def _betweenness(
    n: int, edges: int, graph: Any, sample: int | Literal["auto"] | None, seed: int
) -> tuple[np.ndarray, int, bool]:
    """Normalised betweenness of every organisation (unweighted shortest paths), how many
    sources it was computed from and whether that was all of them."""
    if sample == "auto":
        work = n * (n + edges)
        k = n if work <= EXACT_BETWEENNESS_WORK else EXACT_BETWEENNESS_WORK // (n + edges)
        k = max(MIN_SOURCES, k)
    else:
        k = n if sample is None else max(int(sample), 0)
    k = min(k, n)
    if n <= 2 or edges == 0 or k == 0:
        return np.zeros(n), k, k == n
    if k == n:
        raw = np.asarray(graph.betweenness(directed=False), dtype=np.float64)
        # igraph counts each unordered pair once; networkx normalises by 2 / ((n-1)(n-2)).
        return raw * 2 / ((n - 1) * (n - 2)), n, True
    sources = np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
    raw = np.asarray(graph.betweenness(directed=False, sources=sources.tolist()), dtype=np.float64)
    # igraph's subset betweenness is half the sum of the sampled sources' dependencies
    # delta_s(v); networkx's estimate scales that sum to all n sources (n / k) and
    # normalises it by 1 / ((n-1)(n-2)).
    return raw * 2 * n / (k * (n - 1) * (n - 2)), k, False


def organisation_communities(
    portfolio: Portfolio, *, method: CommunityMethod = "leiden", seed: int = 42
) -> tuple[list[tuple[str, ...]], float | None]:
    """The communities of the organisation network (each a sorted tuple of ids, in order of
    their smallest id) and the partition's weighted modularity: what :func:`coherence`
    assigns activities from."""
    b = _bipartite(portfolio)
    edges, _ = _organisation_graph(b)
    labels, modularity = _org_communities(b, edges, _igraph(b.no, edges), method, seed)
    groups: dict[int, list[str]] = {}
    for o, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(b.organisation_ids[o])
    return sorted((tuple(g) for g in groups.values()), key=lambda g: g[0]), modularity


def coherence(
    portfolio: Portfolio,
    *,
    top: int = 10,
    seed: int = 42,
    method: CommunityMethod = "leiden",
    betweenness_sample: int | Literal["auto"] | None = "auto",
    max_projection_links: int = MAX_PROJECTION_LINKS,
) -> Coherence:
    """Components, communities, bridging organisations and isolated activities.

    ``betweenness_sample``: ``"auto"`` (exact on small networks, sampled above
    ``EXACT_BETWEENNESS_WORK``), ``None`` (always exact) or a number of seeded sources.
    """
    b = _bipartite(portfolio)
    na, no = b.na, b.no
    budgets = b.budgets
    _, labels = csgraph.connected_components(b.adjacency(), directed=False)
    act_labels, org_labels = labels[:na], labels[na:]
    act_size, act_largest, act_components, act_largest_size = _side(act_labels, na)
    org_size, _, org_components, org_largest_size = _side(org_labels, no)
    act_degree = np.bincount(b.act, minlength=na)
    org_degree = np.bincount(b.org, minlength=no)
    act_weight = _pairs(org_degree)
    act_edges: int | None = None
    if act_weight <= max_projection_links:
        m = b.matrix()
        act_edges = _distinct_edges(m @ m.T)
    org_edges, partners = _organisation_graph(b)
    org_graph = _igraph(no, org_edges)
    centrality, sources, exact = _betweenness(
        no, org_edges.nnz, org_graph, betweenness_sample, seed
    )
    act_summary = NetworkSummary(
        nodes=na,
        edges=act_edges,
        components=act_components,
        largest_component=act_largest_size,
        largest_share=share(act_largest_size, na),
        isolated=int(np.count_nonzero(act_size == 1)),
        weight=act_weight,
    )
    org_summary = NetworkSummary(
        nodes=no,
        edges=int(org_edges.nnz),
        components=org_components,
        largest_component=org_largest_size,
        largest_share=share(org_largest_size, no),
        isolated=int(np.count_nonzero(org_size == 1)),
        weight=_pairs(act_degree),
    )
    total = portfolio.total_budget
    in_largest = float(budgets[act_labels == act_largest].sum()) if na else 0.0

    org_community, modularity = _org_communities(b, org_edges, org_graph, method, seed)
    community = np.concatenate((_activity_communities(b, org_community), org_community))
    communities, singletons = _community_list(b, community)

    ranked: list[int] = np.lexsort((np.arange(no), -centrality))[: max(top, 0)].tolist()
    bridges = tuple(
        Bridge(
            b.organisation_ids[o],
            float(centrality[o]),
            int(org_degree[o]),
            int(partners[o]),
        )
        for o in ranked
        if centrality[o] > 0
    )
    isolated = np.flatnonzero(act_size == 1)
    isolated = isolated[np.lexsort((isolated, -budgets[isolated]))]
    return Coherence(
        activity_network=act_summary,
        organisation_network=org_summary,
        participations=len(b.act),
        largest_component_budget_share=share(in_largest, total) if act_largest_size > 1 else 0.0,
        communities=communities,
        singletons=singletons,
        modularity=modularity,
        method=method,
        seed=seed,
        bridges=bridges,
        isolated_activities=tuple(b.activity_ids[i] for i in isolated.tolist()),
        isolated_budget=float(budgets[isolated].sum()),
        betweenness_sources=sources,
        betweenness_exact=exact,
    )


def _community_list(b: _Bipartite, labels: np.ndarray) -> tuple[tuple[Community, ...], int]:
    """Communities with two or more activities, largest first (ties: smallest activity id),
    and the number holding exactly one activity."""
    act_labels = labels[: b.na]
    if b.na == 0:
        return (), 0
    count = int(labels.max()) + 1
    sizes = np.bincount(act_labels, minlength=count)
    budget = np.bincount(act_labels, weights=b.budgets, minlength=count)
    orgs = np.bincount(labels[b.na :], minlength=count)
    # Activities of each community, in id order (activity numbers follow id order).
    order = np.argsort(act_labels, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)))
    first = np.full(count, b.na)
    np.minimum.at(first, act_labels, np.arange(b.na))
    big = [c for c in range(count) if sizes[c] > 1]
    big.sort(key=lambda c: (-int(sizes[c]), int(first[c])))
    ids = b.activity_ids
    communities = tuple(
        Community(
            i,
            int(sizes[c]),
            float(budget[c]),
            tuple(ids[a] for a in order[starts[c] : starts[c + 1]].tolist()),
            int(orgs[c]),
        )
        for i, c in enumerate(big)
    )
    return communities, int(np.count_nonzero(sizes == 1))
