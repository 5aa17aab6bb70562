"""One entry point for the analyses of panel data (units observed over periods).

The registry, the pages and the command line all turn a panel into the same answer for a
design: difference-in-differences gets two-way fixed effects and, when periods are
numbers, the event study with its pre-trend test; a staggered roll-out adds
Callaway–Sant'Anna with its four aggregations; a before/after pilot gets the paired change
between each unit's first and last period. The result is plain JSON-ready data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from missionkit.experiments import before_after, did
from missionkit.experiments.types import ExperimentInputError, to_plain

PanelDesign = Literal["did", "staggered", "before_after"]
PANEL_DESIGNS: tuple[PanelDesign, ...] = ("did", "staggered", "before_after")


@dataclass(frozen=True)
class Panel:
    """Columns of equal length, one row per unit and period."""

    outcome: Sequence[float]
    unit: Sequence[str]
    time: Sequence[str]
    treated: Sequence[float] | None = None
    cluster: Sequence[str] | None = None


def first_treated(
    units: Sequence[str], periods: Sequence[float], d: Sequence[float]
) -> list[float]:
    """Each row's unit adoption period (first period with treatment > 0; 0 if never)."""
    first: dict[str, float] = {}
    for u, p, x in zip(units, periods, d, strict=True):
        if x > 0 and (u not in first or p < first[u]):
            first[u] = p
    return [first.get(u, 0.0) for u in units]


def callaway_santanna_plain(cs: did.CallawaySantAnnaResult, alpha: float) -> dict[str, Any]:
    """Group-time effects and all aggregations (the influence functions stay out)."""
    return {
        "effects": to_plain(cs.effects),
        "aggregations": {
            kind: to_plain(cs.aggregate(kind, alpha=alpha))
            for kind in ("simple", "group", "dynamic", "calendar")
        },
        "control_group": cs.control_group,
        "n_units": cs.n_units,
        "pretrend_p_value": cs.pretrend_p_value,
        "assumptions": list(cs.assumptions),
        "warnings": list(cs.warnings),
    }


def numeric_periods(time: Sequence[str]) -> list[float] | None:
    """The periods as numbers, or ``None`` when any is not (years and quarters numbered 1…)."""
    out = []
    for value in time:
        try:
            x = float(value)
        except ValueError:
            return None
        if not math.isfinite(x):
            return None
        out.append(x)
    return out


def _check(panel: Panel) -> None:
    n = len(panel.outcome)
    columns = {"unit": panel.unit, "time": panel.time, "treated": panel.treated}
    columns["cluster"] = panel.cluster
    for name, column in columns.items():
        if column is not None and len(column) != n:
            raise ExperimentInputError(name, f"has {len(column)} values for {n} rows")
    if n < 4:
        raise ExperimentInputError("rows", "a panel needs at least 4 rows")
    if not all(math.isfinite(y) for y in panel.outcome):
        raise ExperimentInputError("outcome", "values must be finite numbers")
    seen: set[tuple[str, str]] = set()
    for i, key in enumerate(zip(panel.unit, panel.time, strict=True)):
        if key in seen:
            raise ExperimentInputError(
                f"rows[{i}]", f"unit {key[0]!r} appears twice in period {key[1]!r}"
            )
        seen.add(key)


def _before_after(panel: Panel, alpha: float) -> dict[str, Any]:
    periods = numeric_periods(panel.time)
    if periods is None:
        raise ExperimentInputError("time", "before/after needs numeric periods to order them")
    by_unit: dict[str, dict[float, float]] = {}
    for u, p, y in zip(panel.unit, periods, panel.outcome, strict=True):
        by_unit.setdefault(u, {})[p] = y
    distinct = sorted(set(periods))
    if len(distinct) != 2:
        raise ExperimentInputError(
            "time", f"before/after needs exactly two periods, found {len(distinct)}"
        )
    first, last = distinct
    incomplete = sorted(u for u, ys in by_unit.items() if len(ys) != 2)
    if incomplete:
        raise ExperimentInputError(
            "unit", f"{len(incomplete)} units lack one of the two periods (e.g. {incomplete[0]!r})"
        )
    units = sorted(by_unit)
    result = before_after.analyse(
        [by_unit[u][first] for u in units], [by_unit[u][last] for u in units], alpha=alpha
    )
    return {"before_after": to_plain(result), "periods": [first, last]}


def analyse_panel(
    design: PanelDesign,
    panel: Panel,
    *,
    alpha: float = 0.05,
    control_group: did.ControlGroup = "never",
) -> dict[str, Any]:
    """The design's analyses of ``panel``, as plain data with every warning kept."""
    if design not in PANEL_DESIGNS:
        raise ExperimentInputError("design", f"{design!r} is not analysed from a panel")
    _check(panel)
    if design == "before_after":
        return {"design": design, **_before_after(panel, alpha)}
    if panel.treated is None:
        raise ExperimentInputError("treated", "difference-in-differences needs a treated column")
    result: dict[str, Any] = {"design": design}
    twfe = did.twfe(
        panel.outcome,
        panel.treated,
        panel.unit,
        panel.time,
        cluster=panel.cluster,
        cluster_name="cluster" if panel.cluster is not None else "unit",
        alpha=alpha,
    )
    result["twfe"] = to_plain(twfe)
    periods = numeric_periods(panel.time)
    if periods is None:
        if design == "staggered":
            raise ExperimentInputError("time", "a staggered roll-out needs numeric periods")
        result["notes"] = ["periods are not numbers: no event study (number them 1, 2, …)"]
        return result
    first = first_treated(panel.unit, periods, panel.treated)
    try:
        study = did.event_study(
            panel.outcome, panel.unit, periods, first, cluster=panel.cluster, alpha=alpha
        )
        result["event_study"] = to_plain(study)
    except ExperimentInputError as e:
        if design == "staggered":
            raise
        result["notes"] = [f"no event study: {e.field} {e.message}"]
    if design == "staggered":
        cs = did.callaway_santanna(
            panel.outcome, panel.unit, periods, first, control_group=control_group, alpha=alpha
        )
        result["callaway_santanna"] = callaway_santanna_plain(cs, alpha)
    return result
