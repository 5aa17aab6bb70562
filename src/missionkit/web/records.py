"""The pages of a mission's records (objectives, indicators with their observation forms,
activities) and of organisations, and the new/edit forms of the three record kinds that
belong to a mission, through the generic form handlers of ``web/editing.py``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor
from missionkit.domain.problems import InvalidInput, Problem
from missionkit.services import access, record_pages, records
from missionkit.services import forms as form_service
from missionkit.services.catalogue import ACTIVITIES, INDICATORS, OBJECTIVES, ORGANISATIONS
from missionkit.services.errors import NotFound
from missionkit.services.records import Resource
from missionkit.web import pages
from missionkit.web.context import (
    LIST,
    READ,
    WRITE,
    Check,
    PageContext,
    choices_of,
    guarded,
    indicator_chart,
    submitted,
    web_actor,
)
from missionkit.web.editing import Form, mount_form
from missionkit.web.forms import (
    ACTIVITY_FIELDS,
    INDICATOR_FIELDS,
    OBJECTIVE_FIELDS,
    OBSERVATION_FIELDS,
    Field,
    FormState,
    field_errors,
    form_values,
)

DEFAULTS: dict[str, dict[str, str]] = {
    OBJECTIVES.name: {"position": "0"},
    INDICATORS.name: {"method": "statcan", "direction": "increase"},
    ACTIVITIES.name: {"kind": "project", "instrument": "grant", "status": "active",
                      "currency": "EUR"},
}  # fmt: skip
"""What a new record's form starts with."""

PageData = Callable[[Session, int, dt.date], dict[str, Any]]
"""A record page's data from ``services.cockpit``: (session, record id, today)."""

_ROW = re.compile(r"^rows\[(\d+)\]\.?(.*)$")


def _row_problem(p: Problem) -> tuple[int | None, str]:
    """``rows[3].value`` -> ``(3, "value")``; other paths -> ``(None, path)``."""
    match = _ROW.match(p.path)
    return (int(match[1]), match[2]) if match else (None, p.path)


def _row_message(p: Problem) -> str:
    row, name = _row_problem(p)
    if row is None:
        return p.message
    return f"Row {row}, {name}: {p.message}" if name else f"Row {row}: {p.message}"


def mount_record_forms(
    ctx: PageContext, router: APIRouter, res: Resource, fields: Sequence[Field], noun: str
) -> None:
    """New (under a mission) and edit forms for objectives, indicators or activities:
    both take the right to edit the mission's content."""
    segment = res.name  # the record pages' path: /objectives/{id} and so on

    def child_form(mission_id: int, key: int | None) -> tuple[FormState, dict[str, Any] | None]:
        with ctx.reading() as session:
            objectives = form_service.objective_choices(
                session, mission_id, key if res is OBJECTIVES else None
            )
            record = records.get(session, res, key) if key is not None else None
        if record is not None and record["mission_id"] != mission_id:
            raise NotFound(f"no {res.label} {key} in this mission")
        choices: dict[str, Sequence[tuple[str, str]]] = {}
        if res is OBJECTIVES:
            choices["parent_id"] = choices_of(objectives, "— top level —")
        if res is INDICATORS:
            choices["objective_id"] = choices_of(objectives, "— the mission as a whole —")
        values = form_values(record, fields) if record else dict(DEFAULTS[res.name])
        return FormState(fields, values, {}, choices), record

    def editable(request: Request, mission_key: str | int) -> dict[str, Any]:
        """The mission's heading, once the rules let ``actor`` edit its content."""
        actor = web_actor(request)
        with ctx.reading() as session:
            mission_id = ctx.mission_for(session, actor, mission_key, "edit")
            return ctx.mission_header(session, actor, mission_id, dt.date.today())

    def check_edit(actor: Actor, mission_id: int) -> Check:
        def check(session: Session, payload: dict[str, Any]) -> None:
            access.require(actor, "edit", access.target(session, mission_id), res.label)

        return check

    def page_of(record: dict[str, Any]) -> str:
        return f"/{segment}/{record['id']}"

    def new_record(request: Request, key: str) -> Form:
        mission = editable(request, key)
        state, _ = child_form(mission["id"], None)
        return Form(
            title=f"New {noun}",
            action=f"/missions/{key}/{segment}/new",
            back=f"/missions/{mission['slug']}",
            state=state,
            res=res,
            key=None,
            fixed={"mission_id": mission["id"]},
            check=check_edit(web_actor(request), mission["id"]),
            done=page_of,
            mission=mission,
        )

    def edit_record(request: Request, record_id: int) -> Form:
        with ctx.reading() as session:
            record: dict[str, Any] = ctx.record_for(
                session, web_actor(request), res, record_id, "edit"
            )
        mission = editable(request, record["mission_id"])
        state, _ = child_form(record["mission_id"], record_id)
        return Form(
            title=f"Edit {noun}: {record.get('title') or record.get('name')}",
            action=f"/{segment}/{record_id}/edit",
            back=f"/{segment}/{record_id}",
            state=state,
            res=res,
            key=record_id,
            version=record["version"],
            check=check_edit(web_actor(request), record["mission_id"]),
            done=page_of,
            mission=mission,
        )

    mount_form(ctx, router, f"/missions/{{key}}/{segment}/new", new_record, key=("key", str))
    mount_form(ctx, router, f"/{segment}/{{record_id}}/edit", edit_record, key=("record_id", int))


def record_router(ctx: PageContext) -> APIRouter:
    """Record pages and forms; organisations are shared, so read under the "list" rule."""
    router = APIRouter(include_in_schema=False)
    render = pages.render
    mount_record_forms(ctx, router, OBJECTIVES, OBJECTIVE_FIELDS, "objective")
    mount_record_forms(ctx, router, INDICATORS, INDICATOR_FIELDS, "indicator")
    mount_record_forms(ctx, router, ACTIVITIES, ACTIVITY_FIELDS, "activity")

    def record_data(
        request: Request, res: Resource, record_id: int, load: PageData
    ) -> tuple[dict[str, Any], dict[str, bool], dt.date]:
        """A record page's data, once ``actor`` may read the record, with its mission's
        heading (as ``data["mission"]``), the reader's rights on it, and today's date."""
        today = pages.today_of(request)
        actor = web_actor(request)
        with ctx.reading() as session:
            record = ctx.record_for(session, actor, res, record_id, "read")
            data = load(session, record_id, today)
            data["mission"] = ctx.mission_header(session, actor, record["mission_id"], today)
            rights = ctx.mission_rights(session, actor, record["mission_id"])
        return data, rights, today

    @router.get("/objectives/{record_id}", response_class=HTMLResponse, openapi_extra=READ)
    def objective_page(request: Request, record_id: int) -> Response:
        def page() -> Response:
            data, rights, today = record_data(
                request, OBJECTIVES, record_id, record_pages.objective_page
            )
            for card in data["indicators"]:
                card["chart"] = indicator_chart(
                    card, f"chart-{card['id']}", data["mission"]["deadline"]
                )
            return render(request, "objective.html", today=today, rights=rights, **data)

        return guarded(page)

    def indicator_view(
        request: Request,
        record_id: int,
        *,
        single: FormState | None = None,
        batch: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        card, rights, today = record_data(
            request, INDICATORS, record_id, record_pages.indicator_page
        )
        card["chart"] = indicator_chart(card, "chart-main", card["mission"]["deadline"])
        return render(
            request,
            "indicator.html",
            status_code,
            card=card,
            mission=card["mission"],
            rights=rights,
            single=single or FormState(OBSERVATION_FIELDS, {}, {}),
            batch=batch or {"text": "", "errors": []},
            today=today,
        )

    @router.get("/indicators/{record_id}", response_class=HTMLResponse, openapi_extra=READ)
    def indicator_page(request: Request, record_id: int) -> Response:
        return guarded(lambda: indicator_view(request, record_id))

    @router.post("/indicators/{record_id}/observations", response_class=HTMLResponse,
                 openapi_extra=WRITE)  # fmt: skip
    async def add_observations(request: Request, record_id: int) -> Response:
        """New observations are progress reports: the API's "report" action."""
        form = await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            with ctx.reading() as session:  # 404 or 403 before parsing input
                ctx.record_for(session, actor, INDICATORS, record_id, "report")
            if form.get("mode") == "batch":
                text = form.get("csv", "")
                try:
                    rows = form_service.parse_observation_csv(text)
                    with ctx.database.transaction() as session:
                        ctx.record_for(session, actor, INDICATORS, record_id, "report")
                        form_service.add_observations(session, record_id, rows, actor)
                except InvalidInput as e:
                    batch = {"text": text, "errors": [_row_message(p) for p in e.problems]}
                    return indicator_view(request, record_id, batch=batch, status_code=422)
            else:
                row = {f.name: form.get(f.name, "").strip() for f in OBSERVATION_FIELDS}
                try:
                    with ctx.database.transaction() as session:
                        ctx.record_for(session, actor, INDICATORS, record_id, "report")
                        form_service.add_observations(
                            session, record_id, [{k: v for k, v in row.items() if v}], actor
                        )
                except InvalidInput as e:
                    problems = [Problem(_row_problem(p)[1], p.message) for p in e.problems]
                    state = FormState(
                        OBSERVATION_FIELDS, form, field_errors(problems, OBSERVATION_FIELDS, form)
                    )
                    return indicator_view(request, record_id, single=state, status_code=422)
            return RedirectResponse(f"/indicators/{record_id}#observations", status_code=303)

        return guarded(page)

    @router.get("/activities/{record_id}", response_class=HTMLResponse, openapi_extra=READ)
    def activity_page(request: Request, record_id: int) -> Response:
        def page() -> Response:
            data, rights, _ = record_data(
                request, ACTIVITIES, record_id, record_pages.activity_page
            )
            return render(request, "activity.html", rights=rights, **data)

        return guarded(page)

    @router.get("/organisations/{record_id}", response_class=HTMLResponse, openapi_extra=LIST)
    def organisation_page(request: Request, record_id: int) -> Response:
        """Organisations are shared by every mission; their activities are listed only
        from the missions the reader may see."""

        def page() -> Response:
            actor = web_actor(request)
            with ctx.reading() as session:
                organisation = records.get(session, ORGANISATIONS, record_id)
                activities = record_pages.organisation_activities(
                    session, record_id, ctx.readable(session, actor)
                )
            return render(
                request, "organisation.html", organisation=organisation, activities=activities
            )

        return guarded(page)

    return router
