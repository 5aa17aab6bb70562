"""The experiment pages' forms and pictures: form text to the registry's payloads, its
problems back to the fields that caused them, and the interval plot of an analysis.

The register and edit forms are flat (one control per plan setting; arms and secondary
metrics one per line) and become exactly the JSON the API takes, so the same pydantic
shapes (``ExperimentCreate``, ``ExperimentUpdate``) accept and refuse them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, get_args

from missionkit.domain.experiments import Decision, Design, Stage
from missionkit.domain.problems import Problem
from missionkit.domain.vocab import Instrument
from missionkit.experiments.plan import Randomisation
from missionkit.services.charts_svg import nice_ticks
from missionkit.web import charts
from missionkit.web.forms import Field, field_errors

STAGE_LABELS = {
    "mission_definition": "defining the mission",
    "convening": "convening",
    "instrument_choice": "choice of instrument",
    "process": "optimising a process",
}
DESIGN_LABELS = {
    "ab": "randomised A/B",
    "multi_arm": "multi-arm",
    "cluster": "cluster-randomised",
    "did": "difference-in-differences",
    "staggered": "staggered roll-out",
    "before_after": "before/after",
}


def _labelled(values: Sequence[str], labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((v, labels.get(v, v.replace("_", " "))) for v in values)


KINDS = (("proportion", "proportion (a rate: 0/1 per unit)"), ("mean", "mean (a number per unit)"))
DIRECTIONS = (("increase", "higher is better"), ("decrease", "lower is better"))

REGISTRY_FIELDS: tuple[Field, ...] = (
    Field("title", "Title", required=True),
    Field("slug", "Short name (slug)", required=True,
          help="Lower-case letters, digits and hyphens; unique in the mission."),
    Field("question", "Question", "textarea", required=True,
          help="What the pilot should find out, in one sentence."),
    Field("hypothesis", "Hypothesis", "textarea",
          help="What you expect, and by how much, before seeing any data."),
    Field("stage", "Mission stage tested", "select", required=True,
          options=_labelled(get_args(Stage), STAGE_LABELS)),
    Field("design", "Design", "select", required=True,
          options=_labelled(get_args(Design), DESIGN_LABELS)),
    Field("unit", "Unit", required=True,
          help="What is assigned to an arm: a proposal, an applicant, a region, a school."),
    Field("objective", "Objective", "select", help="The mission objective this pilot serves."),
    Field("instrument", "Instrument", "select",
          options=(("", "— none —"), *_labelled(get_args(Instrument), {}))),
    Field("call", "Call or programme", help="The call the pilot runs in, if any."),
)  # fmt: skip

PLAN_FIELDS: tuple[Field, ...] = (
    Field("arms", "Arms", "textarea", required=True,
          help="One arm per line: name, then optionally a weight and a description, "
               "separated by commas (e.g. “new-criteria, 1, impact scored first”)."),
    Field("control", "Control arm", help="Empty: the first arm."),
    Field("primary_metric", "Primary metric", required=True,
          help="The one outcome the decision rests on."),
    Field("primary_kind", "Primary metric kind", "select", required=True, options=KINDS),
    Field("primary_direction", "Primary metric direction", "select", options=DIRECTIONS),
    Field("secondary_metrics", "Secondary metrics", "textarea",
          help="One per line: name, kind (mean or proportion), optionally direction "
               "(increase or decrease)."),
    Field("minimum_detectable_effect", "Minimum detectable effect", "number",
          help="The smallest absolute change worth detecting: outcome units for a mean, "
               "a change in the rate for a proportion (0.05 = 5 points)."),
    Field("planned_sample", "Planned sample (all arms)", "number", step="1"),
    Field("alpha", "Significance level (alpha)", "number", help="Empty: 0.05."),
    Field("power", "Power", "number", help="Empty: 0.8."),
    Field("randomisation", "Randomisation", "select",
          options=_labelled(get_args(Randomisation), {
              "simple": "simple", "stratified": "stratified (units give a stratum)",
              "clustered": "clustered (whole clusters are assigned)"})),
    Field("analysis", "Pre-registered analysis", "textarea",
          help="The test, the alpha and what will count as success."),
)  # fmt: skip

EDIT_REGISTRY = tuple(f for f in REGISTRY_FIELDS if f.name not in ("slug", "objective"))
EDIT_FIELDS = EDIT_REGISTRY + PLAN_FIELDS
CREATE_FIELDS = REGISTRY_FIELDS + PLAN_FIELDS

LOCK_FIELDS: tuple[Field, ...] = (
    Field("locked_by", "Locked by", required=True, help="Who pre-registers this plan."),
    Field("note", "Note", help="What changed, if this is a new version."),
)
DECISION_FIELDS: tuple[Field, ...] = (
    Field("decision", "Decision", "select", required=True,
          options=(("scale", "scale: roll it out"), ("iterate", "iterate: change and test again"),
                   ("stop", "stop: do not pursue"))),
    Field("decided_by", "Decided by", required=True, help="The person or board."),
    Field("decided_on", "Decided on", "date", required=True),
    Field("learning", "Learning", "textarea", required=True,
          help="What the mission learnt, in words a newcomer understands."),
)  # fmt: skip
assert {v for v, _ in DECISION_FIELDS[0].options} == set(get_args(Decision))

_PLAN_SCALARS = ("control", "minimum_detectable_effect", "planned_sample", "alpha", "power",
                 "randomisation", "analysis")  # fmt: skip


def _lines(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.split(",")] for line in text.splitlines() if line.strip()]


def plan_payload(form: Mapping[str, str]) -> dict[str, Any]:
    """The plan part of the form as the API's plan document (the shapes check it)."""
    arms = []
    for cells in _lines(form.get("arms", "")):
        arm: dict[str, Any] = {"name": cells[0]}
        if len(cells) > 1 and cells[1]:
            arm["weight"] = cells[1]
        if len(cells) > 2:
            arm["description"] = ", ".join(cells[2:])
        arms.append(arm)
    secondary = []
    for cells in _lines(form.get("secondary_metrics", "")):
        metric = dict(zip(("name", "kind", "direction"), cells, strict=False))
        if len(cells) > 3:
            metric["extra"] = ", ".join(cells[3:])  # refused by the shape, at its line
        secondary.append({k: v for k, v in metric.items() if v or k == "name"})
    primary = {
        "name": form.get("primary_metric", "").strip(),
        "kind": form.get("primary_kind", "").strip(),
    }
    if form.get("primary_direction", "").strip():
        primary["direction"] = form["primary_direction"].strip()
    plan: dict[str, Any] = {"arms": arms, "primary_metric": primary, "secondary_metrics": secondary}
    for name in _PLAN_SCALARS:
        text = form.get(name, "").strip()
        if text:
            plan[name] = text
    return plan


def registry_payload(form: Mapping[str, str], *, creating: bool) -> dict[str, Any]:
    """The whole form as ``ExperimentCreate`` (or, editing, ``ExperimentUpdate``) input."""
    names = [f.name for f in (REGISTRY_FIELDS if creating else EDIT_REGISTRY)]
    payload: dict[str, Any] = {}
    for name in names:
        text = form.get(name, "").strip()
        if text:
            payload[name] = text
        elif name in ("objective", "instrument", "call"):
            payload[name] = None
        elif name == "hypothesis":
            payload[name] = ""
        elif not creating:
            payload[name] = None  # the shape says it may not be empty
    payload["plan"] = plan_payload(form)
    return payload


_INDEXED = re.compile(r"^plan\.(arms|secondary_metrics)\[(\d+)\]\.?(.*)$")
_PRIMARY = {"name": "primary_metric", "kind": "primary_kind", "direction": "primary_direction"}


def _field_of(p: Problem) -> Problem:
    """A shape's problem path as the form field that caused it (``plan.arms[1].weight`` →
    ``arms``, naming the line)."""
    if m := _INDEXED.match(p.path):
        what = f" ({m[3]})" if m[3] else ""
        return Problem(m[1], f"line {int(m[2]) + 1}{what}: {p.message}")
    if p.path.startswith("plan.primary_metric"):
        rest = p.path.removeprefix("plan.primary_metric").lstrip(".")
        return Problem(_PRIMARY.get(rest, "primary_metric"), p.message)
    if p.path.startswith("plan."):
        return Problem(p.path.removeprefix("plan."), p.message)
    if p.path == "plan":
        return Problem("control" if "control" in p.message else "arms", p.message)
    return p


def form_errors(
    problems: Sequence[Problem], fields: Sequence[Field], form: Mapping[str, str]
) -> dict[str, list[str]]:
    return field_errors([_field_of(p) for p in problems], fields, form)


def _number_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def form_values(experiment: Mapping[str, Any]) -> dict[str, str]:
    """A stored experiment as the text its edit form shows."""
    plan = experiment["plan"]
    values = {
        f.name: "" if experiment.get(f.name) is None else str(experiment[f.name])
        for f in REGISTRY_FIELDS
    }
    values["arms"] = "\n".join(
        ", ".join(
            [a["name"], _number_text(a.get("weight", 1.0))]
            + ([a["description"]] if a.get("description") else [])
        )
        for a in plan["arms"]
    )
    primary = plan["primary_metric"]
    values.update(
        primary_metric=primary["name"],
        primary_kind=primary["kind"],
        primary_direction=primary.get("direction", "increase"),
        secondary_metrics="\n".join(
            f"{m['name']}, {m['kind']}, {m.get('direction', 'increase')}"
            for m in plan.get("secondary_metrics", [])
        ),
    )
    for name in _PLAN_SCALARS:
        values[name] = _number_text(plan.get(name))
    return values


def interval_svg(
    rows: Sequence[tuple[str, float, float, float]], unit: str, chart_id: str, title: str
) -> str:
    """Each treatment arm's effect with its confidence interval, against zero (no effect).

    ``rows`` are (arm, estimate, low, high) in the metric's units; an interval that does
    not cross the zero line is a significant difference at the plan's alpha.
    """
    finite = [r for r in rows if all(v == v for v in r[1:])]
    values = [v for r in finite for v in r[1:]] + [0.0]
    ticks = nice_ticks(min(values), max(values), 5)
    lo, hi = ticks[0], ticks[-1]
    label_w, plot_w, value_w, row_h, top = 150, 340, 190, 34, 8
    width = label_w + plot_w + value_w
    height = top + row_h * max(len(finite), 1) + 30

    def x(v: float) -> float:
        return label_w + (v - lo) / ((hi - lo) or 1.0) * plot_w

    described = "; ".join(
        f"{arm}: {charts.format_number(est)}{unit} (from {charts.format_number(a)} "
        f"to {charts.format_number(b)})"
        for arm, est, a, b in finite
    )
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}: {escape(described)}</title>'
    ]
    bottom = height - 26
    for tick in ticks:
        out.append(
            f'<line class="grid" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{bottom}"/>'
            f'<text x="{x(tick):.1f}" y="{bottom + 18}" text-anchor="middle">'
            f"{escape(charts.format_number(tick))}</text>"
        )
    out.append(
        f'<line class="axis" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{bottom}" '
        'stroke-width="1.5"/>'
    )
    for i, (arm, est, a, b) in enumerate(finite):
        y = top + row_h * i + row_h / 2
        crosses = a <= 0 <= b
        colour = "#57606a" if crosses else ("#116329" if est > 0 else "#a40e26")
        out.append(
            f'<text x="{label_w - 8}" y="{y + 5:.1f}" text-anchor="end">{escape(arm)}</text>'
            f'<line x1="{x(a):.1f}" x2="{x(b):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="3"/>'
            f'<line x1="{x(a):.1f}" x2="{x(a):.1f}" y1="{y - 7:.1f}" y2="{y + 7:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{x(b):.1f}" x2="{x(b):.1f}" y1="{y - 7:.1f}" y2="{y + 7:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{x(est):.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
            f'<text x="{label_w + plot_w + 10}" y="{y + 5:.1f}">'
            f"{escape(charts.format_number(est))}{escape(unit)} "
            f"[{escape(charts.format_number(a))}, {escape(charts.format_number(b))}]</text>"
        )
    out.append("</svg>")
    return "".join(out)


def p_text(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _scaled(est: Mapping[str, Any] | None, scale: float) -> dict[str, Any] | None:
    if est is None:
        return None
    return {
        "estimate": est["estimate"] * scale if est["estimate"] is not None else None,
        "low": est["ci_low"] * scale if est["ci_low"] is not None else None,
        "high": est["ci_high"] * scale if est["ci_high"] is not None else None,
        "p": p_text(est["p_value"]),
    }


def analysis_view(experiment: Mapping[str, Any]) -> dict[str, Any] | None:
    """The stored analysis as the page shows it: proportions in percentage points,
    relative effects in per cent, and the interval plot of the absolute effects."""
    analysis = experiment.get("last_analysis")
    if not analysis:
        return None
    if analysis.get("kind") == "panel":
        return panel_view(analysis)
    report = analysis["report"]
    proportion = report["metric"] == "proportion"
    scale, unit = (100.0, " pts") if proportion else (1.0, "")
    alpha = report["alpha"]
    arms = []
    for a in report["arms"]:
        absolute = _scaled(a["absolute"], scale)
        relative = _scaled(a["relative"], 100.0)
        arms.append({**a, "abs": absolute, "rel": relative,
                     "mean_shown": a["mean"] * scale if proportion else a["mean"]})  # fmt: skip
    rows = [
        (a["arm"], a["abs"]["estimate"], a["abs"]["low"], a["abs"]["high"])
        for a in arms
        if None not in (a["abs"]["estimate"], a["abs"]["low"], a["abs"]["high"])
    ]
    level = f"{1 - alpha:.0%}"
    title = f"Effect of each arm against {report['control']} with {level} intervals"
    return {
        "plan": analysis["plan"],
        "deviations": analysis["deviations"],
        "report": report,
        "arms": arms,
        "unit": unit,
        "level": level,
        "control_mean": report["control_mean"] * scale if proportion else report["control_mean"],
        "chart": interval_svg(rows, unit, "effects", title) if rows else None,
        "srm_p": p_text(report["srm"]["p_value"]),
        "cluster_robust": analysis.get("cluster_robust"),
        "p_text": p_text,
        "kind": "ab",
    }


def _estimate_row(label: str, est: Mapping[str, Any]) -> dict[str, Any]:
    return {"label": label, "estimate": est["estimate"], "low": est["ci_low"],
            "high": est["ci_high"], "p": p_text(est["p_value"])}  # fmt: skip


def panel_view(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """A policy experiment's panel analysis (did, staggered, before/after): its headline
    estimates, the event study as an interval plot, and every warning and assumption."""
    report = analysis["report"]
    rows, warnings, assumptions = [], list(report.get("notes", [])), []
    parts: list[Mapping[str, Any]] = []
    if ba := report.get("before_after"):
        first, last = report["periods"]
        rows.append(_estimate_row(f"Change from period {first:g} to {last:g}", ba["change"]))
        parts.append(ba)
    if twfe := report.get("twfe"):
        label = (
            f"Difference-in-differences (two-way fixed effects; {twfe['n_units']} units, "
            f"{twfe['n_periods']} periods, {twfe['n_clusters']} clusters by {twfe['cluster']})"
        )
        rows.append(_estimate_row(label, twfe["estimate"]))
        parts.append(twfe)
    if cs := report.get("callaway_santanna"):
        label = f"Callaway–Sant'Anna average effect ({cs['control_group']}-treated controls)"
        rows.append(_estimate_row(label, cs["aggregations"]["simple"]["overall"]))
        parts.append(cs)
    study = report.get("event_study")
    if study:
        parts.append(study)
    for part in parts:
        warnings += part.get("warnings", [])
        assumptions += part.get("assumptions", [])
    level = f"{1 - analysis['alpha']:.0%}"
    chart = None
    if study and study["effects"]:
        estimates = [(e["event_time"], e["estimate"]) for e in study["effects"]]
        points = [
            (f"{t:+d}", est["estimate"], est["ci_low"], est["ci_high"])
            for t, est in estimates
            if None not in (est["estimate"], est["ci_low"], est["ci_high"])
        ]
        title = f"Event study: effect by period relative to treatment, {level} intervals"
        chart = interval_svg(points, "", "effects", title) if points else None
    pretrend = (study or {}).get("pretrend_p_value", (cs or {}).get("pretrend_p_value"))
    return {
        "kind": "panel",
        "plan": analysis["plan"],
        "deviations": analysis["deviations"],
        "design": report["design"],
        "rows": rows,
        "level": level,
        "alpha": analysis["alpha"],
        "units": analysis["units"],
        "n_rows": analysis["rows"],
        "chart": chart,
        "reference": (study or {}).get("reference"),
        "pretrend": None if pretrend is None else p_text(pretrend),
        "warnings": list(dict.fromkeys(warnings)),
        "assumptions": list(dict.fromkeys(assumptions)),
    }
