"""The generated portfolios the portfolio benchmark measures.

:func:`generate` builds a seeded portfolio of ``n`` activities as Polars frames
(vectorised with numpy and Polars), :func:`build` validates it into a
:class:`~missionkit.portfolio.Portfolio` (the benchmark's ``build`` row), and
:func:`to_pandas` hands the same validated data to the pandas twin (pandas_twin.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

import numpy as np
import pandas as pd
import polars as pl

from missionkit.domain.vocab import STAGES
from missionkit.portfolio import Portfolio
from missionkit.portfolio.data import INSTRUMENTS

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
Network = Literal["circles", "uniform"]
CIRCLE = 200  # organisations per collaboration circle
HOME_SHARE = 0.8  # chance that a partner comes from the activity's own circle
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


def _from_circles(
    rng: np.random.Generator, n: int, n_orgs: int, act: np.ndarray, anyone: np.ndarray
) -> np.ndarray:
    """Each activity's partners mostly from its own circle of organisations."""
    circles = max(n_orgs // CIRCLE, 1)
    size = n_orgs // circles
    home = rng.integers(0, circles, n)
    within = np.cumsum((np.arange(size) + 1.0) ** -ORG_ZIPF)
    within /= within[-1]
    rank = np.minimum(np.searchsorted(within, rng.random(act.size)), size - 1)
    members = rng.permutation(circles * size)  # circle c: members[c * size:(c + 1) * size]
    at_home = rng.random(act.size) < HOME_SHARE
    return np.where(at_home, members[home[act] * size + rank], anyone)


def generate(n: int, seed: int = DEFAULT_SEED, network: Network = "circles") -> Generated:
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
      With ``network="circles"`` (the default) partners recur as in real programmes,
      where consortia form within thematic and regional circles: organisations belong to
      circles of ``CIRCLE`` and each activity draws a partner from its own circle with
      probability ``HOME_SHARE`` (Zipf-like within it), else from everyone as above; the
      organisation network then has community structure. ``"uniform"`` keeps every
      partner a draw from everyone: a network with no structure, the worst case for
      community detection (modularity about 0.16).
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
    partner = org_of_rank[rank]
    if network == "circles":  # own stream: the rest of the portfolio is the same
        partner = _from_circles(np.random.default_rng([seed, 1]), n, n_orgs, act, partner)
    pairs = np.unique(act.astype(np.int64) * n_orgs + partner)
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


# --- the same data for the pandas twin --------------------------------------------------------
# Lists (regions, sectors) are handed over as long tables, the idiomatic pandas shape, so
# exploding them is not part of the pandas timings.


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
