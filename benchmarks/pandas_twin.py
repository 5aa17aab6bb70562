"""The pandas twin of the portfolio engine's analyses, for bench_portfolio.py.

The same analyses written the way a pandas user would (merge, groupby, transform), from
the same validated data (:class:`portfolio_data.PandasData`). Each ``pd_*`` function
returns its figures as a :data:`Flat` mapping, the shape portfolio_timing.py puts the
engine's results in before comparing the two.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from portfolio_data import PandasData

from missionkit.domain.vocab import STAGES
from missionkit.portfolio import ALL, NONE

Flat = dict[tuple[Any, ...], Any]


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
