"""The experiment registry's pages: list, register and edit the plan, lock, randomise,
upload results, analyse and decide.

Every handler calls the same ``services.experiments`` function as the API's route, as the
signed-in user (audited with interface ``web``); ``services.experiment_pages`` only turns
pasted or uploaded text into the payloads the API takes. Reading takes "read" on the
mission, every POST "edit" and the session's CSRF token (checked by ``enforce``). A POST
that works redirects (303) to the experiment page with a confirmation chosen from
``DONE``; refused input shows the page again (422) with the problems at the form, each
naming its field or row, and the typed text kept; nothing is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from missionkit.domain.access import Action, Actor
from missionkit.services import access
from missionkit.services import experiment_analysis as analysis
from missionkit.services import experiment_pages as helpers
from missionkit.services import experiment_panels as panels
from missionkit.services import experiments as svc
from missionkit.services.errors import Conflict, InvalidInput, Problem, StaleVersion
from missionkit.web import pages
from missionkit.web.context import READ, WRITE, PageContext, guarded, submitted, web_actor
from missionkit.web.experiment_views import (
    CREATE_FIELDS,
    DECISION_FIELDS,
    DESIGN_LABELS,
    EDIT_FIELDS,
    LOCK_FIELDS,
    PLAN_FIELDS,
    STAGE_LABELS,
    analysis_view,
    form_errors,
    form_values,
    registry_payload,
)
from missionkit.web.forms import FormState, field_errors

MAX_UPLOAD = 8 * 1024 * 1024  # per file; the app refuses any body over 16 MiB

DONE = {
    "registered": "Registered. The plan is a draft until you lock it.",
    "saved": "Saved. Lock the plan again to pre-register the change as a new version.",
    "locked": "Plan locked: this version, its content hash and time are now fixed.",
    "unchanged": "The plan has not changed since its last locked version; nothing new was locked.",
    "randomised": "Units assigned. The assignment is fixed and never redrawn.",
    "analysed": "Analysed against the locked plan.",
    "decided": "Decision recorded; it shows on the mission's cockpit.",
}

DEFAULTS = {"stage": "process", "design": "ab", "primary_kind": "proportion",
            "primary_direction": "increase", "randomisation": "simple"}  # fmt: skip


def experiment_url(experiment_id: int, done: str = "", anchor: str = "") -> str:
    return (
        f"/experiments/{experiment_id}"
        + (f"?done={done}" if done else "")
        + (f"#{anchor}" if anchor else "")
    )


def status_label(e: Mapping[str, Any]) -> str:
    """draft / locked vN / randomised / analysed / decided, as the list shows it."""
    if e["status"] == "registered":
        return f"locked v{e['locked_plan']}"
    return str(e["status"])


def _on_experiment(session: Session, actor: Actor, experiment_id: int, action: Action) -> int:
    mission_id = svc.experiment_mission(session, experiment_id)
    access.require(actor, action, access.target(session, mission_id), "experiment")
    return mission_id


async def _upload_form(request: Request) -> tuple[dict[str, str], str | None, list[Problem]]:
    """The fields, the text of an uploaded file (if one was chosen) and any problem reading
    it: a file over ``MAX_UPLOAD`` or not UTF-8 is refused before anything is parsed."""
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD + 64 * 1024:
        return {}, None, [Problem("file", f"the upload is larger than {MAX_UPLOAD // 2**20} MiB")]
    form = await request.form()
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return fields, None, []
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return fields, None, [Problem("file", f"the file is larger than {MAX_UPLOAD // 2**20} MiB")]
    try:
        return fields, helpers.decode_upload(data, upload.filename), []
    except InvalidInput as e:
        return fields, None, e.problems


def experiments_router(ctx: PageContext) -> APIRouter:
    """The pages of one mission's experiments and of each experiment."""
    router = APIRouter(include_in_schema=False)
    render = pages.render

    @router.get("/missions/{key}/experiments", response_class=HTMLResponse, openapi_extra=READ)
    def listing(request: Request, key: str) -> Response:
        def page() -> Response:
            actor = web_actor(request)
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, actor, key, "read")
                mission = ctx.mission_header(session, actor, mission_id, pages.today_of(request))
                items = svc.list_experiments(session, mission_id)
                rights = ctx.mission_rights(session, actor, mission_id)
            for item in items:
                item["status_label"] = status_label(item)
            return render(request, "experiments.html", mission=mission, items=items,
                          rights=rights, stages=STAGE_LABELS, designs=DESIGN_LABELS)  # fmt: skip

        return guarded(page)

    def registry_form(
        request: Request,
        mission_id: int,
        state: FormState,
        *,
        experiment: Mapping[str, Any] | None = None,
        status_code: int = 200,
        version: int | None = None,
    ) -> HTMLResponse:
        actor = web_actor(request)
        with ctx.reading() as session:
            mission = ctx.mission_header(session, actor, mission_id, pages.today_of(request))
            options = helpers.objective_options(session, mission_id)
        state.choices = {"objective": [("", "— none —"), *options]}
        if experiment is None:
            title, action = (
                "Register an experiment",
                f"/missions/{quote(mission['slug'])}/experiments/new",
            )
            back = f"/missions/{quote(mission['slug'])}/experiments"
        else:
            title, action = (
                f"Edit the plan: {experiment['title']}",
                f"/experiments/{experiment['id']}/edit",
            )
            back = experiment_url(experiment["id"])
        return render(request, "experiment_form.html", status_code, title=title, action=action,
                      back=back, form=state, mission=mission, version=version,
                      plan_fields=[f.name for f in PLAN_FIELDS], experiment=experiment)  # fmt: skip

    @router.get("/missions/{key}/experiments/new", response_class=HTMLResponse,
                openapi_extra=WRITE)  # fmt: skip
    def new_form(request: Request, key: str) -> Response:
        def page() -> Response:
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, web_actor(request), key, "edit")
            return registry_form(request, mission_id, FormState(CREATE_FIELDS, dict(DEFAULTS)))

        return guarded(page)

    @router.post("/missions/{key}/experiments/new", response_class=HTMLResponse,
                 openapi_extra=WRITE)  # fmt: skip
    async def register(request: Request, key: str) -> Response:
        form = await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, actor, key, "edit")
            try:
                with ctx.database.transaction() as session:
                    ctx.mission_for(session, actor, mission_id, "edit")
                    payload = registry_payload(form, creating=True)
                    created = svc.create_experiment(session, mission_id, payload, actor)
            except InvalidInput as e:
                errors = form_errors(e.problems, CREATE_FIELDS, form)
            except Conflict as e:
                errors = {"slug": [str(e)]}
            else:
                return RedirectResponse(experiment_url(created["id"], "registered"), 303)
            state = FormState(CREATE_FIELDS, form, errors)
            return registry_form(request, mission_id, state, status_code=422)

        return guarded(page)

    @router.get("/experiments/{experiment_id}/edit", response_class=HTMLResponse,
                openapi_extra=WRITE)  # fmt: skip
    def edit_form(request: Request, experiment_id: int) -> Response:
        def page() -> Response:
            with ctx.reading() as session:
                mission_id = _on_experiment(session, web_actor(request), experiment_id, "edit")
                experiment = svc.get_experiment(session, experiment_id)
            state = FormState(EDIT_FIELDS, form_values(experiment))
            return registry_form(request, mission_id, state, experiment=experiment,
                                 version=experiment["version"])  # fmt: skip

        return guarded(page)

    @router.post("/experiments/{experiment_id}/edit", response_class=HTMLResponse,
                 openapi_extra=WRITE)  # fmt: skip
    async def edit(request: Request, experiment_id: int) -> Response:
        form = await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            version = int(form["version"]) if form.get("version", "").isdigit() else None
            try:
                with ctx.database.transaction() as session:
                    mission_id = _on_experiment(session, actor, experiment_id, "edit")
                    payload = registry_payload(form, creating=False)
                    svc.update_experiment(session, experiment_id, payload, version, actor)
            except InvalidInput as e:
                errors = form_errors(e.problems, EDIT_FIELDS, form)
            except StaleVersion as e:
                errors = {"": [f"Someone else saved this experiment while you edited it (now "
                               f"version {e.actual}). Your changes are kept below; check them "
                               "and save again."]}  # fmt: skip
                version = e.actual
            else:
                return RedirectResponse(experiment_url(experiment_id, "saved"), 303)
            with ctx.reading() as session:
                mission_id = _on_experiment(session, actor, experiment_id, "edit")
                experiment = svc.get_experiment(session, experiment_id)
            state = FormState(EDIT_FIELDS, form, errors)
            return registry_form(request, mission_id, state, experiment=experiment,
                                 status_code=422, version=version)  # fmt: skip

        return guarded(page)

    def experiment_page(
        request: Request,
        experiment_id: int,
        *,
        status_code: int = 200,
        typed: Mapping[str, Mapping[str, str]] | None = None,
        errors: Mapping[str, list[Problem]] | None = None,
    ) -> HTMLResponse:
        """The experiment, with each section's form holding what was typed and its
        problems when a POST was refused (``typed`` and ``errors`` by section)."""
        actor = web_actor(request)
        today = pages.today_of(request)
        with ctx.reading() as session:
            mission_id = _on_experiment(session, actor, experiment_id, "read")
            experiment = svc.get_experiment(session, experiment_id)
            mission = ctx.mission_header(session, actor, mission_id, today)
            rights = ctx.mission_rights(session, actor, mission_id)
        typed, errors = typed or {}, errors or {}
        who = actor.username if actor.signed_in else ""
        lock = typed.get("lock", {"locked_by": who})
        decide = typed.get("decide", {"decided_by": who, "decided_on": today.isoformat()})
        problems = {k: [str(p) for p in v] for k, v in errors.items()}
        forms = {
            "lock": FormState(LOCK_FIELDS, dict(lock),
                              field_errors(errors.get("lock", []), LOCK_FIELDS, lock)),
            "decide": FormState(DECISION_FIELDS, dict(decide),
                                field_errors(errors.get("decide", []), DECISION_FIELDS, decide)),
        }  # fmt: skip
        randomise = dict(typed.get("randomise", {"seed": str(secrets.randbelow(10**6))}))
        randomisation = None
        if experiment["randomisation"]:
            r = experiment["randomisation"]
            version = next(p for p in experiment["plan_versions"] if p["number"] == r["plan"])
            randomisation = helpers.assignment_check(version["content"], r["counts"])
        design = helpers.design_from_query(experiment, request.query_params)
        return render(
            request, "experiment.html", status_code, e=experiment, mission=mission,
            rights=rights, status=status_label(experiment), forms=forms, problems=problems,
            randomise=randomise, results=dict(typed.get("results", {})),
            randomisation=randomisation, design=design,
            analysis=analysis_view(experiment), stages=STAGE_LABELS, designs=DESIGN_LABELS,
            done=DONE.get(request.query_params.get("done", "")),
        )  # fmt: skip

    @router.get("/experiments/{experiment_id}", response_class=HTMLResponse, openapi_extra=READ)
    def experiment(request: Request, experiment_id: int) -> Response:
        return guarded(lambda: experiment_page(request, experiment_id))

    def refused(request: Request, experiment_id: int, section: str, form: Mapping[str, str],
                problems: list[Problem]) -> Response:  # fmt: skip
        return experiment_page(request, experiment_id, status_code=422,
                               typed={section: form}, errors={section: problems})  # fmt: skip

    @router.post("/experiments/{experiment_id}/lock", response_class=HTMLResponse,
                 openapi_extra=WRITE)  # fmt: skip
    async def lock(request: Request, experiment_id: int) -> Response:
        form = await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            payload = {
                "locked_by": form.get("locked_by", "").strip(),
                "note": form.get("note", "").strip(),
            }
            try:
                with ctx.database.transaction() as session:
                    _on_experiment(session, actor, experiment_id, "edit")
                    locked = svc.lock_plan(session, experiment_id, payload, actor=actor)
            except InvalidInput as e:
                return refused(request, experiment_id, "lock", form, e.problems)
            done = "locked" if locked["created"] else "unchanged"
            return RedirectResponse(experiment_url(experiment_id, done, "versions"), 303)

        return guarded(page)

    @router.post("/experiments/{experiment_id}/randomise", response_class=HTMLResponse,
                 openapi_extra=WRITE)  # fmt: skip
    async def randomise(request: Request, experiment_id: int) -> Response:
        form, uploaded, problems = await _upload_form(request)

        def page() -> Response:
            actor = web_actor(request)
            with ctx.reading() as session:  # 404 or 403 before reading any input
                _on_experiment(session, actor, experiment_id, "edit")
            if problems:
                return refused(request, experiment_id, "randomise", form, problems)
            lines: list[int] = []
            try:
                units, lines = helpers.parse_units(
                    uploaded if uploaded is not None else form.get("units", "")
                )
                with ctx.database.transaction() as session:
                    _on_experiment(session, actor, experiment_id, "edit")
                    payload = {"seed": form.get("seed", "").strip(), "units": units}
                    svc.randomise_units(session, experiment_id, payload, actor)
            except InvalidInput as e:
                named = helpers.rows_named(e.problems, "units", lines)
                return refused(request, experiment_id, "randomise", form, named)
            return RedirectResponse(
                experiment_url(experiment_id, "randomised", "randomisation"), 303
            )

        return guarded(page)

    @router.post("/experiments/{experiment_id}/results", response_class=HTMLResponse,
                 openapi_extra=WRITE)  # fmt: skip
    async def results(request: Request, experiment_id: int) -> Response:
        form, uploaded, problems = await _upload_form(request)

        def page() -> Response:
            actor = web_actor(request)
            with ctx.reading() as session:
                _on_experiment(session, actor, experiment_id, "edit")
            if problems:
                return refused(request, experiment_id, "results", form, problems)
            lines: list[int] = []
            text = uploaded if uploaded is not None else form.get("data", "")
            panel = form.get("mode") == "panel"
            try:
                if panel:
                    summary, lines = helpers.parse_panel(text, form.get("control_group", ""))
                elif form.get("mode") == "table":
                    summary = {"arms": helpers.arm_table(form)}
                elif form.get("kind") == "outcomes":
                    outcomes, lines = helpers.parse_outcomes(text)
                    summary = {"outcomes": outcomes}
                else:
                    summary = helpers.parse_summary(text)
                with ctx.database.transaction() as session:
                    _on_experiment(session, actor, experiment_id, "edit")
                    analyse = (
                        panels.analyse_experiment_panel if panel else analysis.analyse_experiment
                    )
                    analyse(session, experiment_id, summary, actor)
            except InvalidInput as e:
                named = helpers.rows_named(e.problems, "rows" if panel else "outcomes", lines)
                return refused(request, experiment_id, "results", form, named)
            return RedirectResponse(experiment_url(experiment_id, "analysed", "analysis"), 303)

        return guarded(page)

    @router.post("/experiments/{experiment_id}/decisions", response_class=HTMLResponse,
                 openapi_extra=WRITE)  # fmt: skip
    async def decide(request: Request, experiment_id: int) -> Response:
        form = await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            payload = {f.name: form.get(f.name, "").strip() for f in DECISION_FIELDS}
            try:
                with ctx.database.transaction() as session:
                    _on_experiment(session, actor, experiment_id, "edit")
                    svc.record_decision(session, experiment_id, payload, actor)
            except InvalidInput as e:
                return refused(request, experiment_id, "decide", form, e.problems)
            return RedirectResponse(experiment_url(experiment_id, "decided", "decisions"), 303)

        return guarded(page)

    return router
