"""How fast is the portfolio engine, and how does it compare with plain pandas?

Generates portfolios of 10,000, 100,000 and 1,000,000 activities (seeded, vectorised with
numpy and Polars; see :func:`generate`) and, for each size, times every analysis of
``missionkit.portfolio`` and the report, next to a plain pandas implementation of the same
analyses (the ``pd_*`` twins below) run in the same process on the same validated data.
Each twin is checked against the engine ("agree": every figure within a relative
tolerance of 1e-6, every key present in both), so the ratio compares equal work.

Rows: ``build`` (``Portfolio.from_frames``: validation), each analysis on a fresh
portfolio (so each pays for the cached allocation it needs), ``coherence`` (scipy.sparse
components, igraph Leiden and betweenness; no twin), ``report without coherence`` (every
analysis on one portfolio, then the ranked findings reusing the results; its twin is every
pandas twin sharing one allocation) and ``full report``: what the service and the CLI run
(``missionkit.services.portfolio.analyses`` and the findings, coherence included), timed as
one call. Betweenness is exact or sampled as ``coherence`` decides (``"auto"``) unless
``--betweenness-sample`` says otherwise. The last table gives the time ratio per 10x size
next to what n log n growth would give.

    .venv/bin/python benchmarks/bench_portfolio.py                      # about 6 minutes
    .venv/bin/python benchmarks/bench_portfolio.py --sizes 10000 --repeat 5
    .venv/bin/python benchmarks/bench_portfolio.py --sizes 1000000 --repeat 1
    .venv/bin/python benchmarks/bench_portfolio.py --sizes 1000000 --full-only   # ~2 min

Memory is the peak resident set size (RSS) above the RSS at the start of the call,
sampled every 2 ms by a thread (tracemalloc cannot see Polars' allocations, which bypass
Python's allocator). Memory an allocator kept from an earlier call is reused without
showing, so the figures are lower bounds of what a fresh process would need.

Needs pandas (not a runtime dependency of missionkit).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import itertools
import math
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from missionkit.domain.vocab import STAGES
from missionkit.portfolio import (
    ALL,
    NONE,
    Analyses,
    Coherence,
    Portfolio,
    coherence,
    coverage,
    directionality,
    diversity,
    drift,
    findings,
    instrument_mix,
    spatial_equity,
    stage_balance,
)
from missionkit.portfolio.data import INSTRUMENTS
from missionkit.services.portfolio import analyses

DEFAULT_SEED = 20_240_606

# Objectives: four roots, six children, two grandchildren (rollups climb two levels).
OBJECTIVES: tuple[tuple[str, str | None], ...] = (
    ("O01", None), ("O02", None), ("O03", None), ("O04", None),
    ("O05", "O01"), ("O06", "O01"), ("O07", "O02"), ("O08", "O03"),
    ("O09", "O04"), ("O10", "O04"), ("O11", "O05"), ("O12", "O07"),
)  # fmt: skip
# How often each objective is chosen (the last is rare: a thin objective).
OBJECTIVE_POPULARITY = np.array([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.3, 0.25, 0.15, 0.01])
SECTORS = (
    "water", "agriculture", "health", "energy", "transport",
    "buildings", "ecosystems", "finance", "digital", "governance",
)  # fmt: skip
SECTOR_POPULARITY = np.array([1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.3, 0.2, 0.15, 0.1])
INSTRUMENT_P = {
    "grant": 0.62, "procurement": 0.10, "regulation": 0.03, "loan": 0.08, "equity": 0.05,
    "guarantee": 0.03, "prize": 0.03, "sandbox": 0.03, "other": 0.03,
}  # fmt: skip
STAGE_P = np.array([0.35, 0.20, 0.20, 0.15, 0.10])
PROVENANCE = ("manual", "suggested", "reviewed")
PROVENANCE_P = np.array([0.50, 0.35, 0.15])
WEIGHTS = np.array([1.0, 0.8, 0.6, 0.5, 0.3, 0.0])
WEIGHTS_P = np.array([0.45, 0.15, 0.15, 0.12, 0.10, 0.03])
ORGS_PER_ACTIVITY = 3  # 1 + Poisson(2), capped at 8
ORG_ZIPF = 0.5  # participation probability of the organisation of rank r ~ r^-0.5
SCOREBOARD = ("leader", "strong", "moderate", "emerging")


def nuts2_codes() -> tuple[list[str], list[str]]:
    """NUTS 2 codes of the packaged NUTS 2021 list (no extra-regio ZZ codes), and one
    NUTS 3 child of each (for activities that list a NUTS 3 region)."""
    text = files("missionkit.reference").joinpath("nuts2021.csv").read_bytes()
    ref = pl.read_csv(text, schema_overrides={"level": pl.Int64})
    ref = ref.filter(~pl.col("code").str.contains("ZZ"))
    two = ref.filter(pl.col("level") == 2).get_column("code").sort()
    three = (
        ref.filter(pl.col("level") == 3)
        .group_by(pl.col("code").str.slice(0, 4).alias("parent"))
        .agg(pl.col("code").min().alias("child"))
    )
    child = pl.DataFrame({"parent": two}).join(three, on="parent", how="left")
    child = child.with_columns(pl.col("child").fill_null(pl.col("parent")))
    return two.to_list(), child.get_column("child").to_list()


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    return pl.select(
        pl.lit(prefix) + pl.int_range(n, dtype=pl.Int64).cast(pl.String).str.zfill(width)
    ).to_series()


def _without_replacement(rng: np.random.Generator, n: int, popularity: np.ndarray) -> np.ndarray:
    """Per row, the categories in a weighted random order (Efraimidis-Spirakis keys)."""
    keys = rng.random((n, popularity.size), dtype=np.float32) ** (1.0 / popularity)
    return np.argsort(-keys, axis=1).astype(np.int16)


@dataclass(frozen=True)
class Generated:
    activities: pl.DataFrame
    contributions: pl.DataFrame
    participations: pl.DataFrame
    objectives: pl.DataFrame
    regions: pl.DataFrame


def _pick(names: Sequence[str], index: np.ndarray, null: np.ndarray | None = None) -> pl.Series:
    """``names[index]`` as a String series, null where ``null`` is true."""
    out = pl.Series(list(names), dtype=pl.String).gather(index)
    return out if null is None else out.set(pl.Series(null), None)


def _nullable(values: np.ndarray, null: np.ndarray) -> pl.Series:
    return pl.Series(values).set(pl.Series(null), None)


def generate(n: int, seed: int = DEFAULT_SEED) -> Generated:
    """A portfolio of ``n`` activities as Polars frames (vectorised, deterministic).

    - activities: log-normal budgets (median 1.5M, 1 % zero), nine instruments (62 %
      grants), five stages (10 % only a TRL range, 2 % unknown), ``max(20, n / 500)``
      calls each in one start year 2014-2025 (1 % no year), 1-3 of ten sectors;
    - regions: one or two NUTS 2 codes of the packaged NUTS 2021 list (5 % a NUTS 3 code,
      3 % none), drawn in proportion to population x (GDP per head)^1.5, so funding
      follows capacity; the region table has every NUTS 2 region (ZZ codes excepted) with
      a population, a GDP per head and a scoreboard group;
    - contributions: 0-3 distinct objectives of 12 (nested two levels, one rarely chosen),
      fewer in the fifth of calls that are bottom-up; weights 0-1 (sums above 1 occur);
      provenance manual 50 %, suggested 35 % (with a score, 10 % without), reviewed 15 %;
    - participations: 1 + Poisson(2) organisations per activity (at most 8, mean 3) out
      of ``n / 5``, the organisation of popularity rank r chosen with probability
      proportional to r^-0.5 (Zipf-like): a giant component forms, and the activity
      projection grows as n log n (it holds sum d(d-1)/2 links over degrees d).
    """
    assert sorted(INSTRUMENT_P) == sorted(INSTRUMENTS)
    rng = np.random.default_rng(seed)
    ids = _ids("A", n, 7)
    # calls: one per 500 activities (at least 20), each in one year; a fifth are bottom-up
    n_calls = max(20, n // 500)
    call_year = 2014 + rng.integers(0, 12, n_calls)
    bottom_up = rng.random(n_calls) < 0.2
    call = rng.integers(0, n_calls, n)
    call_names = [f"CALL-{y}-{i:05d}" for i, y in enumerate(call_year.tolist())]
    budget = np.round(rng.lognormal(np.log(1.5e6), 1.0, n), 2)
    budget[rng.random(n) < 0.01] = 0.0
    instrument = rng.choice(len(INSTRUMENT_P), n, p=np.array(list(INSTRUMENT_P.values())))
    stage = rng.choice(len(STAGES), n, p=STAGE_P)
    trl_max = rng.integers(1, 10, n)
    trl_min = np.maximum(trl_max - rng.integers(0, 3, n), 1)
    by_trl = rng.random(n) < 0.10  # no stage: derived from the TRL range
    unknown = rng.random(n) < 0.02  # neither stage nor TRL
    no_trl = ~by_trl | unknown
    # regions: 1-2 NUTS 2 codes (5 % a NUTS 3 code instead, 3 % none), skewed to big, rich
    codes, children = nuts2_codes()
    k = len(codes)
    population = np.round(rng.lognormal(np.log(1.5e6), 0.7, k))
    gdp = np.round(rng.lognormal(np.log(30_000), 0.4, k))
    pull = population * (gdp / gdp.mean()) ** 1.5 * rng.lognormal(0.0, 0.5, k)
    cdf = np.cumsum(pull) / pull.sum()
    r1 = np.minimum(np.searchsorted(cdf, rng.random(n)), k - 1)
    r2 = np.minimum(np.searchsorted(cdf, rng.random(n)), k - 1)
    r2 = np.where(r2 == r1, (r2 + 1) % k, r2)
    nuts3 = rng.random(n) < 0.05
    none = rng.random(n) < 0.03
    one = rng.random(n) >= 0.4
    first = pl.select(
        pl.when(pl.lit(pl.Series(nuts3))).then(_pick(children, r1)).otherwise(_pick(codes, r1))
    ).to_series()
    first = first.set(pl.Series(none), None)
    second = _pick(codes, r2, none | one)
    # sectors: 1-3 distinct (3 % none)
    order = _without_replacement(rng, n, SECTOR_POPULARITY)
    n_sectors = rng.choice(4, n, p=[0.03, 0.42, 0.35, 0.20])
    sectors = [_pick(SECTORS, order[:, j], n_sectors <= j).alias(f"s{j}") for j in range(3)]
    activities = pl.DataFrame(
        [
            ids.alias("id"),
            pl.Series("budget", budget),
            _pick(list(INSTRUMENT_P), instrument).alias("instrument"),
            _pick(STAGES, stage, by_trl | unknown).alias("stage"),
            _nullable(trl_min, no_trl).alias("trl_min"),
            _nullable(trl_max, no_trl).alias("trl_max"),
            _pick(call_names, call).alias("call"),
            _nullable(call_year[call], rng.random(n) < 0.01).alias("year"),
            first.alias("r0"),
            second.alias("r1"),
            *sectors,
        ]
    ).select(
        "id", "budget", "instrument", "stage", "trl_min", "trl_max", "call", "year",
        pl.concat_list("r0", "r1").list.drop_nulls().alias("regions"),
        pl.concat_list("s0", "s1", "s2").list.drop_nulls().alias("sectors"),
    )  # fmt: skip
    # contributions: 0-3 distinct objectives; bottom-up calls are mostly undirected
    cum = np.where(
        bottom_up[call][:, None],
        np.cumsum([0.60, 0.30, 0.08, 0.02])[None, :],
        np.cumsum([0.10, 0.45, 0.30, 0.15])[None, :],
    )
    n_links = (rng.random(n)[:, None] >= cum[:, :-1]).sum(axis=1)
    order = _without_replacement(rng, n, OBJECTIVE_POPULARITY)
    rows, slot = np.nonzero(np.arange(3)[None, :] < n_links[:, None])
    m = rows.size
    provenance = rng.choice(3, m, p=PROVENANCE_P)
    score_null = (provenance != 1) | (rng.random(m) < 0.1)
    contributions = pl.DataFrame(
        [
            ids.gather(rows).alias("activity"),
            _pick([o for o, _ in OBJECTIVES], order[rows, slot]).alias("objective"),
            pl.Series("weight", rng.choice(WEIGHTS, m, p=WEIGHTS_P)),
            _pick(PROVENANCE, provenance).alias("provenance"),
            _nullable(np.round(rng.uniform(0.2, 0.95, m), 3), score_null).alias("score"),
        ]
    )
    # participations: 1 + Poisson(2) organisations (at most 8), Zipf-like popularity
    n_orgs = max(n // 5, 10)
    per = np.minimum(1 + rng.poisson(ORGS_PER_ACTIVITY - 1, n), 8)
    act = np.repeat(np.arange(n), per)
    org_cdf = np.cumsum((np.arange(n_orgs) + 1.0) ** -ORG_ZIPF)
    org_cdf /= org_cdf[-1]
    rank = np.minimum(np.searchsorted(org_cdf, rng.random(act.size)), n_orgs - 1)
    org_of_rank = rng.permutation(n_orgs)  # popularity unrelated to the id
    pairs = np.unique(act.astype(np.int64) * n_orgs + org_of_rank[rank])
    act, org = pairs // n_orgs, pairs % n_orgs
    lead = np.r_[True, act[1:] != act[:-1]]
    participations = pl.DataFrame(
        [
            ids.gather(act).alias("activity"),
            _ids("XI-PIC-", n_orgs, 9).gather(org).alias("organisation"),
            _pick(("participant", "lead"), lead.astype(np.int8)).alias("role"),
        ]
    )
    objectives = pl.DataFrame(
        {
            "id": [o for o, _ in OBJECTIVES],
            "parent": [p for _, p in OBJECTIVES],
            "title": [f"Objective {o[1:]}" for o, _ in OBJECTIVES],
        }
    )
    regions = pl.DataFrame(
        {
            "code": codes,
            "level": ["nuts2"] * k,
            "population": population,
            "gdp_per_head": gdp,
            "group": _pick(SCOREBOARD, rng.integers(0, 4, k)),
        }
    )
    return Generated(activities, contributions, participations, objectives, regions)


def build(data: Generated) -> Portfolio:
    return Portfolio.from_frames(
        data.activities, data.contributions, data.participations, data.objectives, data.regions
    )


def projection_links(data: Generated) -> int:
    """Pairs of activities sharing an organisation, counted per organisation
    (``sum d (d - 1) / 2`` over organisation degrees d): an upper bound of the activity
    network's edges, which is what the networkx projection iterates over."""
    degree = data.participations.group_by("organisation").len().get_column("len").to_numpy()
    return int((degree.astype(np.int64) * (degree - 1) // 2).sum())


# --- the pandas twin ----------------------------------------------------------------------
# The same analyses written the way a pandas user would (merge, groupby, transform), from
# the same validated data. Lists (regions, sectors) are handed over as long tables, the
# idiomatic pandas shape, so exploding them is not part of the pandas timings.


@dataclass(frozen=True)
class PandasData:
    activities: pd.DataFrame  # id, budget, instrument, stage, call, year
    regions_of: pd.DataFrame  # activity, region (activities without regions absent)
    sectors_of: pd.DataFrame  # activity, sector
    contributions: pd.DataFrame  # activity, objective, weight, provenance, score
    objectives: pd.DataFrame  # id, parent
    regions: pd.DataFrame  # code, population, gdp_per_head


def _pandas(frame: pl.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: frame.get_column(c).to_numpy() for c in frame.columns})


def to_pandas(p: Portfolio) -> PandasData:
    acts = p.activities
    long = {
        name: _pandas(
            acts.select(pl.col("id").alias("activity"), pl.col(column).alias(name)).explode(name)
        ).dropna()
        for name, column in (("region", "regions"), ("sector", "sectors"))
    }
    return PandasData(
        _pandas(acts.select("id", "budget", "instrument", "stage", "call", "year")),
        long["region"].reset_index(drop=True),
        long["sector"].reset_index(drop=True),
        _pandas(p.contributions.select("activity", "objective", "weight", "provenance", "score")),
        _pandas(p.objectives.select("id", "parent")),
        _pandas(p.regions.select("code", "population", "gdp_per_head")),
    )


def pd_allocation(d: PandasData) -> pd.DataFrame:
    """Contributions with ``share`` (weights normalised when they sum above 1) and
    ``allocated`` (budget x share)."""
    budgets = d.activities[["id", "budget"]].rename(columns={"id": "activity"})
    a = d.contributions.merge(budgets, on="activity", how="left")
    total = a.groupby("activity")["weight"].transform("sum")
    a["share"] = a["weight"] / np.maximum(total.to_numpy(), 1.0)
    a["allocated"] = a["budget"] * a["share"]
    return a


def pd_ancestors(d: PandasData) -> pd.DataFrame:
    parent = dict(zip(d.objectives["id"], d.objectives["parent"], strict=True))
    pairs = []
    for start in parent:
        node = start
        while isinstance(node, str):
            pairs.append((start, node))
            node = parent[node]
    return pd.DataFrame(pairs, columns=["objective", "ancestor"])


def pd_objective_parts(d: PandasData, alloc: pd.DataFrame, rollup: bool) -> pd.DataFrame:
    """activity, value (objective or (none) for the unallocated rest), fraction."""
    a = alloc[["activity", "objective", "share"]].set_axis(
        ["activity", "value", "fraction"], axis=1
    )
    used = a.groupby("activity")["fraction"].sum()
    rest = 1.0 - d.activities["id"].map(used).fillna(0.0)
    keep = (rest > 1e-12).to_numpy()
    a = pd.concat(
        [a, pd.DataFrame({"activity": d.activities["id"][keep], "value": NONE,
                          "fraction": rest[keep]})],
        ignore_index=True,
    )  # fmt: skip
    if not rollup:
        return a
    up = pd_ancestors(d).rename(columns={"objective": "value"})
    m = a.merge(up, on="value", how="left")
    m["ancestor"] = m["ancestor"].fillna(m["value"])
    return (
        m.groupby(["activity", "ancestor"], as_index=False)["fraction"]
        .sum()
        .rename(columns={"ancestor": "value"})
    )


def pd_list_parts(d: PandasData, kind: str) -> pd.DataFrame:
    """activity, value, fraction: an equal split over the listed regions or sectors."""
    long = d.regions_of if kind == "region" else d.sectors_of
    parts = long.rename(columns={kind: "value"})
    parts["fraction"] = 1.0 / parts.groupby("activity")["value"].transform("size")
    missing = ~d.activities["id"].isin(parts["activity"])
    rest = pd.DataFrame({"activity": d.activities["id"][missing], "value": NONE, "fraction": 1.0})
    return pd.concat([parts, rest], ignore_index=True)


def pd_label(d: PandasData, column: str) -> pd.Series:
    """A single-valued dimension as strings, (none) where unknown."""
    v = d.activities[column]
    if column == "year":
        return pd.Series(
            np.where(v.isna(), NONE, v.fillna(0).astype("int64").astype(str)), index=v.index
        )
    return v.fillna(NONE)


def pd_by(d: PandasData, parts: pd.DataFrame, column: str) -> pd.DataFrame:
    """Budget and distinct activities per (part value, single-valued column)."""
    acts = pd.DataFrame({"activity": d.activities["id"], "column": pd_label(d, column),
                         "budget": d.activities["budget"]})  # fmt: skip
    m = parts[parts["fraction"] > 0].merge(acts, on="activity")
    m["amount"] = m["budget"] * m["fraction"]
    return m.groupby(["value", "column"]).agg(
        budget=("amount", "sum"), activities=("activity", "nunique")
    )


def pd_totals(d: PandasData, column: str) -> pd.DataFrame:
    frame = pd.DataFrame({"value": pd_label(d, column), "budget": d.activities["budget"],
                          "activity": d.activities["id"]})  # fmt: skip
    return frame.groupby("value").agg(budget=("budget", "sum"), activities=("activity", "nunique"))


Flat = dict[tuple[Any, ...], Any]


def pd_coverage(d: PandasData, alloc: pd.DataFrame | None = None) -> Flat:
    alloc = pd_allocation(d) if alloc is None else alloc
    total = float(d.activities["budget"].sum())
    pos = alloc[alloc["share"] > 0]
    direct = pos.groupby("objective").agg(
        budget=("allocated", "sum"), activities=("activity", "nunique")
    )
    subtree = (
        pos.merge(pd_ancestors(d), on="objective")
        .groupby("ancestor")
        .agg(budget=("allocated", "sum"), activities=("activity", "nunique"))
    )
    out: Flat = {}
    for o in d.objectives["id"]:
        b = float(direct["budget"].get(o, 0.0))
        n = int(direct["activities"].get(o, 0))
        tb = float(subtree["budget"].get(o, 0.0))
        tn = int(subtree["activities"].get(o, 0))
        status = "none" if tn == 0 else "thin" if tb / total < 0.05 or tn < 3 else "covered"
        out.update({("objective", o, "budget"): b, ("objective", o, "activities"): n,
                    ("objective", o, "total_budget"): tb, ("objective", o, "total_activities"): tn,
                    ("objective", o, "status"): status})  # fmt: skip
    unmapped = d.activities[~d.activities["id"].isin(pos["activity"])]
    out[("unmapped", "count")] = len(unmapped)
    out[("unmapped", "budget")] = float(unmapped["budget"].sum())
    out[("unallocated",)] = max(total - float(alloc["allocated"].sum()), 0.0)
    cells = pd_by(d, pd_objective_parts(d, alloc, rollup=False), "stage")
    for (r, c), b, n in zip(cells.index, cells["budget"], cells["activities"], strict=True):
        out[("cell", r, c, "budget")] = float(b)
        out[("cell", r, c, "activities")] = int(n)
    return out


def pd_confidence(alloc: pd.DataFrame) -> np.ndarray:
    prov = alloc["provenance"].to_numpy()
    suggested = alloc["score"].fillna(0.5).to_numpy()
    return np.where((prov == "manual") | (prov == "reviewed"), 1.0, suggested)


def pd_direction(d: PandasData, alloc: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Links with ``directed``; activities with call, year, budget, directed."""
    links = alloc.assign(directed=alloc["allocated"] * pd_confidence(alloc))
    per = links.groupby("activity")["directed"].sum()
    acts = pd.DataFrame(
        {"activity": d.activities["id"], "call": pd_label(d, "call"),
         "year": pd_label(d, "year"), "budget": d.activities["budget"],
         "directed": d.activities["id"].map(per).fillna(0.0)}
    )  # fmt: skip
    return links, acts


def _groups(frame: pd.DataFrame, key: str, name: str, out: Flat) -> pd.DataFrame:
    g = frame.groupby(key).agg(
        budget=("budget", "sum"), directed=("directed", "sum"), activities=("activity", "nunique")
    )
    for k, b, dd, n in zip(g.index, g["budget"], g["directed"], g["activities"], strict=True):
        out.update({(name, k, "budget"): float(b), (name, k, "directed"): float(dd),
                    (name, k, "activities"): int(n)})  # fmt: skip
    return g


def pd_directionality(d: PandasData, alloc: pd.DataFrame | None = None) -> Flat:
    alloc = pd_allocation(d) if alloc is None else alloc
    links, acts = pd_direction(d, alloc)
    out: Flat = {("share",): float(acts["directed"].sum() / acts["budget"].sum())}
    calls = _groups(acts, "call", "call", out)
    _groups(acts, "year", "year", out)
    objectives = links[links["allocated"] > 0].drop(columns="budget")
    objectives = objectives.rename(columns={"allocated": "budget"})
    found = _groups(objectives, "objective", "objective", out)
    for o in d.objectives["id"]:
        if o not in found.index:
            out.update({("objective", o, "budget"): 0.0, ("objective", o, "directed"): 0.0,
                        ("objective", o, "activities"): 0})  # fmt: skip
    ranked = calls[(calls.index != NONE) & (calls["budget"] > 0)].assign(
        share=lambda f: f["directed"] / f["budget"], neg=lambda f: -f["budget"]
    )
    ranked = ranked.rename_axis("key").reset_index().sort_values(["share", "neg", "key"])
    out[("least",)] = tuple(ranked["key"].head(5))
    for prov, v in links.groupby("provenance")["directed"].sum().items():
        out[("provenance", prov)] = float(v)
    return out


def _stage_rows(key: str, rows: dict[str, tuple[float, int]], out: Flat) -> None:
    keys = list(STAGES) + ([NONE] if NONE in rows else [])
    for s in keys:
        b, n = rows.get(s, (0.0, 0))
        out[("stage", key, s, "budget")] = b
        out[("stage", key, s, "activities")] = n
    present = [s for s in STAGES if rows.get(s, (0.0, 0))[1] > 0]
    missing: tuple[str, ...] = ()
    if present:
        missing = tuple(s for s in STAGES[STAGES.index(present[0]) + 1 :] if s not in present)
    out[("missing", key)] = missing


def pd_stage_balance(d: PandasData, alloc: pd.DataFrame | None = None) -> Flat:
    alloc = pd_allocation(d) if alloc is None else alloc
    out: Flat = {}
    whole = pd_totals(d, "stage")
    rows = zip(whole.index, whole["budget"], whole["activities"], strict=True)
    _stage_rows(ALL, {s: (float(b), int(n)) for s, b, n in rows}, out)
    table = pd_by(d, pd_objective_parts(d, alloc, rollup=True), "stage")
    per: dict[str, dict[str, tuple[float, int]]] = {o: {} for o in d.objectives["id"]}
    for (o, s), b, n in zip(table.index, table["budget"], table["activities"], strict=True):
        if o in per:
            per[o][s] = (float(b), int(n))
    for o, rows in per.items():
        _stage_rows(o, rows, out)
    return out


def _mix(table: pd.DataFrame, out: Flat, key: str | None = None) -> None:
    t = table.reset_index()
    if key is not None:
        t["value"] = key
    t["share"] = (t["budget"] / t.groupby("value")["budget"].transform("sum")).fillna(0.0)
    for r, c, b, s, n in zip(t["value"], t["column"], t["budget"], t["share"], t["activities"],
                             strict=True):  # fmt: skip
        out[("mix", r, c)] = (float(b), float(s), int(n))


def pd_instrument_mix(d: PandasData, alloc: pd.DataFrame | None = None) -> Flat:
    alloc = pd_allocation(d) if alloc is None else alloc
    out: Flat = {}
    overall = pd_totals(d, "instrument").rename_axis("column")
    _mix(overall, out, ALL)
    _mix(pd_by(d, pd_objective_parts(d, alloc, rollup=True), "instrument"), out)
    years = pd.DataFrame({"activity": d.activities["id"], "value": pd_label(d, "year"),
                          "fraction": 1.0})  # fmt: skip
    by_year = pd_by(d, years, "instrument")
    year_out: Flat = {}
    _mix(by_year, year_out)
    out.update({("year", *k): v for k, v in year_out.items()})
    budget = by_year.groupby("value")["budget"].sum()
    funded = sorted(int(y) for y, b in budget.items() if y != NONE and b > 0)
    if funded:
        first, last = str(funded[0]), str(funded[-1])
        shares = {(k[1], k[2]): v[1] for k, v in year_out.items()}
        for i in sorted({k[2] for k in year_out if k[1] in (first, last)}):
            out[("trend", i)] = (first, shares.get((first, i), 0.0), last,
                                 shares.get((last, i), 0.0))  # fmt: skip
    return out


def _indices(amounts: pd.Series, distance: pd.DataFrame, key: str, out: Flat) -> None:
    whole = float(amounts[amounts > 0].sum())
    known = amounts[(amounts.index != NONE) & (amounts > 0)].sort_index()
    out[("div", key, "unclassified")] = (whole - float(known.sum())) / whole if whole > 0 else 0.0
    out[("div", key, "categories")] = len(known)
    if known.empty:
        return
    p = (known / known.sum()).to_numpy()
    dist = distance.loc[known.index, known.index].to_numpy()
    out[("div", key, "shannon")] = float(-(p * np.log(p)).sum())
    out[("div", key, "hhi")] = float((p * p).sum())
    out[("div", key, "rao_stirling")] = float((dist * np.outer(p, p)).sum())


def pd_diversity(d: PandasData, alloc: pd.DataFrame | None = None) -> Flat:
    """Shannon, HHI and Rao-Stirling over sectors (1 - cosine co-occurrence distance)."""
    alloc = pd_allocation(d) if alloc is None else alloc
    members = d.sectors_of.drop_duplicates()
    pairs = members.merge(members, on="activity").groupby(["sector_x", "sector_y"]).size()
    counts = pairs.unstack(fill_value=0)
    diag = np.sqrt(np.diag(counts.to_numpy()).astype(float))
    cos = counts.to_numpy() / np.outer(diag, diag)
    dist = np.clip(1.0 - cos, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    distance = pd.DataFrame(dist, index=counts.index, columns=counts.columns)
    out: Flat = {}
    parts = pd_list_parts(d, "sector")
    budgets = d.activities.set_index("id")["budget"]
    whole = (parts["activity"].map(budgets) * parts["fraction"]).groupby(parts["value"]).sum()
    _indices(whole, distance, ALL, out)
    rolled = pd_objective_parts(d, alloc, rollup=True)
    m = rolled.merge(parts, on="activity", suffixes=("_o", "_s"))
    m["amount"] = m["activity"].map(budgets) * m["fraction_o"] * m["fraction_s"]
    m = m[m["fraction_o"] * m["fraction_s"] > 0]
    table = m.groupby(["value_o", "value_s"])["amount"].sum()
    for o in d.objectives["id"]:
        amounts = table.loc[o] if o in table.index.get_level_values(0) else pd.Series(dtype=float)
        _indices(amounts, distance, o, out)
    return out


def _country(code: str) -> str:
    return {"EL": "GR", "UK": "GB"}.get(code[:2], code[:2])


def pd_spatial(d: PandasData) -> Flat:
    """NUTS 2 funding per head, Gini (pairwise definition), Theil T by country."""
    regs = d.regions
    codes = set(regs["code"])
    parts = d.regions_of.copy()
    budgets = d.activities.set_index("id")["budget"]
    parts["amount"] = parts["activity"].map(budgets) / parts.groupby("activity")[
        "region"
    ].transform("size")
    up = parts["region"].str.slice(0, 4)
    parts["code"] = np.where(
        parts["region"].isin(codes), parts["region"], np.where(up.isin(codes), up, None)
    )
    funded = (
        parts.dropna(subset=["code"])
        .groupby("code")
        .agg(funding=("amount", "sum"), activities=("activity", "nunique"))
    )
    out: Flat = {}
    lost = parts[parts["code"].isna()]
    if len(lost):
        out[("unattributed", "not in the region table at this level")] = float(lost.amount.sum())
    none = ~d.activities["id"].isin(d.regions_of["activity"])
    out[("unattributed", "no region listed")] = float(d.activities["budget"][none].sum())
    t = regs.merge(funded, left_on="code", right_index=True, how="left").fillna(
        {"funding": 0.0, "activities": 0}
    )
    for c, f in zip(t["code"], t["funding"], strict=True):
        out[("funding", c)] = float(f)
    x = (t["funding"] / t["population"]).to_numpy()
    w = t["population"].to_numpy()
    f_share = t["funding"] / t["funding"].sum()
    ratio = f_share / (t["population"] / t["population"].sum())
    out[("left_behind",)] = tuple(sorted(t["code"][ratio < 0.5]))

    def pairwise_gini(x: np.ndarray, w: np.ndarray) -> float:
        mu = (w * x).sum() / w.sum()
        diff = np.abs(x[:, None] - x[None, :]) * np.outer(w, w)
        return float(diff.sum() / (2 * w.sum() ** 2 * mu))

    out[("gini",)] = pairwise_gini(x, w)
    out[("gini_unweighted",)] = pairwise_gini(x, np.ones_like(x))
    s = (w * x) / (w * x).sum()
    q = w / w.sum()
    frame = pd.DataFrame({"g": t["code"].map(_country), "s": s, "q": q})
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 ln 0 = 0
        frame["term"] = np.where(frame.s > 0, frame.s * np.log(frame.s / frame.q), 0.0)
        groups = frame.groupby("g").agg(s=("s", "sum"), q=("q", "sum"), t=("term", "sum"))
        # within group g: T_g = sum (s/s_g) ln((s/s_g)/(q/q_g)): s_g T_g = t_g - s_g ln(s_g/q_g)
        between = np.where(groups.s > 0, groups.s * np.log(groups.s / groups.q), 0.0)
    out[("theil", "total")] = float(frame["term"].sum())
    out[("theil", "between")] = float(between.sum())
    out[("theil", "within")] = float((groups.t - between).sum())
    k = max(1, math.ceil(0.1 * len(t)))
    top = t.sort_values(["funding", "code"], ascending=[False, True]).head(k)
    out[("top_share",)] = float(top["funding"].sum() / t["funding"].sum())
    ranks = pd.DataFrame({"a": x, "b": t["gdp_per_head"].to_numpy()}).rank()
    out[("capacity",)] = float(ranks["a"].corr(ranks["b"]))
    return out


def pd_drift(d: PandasData, alloc: pd.DataFrame | None = None) -> Flat:
    alloc = pd_allocation(d) if alloc is None else alloc
    _, acts = pd_direction(d, alloc)
    years = acts.groupby("year").agg(budget=("budget", "sum"), directed=("directed", "sum"))
    single = pd.DataFrame({"activity": d.activities["id"], "value": pd_label(d, "year"),
                           "fraction": 1.0})  # fmt: skip
    stages = pd_by(d, single, "stage")["budget"]
    instruments = pd_by(d, single, "instrument")["budget"]
    out: Flat = {}
    shares: dict[str, tuple[float, dict[str, float]]] = {}
    for y, b, dd in zip(years.index, years["budget"], years["directed"], strict=True):
        share = dd / b if b > 0 else 0.0
        out[("drift", y, "budget")] = float(b)
        out[("drift", y, "directed_share")] = float(share)
        by_stage = stages.loc[y]
        keys = list(STAGES) + ([NONE] if NONE in by_stage.index else [])
        st = {s: float(by_stage.get(s, 0.0)) / b if b > 0 else 0.0 for s in keys}
        for s, v in st.items():
            out[("drift", y, "stage", s)] = v
        for i, v in instruments.loc[y].items():
            out[("drift", y, "instrument", i)] = float(v) / b if b > 0 else 0.0
        shares[y] = (share, st)
    funded = sorted(int(y) for y in years.index if y != NONE and years["budget"][y] > 0)
    if len(funded) >= 2:
        first, last = shares[str(funded[0])], shares[str(funded[-1])]
        out[("change",)] = last[0] - first[0]
    return out


def pd_report(d: PandasData) -> dict[str, Flat]:
    """Every twin, sharing one allocation (as the engine's report shares its cached one),
    plus the HHI over instruments the findings check."""
    alloc = pd_allocation(d)
    out = {
        "coverage": pd_coverage(d, alloc),
        "directionality": pd_directionality(d, alloc),
        "stage_balance": pd_stage_balance(d, alloc),
        "instrument_mix": pd_instrument_mix(d, alloc),
        "diversity": pd_diversity(d, alloc),
        "spatial_equity": pd_spatial(d),
        "drift": pd_drift(d, alloc),
    }
    budget = d.activities.groupby("instrument")["budget"].sum()
    p = budget / budget.sum()
    out["instrument_hhi"] = {("hhi",): float((p * p).sum())}
    return out


# --- the engine's results in the twins' shape --------------------------------------------


def flat_coverage(c: Any) -> Flat:
    out: Flat = {}
    for o in c.objectives:
        out.update({("objective", o.objective, "budget"): o.budget,
                    ("objective", o.objective, "activities"): o.activities,
                    ("objective", o.objective, "total_budget"): o.total_budget,
                    ("objective", o.objective, "total_activities"): o.total_activities,
                    ("objective", o.objective, "status"): o.status})  # fmt: skip
    out[("unmapped", "count")] = len(c.unmapped_activities)
    out[("unmapped", "budget")] = c.unmapped_budget
    out[("unallocated",)] = c.unallocated_budget
    for cell in c.matrix.cells:
        out[("cell", cell.row, cell.column, "budget")] = cell.budget
        out[("cell", cell.row, cell.column, "activities")] = cell.activities
    return out


def flat_directionality(r: Any) -> Flat:
    out: Flat = {("share",): r.share, ("least",): tuple(g.key for g in r.least_directed)}
    for name, groups in (("call", r.by_call), ("year", r.by_year), ("objective", r.by_objective)):
        for g in groups:
            out.update({(name, g.key, "budget"): g.budget, (name, g.key, "directed"):
                        g.directed_budget, (name, g.key, "activities"): g.activities})  # fmt: skip
    out.update({("provenance", k): v for k, v in r.by_provenance.items()})
    return out


def flat_stage_balance(r: Any) -> Flat:
    out: Flat = {}
    for o in (r.portfolio, *r.objectives):
        for s in o.stages:
            out[("stage", o.objective, s.stage, "budget")] = s.budget
            out[("stage", o.objective, s.stage, "activities")] = s.activities
        out[("missing", o.objective)] = o.missing
    return out


def flat_instrument_mix(r: Any) -> Flat:
    out: Flat = {}
    for c in (*r.portfolio, *r.by_objective):
        out[("mix", c.key, c.instrument)] = (c.budget, c.share, c.activities)
    for c in r.by_year:
        out[("year", "mix", c.key, c.instrument)] = (c.budget, c.share, c.activities)
    for t in r.trend:
        out[("trend", t.instrument)] = (t.first_year, t.first_share, t.last_year, t.last_share)
    return out


def _flat_indices(key: str, x: Any, out: Flat) -> None:
    out[("div", key, "unclassified")] = x.unclassified_share
    out[("div", key, "categories")] = x.categories
    if x.categories:
        out[("div", key, "shannon")] = x.shannon
        out[("div", key, "hhi")] = x.hhi
        out[("div", key, "rao_stirling")] = x.rao_stirling


def flat_diversity(r: Any) -> Flat:
    out: Flat = {}
    _flat_indices(ALL, r.portfolio, out)
    for o in r.objectives:
        _flat_indices(o.objective, o.indices, out)
    return out


def flat_spatial(r: Any) -> Flat:
    out: Flat = {("unattributed", k): v for k, v in r.unattributed.items()}
    out.update({("funding", x.code): x.funding for x in r.regions})
    out[("left_behind",)] = tuple(sorted(r.left_behind))
    out[("gini",)] = r.gini
    out[("gini_unweighted",)] = r.gini_unweighted
    out[("theil", "total")] = r.theil.total
    out[("theil", "between")] = r.theil.between
    out[("theil", "within")] = r.theil.within
    out[("top_share",)] = r.top_share
    out[("capacity",)] = r.capacity_correlation
    return out


def flat_drift(r: Any) -> Flat:
    out: Flat = {}
    for p in r.periods:
        out[("drift", p.period, "budget")] = p.budget
        out[("drift", p.period, "directed_share")] = p.directed_share
        out.update({("drift", p.period, "stage", s): v for s, v in p.stage_shares.items()})
        out.update({("drift", p.period, "instrument", i): v
                    for i, v in p.instrument_shares.items()})  # fmt: skip
    if r.directed_share_change is not None:
        out[("change",)] = r.directed_share_change
    return out


def _same(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y, tolerance) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=1e-9)
    return bool(a == b)


def compare(engine: Flat, twin: Flat, tolerance: float = 1e-6) -> str:
    """'agree', or what differs first."""
    if engine.keys() != twin.keys():
        only = sorted(map(str, engine.keys() ^ twin.keys()))
        return f"DIFFER: {len(only)} keys in one only, e.g. {only[0]}"
    bad = [k for k in engine if not _same(engine[k], twin[k], tolerance)]
    if bad:
        return f"DIFFER: {len(bad)} values, e.g. {bad[0]}: {engine[bad[0]]!r} vs {twin[bad[0]]!r}"
    return "agree"


# --- measuring ------------------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident set size now (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return 0


def _trim() -> None:
    """Return freed memory to the system first, so each call starts from a low RSS."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakRSS:
    """Peak RSS above the start, sampled by a thread every ``interval`` seconds."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def delta_mib(self) -> float:
        return (self.peak - self.start) / 2**20


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    mib: float = 0.0
    result: Any = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(
    run: Callable[[Any], Any], repeat: int, setup: Callable[[], Any] = lambda: None
) -> Timing:
    """Median wall time and largest RSS delta of ``run(setup())`` over ``repeat`` runs
    (setup is not timed); keeps the last result."""
    timing = Timing()
    for _ in range(repeat):
        timing.result = None
        arg = setup()
        _trim()
        with PeakRSS() as peak:
            start = time.perf_counter()
            result = run(arg)
            timing.seconds.append(time.perf_counter() - start)
        timing.mib = max(timing.mib, peak.delta_mib)
        timing.result = result
    return timing


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the benchmark ---------------------------------------------------------------------------

LEVEL = "nuts2"
Analysis = tuple[str, Callable[[Portfolio], Any], Callable[[Any], Flat], Callable[..., Flat]]
ANALYSES: tuple[Analysis, ...] = (
    ("coverage", coverage, flat_coverage, pd_coverage),
    ("directionality", directionality, flat_directionality, pd_directionality),
    ("stage_balance", stage_balance, flat_stage_balance, pd_stage_balance),
    ("instrument_mix", instrument_mix, flat_instrument_mix, pd_instrument_mix),
    ("diversity", diversity, flat_diversity, pd_diversity),
    ("spatial_equity", lambda p: spatial_equity(p, LEVEL), flat_spatial, pd_spatial),
    ("drift", drift, flat_drift, pd_drift),
)


def engine_report(p: Portfolio) -> list[str]:
    """Every analysis but coherence, then the ranked findings reusing the results (the
    network finding is left out: coherence has its own row)."""
    direction = directionality(p)
    done = Analyses(
        coverage=coverage(p),
        directionality=direction,
        stage_balance=stage_balance(p),
        instruments=diversity(p, "instrument"),
        drift=drift(p, "year", direction=direction),
    )
    instrument_mix(p)
    diversity(p)
    spatial = spatial_equity(p, LEVEL)
    target = replace(p, participations=p.participations.clear())
    target.__dict__["allocation"] = p.allocation  # keep the cached allocation
    ranked = findings(target, spatial=spatial, analyses=done)
    return [f.text for f in ranked[:10]]


def full_report(p: Portfolio) -> list[str]:
    """What ``portfolio_analysis`` runs once the portfolio is loaded: every analysis once,
    coherence included, then the findings reusing them."""
    done = analyses(p, level=LEVEL)
    ranked = findings(p, spatial=done.spatial, analyses=done.findings_input())
    return [f.text for f in ranked[:10]]


@dataclass
class Row:
    name: str
    engine: Timing
    pandas: Timing | None = None
    agree: str = "-"


@dataclass
class SizeResult:
    n: int
    links: int
    rows: list[Row]
    notes: list[str]

    def row(self, prefix: str) -> Row | None:
        return next((r for r in self.rows if r.name.startswith(prefix)), None)


def fmt_s(t: float) -> str:
    return f"{t:,.3f}" if t < 10 else f"{t:,.1f}"


def print_table(result: SizeResult, repeat: int) -> None:
    head = ("analysis", "engine s", "engine MiB", "pandas s", "pandas MiB", "pandas/engine",
            "check")  # fmt: skip
    lines = []
    for r in result.rows:
        e = r.engine
        runs = "" if len(e.seconds) == repeat or e.note == "sum" else f" ({len(e.seconds)} run)"
        lines.append(
            (r.name + runs, fmt_s(e.median), f"{e.mib:,.0f}",
             fmt_s(r.pandas.median) if r.pandas else "-",
             f"{r.pandas.mib:,.0f}" if r.pandas else "-",
             f"{r.pandas.median / e.median:,.1f}x" if r.pandas else "-", r.agree)
        )  # fmt: skip
    widths = [max(len(h), *(len(x[i]) for x in lines)) for i, h in enumerate(head)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in (0, 6) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for x in lines:
        print(line(x))
    for note in result.notes:
        print(f"  {note}")
    print(flush=True)


def run_size(n: int, args: argparse.Namespace, earlier: list[SizeResult]) -> SizeResult:
    repeat = args.repeat or (3 if n <= 100_000 else 1)
    log(f"[{n:,}] generating ...")
    start = time.perf_counter()
    data = generate(n, args.seed)
    generated = time.perf_counter() - start
    links = projection_links(data)
    n_orgs = data.participations.get_column("organisation").n_unique()
    print(
        f"== {n:,} activities: {data.contributions.height:,} contributions, "
        f"{data.participations.height:,} participations of {n_orgs:,} organisations, "
        f"{data.regions.height} NUTS 2 regions; generated in {generated:.1f} s; "
        f"median of {repeat} run(s)"
    )
    rows: list[Row] = []
    notes: list[str] = []
    log(f"[{n:,}] Portfolio.from_frames")
    built = measure(build, repeat, lambda data=data: data)
    rows.append(Row("build (Portfolio.from_frames)", built))
    p: Portfolio = built.result
    del data
    frames = to_pandas(p)

    def fresh() -> Portfolio:
        return replace(p)  # same frames, no cached allocation

    figures: dict[str, Flat] = {}
    for name, run, flat, twin in ANALYSES:
        log(f"[{n:,}] {name}")
        engine = measure(run, repeat, fresh)
        pandas = measure(lambda _, twin=twin: twin(frames), repeat)
        figures[name] = flat(engine.result)
        verdict = compare(figures[name], pandas.result)
        engine.result = pandas.result = None
        rows.append(Row(name, engine, pandas, verdict))
    sample: int | str | None = (
        "auto" if args.betweenness_sample < 0 else (args.betweenness_sample or None)
    )
    if args.skip_coherence:
        notes.append("coherence and full report: skipped (--skip-coherence)")
    else:
        log(f"[{n:,}] coherence (betweenness {sample or 'exact'})")
        timing = measure(lambda q: coherence(q, betweenness_sample=sample), repeat, fresh)
        network: Coherence = timing.result
        timing.result = None
        rows.append(Row(f"coherence (betweenness {sample or 'exact'})", timing))
        a, o = network.activity_network, network.organisation_network
        edges = "not counted" if a.edges is None else f"{a.edges:,} edges"
        notes.append(
            f"coherence: activity network {a.nodes:,} nodes / {edges} (weight {a.weight:,}), "
            f"largest component {a.largest_share:.1%}, {a.isolated:,} isolated; organisation "
            f"network {o.nodes:,} nodes / {o.edges:,} edges; {len(network.communities):,} "
            f"communities (Leiden, modularity {network.modularity or 0:.3f}); betweenness "
            f"from {network.betweenness_sources:,} sources"
            f"{' (exact)' if network.betweenness_exact else ' (sampled)'}"
        )
    log(f"[{n:,}] report")
    report = measure(engine_report, repeat, fresh)
    twin = measure(lambda _: pd_report(frames), repeat)
    checks = [compare(figures[name], twin.result[name]) for name in figures]
    verdict = "agree" if all(c == "agree" for c in checks) else "DIFFER"
    rows.append(Row("report without coherence", report, twin, verdict))
    if not args.skip_coherence:
        log(f"[{n:,}] full report")
        full = measure(full_report, repeat, fresh)
        rows.append(Row("full report (all analyses incl. coherence, findings)", full))
    notes.append(f"headline findings: {len(report.result)}; first: {report.result[0]!r}")
    result = SizeResult(n, links, rows, notes)
    print_table(result, repeat)
    return result


def run_full_only(n: int, seed: int) -> None:
    """The full report, the report without coherence and coherence, once each on one
    generated portfolio, with the load average before and after (no pandas twins)."""
    log(f"[{n:,}] generating ...")
    p = build(generate(n, seed))
    load = os.getloadavg()[0]
    for name, run in (
        ("full report", full_report),
        ("report without coherence", engine_report),
        ("coherence", coherence),
    ):
        q = replace(p)  # no cached allocation
        start = time.perf_counter()
        run(q)
        print(f"{n:,} activities: {name}: {time.perf_counter() - start:.1f} s", flush=True)
    print(f"load average (1 min) before {load:.1f}, after {os.getloadavg()[0]:.1f}\n")


def print_growth(results: list[SizeResult]) -> None:
    if len(results) < 2:
        return
    steps = list(itertools.pairwise(results))
    head = ["time ratio per 10x size"] + [f"{a.n:,} -> {b.n:,}" for a, b in steps]
    names = [r.name for r in results[0].rows]
    table = []
    for name in names:
        cells = [name]
        for a, b in steps:
            ra = next((r for r in a.rows if r.name == name), None)
            rb = next((r for r in b.rows if r.name == name), None)
            if ra is None or rb is None:
                cells.append("-")
                continue
            ratio = rb.engine.median / ra.engine.median
            per10 = ratio ** (1 / math.log10(b.n / a.n))
            cells.append(f"x{per10:,.1f}")
        table.append(cells)
    table.append(["n log n would be"] + [
        f"x{((b.n * math.log(b.n)) / (a.n * math.log(a.n))) ** (1 / math.log10(b.n / a.n)):.1f}"
        for a, b in steps
    ])  # fmt: skip
    widths = [max(len(row[i]) for row in [head, *table]) for i in range(len(head))]
    for i, row in enumerate([head, *table]):
        cells = zip(row, widths, strict=True)
        print("  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(cells)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="comma-separated activity counts (default 10000,100000,1000000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="runs per measurement, median reported (default 3 up to 100,000 activities, 1 above)",
    )
    parser.add_argument("--skip-coherence", action="store_true", help="do not run coherence")
    parser.add_argument(
        "--full-only",
        action="store_true",
        help="only time the full report, the report without coherence and coherence, once "
        "each (no pandas twins, no memory sampling)",
    )
    parser.add_argument(
        "--betweenness-sample",
        type=int,
        default=-1,
        help="betweenness from k seeded sources (default -1: coherence's 'auto'; 0 = exact)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)  # fmt: skip
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    if not sizes or min(sizes) < 100:
        parser.error("sizes must be at least 100 activities")
    print(
        f"portfolio engine vs plain pandas; python {sys.version.split()[0]}, polars "
        f"{version('polars')}, pandas {version('pandas')}, numpy {version('numpy')}, "
        f"networkx {version('networkx')}, igraph {version('igraph')}, scipy {version('scipy')}; "
        f"{os.cpu_count()} CPUs; seed {args.seed}"
    )
    print(
        "engine/pandas MiB: peak RSS above the call's start (sampled every 2 ms); "
        "pandas/engine: how many times longer pandas takes\n"
    )
    if args.full_only:
        for n in sizes:
            run_full_only(n, args.seed)
        return 0
    results: list[SizeResult] = []
    for n in sizes:
        results.append(run_size(n, args, results))
    print_growth(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
