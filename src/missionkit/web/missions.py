"""The mission pages: the list, the cockpit, its findings, report and map, and the
new/edit mission forms (through the generic form handlers of ``web/editing.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor, Target
from missionkit.services import (
    access,
    cockpit,
    mapping,
    maps,
    portfolio,
    portfolio_report,
    records,
)
from missionkit.services import forms as form_service
from missionkit.services.catalogue import MISSIONS
from missionkit.web import charts, pages
from missionkit.web.context import (
    LIST,
    READ,
    Check,
    PageContext,
    choices_of,
    guarded,
    indicator_chart,
    managed,
    web_actor,
)
from missionkit.web.editing import Form, Load, mount_form
from missionkit.web.forms import MISSION_FIELDS, FormState, form_values


def _parent(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def may_create_mission(actor: Actor) -> None:
    """The new-mission form: administrators (top level) and owners (sub-missions)."""
    among = managed(actor)
    if among is None or among:
        return
    access.require(actor, "manage", Target(None), "mission")


def check_new_mission(actor: Actor) -> Check:
    def check(session: Session, payload: dict[str, Any]) -> None:
        parent = _parent(payload.get("parent_id"))
        where = access.target(session, parent) if parent is not None else Target(None)
        access.require(actor, "manage", where, "parent mission")

    return check


def check_mission_change(actor: Actor, stored: dict[str, Any]) -> Check:
    """As the API's PATCH: moving a mission under another parent takes its owner and
    the new parent's owner; the rest of the form takes an editor."""

    def check(session: Session, payload: dict[str, Any]) -> None:
        parent = _parent(payload.get("parent_id"))
        moving = parent != stored["parent_id"]
        where = access.target(session, stored["id"])
        access.require(actor, "manage" if moving else "edit", where, "mission")
        if moving and parent is not None:
            access.require(actor, "manage", access.target(session, parent), "parent mission")

    return check


def _mission_url(mission: dict[str, Any]) -> str:
    return f"/missions/{mission['slug']}"


def mission_forms(ctx: PageContext) -> tuple[Load, Load]:
    """The new-mission and edit-mission forms, for ``mount_form``."""

    def mission_form(actor: Actor, key: int | None) -> tuple[FormState, dict[str, Any] | None]:
        with ctx.reading() as session:
            record = records.get(session, MISSIONS, key) if key is not None else None
            among = managed(actor)
            parent = record["parent_id"] if record else None
            hidden_parent: list[tuple[str, str]] = []
            if among is not None and parent is not None:
                # Editing keeps the current parent, even one the editor may not choose;
                # its title shows only to those who may read it.
                visible = ctx.readable(session, actor)
                if visible is None or parent in visible:
                    among = among | {parent}
                else:
                    hidden_parent = [(str(parent), "the current parent (not visible to you)")]
            pairs = form_service.mission_choices(session, key, among)
            choices: dict[str, Sequence[tuple[str, str]]] = {
                "parent_id": [*choices_of(pairs, "— none —"), *hidden_parent]
            }
        values = (
            form_values(record, MISSION_FIELDS)
            if record
            else {"level": "national", "status": "active"}
        )
        return FormState(MISSION_FIELDS, values, {}, choices), record

    def new_mission(request: Request, _: None) -> Form:
        actor = web_actor(request)
        state, _record = mission_form(actor, None)
        return Form(
            title="New mission",
            action="/missions/new",
            back="/",
            state=state,
            res=MISSIONS,
            key=None,
            check=check_new_mission(actor),
            done=_mission_url,
        )

    def edit_mission(request: Request, key: str) -> Form:
        actor = web_actor(request)
        with ctx.reading() as session:
            mission_id = ctx.mission_for(session, actor, key, "edit")
        state, record = mission_form(actor, mission_id)
        assert record is not None
        return Form(
            title=f"Edit mission: {record['title']}",
            action=f"/missions/{record['id']}/edit",
            back=_mission_url(record),
            state=state,
            res=MISSIONS,
            key=mission_id,
            version=record["version"],
            check=check_mission_change(actor, record),
            done=_mission_url,
        )

    return new_mission, edit_mission


def mission_router(ctx: PageContext) -> APIRouter:
    """The missions list, a mission's cockpit and the pages reached from it."""
    router = APIRouter(include_in_schema=False)
    render = pages.render
    new_mission, edit_mission = mission_forms(ctx)
    # Before "/missions/{key}", which would take "new" for a mission's key.
    mount_form(
        ctx, router, "/missions/new", new_mission, opening=may_create_mission, hide_missing=False
    )

    @router.get("/", response_class=HTMLResponse, openapi_extra=LIST)
    def index(request: Request) -> HTMLResponse:
        today = pages.today_of(request)
        actor = web_actor(request)
        with ctx.reading() as session:
            missions = cockpit.missions_overview(session, today, ctx.readable(session, actor))
        among = managed(actor)
        return render(
            request,
            "missions.html",
            missions=missions,
            today=today,
            may_create=among is None or bool(among),
        )

    @router.get("/missions/{key}", response_class=HTMLResponse, openapi_extra=READ)
    def mission_page(request: Request, key: str) -> Response:
        def page() -> Response:
            today = pages.today_of(request)
            actor = web_actor(request)
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, actor, key, "read")
                data = cockpit.cockpit(session, mission_id, today, ctx.readable(session, actor))
                rights = ctx.mission_rights(session, actor, mission_id)
                suggested = mapping.count_suggestions(session, mission_id) if rights["edit"] else 0
            deadline = data["mission"]["deadline"]
            for card in data["indicators"]:
                card["chart"] = indicator_chart(card, f"chart-{card['id']}", deadline)
            p = data["portfolio"]
            cur = p["currency"] or ""
            data["instrument_chart"] = charts.bar_svg(
                [(r["key"] or "none", float(r["budget"])) for r in p["by_instrument"]],
                cur,
                "bars-instrument",
                "Budget by instrument",
            )
            data["stage_chart"] = charts.bar_svg(
                [(r["key"] or "not given", float(r["budget"])) for r in p["by_stage"]],
                cur,
                "bars-stage",
                "Budget by innovation stage",
            )
            spread = data["regions"]
            data["tile_map"] = (
                charts.tile_map_svg(
                    {c["code"]: c["share"] or 0.0 for c in spread["countries"]},
                    {c["code"]: c["name"] for c in spread["countries"]},
                    "tiles-countries",
                )
                if any(c["code"] in charts.EUROPE_TILES for c in spread["countries"])
                else None
            )
            return render(
                request, "cockpit.html", today=today, rights=rights, suggested=suggested, **data
            )

        return guarded(page)

    @router.get("/missions/{key}/findings", response_class=HTMLResponse, openapi_extra=READ)
    def findings(request: Request, key: str) -> Response:
        """The portfolio's headline findings as a page fragment (the cockpit loads it)."""

        def page() -> Response:
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, web_actor(request), key, "read")
                analysis = portfolio.portfolio_analysis(session, mission_id)
            return render(request, "findings.html", analysis=analysis)

        return guarded(page)

    @router.get("/missions/{key}/report", response_class=HTMLResponse, openapi_extra=READ)
    def report(request: Request, key: str) -> Response:
        """The portfolio report's sections (``portfolio_report``), in the site's layout."""

        def page() -> Response:
            actor = web_actor(request)
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, actor, key, "read")
                mission = ctx.mission_header(session, actor, mission_id, pages.today_of(request))
                analysis = portfolio.portfolio_analysis(session, mission_id)
            sections = portfolio_report.report_sections(analysis)
            return render(request, "report.html", mission=mission, sections=sections)

        return guarded(page)

    @router.get("/missions/{key}/report.{kind}", openapi_extra=READ)
    def report_file(request: Request, key: str, kind: str) -> Response:
        """The same report as a standalone HTML page or a workbook, to mail to a board."""

        def page() -> Response:
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, web_actor(request), key, "read")
                if kind not in ("html", "xlsx"):
                    return pages.not_found(request, f"No report format {kind!r} (html or xlsx).")
                analysis = portfolio.portfolio_analysis(session, mission_id)
            name = f"{analysis['mission']['slug']}-portfolio-report.{kind}"
            headers = {"Content-Disposition": f'attachment; filename="{name}"'}
            if kind == "html":
                return HTMLResponse(portfolio_report.render_html(analysis), headers=headers)
            return Response(
                portfolio_report.render_xlsx(analysis),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers=headers,
            )

        return guarded(page)

    @router.get("/missions/{key}/map", response_class=HTMLResponse, openapi_extra=READ)
    def map_page(request: Request, key: str) -> Response:
        def page() -> Response:
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, web_actor(request), key, "read")
                tree = maps.mission_map(session, mission_id)
            return render(
                request,
                "map.html",
                map=tree,
                mission=tree["mission"],
                today=pages.today_of(request),
            )

        return guarded(page)

    mount_form(ctx, router, "/missions/{key}/edit", edit_mission, key=("key", str))
    return router
