"""Spatial equity ("spatial blindness"): funding per head by region, inequality, who is left out.

1. **Attribution.** An activity's budget is split equally over its listed regions (a
   project in three regions puts a third in each; no data says otherwise). Each part climbs
   the region's parent chain (the region table's ``parent`` column, else the ISO 3166 /
   NUTS 2021 reference of :func:`missionkit.domain.regions.lookup_region`) to the first
   region of the *universe*: the region table's rows at the chosen ``level`` ("country"
   also takes NUTS 0 codes such as EL and UK), or every row when ``level`` is None. A part
   that reaches no such region (no region listed, a code above the level, or a region the
   table does not list) is *unattributed* and reported with its reason.
2. **Per head.** ``funding / population`` for the universe regions with a population.
3. **Indices** over those regions: Gini of funding per head weighted by population (the
   inequality between people) and unweighted (between regions), Theil T weighted by
   population and decomposed by group (``country`` or the table's ``group``, e.g. the
   innovation-scoreboard group); see :mod:`missionkit.portfolio.inequality`.
4. **Left behind**: regions whose funding share is below ``fraction`` (default 0.5) of their
   population share (or of their share of ``need``, when given).
5. **Concentration**: the funding share of the top ``top_fraction`` (default 10 %, at least
   one) of universe regions ranked by funding.
6. **Capacity**: Spearman's rank correlation between funding per head and GDP per head
   (positive: money follows existing capacity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import polars as pl

from missionkit.domain.regions import lookup_region
from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.inequality import TheilDecomposition, gini, theil_decomposition
from missionkit.portfolio.types import NONE, Result, SpatialLevel, share

__all__ = ["RegionFunding", "SpatialEquity", "region_resolver", "spatial_equity"]

GroupBy = Literal["country", "group"]
Reference = Literal["population", "need"]

_LEVELS: dict[str, frozenset[str]] = {
    "country": frozenset({"country", "nuts0"}),
    "nuts1": frozenset({"nuts1"}),
    "nuts2": frozenset({"nuts2"}),
    "nuts3": frozenset({"nuts3"}),
    "subdivision": frozenset({"subdivision"}),
}


@dataclass(frozen=True, slots=True)
class RegionFunding(Result):
    """One region of the universe: funding, people, and how the two compare.

    ``ratio`` is funding share / reference share (1 = a fair share; None without a
    reference figure). ``per_capita`` is None without a population.
    """

    code: str
    name: str | None
    group: str
    population: float | None
    gdp_per_head: float | None
    funding: float
    per_capita: float | None
    funding_share: float
    reference_share: float | None
    ratio: float | None
    activities: int
    left_behind: bool


@dataclass(frozen=True, slots=True)
class SpatialEquity(Result):
    """Spatial equity at one level (see the module doc for every figure).

    ``regions`` is sorted by funding per head, highest first (regions without a
    population last). Indices are None when fewer than one region with people and funding
    exist. ``unattributed`` maps each reason to the budget it left out.
    """

    level: SpatialLevel | None
    group_by: GroupBy
    reference: Reference
    total_budget: float
    attributed_budget: float
    unattributed: dict[str, float]
    regions: tuple[RegionFunding, ...]
    gini: float | None
    gini_unweighted: float | None
    theil: TheilDecomposition | None
    left_behind: tuple[str, ...]
    left_behind_fraction: float
    top_fraction: float
    top_regions: tuple[str, ...]
    top_share: float
    capacity_correlation: float | None


class RegionResolver:
    """Parent, level and country of region codes: the region table first, then the ISO
    3166 / NUTS 2021 reference."""

    def __init__(self, table: pl.DataFrame) -> None:
        rows = list(table.select("code", "parent", "level").iter_rows())
        self._parent: dict[str, str | None] = {str(c): p for c, p, _ in rows}
        self._level: dict[str, str | None] = {str(c): lv for c, _, lv in rows}

    def parent(self, code: str) -> str | None:
        if self._parent.get(code) is not None:
            return self._parent[code]
        ref = lookup_region(code)
        return ref.parent if ref is not None else None

    def level(self, code: str) -> str | None:
        if self._level.get(code) is not None:
            return self._level[code]
        ref = lookup_region(code)
        return ref.level if ref is not None else None

    def listed(self, code: str) -> bool:
        """Whether the region table has this code."""
        return code in self._parent

    def chain(self, code: str) -> list[str]:
        """``code`` and its ancestors, nearest first (stops at a repeat)."""
        out = [code]
        node = self.parent(code)
        while node is not None and node not in out:
            out.append(node)
            node = self.parent(node)
        return out

    def country(self, code: str) -> str:
        """The ISO country of a code, or the top of its chain when the reference has none."""
        for node in self.chain(code):
            ref = lookup_region(node)
            if ref is not None:
                return ref.country
        return self.chain(code)[-1]


def region_resolver(portfolio: Portfolio) -> RegionResolver:
    """A resolver over the portfolio's region table."""
    return RegionResolver(portfolio.regions)


def _universe(
    portfolio: Portfolio, resolver: RegionResolver, level: SpatialLevel | None
) -> list[str]:
    codes = portfolio.regions.get_column("code").to_list()
    if level is not None:
        return [c for c in codes if resolver.level(c) in _LEVELS[level]]
    members = set(codes)
    for c in codes:
        nested = [a for a in resolver.chain(c)[1:] if a in members]
        if nested:
            raise ValueError(
                f"the region table holds {c!r} and its ancestor {nested[0]!r}: "
                "pass a level so regions are not counted twice"
            )
    return codes


def attribute(
    portfolio: Portfolio, level: SpatialLevel | None, resolver: RegionResolver
) -> tuple[pl.DataFrame, dict[str, float]]:
    """Funding and activity count per universe region, and unattributed budget by reason."""
    universe = set(_universe(portfolio, resolver, level))
    parts = (
        portfolio.activities.lazy()
        .select(
            pl.col("id").alias("activity"),
            pl.when(pl.col("regions").list.len() > 0)
            .then(pl.col("regions"))
            .otherwise(pl.lit([NONE]))
            .alias("listed"),
            (pl.col("budget") / pl.max_horizontal(pl.col("regions").list.len(), pl.lit(1))).alias(
                "amount"
            ),
        )
        .explode("listed")
        .collect()
    )
    mapping: dict[str, tuple[str | None, str]] = {}
    for code in parts.get_column("listed").unique().to_list():
        if code == NONE:
            mapping[code] = (None, "no region listed")
            continue
        target = next((c for c in resolver.chain(code) if c in universe), None)
        reason = "ok"
        if target is None:
            known = lookup_region(code) is not None or resolver.listed(code)
            reason = "not in the region table at this level" if known else "unknown region code"
        mapping[code] = (target, reason)
    lookup = pl.DataFrame(
        {
            "listed": list(mapping),
            "code": [t for t, _ in mapping.values()],
            "reason": [r for _, r in mapping.values()],
        },
        schema={"listed": pl.String, "code": pl.String, "reason": pl.String},
    )
    joined = parts.join(lookup, on="listed", how="left")
    funded = (
        joined.filter(pl.col("code").is_not_null())
        .group_by("code")
        .agg(
            pl.col("amount").sum().alias("funding"),
            pl.col("activity").n_unique().alias("activities"),
        )
    )
    lost = joined.filter(pl.col("code").is_null()).group_by("reason").agg(pl.col("amount").sum())
    return funded, {str(r): float(a) for r, a in sorted(lost.iter_rows())}


def spatial_equity(
    portfolio: Portfolio,
    level: SpatialLevel | None = None,
    *,
    group_by: GroupBy = "country",
    reference: Reference = "population",
    fraction: float = 0.5,
    top_fraction: float = 0.1,
) -> SpatialEquity:
    """Funding per head, Gini, Theil (decomposed by ``group_by``), left-behind regions,
    top-region concentration and the capacity correlation at ``level``."""
    resolver = region_resolver(portfolio)
    funded, unattributed = attribute(portfolio, level, resolver)
    universe = _universe(portfolio, resolver, level)
    table = (
        portfolio.regions.filter(pl.col("code").is_in(universe))
        .join(funded, on="code", how="left")
        .with_columns(pl.col("funding").fill_null(0.0), pl.col("activities").fill_null(0))
    )
    total_funding = float(table.get_column("funding").sum())
    ref_col = "population" if reference == "population" else "need"
    ref_total = float(table.get_column(ref_col).fill_null(0.0).sum())
    rows: list[RegionFunding] = []
    for r in table.iter_rows(named=True):
        pop = r["population"]
        ref = r[ref_col]
        f_share = share(r["funding"], total_funding)
        r_share = share(ref, ref_total) if ref is not None and ref_total > 0 else None
        ratio = f_share / r_share if r_share else None
        if group_by == "country":
            group = resolver.country(r["code"])
        else:
            group = r["group"] if r["group"] is not None else NONE
        rows.append(
            RegionFunding(
                code=r["code"],
                name=r["name"] or _name(r["code"]),
                group=group,
                population=pop,
                gdp_per_head=r["gdp_per_head"],
                funding=float(r["funding"]),
                per_capita=r["funding"] / pop if pop else None,
                funding_share=f_share,
                reference_share=r_share,
                ratio=ratio,
                activities=int(r["activities"]),
                left_behind=ratio is not None and ratio < fraction,
            )
        )
    rows.sort(key=lambda x: (x.per_capita is None, -(x.per_capita or 0.0), x.code))
    with_people = [x for x in rows if x.population and x.per_capita is not None]
    g = g_u = None
    theil = None
    x_vals = [x.per_capita or 0.0 for x in with_people]
    pops = [x.population or 0.0 for x in with_people]
    if sum(p * v for p, v in zip(pops, x_vals, strict=True)) > 0 and sum(x_vals) > 0:
        g = gini(x_vals, pops)
        g_u = gini(x_vals)
        theil = theil_decomposition(x_vals, pops, [x.group for x in with_people])
    k = max(1, math.ceil(top_fraction * len(rows))) if rows else 0
    ranked = sorted(rows, key=lambda x: (-x.funding, x.code))[:k]
    return SpatialEquity(
        level=level,
        group_by=group_by,
        reference=reference,
        total_budget=portfolio.total_budget,
        attributed_budget=total_funding,
        unattributed=unattributed,
        regions=tuple(rows),
        gini=g,
        gini_unweighted=g_u,
        theil=theil,
        left_behind=tuple(x.code for x in sorted(rows, key=lambda x: (x.ratio or 0.0, x.code))
                          if x.left_behind),
        left_behind_fraction=fraction,
        top_fraction=top_fraction,
        top_regions=tuple(x.code for x in ranked if x.funding > 0),  # unfunded ties say nothing
        top_share=share(sum(x.funding for x in ranked), total_funding),
        capacity_correlation=_spearman(
            [(x.per_capita, x.gdp_per_head) for x in with_people if x.gdp_per_head is not None]
        ),
    )  # fmt: skip


def _name(code: str) -> str | None:
    ref = lookup_region(code)
    return ref.name if ref is not None else None


def _spearman(pairs: list[tuple[float | None, float | None]]) -> float | None:
    """Spearman's rho (average ranks for ties); None for fewer than 3 pairs or no spread."""
    if len(pairs) < 3:
        return None
    frame = pl.DataFrame(pairs, schema={"a": pl.Float64, "b": pl.Float64}, orient="row")
    ranked = frame.select(pl.col("a").rank("average"), pl.col("b").rank("average"))
    if ranked.get_column("a").n_unique() < 2 or ranked.get_column("b").n_unique() < 2:
        return None
    value = ranked.select(pl.corr("a", "b")).item()
    return None if value is None or not math.isfinite(value) else float(value)
