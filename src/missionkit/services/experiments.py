"""The experiment registry: register, pre-register (lock), randomise, analyse, decide.

All SQL for experiments lives here; the statistics come from the pure
``missionkit.experiments`` engine. A plan is locked as an immutable, numbered version with
the SHA-256 of its canonical JSON and a timestamp; later edits need a new version, and every
analysis states which version it follows and how the data deviate from it. Each analysed
experiment ends in a recorded decision (scale, iterate or stop), shown on the mission's
learning log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor, system_actor
from missionkit.domain.problems import problems_from
from missionkit.experiments import ab, clustered, randomise
from missionkit.experiments.plan import ExperimentPlan, content_hash
from missionkit.experiments.types import ExperimentInputError, to_plain
from missionkit.services import audit
from missionkit.services.errors import Conflict, InvalidInput, NotFound, StaleVersion
from missionkit.services.experiment_shapes import (
    DecisionCreate,
    ExperimentCreate,
    ExperimentUpdate,
    LockRequest,
    RandomiseRequest,
)
from missionkit.services.maps import mission_id_for
from missionkit.services.spreadsheet import safe_cell
from missionkit.store import tables as t

M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as e:
        raise InvalidInput(problems_from(e)) from None


def _engine_error(e: ExperimentInputError, prefix: str = "") -> InvalidInput:
    return InvalidInput.one(f"{prefix}{e.field}" if prefix else e.field, e.message)


def _experiment(session: Session, experiment_id: int, *, lock: bool = False) -> t.Experiment:
    stmt = select(t.Experiment).where(t.Experiment.id == experiment_id)
    if lock:
        stmt = stmt.with_for_update()
    found = session.scalar(stmt)
    if found is None:
        raise NotFound(f"no experiment {experiment_id}")
    return found


def experiment_mission(session: Session, experiment_id: int) -> int:
    """The mission an experiment belongs to (access rules are per mission)."""
    return _experiment(session, experiment_id).mission_id


def _audit(
    session: Session,
    actor: Actor | None,
    action: str,
    e: t.Experiment,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        actor or system_actor("python"),
        action,
        "experiments",
        e.id,
        e.mission_id,
        before,
        after,
    )


def _latest_plan(session: Session, experiment_id: int) -> t.ExperimentPlanVersion | None:
    return session.scalar(
        select(t.ExperimentPlanVersion)
        .where(t.ExperimentPlanVersion.experiment_id == experiment_id)
        .order_by(t.ExperimentPlanVersion.number.desc())
        .limit(1)
    )


def _plan_public(p: t.ExperimentPlanVersion) -> dict[str, Any]:
    return {
        "number": p.number,
        "content_hash": p.content_hash,
        "locked_at": p.locked_at.isoformat(),
        "locked_by": p.locked_by,
        "note": p.note,
        "content": p.content,
    }


def _public(session: Session, e: t.Experiment, *, full: bool = True) -> dict[str, Any]:
    mission_slug = session.scalar(select(t.Mission.slug).where(t.Mission.id == e.mission_id))
    objective = (
        session.scalar(select(t.Objective.slug).where(t.Objective.id == e.objective_id))
        if e.objective_id
        else None
    )
    activity = (
        session.scalar(select(t.Activity.identifier).where(t.Activity.id == e.activity_id))
        if e.activity_id
        else None
    )
    latest = _latest_plan(session, e.id)
    out: dict[str, Any] = {
        "id": e.id,
        "mission": mission_slug,
        "slug": e.slug,
        "title": e.title,
        "question": e.question,
        "hypothesis": e.hypothesis,
        "stage": e.stage,
        "design": e.design,
        "unit": e.unit,
        "objective": objective,
        "activity": activity,
        "instrument": e.instrument,
        "call": e.call,
        "status": e.status,
        "plan": e.plan,
        "plan_locked": latest is not None and latest.content_hash == content_hash(e.plan),
        "locked_plan": latest.number if latest else None,
        "version": e.version,
    }
    if full:
        plans = session.scalars(
            select(t.ExperimentPlanVersion)
            .where(t.ExperimentPlanVersion.experiment_id == e.id)
            .order_by(t.ExperimentPlanVersion.number)
        )
        out["plan_versions"] = [_plan_public(p) for p in plans]
        counts = session.execute(
            select(t.ExperimentAssignment.arm, func.count())
            .where(t.ExperimentAssignment.experiment_id == e.id)
            .group_by(t.ExperimentAssignment.arm)
            .order_by(t.ExperimentAssignment.arm)
        ).all()
        out["randomisation"] = (
            {"seed": e.seed, "plan": e.randomised_plan, "counts": dict(counts)} if counts else None
        )
        out["last_analysis"] = e.last_analysis
        out["decisions"] = [
            _decision_public(d)
            for d in session.scalars(
                select(t.ExperimentDecision)
                .where(t.ExperimentDecision.experiment_id == e.id)
                .order_by(t.ExperimentDecision.id)
            )
        ]
    return out


def _decision_public(d: t.ExperimentDecision) -> dict[str, Any]:
    return {
        "id": d.id,
        "decision": d.decision,
        "decided_by": d.decided_by,
        "decided_on": d.decided_on.isoformat(),
        "learning": d.learning,
        "plan_number": d.plan_number,
        "deviations": d.deviations,
    }


def _resolve_links(
    session: Session, mission_id: int, objective: str | None, activity: str | None
) -> tuple[int | None, int | None]:
    objective_id = activity_id = None
    if objective is not None:
        objective_id = session.scalar(
            select(t.Objective.id).where(
                t.Objective.mission_id == mission_id, t.Objective.slug == objective
            )
        )
        if objective_id is None:
            raise InvalidInput.one("objective", f"no objective {objective!r} in this mission")
    if activity is not None:
        activity_id = session.scalar(
            select(t.Activity.id).where(
                t.Activity.mission_id == mission_id, t.Activity.identifier == activity
            )
        )
        if activity_id is None:
            raise InvalidInput.one("activity", f"no activity {activity!r} in this mission")
    return objective_id, activity_id


def create_experiment(
    session: Session, mission_key: int | str, payload: Any, actor: Actor | None = None
) -> dict[str, Any]:
    """Register an experiment under a mission, with its draft plan."""
    data = _parse(ExperimentCreate, payload)
    mission_id = mission_id_for(session, mission_key)
    taken = session.scalar(
        select(t.Experiment.id).where(
            t.Experiment.mission_id == mission_id, t.Experiment.slug == data.slug
        )
    )
    if taken is not None:
        raise Conflict(f"experiment {data.slug!r} already exists in this mission")
    objective_id, activity_id = _resolve_links(session, mission_id, data.objective, data.activity)
    e = t.Experiment(
        mission_id=mission_id,
        objective_id=objective_id,
        activity_id=activity_id,
        slug=data.slug,
        title=data.title,
        question=data.question,
        hypothesis=data.hypothesis,
        stage=data.stage,
        design=data.design,
        unit=data.unit,
        instrument=data.instrument,
        call=data.call,
        status="draft",
        plan=data.plan.model_dump(mode="json"),
    )
    session.add(e)
    session.flush()
    created = _public(session, e)
    _audit(session, actor, "create", e, None, created)
    return created


def list_experiments(session: Session, mission_key: int | str) -> list[dict[str, Any]]:
    mission_id = mission_id_for(session, mission_key)
    found = session.scalars(
        select(t.Experiment).where(t.Experiment.mission_id == mission_id).order_by(t.Experiment.id)
    )
    return [_public(session, e, full=False) for e in found]


def get_experiment(session: Session, experiment_id: int) -> dict[str, Any]:
    return _public(session, _experiment(session, experiment_id))


def update_experiment(
    session: Session,
    experiment_id: int,
    payload: Any,
    expected_version: int | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Change registry fields or the draft plan (optimistic concurrency on ``version``)."""
    e = _experiment(session, experiment_id, lock=True)
    if expected_version is not None and expected_version != e.version:
        raise StaleVersion(expected_version, e.version)
    data = _parse(ExperimentUpdate, payload)
    changes = data.model_dump(exclude_unset=True, mode="json")
    if "plan" in changes and e.status in ("analysed", "decided"):
        raise Conflict("the experiment is analysed: register a new experiment to change the plan")
    if data.plan is not None:  # store the whole plan, defaults filled, as locking hashes it
        changes["plan"] = data.plan.model_dump(mode="json")
    before = _public(session, e)
    for key, value in changes.items():
        setattr(e, key, value)
    e.version += 1
    session.flush()
    after = _public(session, e)
    _audit(session, actor, "update", e, before, after)
    return after


def lock_plan(
    session: Session,
    experiment_id: int,
    payload: Any,
    *,
    now: dt.datetime | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Pre-register the current draft plan as a new immutable version.

    Locking an unchanged plan again returns the existing version (same hash) instead of a
    duplicate.
    """
    request = _parse(LockRequest, payload)
    e = _experiment(session, experiment_id, lock=True)
    try:
        plan = ExperimentPlan.model_validate(e.plan)
    except ValidationError as err:
        raise InvalidInput(problems_from(err, "plan")) from None
    content = plan.model_dump(mode="json")
    digest = content_hash(content)
    latest = _latest_plan(session, e.id)
    if latest is not None and latest.content_hash == digest:
        return {**_plan_public(latest), "created": False}
    version = t.ExperimentPlanVersion(
        experiment_id=e.id,
        number=(latest.number + 1) if latest else 1,
        content=content,
        content_hash=digest,
        locked_at=now or dt.datetime.now(dt.UTC),
        locked_by=request.locked_by,
        note=request.note,
    )
    session.add(version)
    if e.status == "draft":
        e.status = "registered"
    e.version += 1
    session.flush()
    locked = {**_plan_public(version), "created": True}
    _audit(session, actor, "lock", e, None, locked)
    return locked


def randomise_units(
    session: Session, experiment_id: int, payload: Any, actor: Actor | None = None
) -> dict[str, Any]:
    """Assign units to arms by the latest locked plan (seeded, stratified or clustered).

    An experiment is randomised once: re-drawing until the split looks good would defeat
    the purpose, so a second call is a conflict.
    """
    request = _parse(RandomiseRequest, payload)
    e = _experiment(session, experiment_id, lock=True)
    latest = _latest_plan(session, e.id)
    if latest is None:
        raise Conflict("lock the plan before randomising")
    exists = session.scalar(
        select(func.count()).where(t.ExperimentAssignment.experiment_id == e.id)
    )
    if exists:
        raise Conflict("units are already assigned; assignments are never redrawn")
    plan = ExperimentPlan.model_validate(latest.content)
    units = [randomise.Unit(u.unit, u.stratum, u.cluster) for u in request.units]
    try:
        result = randomise.assign(units, plan.weights, seed=request.seed, method=plan.randomisation)
    except ExperimentInputError as err:
        raise _engine_error(err) from None
    session.add_all(
        t.ExperimentAssignment(
            experiment_id=e.id, unit=a.unit, arm=a.arm, stratum=a.stratum, cluster=a.cluster
        )
        for a in result.assignments
    )
    e.seed, e.randomised_plan, e.status = request.seed, latest.number, "randomised"
    e.version += 1
    session.flush()
    drawn = {
        "plan": latest.number,
        "seed": result.seed,
        "method": result.method,
        "counts": result.counts,
        "clusters": result.clusters,
        "sample_ratio_p_value": result.srm.p_value,
        "warnings": list(result.warnings),
    }
    _audit(session, actor, "randomise", e, None, drawn)
    return drawn


ASSIGNMENT_COLUMNS = ("unit", "arm", "stratum", "cluster", "experiment", "plan", "seed")


def assignments_csv(session: Session, experiment_id: int) -> str:
    """The realised assignment as CSV (one row per unit, in registration order)."""
    e = _experiment(session, experiment_id)
    rows = session.scalars(
        select(t.ExperimentAssignment)
        .where(t.ExperimentAssignment.experiment_id == e.id)
        .order_by(t.ExperimentAssignment.id)
    ).all()
    if not rows:
        raise NotFound(f"experiment {experiment_id} has no assignments yet")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ASSIGNMENT_COLUMNS)
    for r in rows:
        cells = [r.unit, r.arm, r.stratum or "", r.cluster or "", e.slug, e.randomised_plan, e.seed]
        writer.writerow([safe_cell(c) for c in cells])
    return buffer.getvalue()


def _deviations(
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
    e = _experiment(session, experiment_id, lock=True)
    plan_row = _latest_plan(session, e.id)
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
        raise _engine_error(err) from None
    deviations = _deviations(session, e, plan_row, plan, spec, report)
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
    e.last_analysis = result
    e.status = "analysed" if e.status != "decided" else e.status
    e.version += 1
    session.flush()
    _audit(session, actor, "analyse", e, None, {"analysis": result})
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
    data = _parse(OutcomesIn, payload)
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
            raise _engine_error(err, "outcomes.") from None
        results[arm] = to_plain(res)
    return doc, results


def record_decision(
    session: Session, experiment_id: int, payload: Any, actor: Actor | None = None
) -> dict[str, Any]:
    """Close an analysed experiment with a decision, who took it and the learning."""
    data = _parse(DecisionCreate, payload)
    e = _experiment(session, experiment_id, lock=True)
    if e.last_analysis is None:
        raise Conflict("analyse the experiment before recording a decision")
    d = t.ExperimentDecision(
        experiment_id=e.id,
        plan_number=e.last_analysis["plan"]["number"],
        decision=data.decision,
        decided_by=data.decided_by,
        decided_on=data.decided_on,
        learning=data.learning,
        deviations=list(e.last_analysis["deviations"]),
        analysis=e.last_analysis,
    )
    session.add(d)
    e.status = "decided"
    e.version += 1
    session.flush()
    decided = _decision_public(d)
    _audit(session, actor, "decide", e, None, decided)
    return decided


def mission_learning(session: Session, mission_key: int | str) -> list[dict[str, Any]]:
    """Every decision of the mission's experiments, newest first: the learning log."""
    mission_id = mission_id_for(session, mission_key)
    rows = session.execute(
        select(t.ExperimentDecision, t.Experiment.slug, t.Experiment.title, t.Experiment.stage)
        .join(t.Experiment, t.Experiment.id == t.ExperimentDecision.experiment_id)
        .where(t.Experiment.mission_id == mission_id)
        .order_by(t.ExperimentDecision.decided_on.desc(), t.ExperimentDecision.id.desc())
    ).all()
    return [
        {**_decision_public(d), "experiment": slug, "title": title, "stage": stage}
        for d, slug, title, stage in rows
    ]


__all__: Sequence[str] = (
    "analyse_experiment",
    "assignments_csv",
    "create_experiment",
    "get_experiment",
    "list_experiments",
    "lock_plan",
    "mission_learning",
    "randomise_units",
    "record_decision",
    "update_experiment",
)
