"""Headline findings: plain sentences a board can act on, most important first.

Ranking: each finding has a *tier* (what kind of failure it is, in the order below) and
within a tier a *weight* (the budget share or count at stake, larger first). Tiers:

1. an objective no activity serves;
2. a thinly covered objective (with its stage gap, if any, in the same sentence);
3. low directionality (below ``low_direction``, default 50 %), naming the least-directed call;
4. an objective with a gap in the innovation cycle ("research but no deployment");
5. activities that serve no objective;
6. regions left behind, and strong concentration in the top regions (needs populations);
7. an isolated collaboration network (most activities share no partner);
8. one instrument carrying almost the whole budget (HHI >= 0.8 over instruments);
9. drift: the directed share falling by 10 points or more from the first to the last year.
"""

from __future__ import annotations

from dataclasses import dataclass

from missionkit.portfolio.balance import StageBalance, stage_balance
from missionkit.portfolio.coherence import Coherence, coherence
from missionkit.portfolio.coverage import Coverage, CoverageThresholds, coverage
from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.directionality import Directionality, ProvenanceWeights, directionality
from missionkit.portfolio.diversity import Diversity, diversity
from missionkit.portfolio.drift import Drift, drift
from missionkit.portfolio.spatial import SpatialEquity
from missionkit.portfolio.types import Result

__all__ = ["Analyses", "Finding", "findings", "headline_findings"]


@dataclass(frozen=True, slots=True)
class Finding(Result):
    """One sentence, its kind, tier (1 = most important) and weight within the tier."""

    kind: str
    tier: int
    weight: float
    text: str
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Analyses:
    """Results already at hand, so findings never compute an analysis a second time.

    Each one left as None is computed when a finding needs it: ``instruments`` is
    ``diversity(p, "instrument")``, ``drift`` is ``drift(p, "year", weights)``; ``coherence``
    is only computed when the portfolio has participations.
    """

    coverage: Coverage | None = None
    directionality: Directionality | None = None
    stage_balance: StageBalance | None = None
    coherence: Coherence | None = None
    instruments: Diversity | None = None
    drift: Drift | None = None


def percent(x: float) -> str:
    """``0.023 -> "2%"``, ``0.004 -> "0.4%"``, ``0 -> "0%"``."""
    p = 100 * x
    if p == 0 or p >= 9.5:
        return f"{p:.0f}%"
    if p >= 1:
        return f"{p:.0f}%" if abs(p - round(p)) < 0.05 else f"{p:.1f}%"
    return f"{p:.1f}%" if p >= 0.05 else "<0.1%"


def money(amount: float, currency: str) -> str:
    """``12_345_678 -> "EUR 12.3M"``."""
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= size:
            return f"{currency} {amount / size:.1f}{suffix}"
    return f"{currency} {amount:.0f}"


def _names(items: list[str], limit: int = 3) -> str:
    shown = items[:limit]
    more = len(items) - len(shown)
    text = ", ".join(shown)
    return f"{text} and {more} more" if more > 0 else text


def _stage_findings(stages: StageBalance, cov: Coverage, thin: set[str | None]) -> list[Finding]:
    """Tier 4: the portfolio without deployment, then objectives with a gap (three or more
    objectives without deployment are named in one sentence)."""
    out: list[Finding] = []
    whole = stages.portfolio
    if whole.no_deployment and whole.budget > 0:
        top = sorted((s for s in whole.stages if s.budget > 0), key=lambda s: -s.budget)[:2]
        where = " and ".join(f"{percent(s.share)} in {s.stage}" for s in top)
        out.append(
            Finding("stage_gap", 4, 1.0, f"No activity of the portfolio is in deployment: {where}.")
        )
    total = cov.total_budget
    gaps = [o for o in stages.objectives if o.gap and o.objective not in thin]
    grouped = [o for o in gaps if o.no_deployment]
    if len(grouped) >= 3:
        n_all = sum(1 for o in stages.objectives if o.activities > 0)
        names = [f"'{o.title}'" for o in sorted(grouped, key=lambda o: -o.budget)]
        weight = sum(o.budget for o in grouped) / total if total > 0 else 0.0
        out.append(
            Finding(
                "stage_gap", 4, weight,
                f"{len(grouped)} of {n_all} objectives with activities have none in deployment: "
                f"{_names(names)}.",
            )
        )  # fmt: skip
        gaps = [o for o in gaps if not o.no_deployment]
    for o in gaps:
        share_of = o.budget / total if total > 0 else 0.0
        out.append(
            Finding(
                "stage_gap", 4, share_of,
                f"Objective '{o.title}' has {o.gap} activity ({percent(share_of)} of the budget).",
                o.objective,
            )
        )  # fmt: skip
    return out


def findings(
    portfolio: Portfolio,
    *,
    weights: ProvenanceWeights | None = None,
    thresholds: CoverageThresholds | None = None,
    spatial: SpatialEquity | None = None,
    low_direction: float = 0.5,
    analyses: Analyses | None = None,
) -> tuple[Finding, ...]:
    """Every finding, ranked (see the module doc). Pass ``spatial`` to include regions and
    ``analyses`` to reuse results already computed (with the same weights and thresholds)."""
    done = analyses or Analyses()
    cov = done.coverage or coverage(portfolio, thresholds=thresholds)
    direc = done.directionality or directionality(portfolio, weights)
    stages = done.stage_balance or stage_balance(portfolio)
    coh = done.coherence
    if coh is None and portfolio.participations.height > 0:
        coh = coherence(portfolio)
    out: list[Finding] = []
    gap_of = {o.objective: o for o in stages.objectives}
    for o in cov.objectives:
        name = f"Objective '{o.title}'"
        if o.status == "none":
            out.append(
                Finding("uncovered_objective", 1, 1.0, f"{name} has no activity.", o.objective)
            )
        elif o.status == "thin":
            gap = gap_of[o.objective].gap if o.objective in gap_of else None
            text = (
                f"{name} receives {percent(o.total_share)} of the budget "
                f"({o.total_activities} activit{'y' if o.total_activities == 1 else 'ies'})"
            )
            text += f" and has {gap} activity." if gap else "."
            out.append(Finding("thin_objective", 2, 1.0 - o.total_share, text, o.objective))
    if direc.total_budget > 0 and direc.share < low_direction:
        text = f"Only {percent(direc.share)} of the budget is directed to the mission's objectives"
        if direc.least_directed:
            worst = direc.least_directed[0]
            text += f"; call {worst.key} is the least directed ({percent(worst.share)})"
        out.append(Finding("low_directionality", 3, 1.0 - direc.share, text + "."))
    out += _stage_findings(stages, cov, {f.subject for f in out if f.kind == "thin_objective"})
    if cov.unmapped_activities:
        n = len(cov.unmapped_activities)
        s = cov.unmapped_budget / cov.total_budget if cov.total_budget > 0 else 0.0
        amount = money(cov.unmapped_budget, portfolio.currency)
        verb = "contributes" if n == 1 else "contribute"
        out.append(
            Finding(
                "unmapped_activities", 5, s,
                f"{n} activit{'y' if n == 1 else 'ies'} ({amount}, "
                f"{percent(s)} of the budget) {verb} to no objective.",
            )
        )  # fmt: skip
    if spatial is not None and spatial.regions:
        behind = list(spatial.left_behind)
        if behind:
            n, total = len(behind), len(spatial.regions)
            out.append(
                Finding(
                    "left_behind", 6, n / total,
                    f"{n} of {total} regions get less than {percent(spatial.left_behind_fraction)} "
                    f"of their population share of the funding: {_names(behind)}.",
                )
            )  # fmt: skip
        if spatial.top_share >= 0.5 and len(spatial.regions) >= 5:
            out.append(
                Finding(
                    "concentration", 6, spatial.top_share,
                    f"The top {percent(spatial.top_fraction)} of regions "
                    f"({_names(list(spatial.top_regions))}) receive "
                    f"{percent(spatial.top_share)} of the regional funding.",
                )
            )  # fmt: skip
    if coh is not None and coh.activity_network.nodes > 1:
        n_iso = len(coh.isolated_activities)
        iso_share = n_iso / coh.activity_network.nodes
        if iso_share >= 0.5:
            out.append(
                Finding(
                    "fragmented_network", 7, iso_share,
                    f"{n_iso} of {coh.activity_network.nodes} activities share no partner "
                    f"with any other activity; the largest connected group holds "
                    f"{coh.activity_network.largest_component} activities.",
                )
            )  # fmt: skip
    mix: Diversity = done.instruments or diversity(portfolio, "instrument")
    if mix.portfolio.hhi is not None and mix.portfolio.hhi >= 0.8 and cov.total_budget > 0:
        top, top_share = max(mix.portfolio.shares.items(), key=lambda kv: kv[1])
        out.append(
            Finding(
                "instrument_concentration", 8, mix.portfolio.hhi,
                f"{percent(top_share)} of the budget goes through one instrument ({top}).",
            )
        )  # fmt: skip
    trend: Drift = done.drift or drift(portfolio, "year", weights, direction=direc)
    if trend.directed_share_change is not None and trend.directed_share_change <= -0.10:
        first = next(p for p in trend.periods if p.budget > 0)
        last = [p for p in trend.periods if p.budget > 0 and p.period != "(none)"][-1]
        out.append(
            Finding(
                "drift", 9, -trend.directed_share_change,
                f"The directed share fell from {percent(first.directed_share)} in {first.period} "
                f"to {percent(last.directed_share)} in {last.period}.",
            )
        )  # fmt: skip
    out.sort(key=lambda f: (f.tier, -f.weight, f.text))
    return tuple(out)


def headline_findings(
    portfolio: Portfolio,
    *,
    limit: int | None = 10,
    weights: ProvenanceWeights | None = None,
    thresholds: CoverageThresholds | None = None,
    spatial: SpatialEquity | None = None,
    analyses: Analyses | None = None,
) -> list[str]:
    """The ranked sentences of :func:`findings`, at most ``limit`` (None: all); ``analyses``
    reuses results already computed."""
    ranked = findings(
        portfolio, weights=weights, thresholds=thresholds, spatial=spatial, analyses=analyses
    )
    texts = [f.text for f in ranked]
    return texts if limit is None else texts[:limit]
