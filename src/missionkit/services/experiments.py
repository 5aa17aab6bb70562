"""The experiment registry: register, pre-register (lock), randomise, analyse, decide.

The records' SQL lives here (analyses in ``experiment_analysis`` and
``experiment_panels``, on the helpers below); the statistics come from the pure
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

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor, system_actor
from missionkit.domain.problems import problems_from
from missionkit.experiments import randomise
from missionkit.experiments.plan import ExperimentPlan, content_hash
from missionkit.experiments.types import ExperimentInputError
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


def parse_payload(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as e:
        raise InvalidInput(problems_from(e)) from None


def engine_error(e: ExperimentInputError, prefix: str = "") -> InvalidInput:
    return InvalidInput.one(f"{prefix}{e.field}" if prefix else e.field, e.message)


def experiment_row(session: Session, experiment_id: int, *, lock: bool = False) -> t.Experiment:
    stmt = select(t.Experiment).where(t.Experiment.id == experiment_id)
    if lock:
        stmt = stmt.with_for_update()
    found = session.scalar(stmt)
    if found is None:
        raise NotFound(f"no experiment {experiment_id}")
    return found


def experiment_mission(session: Session, experiment_id: int) -> int:
    """The mission an experiment belongs to (access rules are per mission)."""
    return experiment_row(session, experiment_id).mission_id


def audit_experiment(
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


def latest_plan(session: Session, experiment_id: int) -> t.ExperimentPlanVersion | None:
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
    latest = latest_plan(session, e.id)
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
    data = parse_payload(ExperimentCreate, payload)
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
    audit_experiment(session, actor, "create", e, None, created)
    return created


def list_experiments(session: Session, mission_key: int | str) -> list[dict[str, Any]]:
    mission_id = mission_id_for(session, mission_key)
    found = session.scalars(
        select(t.Experiment).where(t.Experiment.mission_id == mission_id).order_by(t.Experiment.id)
    )
    return [_public(session, e, full=False) for e in found]


def get_experiment(session: Session, experiment_id: int) -> dict[str, Any]:
    return _public(session, experiment_row(session, experiment_id))


def update_experiment(
    session: Session,
    experiment_id: int,
    payload: Any,
    expected_version: int | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Change registry fields or the draft plan (optimistic concurrency on ``version``)."""
    e = experiment_row(session, experiment_id, lock=True)
    if expected_version is not None and expected_version != e.version:
        raise StaleVersion(expected_version, e.version)
    data = parse_payload(ExperimentUpdate, payload)
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
    audit_experiment(session, actor, "update", e, before, after)
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
    request = parse_payload(LockRequest, payload)
    e = experiment_row(session, experiment_id, lock=True)
    try:
        plan = ExperimentPlan.model_validate(e.plan)
    except ValidationError as err:
        raise InvalidInput(problems_from(err, "plan")) from None
    content = plan.model_dump(mode="json")
    digest = content_hash(content)
    latest = latest_plan(session, e.id)
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
    audit_experiment(session, actor, "lock", e, None, locked)
    return locked


def randomise_units(
    session: Session, experiment_id: int, payload: Any, actor: Actor | None = None
) -> dict[str, Any]:
    """Assign units to arms by the latest locked plan (seeded, stratified or clustered).

    An experiment is randomised once: re-drawing until the split looks good would defeat
    the purpose, so a second call is a conflict.
    """
    request = parse_payload(RandomiseRequest, payload)
    e = experiment_row(session, experiment_id, lock=True)
    latest = latest_plan(session, e.id)
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
        raise engine_error(err) from None
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
    audit_experiment(session, actor, "randomise", e, None, drawn)
    return drawn


ASSIGNMENT_COLUMNS = ("unit", "arm", "stratum", "cluster", "experiment", "plan", "seed")


def assignments_csv(session: Session, experiment_id: int) -> str:
    """The realised assignment as CSV (one row per unit, in registration order)."""
    e = experiment_row(session, experiment_id)
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


def record_decision(
    session: Session, experiment_id: int, payload: Any, actor: Actor | None = None
) -> dict[str, Any]:
    """Close an analysed experiment with a decision, who took it and the learning."""
    data = parse_payload(DecisionCreate, payload)
    e = experiment_row(session, experiment_id, lock=True)
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
    audit_experiment(session, actor, "decide", e, None, decided)
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
    "assignments_csv",
    "audit_experiment",
    "create_experiment",
    "engine_error",
    "experiment_mission",
    "experiment_row",
    "get_experiment",
    "latest_plan",
    "list_experiments",
    "lock_plan",
    "mission_learning",
    "parse_payload",
    "randomise_units",
    "record_decision",
    "update_experiment",
)
