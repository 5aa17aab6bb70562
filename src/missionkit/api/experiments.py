"""Experiment routes: the registry (register, lock, randomise, analyse, decide) and the
stateless statistics (A/B summary, design). Thin: each route calls one service or engine
function; service errors become 422/404/409/412 through ``api/errors.py``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from missionkit.api.auth import Who, rule
from missionkit.api.encoding import FastJSONResponse
from missionkit.api.params import RecordKey
from missionkit.api.resources import IfMatch, expected_version
from missionkit.domain.access import Action, Actor
from missionkit.domain.problems import InvalidInput
from missionkit.experiments import ab, design
from missionkit.experiments.types import ExperimentInputError, to_plain
from missionkit.services import access
from missionkit.services import experiment_analysis as analysis
from missionkit.services import experiment_panels as panels
from missionkit.services import experiment_shapes as shapes
from missionkit.services import experiments as svc
from missionkit.store.db import Database

Summary = Annotated[
    dict[str, Any],
    Body(
        description='{"control": "A", "alpha": 0.05, "arms": {"A": {"n": 3407, "sum": 1396.87, '
        '"sum_squares": 52377.9}, "B": {"n": 3461, "successes": 468}}}: each arm has n and '
        "either sum and sum_squares (a mean metric) or successes (a proportion).",
    ),
]


class DesignRequest(BaseModel):
    """Give two of effect, n_control and power; the third is solved."""

    model_config = ConfigDict(extra="forbid")
    metric: Literal["mean", "proportion"]
    effect: float | None = None
    n_control: float | None = Field(default=None, gt=0)
    power: float | None = None
    sd: float | None = Field(default=None, description="outcome standard deviation (means)")
    baseline: float | None = Field(default=None, description="control proportion")
    alpha: float = 0.05
    ratio: float = 1.0
    icc: float = 0.0
    cluster_size: float = 1.0


def _engine(e: ExperimentInputError) -> InvalidInput:
    return InvalidInput.one(e.field, e.message)


def _on_experiment(session: Session, actor: Actor, experiment_id: int, action: Action) -> None:
    mission_id = svc.experiment_mission(session, experiment_id)
    access.require(actor, action, access.target(session, mission_id), "experiment")


def experiments_router(db: Database) -> APIRouter:
    router = APIRouter(tags=["experiments"])

    @router.post(
        "/api/missions/{key}/experiments",
        status_code=201,
        openapi_extra=rule("write"),
        summary="Register an experiment",
        description="Question, hypothesis, stage, design, unit and a draft plan (arms, "
        "metrics, MDE, planned sample). `key` is the mission's id or slug.",
    )
    def create(
        key: str,
        payload: shapes.ExperimentCreate,
        request: Request,
        response: Response,
        actor: Actor = Who,
    ) -> Any:
        with db.transaction() as session:
            access.require_mission(session, actor, key, "edit")
            item = svc.create_experiment(session, key, payload.model_dump(mode="json"), actor)
        response.headers["Location"] = str(
            request.url_for("get_experiment", experiment_id=item["id"])
        )
        response.headers["ETag"] = f'"{item["version"]}"'
        return item

    @router.get(
        "/api/missions/{key}/experiments",
        openapi_extra=rule("read"),
        summary="The mission's experiments",
    )
    def list_(key: str, actor: Actor = Who) -> Any:
        with db.reading() as session:
            access.require_mission(session, actor, key, "read")
            return FastJSONResponse(svc.list_experiments(session, key))

    @router.get(
        "/api/missions/{key}/learning",
        openapi_extra=rule("read"),
        summary="Decisions and learning of the mission's experiments, newest first",
    )
    def learning(key: str, actor: Actor = Who) -> Any:
        with db.reading() as session:
            access.require_mission(session, actor, key, "read")
            return FastJSONResponse(svc.mission_learning(session, key))

    @router.post(
        "/api/experiments/analyze-ab",
        openapi_extra=rule("public"),  # a calculator: reads and stores nothing
        summary="Analyse an A/B summary (stateless)",
        description="Every treatment arm against the control: absolute and relative effects "
        "with intervals and p-values (Welch, delta method), Bayesian chance to win and "
        "expected loss, sample-ratio check (docs/experiments.md).",
    )
    def analyze_ab(summary: Summary) -> Any:
        try:
            report = ab.analyse(ab.parse_summary(summary))
        except ExperimentInputError as e:
            raise _engine(e) from None
        return FastJSONResponse(to_plain(report))

    @router.post(
        "/api/experiments/power",
        openapi_extra=rule("public"),  # a calculator: reads and stores nothing
        summary="Power, sample size or minimum detectable effect (stateless)",
    )
    def power(request: DesignRequest) -> Any:
        args = request.model_dump(exclude={"metric", "sd", "baseline"})
        try:
            if request.metric == "mean":
                if request.sd is None:
                    raise InvalidInput.one("sd", "is required for a mean metric")
                result = design.means(sd=request.sd, **args)
            else:
                if request.baseline is None:
                    raise InvalidInput.one("baseline", "is required for a proportion metric")
                result = design.proportions(baseline=request.baseline, **args)
        except ExperimentInputError as e:
            raise _engine(e) from None
        return FastJSONResponse({**to_plain(result), "n_total": result.n_total})

    @router.get(
        "/api/experiments/{experiment_id}",
        openapi_extra=rule("read"),
        summary="One experiment, in full",
    )
    def get_experiment(experiment_id: RecordKey, response: Response, actor: Actor = Who) -> Any:
        with db.reading() as session:
            _on_experiment(session, actor, experiment_id, "read")
            item = svc.get_experiment(session, experiment_id)
        response.headers["ETag"] = f'"{item["version"]}"'
        return item

    @router.patch(
        "/api/experiments/{experiment_id}",
        openapi_extra=rule("write"),
        summary="Change an experiment or its draft plan",
        description="Locked plan versions never change; lock again for a new version.",
    )
    def update(
        experiment_id: RecordKey,
        payload: shapes.ExperimentUpdate,
        response: Response,
        if_match: IfMatch = None,
        actor: Actor = Who,
    ) -> Any:
        with db.transaction() as session:
            _on_experiment(session, actor, experiment_id, "edit")
            item = svc.update_experiment(
                session,
                experiment_id,
                payload.model_dump(mode="json", exclude_unset=True),
                expected_version(if_match),
                actor,
            )
        response.headers["ETag"] = f'"{item["version"]}"'
        return item

    @router.post(
        "/api/experiments/{experiment_id}/lock",
        openapi_extra=rule("write"),
        summary="Pre-register: lock the draft plan as a new version",
        description="Stores the plan with the SHA-256 of its canonical JSON and the time. "
        "Locking an unchanged plan returns the existing version (`created: false`).",
    )
    def lock(
        experiment_id: RecordKey,
        payload: shapes.LockRequest,
        response: Response,
        actor: Actor = Who,
    ) -> Any:
        with db.transaction() as session:
            _on_experiment(session, actor, experiment_id, "edit")
            item = svc.lock_plan(session, experiment_id, payload.model_dump(), actor=actor)
        response.status_code = 201 if item["created"] else 200
        return item

    @router.post(
        "/api/experiments/{experiment_id}/randomise",
        status_code=201,
        openapi_extra=rule("write"),
        summary="Assign units to arms (seeded; stratified or clustered per the plan)",
    )
    def randomise(
        experiment_id: RecordKey, payload: shapes.RandomiseRequest, actor: Actor = Who
    ) -> Any:
        with db.transaction() as session:
            _on_experiment(session, actor, experiment_id, "edit")
            return svc.randomise_units(session, experiment_id, payload.model_dump(), actor)

    @router.get(
        "/api/experiments/{experiment_id}/assignments.csv",
        response_class=PlainTextResponse,
        openapi_extra=rule("read"),
        summary="The assignment as CSV",
    )
    def assignments(experiment_id: RecordKey, actor: Actor = Who) -> Any:
        with db.reading() as session:
            _on_experiment(session, actor, experiment_id, "read")
            text = svc.assignments_csv(session, experiment_id)
        return PlainTextResponse(
            text,
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="experiment-{experiment_id}.csv"'
            },
        )

    @router.post(
        "/api/experiments/{experiment_id}/analyse",
        openapi_extra=rule("write"),
        summary="Analyse results against the locked plan",
        description="Same summary shape as `analyze-ab`; control, alpha and weights default "
        "to the plan's. The answer names the plan version (number and hash) and every "
        "deviation from it.",
    )
    def analyse(experiment_id: RecordKey, summary: Summary, actor: Actor = Who) -> Any:
        with db.transaction() as session:
            _on_experiment(session, actor, experiment_id, "edit")
            result = analysis.analyse_experiment(session, experiment_id, summary, actor)
        return FastJSONResponse(result)

    @router.post(
        "/api/experiments/{experiment_id}/analyse-panel",
        openapi_extra=rule("write"),
        summary="Analyse a policy experiment's panel against the locked plan",
        description="For `did`, `staggered` and `before_after` designs: one row per unit and "
        "period (`unit`, `time`, `outcome`, `treated`, optional `cluster`). Difference-in-"
        "differences gets two-way fixed effects and, with numeric periods, the event study; "
        "a staggered roll-out adds Callaway-Sant'Anna with its aggregations; before/after "
        "the paired change between the two periods. The answer names the plan version and "
        "every deviation from it.",
    )
    def analyse_panel(
        experiment_id: RecordKey, payload: panels.PanelRequest, actor: Actor = Who
    ) -> Any:
        with db.transaction() as session:
            _on_experiment(session, actor, experiment_id, "edit")
            body = payload.model_dump(mode="json")
            result = panels.analyse_experiment_panel(session, experiment_id, body, actor)
        return FastJSONResponse(result)

    @router.post(
        "/api/experiments/{experiment_id}/decisions",
        status_code=201,
        openapi_extra=rule("write"),
        summary="Record the decision (scale, iterate, stop), who took it and the learning",
    )
    def decide(experiment_id: RecordKey, payload: shapes.DecisionCreate, actor: Actor = Who) -> Any:
        with db.transaction() as session:
            _on_experiment(session, actor, experiment_id, "edit")
            payload_json = payload.model_dump(mode="json")
            return svc.record_decision(session, experiment_id, payload_json, actor)

    return router
