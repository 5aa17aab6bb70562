"""Analysing a registered A/B (or multi-arm, cluster) experiment against its locked plan.

The summary, or one outcome per assigned unit, goes to the pure ``experiments.ab`` engine
(and ``experiments.clustered`` when whole clusters were randomised); the answer names the
plan version it follows and every way the data depart from it, and is kept as the
experiment's analysis so that a decision can close it. Panels of policy experiments take
``services.experiment_panels`` instead.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor
from missionkit.experiments import ab, clustered
from missionkit.experiments.plan import ExperimentPlan
from missionkit.experiments.types import ExperimentInputError, to_plain
from missionkit.services.errors import Conflict, InvalidInput
from missionkit.services.experiments import (
    audit_experiment,
    engine_error,
    experiment_row,
    latest_plan,
    parse_payload,
)
from missionkit.store import tables as t


def ab_deviations(
    session: Session,
    e: t.Experiment,
    plan_row: t.ExperimentPlanVersion,
    plan: ExperimentPlan,
    spec: ab.AbInput,
    report: ab.AbReport,
) -> list[str]:
    """How the analysed data depart from the locked plan, in plain words."""
    out: list[str] = []
    planned, seen = [a.name for a in plan.arms], list(spec.arms)
    if set(planned) != set(seen):
        out.append(f"arms {seen} differ from the plan's {planned}")
    if spec.control != plan.control:
        out.append(f"control {spec.control!r} instead of the planned {plan.control!r}")
    if spec.alpha != plan.alpha:
        out.append(f"alpha {spec.alpha:g} instead of the planned {plan.alpha:g}")
    if report.metric != plan.primary_metric.kind:
        out.append(
            f"a {report.metric} metric was analysed; the primary metric "
            f"{plan.primary_metric.name!r} is a {plan.primary_metric.kind}"
        )
    total = sum(a.n for a in spec.arms.values())
    if plan.planned_sample is not None and total < plan.planned_sample:
        out.append(f"sample {total} is below the planned {plan.planned_sample} (less power)")
    assigned = dict(
        session.execute(
            select(t.ExperimentAssignment.arm, func.count())
            .where(t.ExperimentAssignment.experiment_id == e.id)
            .group_by(t.ExperimentAssignment.arm)
        ).all()
    )
    for arm, summary in spec.arms.items():
        if assigned and summary.n > assigned.get(arm, 0):
            out.append(
                f"arm {arm!r} has {summary.n} units but only {assigned.get(arm, 0)} were assigned"
            )
    return out + plan_drift(e, plan_row)


def plan_drift(e: t.Experiment, plan_row: t.ExperimentPlanVersion) -> list[str]:
    """Deviations any analysis has when the plan moved on: randomised under another
    version, or a draft changed since locking."""
    out = []
    if e.randomised_plan is not None and e.randomised_plan != plan_row.number:
        out.append(
            f"units were randomised under plan version {e.randomised_plan}, the analysis "
            f"follows version {plan_row.number}"
        )
    if e.plan != plan_row.content:
        out.append("the draft plan has changed since the locked version (not yet re-locked)")
    return out


def analyse_experiment(
    session: Session, experiment_id: int, summary: Any, actor: Actor | None = None
) -> dict[str, Any]:
    """Analyse an A/B summary against the latest locked plan and keep the result.

    The summary has the CLI's shape (``arms`` with ``n`` and ``sum``/``sum_squares`` or
    ``successes``); ``control``, ``alpha`` and ``weights`` default to the plan's. Instead of
    a summary, ``{"outcomes": [{"unit": ..., "value": ...}]}`` gives one outcome per unit,
    joined to the stored assignment; cluster-randomised experiments then also get
    cluster-robust comparisons (``cluster_robust``).
    """
    e = experiment_row(session, experiment_id, lock=True)
    plan_row = latest_plan(session, e.id)
    if plan_row is None:
        raise Conflict("lock the plan before analysing: the analysis must follow a plan")
    plan = ExperimentPlan.model_validate(plan_row.content)
    if not isinstance(summary, dict):
        raise InvalidInput.one("(body)", "must be a JSON object")
    clustered_results: dict[str, Any] | None = None
    if "outcomes" in summary:
        summary, clustered_results = _from_outcomes(session, e, plan, summary)
    doc = dict(summary)
    arms = doc.get("arms")
    doc.setdefault("alpha", plan.alpha)
    if isinstance(arms, dict):
        if "control" not in doc and plan.control in arms:
            doc["control"] = plan.control
        if "weights" not in doc and set(arms) == set(plan.weights):
            doc["weights"] = plan.weights
    try:
        spec = ab.parse_summary(doc)
        report = ab.analyse(spec)
    except ExperimentInputError as err:
        raise engine_error(err) from None
    deviations = ab_deviations(session, e, plan_row, plan, spec, report)
    if plan.randomisation == "clustered" and clustered_results is None:
        deviations.append(
            "units were randomised in clusters but a summary was analysed: its intervals "
            "ignore the clustering and are too narrow (upload unit outcomes instead)"
        )
    result: dict[str, Any] = {
        "plan": {"number": plan_row.number, "content_hash": plan_row.content_hash},
        "deviations": deviations,
        "report": to_plain(report),
    }
    if clustered_results is not None:
        result["cluster_robust"] = clustered_results
    return keep_analysis(session, e, result, actor)


def keep_analysis(
    session: Session, e: t.Experiment, result: dict[str, Any], actor: Actor | None
) -> dict[str, Any]:
    """Keep an analysis as the experiment's latest (a decision closes on it), audited."""
    e.last_analysis = result
    e.status = "analysed" if e.status != "decided" else e.status
    e.version += 1
    session.flush()
    audit_experiment(session, actor, "analyse", e, None, {"analysis": result})
    return result


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1, max_length=200)
    value: float = Field(allow_inf_nan=False)


class OutcomesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[OutcomeIn] = Field(min_length=2)
    alpha: float | None = Field(default=None, gt=0, lt=1)


def _from_outcomes(
    session: Session, e: t.Experiment, plan: ExperimentPlan, payload: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Unit outcomes joined to the stored assignment: the arm summaries, and cluster-robust
    comparisons when whole clusters were randomised."""
    data = parse_payload(OutcomesIn, payload)
    assigned = {
        a.unit: a
        for a in session.scalars(
            select(t.ExperimentAssignment).where(t.ExperimentAssignment.experiment_id == e.id)
        )
    }
    if not assigned:
        raise Conflict("randomise the experiment before uploading unit outcomes")
    seen: set[str] = set()
    proportion = plan.primary_metric.kind == "proportion"
    for i, o in enumerate(data.outcomes):
        if o.unit not in assigned:
            raise InvalidInput.one(f"outcomes[{i}].unit", f"{o.unit!r} was never assigned")
        if o.unit in seen:
            raise InvalidInput.one(f"outcomes[{i}].unit", f"{o.unit!r} appears twice")
        if proportion and o.value not in (0.0, 1.0):
            raise InvalidInput.one(f"outcomes[{i}].value", "must be 0 or 1 for a proportion metric")
        seen.add(o.unit)
    by_arm: dict[str, list[float]] = {a.name: [] for a in plan.arms}
    for o in data.outcomes:
        by_arm.setdefault(assigned[o.unit].arm, []).append(o.value)
    arms: dict[str, Any] = {}
    for name, values in by_arm.items():
        if proportion:
            arms[name] = {"n": len(values), "successes": sum(values)}
        else:
            arms[name] = {
                "n": len(values),
                "sum": sum(values),
                "sum_squares": sum(v * v for v in values),
            }
    doc: dict[str, Any] = {"arms": arms}
    if data.alpha is not None:
        doc["alpha"] = data.alpha
    if plan.randomisation != "clustered":
        return doc, None
    alpha = data.alpha if data.alpha is not None else plan.alpha
    control = plan.control or plan.arms[0].name
    results: dict[str, Any] = {}
    for arm in by_arm:
        if arm == control:
            continue
        rows = [o for o in data.outcomes if assigned[o.unit].arm in (control, arm)]
        try:
            res = clustered.analyse(
                [o.value for o in rows],
                [int(assigned[o.unit].arm == arm) for o in rows],
                [assigned[o.unit].cluster or o.unit for o in rows],
                alpha=alpha,
            )
        except ExperimentInputError as err:
            raise engine_error(err, "outcomes.") from None
        results[arm] = to_plain(res)
    return doc, results
