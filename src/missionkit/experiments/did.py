"""Difference-in-differences for policy changes: two-way fixed effects, event study and the
Callaway–Sant'Anna group-time estimator for staggered adoption.

- :func:`twfe`: y_it = α_i + λ_t + β·D_it + e_it, fixed effects swept out by alternating
  demeaning (exact in one pass on a balanced panel), standard errors clustered by unit (or a
  coarser ``cluster``) with the CR1 factor and t(G − 1) intervals.
- :func:`event_study`: the same regression with one indicator per period relative to
  adoption (reference period −1), and a joint Wald test of the leads (pre-trends).
- :func:`callaway_santanna`: ATT(g, t) for each adoption cohort g and period t, comparing the
  cohort's change in outcome since its base period with the change among never-treated (or
  not-yet-treated) units (Callaway & Sant'Anna 2021, J. Econometrics 225(2), unconditional
  parallel trends); analytical standard errors from the influence functions, and the
  ``simple``, ``dynamic`` (event time), ``group`` and ``calendar`` aggregations with the
  weight-estimation term, as in the R ``did`` package's ``aggte``.

With staggered adoption and heterogeneous effects the TWFE coefficient mixes comparisons
with already-treated units and can be badly biased (Goodman-Bacon 2021); :func:`twfe` warns
and points to :func:`callaway_santanna`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from missionkit.experiments.regression import (
    FEW_CLUSTERS,
    BootstrapResult,
    FloatArray,
    bootstrap_note,
    cluster_codes,
    cluster_warnings,
    ols,
    wild_cluster_bootstrap,
)
from missionkit.experiments.types import Estimate, ExperimentInputError

ControlGroup = Literal["never", "notyet"]
BasePeriod = Literal["varying", "universal"]
Aggregation = Literal["simple", "dynamic", "group", "calendar"]
PRETREND_ALPHA = 0.05
SMALL_COHORT = 5

TWFE_ASSUMPTIONS = (
    "parallel trends: without the policy, treated and control units would have moved alike",
    "no anticipation: outcomes do not react before the policy starts",
    "homogeneous effect over time and cohorts (otherwise TWFE is a weighted average that can "
    "have negative weights)",
    "CR1 cluster-robust variance, t distribution with G - 1 degrees of freedom",
)


def _estimate(b: float, se: float, dof: float | None, alpha: float) -> Estimate:
    if dof is None:
        q = float(stats.norm.ppf(1 - alpha / 2))
        p = 2 * float(stats.norm.sf(abs(b) / se)) if se > 0 else float("nan")
    else:
        q = float(stats.t.ppf(1 - alpha / 2, dof))
        p = 2 * float(stats.t.sf(abs(b) / se, dof)) if se > 0 else float("nan")
    return Estimate(b, se, b - q * se, b + q * se, p, dof)


# ----------------------------------------------------------------------------- TWFE


@dataclass(frozen=True)
class TwfeResult:
    estimate: Estimate
    n_obs: int
    n_units: int
    n_periods: int
    n_clusters: int
    cluster: str  # "unit" or the name given
    staggered: bool
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]
    bootstrap: BootstrapResult | None = None  # wild cluster bootstrap test of no effect


def _codes(values: Sequence[object], field: str) -> tuple[NDArray[np.intp], int]:
    """Dense codes of labels; numeric and string arrays take the fast path."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ExperimentInputError(field, "has missing values")
    if arr.dtype.kind in "iufUS":
        return cluster_codes(arr)
    obj = np.asarray(values, dtype=object)
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in obj):
        raise ExperimentInputError(field, "has missing values")
    return cluster_codes(obj.astype(str))


def _sorted_unique(values: FloatArray) -> FloatArray:
    """Sorted distinct values (sort-based; faster than np.unique's hashing here)."""
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def demean_two_way(
    columns: FloatArray,
    unit: NDArray[np.intp],
    time: NDArray[np.intp],
    *,
    tol: float = 1e-12,
    max_iter: int = 10_000,
) -> FloatArray:
    """Sweep unit and time means out of each column (alternating projections)."""
    out = columns.astype(float).copy()
    n_u, n_t = int(unit.max()) + 1, int(time.max()) + 1
    cu = np.bincount(unit, minlength=n_u).astype(float)
    ct = np.bincount(time, minlength=n_t).astype(float)
    scale = max(1.0, float(np.abs(out).max()) if out.size else 1.0)
    for _ in range(max_iter):
        before = out.copy()
        for codes, counts, size in ((unit, cu, n_u), (time, ct, n_t)):
            for j in range(out.shape[1]):
                out[:, j] -= (np.bincount(codes, weights=out[:, j], minlength=size) / counts)[codes]
        if float(np.abs(out - before).max()) <= tol * scale:
            return out
    raise ExperimentInputError("data", "fixed effects did not converge")


def _panel_arrays(
    outcome: Sequence[float], unit: Sequence[object], time: Sequence[object]
) -> tuple[FloatArray, NDArray[np.intp], NDArray[np.intp], int, int]:
    y = np.asarray(outcome, dtype=float)
    if not (len(unit) == len(time) == y.size):
        raise ExperimentInputError("data", "outcome, unit and time must have equal length")
    if not np.all(np.isfinite(y)):
        raise ExperimentInputError("outcome", "must be finite numbers")
    u, n_u = _codes(unit, "unit")
    t, n_t = _codes(time, "time")
    pairs = np.sort(u.astype(np.int64) * n_t + t)
    if np.any(pairs[1:] == pairs[:-1]):
        raise ExperimentInputError("unit", "a unit appears twice in the same period")
    return y, u, t, n_u, n_t


def twfe(
    outcome: Sequence[float],
    treated: Sequence[float],
    unit: Sequence[object],
    time: Sequence[object],
    *,
    cluster: Sequence[object] | None = None,
    cluster_name: str = "unit",
    alpha: float = 0.05,
    bootstrap: bool | None = None,
    draws: int = 9999,
    seed: int = 0,
) -> TwfeResult:
    """Two-way fixed-effects DiD coefficient of the treatment indicator ``treated`` (D_it).

    ``bootstrap`` adds a wild cluster bootstrap p-value on the partialled-out data
    (default: when there are fewer than 30 clusters).
    """
    y, u, t, n_u, n_t = _panel_arrays(outcome, unit, time)
    d = np.asarray(treated, dtype=float)
    if d.shape != y.shape or not np.all(np.isfinite(d)):
        raise ExperimentInputError("treated", "must be one number per row")
    if float(d.min()) == float(d.max()):
        raise ExperimentInputError("treated", "does not vary: nothing to compare")
    g_codes, _ = _codes(cluster, "cluster") if cluster is not None else (u, n_u)
    tilde = demean_two_way(np.column_stack([y, d]), u, t)
    if float(np.abs(tilde[:, 1]).max()) < 1e-10:
        raise ExperimentInputError("treated", "is collinear with the unit and time effects")
    fit = ols(tilde[:, 0], tilde[:, 1:2], g_codes)
    est = _estimate(float(fit.coef[0]), math.sqrt(float(fit.cov[0, 0])), fit.dof, alpha)
    warnings = cluster_warnings(fit.n_clusters, True)
    boot = None
    if bootstrap or (bootstrap is None and fit.n_clusters < FEW_CLUSTERS):
        boot = wild_cluster_bootstrap(
            tilde[:, 0],
            tilde[:, 1:2],
            g_codes,
            0,
            draws=draws,
            seed=seed,
            partial=lambda m: demean_two_way(m, u, t),
        )
        warnings.append(bootstrap_note(boot))
    staggered = _is_staggered(d, u, t, n_u)
    if staggered:
        warnings.append(
            "staggered adoption: units start treatment in different periods, so TWFE compares "
            "late with already-treated units and can be biased when effects vary; use the "
            "Callaway-Sant'Anna estimator"
        )
    if _switches_off(d, u, t):
        warnings.append("some units leave treatment: the design is not a simple roll-out")
    return TwfeResult(
        estimate=est,
        n_obs=y.size,
        n_units=n_u,
        n_periods=n_t,
        n_clusters=fit.n_clusters,
        cluster=cluster_name,
        staggered=staggered,
        assumptions=TWFE_ASSUMPTIONS,
        warnings=tuple(warnings),
        bootstrap=boot,
    )


def _first_treated(
    d: FloatArray, u: NDArray[np.intp], t: NDArray[np.intp], n_u: int
) -> NDArray[np.float64]:
    """Index of each unit's first treated period (inf if never)."""
    first = np.full(n_u, np.inf)
    on = d > 0
    np.minimum.at(first, u[on], t[on].astype(float))
    return first


def _is_staggered(d: FloatArray, u: NDArray[np.intp], t: NDArray[np.intp], n_u: int) -> bool:
    first = _first_treated(d, u, t, n_u)
    return np.unique(first[np.isfinite(first)]).size > 1


def _switches_off(d: FloatArray, u: NDArray[np.intp], t: NDArray[np.intp]) -> bool:
    order = np.lexsort((t, u))
    du, dd = u[order], d[order]
    same = du[1:] == du[:-1]
    return bool(np.any(same & (dd[1:] < dd[:-1])))


# ----------------------------------------------------------------------- event study


@dataclass(frozen=True)
class EventTimeEffect:
    event_time: int
    estimate: Estimate


@dataclass(frozen=True)
class EventStudyResult:
    effects: tuple[EventTimeEffect, ...]  # reference period omitted (its effect is 0)
    reference: int
    pretrend_chi2: float | None
    pretrend_p_value: float | None
    n_obs: int
    n_clusters: int
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]


def event_study(
    outcome: Sequence[float],
    unit: Sequence[object],
    time: Sequence[float],
    first_treated: Sequence[float | None],
    *,
    cluster: Sequence[object] | None = None,
    reference: int = -1,
    alpha: float = 0.05,
) -> EventStudyResult:
    """TWFE event study: one coefficient per period relative to adoption.

    ``time`` must be numeric (periods counted in the same unit as ``first_treated``);
    ``first_treated`` is the adoption period, ``None``/NaN/0 for never-treated units.
    """
    y, u, t_codes, n_u, _ = _panel_arrays(outcome, unit, time)
    tv = np.asarray(time, dtype=float)
    g = np.array(first_treated, dtype=float)  # a copy; None becomes NaN
    if g.shape != y.shape:
        raise ExperimentInputError("first_treated", "must have one value per row")
    g[(g == 0)] = np.nan
    rel = tv - g
    ever = np.isfinite(rel)
    if not ever.any():
        raise ExperimentInputError("first_treated", "no unit is ever treated")
    times = sorted({round(x) for x in rel[ever]} - {reference})
    if reference not in {round(x) for x in rel[ever]}:
        raise ExperimentInputError("reference", f"no treated unit is observed at {reference}")
    warnings: list[str] = []
    if ever.all():
        # no never-treated units: one more lead must go for identification
        dropped = times.pop(0)
        warnings.append(f"no never-treated units: event time {dropped} is also normalised to 0")
    x = np.zeros((y.size, len(times)))
    for j, e in enumerate(times):
        x[:, j] = ever & (np.rint(rel) == e)
    g_codes, _ = _codes(cluster, "cluster") if cluster is not None else (u, n_u)
    tilde = demean_two_way(np.column_stack([y, x]), u, t_codes)
    fit = ols(tilde[:, 0], tilde[:, 1:], g_codes)
    effects = tuple(
        EventTimeEffect(e, _estimate(float(fit.coef[j]), math.sqrt(fit.cov[j, j]), fit.dof, alpha))
        for j, e in enumerate(times)
    )
    pre = [j for j, e in enumerate(times) if e < 0]
    chi2 = p = None
    if pre:
        b = fit.coef[pre]
        v = fit.cov[np.ix_(pre, pre)]
        chi2 = float(b @ np.linalg.solve(v, b))
        p = float(stats.chi2.sf(chi2, len(pre)))
        if p < PRETREND_ALPHA:
            warnings.append(
                f"pre-trends: leads are jointly non-zero (Wald p = {p:.3g}); parallel trends "
                "is doubtful"
            )
    warnings.extend(cluster_warnings(fit.n_clusters, True))
    return EventStudyResult(
        effects=effects,
        reference=reference,
        pretrend_chi2=chi2,
        pretrend_p_value=p,
        n_obs=y.size,
        n_clusters=fit.n_clusters,
        assumptions=(
            *TWFE_ASSUMPTIONS[:2],
            "effects may vary with time since adoption",
            TWFE_ASSUMPTIONS[3],
        ),
        warnings=tuple(warnings),
    )


# ------------------------------------------------------------ Callaway & Sant'Anna


@dataclass(frozen=True)
class GroupTimeEffect:
    group: float
    time: float
    base: float
    n_treated: int
    n_control: int
    estimate: Estimate


@dataclass(frozen=True)
class AggregateEffect:
    """An aggregated effect: overall, and per event time / group / period."""

    kind: Aggregation
    overall: Estimate
    by: tuple[tuple[float, Estimate], ...]  # (event time, group or period, estimate)


@dataclass(frozen=True)
class CallawaySantAnnaResult:
    effects: tuple[GroupTimeEffect, ...]
    control_group: ControlGroup
    base_period: BasePeriod
    n_units: int
    pretrend_chi2: float | None
    pretrend_p_value: float | None
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]
    # kept for aggregation: unit-level influence functions (n_units x cells) and unit cohorts
    influence: FloatArray
    unit_group: FloatArray

    def aggregate(self, kind: Aggregation = "group", *, alpha: float = 0.05) -> AggregateEffect:
        """The R ``did`` package's ``aggte`` aggregations with analytical standard errors."""
        return _aggregate(self, kind, alpha)


def callaway_santanna(
    outcome: Sequence[float],
    unit: Sequence[object],
    time: Sequence[float],
    first_treated: Sequence[float | None],
    *,
    control_group: ControlGroup = "never",
    base_period: BasePeriod = "varying",
    alpha: float = 0.05,
) -> CallawaySantAnnaResult:
    """Group-time average treatment effects on a balanced panel (no covariates).

    ``first_treated`` is the period a unit is first treated (constant within a unit); 0,
    ``None`` or NaN mark never-treated units. Units treated in the first period carry no
    information and are dropped, with a warning.
    """
    y, u, _t_codes, n_u, n_t = _panel_arrays(outcome, unit, time)
    tv = np.asarray(time, dtype=float)
    g = np.array(first_treated, dtype=float)  # a copy; None becomes NaN
    if g.shape != y.shape:
        raise ExperimentInputError("first_treated", "must have one value per row")
    g[g == 0] = np.nan
    if y.size != n_u * n_t:
        raise ExperimentInputError(
            "data", f"the panel is not balanced ({y.size} rows for {n_u} units x {n_t} periods)"
        )
    periods = _sorted_unique(tv)
    wide = np.full((n_u, n_t), np.nan)
    t_index = np.searchsorted(periods, tv)
    wide[u, t_index] = y
    unit_g = np.full(n_u, np.nan)
    unit_g[u] = g
    check = np.where(np.isnan(g), -1.0, g)
    per_unit = np.full(n_u, np.nan)
    per_unit[u] = check
    if np.any(np.where(np.isnan(g), -1.0, g) != per_unit[u]):
        raise ExperimentInputError("first_treated", "varies within a unit")
    warnings: list[str] = []
    always = unit_g <= periods[0]
    if always.any():
        warnings.append(
            f"{int(always.sum())} units treated in the first period carry no information and "
            "were dropped"
        )
        keep = ~always
        wide, unit_g = wide[keep], unit_g[keep]
    n = wide.shape[0]
    never = np.isnan(unit_g)
    if control_group == "never" and not never.any():
        raise ExperimentInputError(
            "first_treated", "no never-treated units: use the not-yet-treated control group"
        )
    cohorts = _sorted_unique(unit_g[~never])
    if cohorts.size == 0:
        raise ExperimentInputError("first_treated", "no unit is ever treated")
    effects: list[GroupTimeEffect] = []
    columns: list[FloatArray] = []
    for coh in cohorts:
        treated = unit_g == coh
        before = np.nonzero(periods < coh)[0]
        if before.size == 0:
            continue
        pre_index = int(before[-1])
        for ti in range(1 if base_period == "varying" else 0, n_t):
            base = ti - 1 if base_period == "varying" and ti <= pre_index else pre_index
            if ti == base:
                continue
            if control_group == "never":
                ctrl = never
            else:
                horizon = periods[max(ti, base)]
                ctrl = (never | (unit_g > horizon)) & ~treated
            n1, n0 = int(treated.sum()), int(ctrl.sum())
            if n0 == 0:
                continue
            dy = wide[:, ti] - wide[:, base]
            m1, m0 = float(dy[treated].mean()), float(dy[ctrl].mean())
            inf = np.zeros(n)
            inf[treated] = n / n1 * (dy[treated] - m1)
            inf[ctrl] = -n / n0 * (dy[ctrl] - m0)
            se = math.sqrt(float(inf @ inf)) / n
            effects.append(
                GroupTimeEffect(
                    float(coh),
                    float(periods[ti]),
                    float(periods[base]),
                    n1,
                    n0,
                    _estimate(m1 - m0, se, None, alpha),
                )
            )
            columns.append(inf)
    influence = np.column_stack(columns) if columns else np.zeros((n, 0))
    small = [int(c) for c in cohorts if int((unit_g == c).sum()) < SMALL_COHORT]
    if small:
        warnings.append(
            f"cohorts {small} have fewer than {SMALL_COHORT} units: their ATT(g,t) are noisy; "
            "read the aggregated effects"
        )
    pre = [i for i, e in enumerate(effects) if e.time < e.group]
    chi2 = p = None
    if pre:
        att = np.array([effects[i].estimate.estimate for i in pre])
        v = influence[:, pre].T @ influence[:, pre] / n
        ok = np.diag(v) > 0
        if ok.any():
            att, v = att[ok], v[np.ix_(ok, ok)]
            chi2 = float(n * att @ np.linalg.pinv(v) @ att)
            p = float(stats.chi2.sf(chi2, int(ok.sum())))
            if p < PRETREND_ALPHA:
                warnings.append(
                    f"pre-trends: pre-treatment ATT(g,t) are jointly non-zero (Wald p = "
                    f"{p:.3g}); parallel trends is doubtful"
                )
    return CallawaySantAnnaResult(
        effects=tuple(effects),
        control_group=control_group,
        base_period=base_period,
        n_units=n,
        pretrend_chi2=chi2,
        pretrend_p_value=p,
        assumptions=(
            "parallel trends (unconditional) between each cohort and the "
            + ("never-treated" if control_group == "never" else "not-yet-treated")
            + " units",
            "no anticipation; staggered adoption (once treated, always treated)",
            "balanced panel; analytical (influence-function) standard errors clustered by unit",
        ),
        warnings=tuple(warnings),
        influence=influence,
        unit_group=unit_g,
    )


def _weight_influence(
    res: CallawaySantAnnaResult, cells: Sequence[int], pg: FloatArray
) -> FloatArray:
    """Influence of estimating the cohort-share weights (R did ``wif``)."""
    groups = np.array([res.effects[c].group for c in cells])
    member = (res.unit_group[:, None] == groups[None, :]).astype(float)
    centred = member - pg[None, :]
    total = float(pg.sum())
    out: FloatArray = (
        centred / total - centred.sum(axis=1, keepdims=True) * (pg / total**2)[None, :]
    )
    return out


def _combine(
    res: CallawaySantAnnaResult, cells: Sequence[int], weights: FloatArray, with_wif: bool
) -> tuple[float, FloatArray]:
    att = np.array([res.effects[c].estimate.estimate for c in cells])
    inf = res.influence[:, list(cells)] @ (weights / weights.sum())
    if with_wif:
        inf = inf + _weight_influence(res, cells, weights) @ att
    return float(att @ (weights / weights.sum())), inf


def _se(inf: FloatArray) -> float:
    n = inf.size
    return math.sqrt(float(np.mean(inf**2)) / n)


def _aggregate(res: CallawaySantAnnaResult, kind: Aggregation, alpha: float) -> AggregateEffect:
    eff = res.effects
    if not eff:
        raise ExperimentInputError("data", "no group-time effects to aggregate")
    n = res.n_units
    share = {e.group: float(np.sum(res.unit_group == e.group)) / n for e in eff}
    pg = np.array([share[e.group] for e in eff])
    post = [i for i, e in enumerate(eff) if e.time >= e.group]

    def est(value: float, inf: FloatArray) -> Estimate:
        return _estimate(value, _se(inf), None, alpha)

    by: list[tuple[float, Estimate]] = []
    if kind == "simple":
        value, inf = _combine(res, post, pg[post], True)
        return AggregateEffect(kind, est(value, inf), ())
    if kind == "dynamic":
        rel = np.array([e.time - e.group for e in eff])
        parts: list[tuple[float, float, FloatArray]] = []
        for r in np.unique(rel):
            cells = [i for i in range(len(eff)) if rel[i] == r]
            value, inf = _combine(res, cells, pg[cells], True)
            parts.append((float(r), value, inf))
            by.append((float(r), est(value, inf)))
        pos = [(v, f) for r, v, f in parts if r >= 0]
        overall = float(np.mean([v for v, _ in pos]))
        inf_all = np.mean(np.column_stack([f for _, f in pos]), axis=1)
        return AggregateEffect(kind, est(overall, inf_all), tuple(by))
    if kind == "group":
        groups = sorted({e.group for e in eff})
        values, infs, cells_first = [], [], []
        for grp in groups:
            cells = [i for i in post if eff[i].group == grp]
            if not cells:
                continue
            value, inf = _combine(res, cells, np.ones(len(cells)), False)
            values.append(value)
            infs.append(inf)
            cells_first.append(cells[0])
            by.append((grp, est(value, inf)))
        w = pg[cells_first]
        att = np.array(values)
        inf_all = (
            np.column_stack(infs) @ (w / w.sum()) + _weight_influence(res, cells_first, w) @ att
        )
        return AggregateEffect(kind, est(float(att @ (w / w.sum())), inf_all), tuple(by))
    # calendar
    first = min(e.group for e in eff)
    values, infs = [], []
    for period in sorted({e.time for e in eff if e.time >= first}):
        cells = [i for i in post if eff[i].time == period]
        if not cells:
            continue
        value, inf = _combine(res, cells, pg[cells], True)
        values.append(value)
        infs.append(inf)
        by.append((period, est(value, inf)))
    inf_all = np.mean(np.column_stack(infs), axis=1)
    return AggregateEffect(kind, est(float(np.mean(values)), inf_all), tuple(by))
