"""The web pages: a router of thin handlers, each one service call and one template.

No SQL here: reads come from the services (cockpit, explorer, maps, progress, portfolio),
writes go through ``services.forms`` to the same records and rules as the API. Forms
follow post/redirect/get; a refused form is shown again with what was typed and each
problem next to its field (status 422).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import mimetypes
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from missionkit.api.auth import COOKIE, CSRF_FIELD, Limiters, actor_of, rule, set_session_cookie
from missionkit.domain.access import Action, Actor, Target, decide
from missionkit.domain.problems import InvalidInput, Problem
from missionkit.services import (
    access,
    accounts,
    cockpit,
    explorer,
    maps,
    portfolio,
    portfolio_report,
    records,
)
from missionkit.services import forms as form_service
from missionkit.services.catalogue import (
    ACTIVITIES,
    INDICATORS,
    MISSIONS,
    OBJECTIVES,
    ORGANISATIONS,
)
from missionkit.services.errors import NotFound, StaleVersion
from missionkit.services.records import Resource
from missionkit.store.db import Database
from missionkit.web import charts, pages
from missionkit.web.forms import (
    ACTIVITY_FIELDS,
    INDICATOR_FIELDS,
    MISSION_FIELDS,
    OBJECTIVE_FIELDS,
    OBSERVATION_FIELDS,
    Field,
    FormState,
    field_errors,
    form_values,
    to_payload,
)

STATIC = files("missionkit.web") / "static"
MAX_FORM_BYTES = 2 * 1024 * 1024  # a pasted CSV of observations fits many times over


SIGN_IN_COOKIE = "missionkit_sign_in"
"""The pre-session CSRF token of the sign-in form (double-submit: cookie and field)."""

PUBLIC = rule("public")
READ = rule("read")
LIST = rule("list")
WRITE = rule("write")
SIGNED_IN = rule("signed-in")


def web_actor(request: Request) -> Actor:
    """The request's actor; the audit trail names the pages as the interface, even for a
    script that sends its API token to a page."""
    actor = actor_of(request)
    return actor if actor.interface == "web" else dataclasses.replace(actor, interface="web")


def may(actor: Actor, action: Action, where: Target) -> bool:
    """For showing or hiding a link; the handler behind it asks again."""
    return decide(actor, action, where).allowed


def indicator_chart(card: Mapping[str, Any], chart_id: str, deadline: dt.date | None) -> str:
    """An indicator card as an SVG chart: whole-area observations, baseline, target, path."""
    whole = [o for o in card["observations"] if o["region"] is None]
    a = card["assessment"]
    baseline = (charts.decimal_year(card["baseline_date"]), card["baseline_value"])
    # The path starts where the assessment starts (its base point), as the method does.
    if a.get("base_year") is not None and a.get("base_value") is not None:
        baseline = (a["base_year"], a["base_value"])
    target = None
    if card["target_value"] is not None and card["target_date"] is not None:
        target = (charts.decimal_year(card["target_date"]), card["target_value"])
    forecast = None
    f = a.get("forecast")
    if f and all(f.get(k) is not None for k in ("year", "value", "low", "high")):
        forecast = (f["year"], f["value"], f["low"], f["high"])
    end = card["target_date"] or deadline
    return charts.indicator_svg(
        charts.IndicatorChart(
            name=card["name"],
            unit=card["unit"],
            observations=[(charts.decimal_year(o["date"]), o["value"]) for o in whole],
            baseline=baseline,
            target=target,
            deadline=charts.decimal_year(end) if end else None,
            status=card["status"],
            compound_path=card["method"] == "statcan",
            forecast=forecast,
        ),
        chart_id,
    )


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


def pages_router(database: Database) -> APIRouter:
    """Every page, bound to one database (as ``create_app`` binds the API).

    Each route declares its access rule like the API's; handlers ask ``services.access``
    about the mission or record they show or change, and refusals become pages
    (``web/pages.py``, through ``api/errors.py``).
    """
    router = APIRouter(include_in_schema=False)
    render = pages.render

    @contextmanager
    def reading() -> Iterator[Session]:
        with database.reading() as session:
            yield session

    def guarded(handler: Callable[[], Response]) -> Response:
        """Missing and hidden records give the same 404 page (no leak of existence)."""
        try:
            return handler()
        except NotFound as e:
            raise NotFound(pages.HIDDEN) from e

    def readable(session: Session, actor: Actor) -> frozenset[int] | None:
        return access.readable_missions(session, actor)

    def mission_for(session: Session, actor: Actor, key: str | int, action: Action) -> int:
        """The mission's id if ``actor`` may do ``action`` on it (404 when hidden)."""
        mission_id = maps.mission_id_for(session, key)
        access.require(actor, action, access.target(session, mission_id), "mission")
        return mission_id

    def record_for(session: Session, actor: Actor, res: Resource, key: int, action: Action) -> Any:
        record = records.get(session, res, key)
        access.require(actor, action, access.record_target(session, res, record), res.label)
        return record

    def mission_rights(session: Session, actor: Actor, mission_id: int) -> dict[str, bool]:
        where = access.target(session, mission_id)
        actions: tuple[Action, ...] = ("report", "edit", "audit", "manage")
        return {a: may(actor, a, where) for a in actions}

    def managed(actor: Actor) -> frozenset[int] | None:
        """Missions under which ``actor`` may create a sub-mission (None: all)."""
        if actor.is_admin and actor.token_mission is None:
            return None
        return frozenset(
            m for m, role in actor.roles.items() if may(actor, "manage", Target(m, False))
        )

    # --- static files, from the installed package ---------------------------------------

    @router.get("/static/web/{name}", openapi_extra=PUBLIC)
    def static(name: str) -> Response:
        asset = STATIC / name
        if "/" in name or name.startswith(".") or not asset.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(
            asset.read_bytes(),
            media_type=media,
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @router.get("/favicon.ico", openapi_extra=PUBLIC)
    def favicon() -> Response:
        return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml")

    # --- signing in and out ------------------------------------------------------------

    def sign_in_form(
        request: Request, next_path: str, *, error: str = "", username: str = "", status: int = 200
    ) -> HTMLResponse:
        actor = web_actor(request)
        token = getattr(request.state, "csrf_token", None) if actor.signed_in else None
        fresh = token is None
        token = token or secrets.token_urlsafe(32)
        response = render(
            request,
            "sign_in.html",
            status,
            next=next_path,
            error=error,
            username=username,
            form_token=token,
        )
        if fresh:
            response.set_cookie(
                SIGN_IN_COOKIE,
                token,
                max_age=3600,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
                path="/sign-in",
            )
        return response

    @router.get("/sign-in", response_class=HTMLResponse, openapi_extra=PUBLIC)
    def sign_in_page(request: Request) -> Response:
        return sign_in_form(request, pages.safe_next(request.query_params.get("next")))

    @router.post("/sign-in", response_class=HTMLResponse, openapi_extra=PUBLIC)
    async def sign_in(request: Request) -> Response:
        form = await submitted(request)
        next_path = pages.safe_next(form.get("next"))
        username = form.get("username", "").strip()[:64]
        actor = web_actor(request)
        # Signed in already: actor_of has checked the session's CSRF token. Otherwise the
        # form's token must match the cookie set with the form (double submit).
        if not actor.signed_in:
            presented, expected = form.get(CSRF_FIELD, ""), request.cookies.get(SIGN_IN_COOKIE, "")
            if not presented or not expected or not hmac.compare_digest(presented, expected):
                return sign_in_form(
                    request,
                    next_path,
                    error="The sign-in form expired. Please try again.",
                    username=username,
                    status=403,
                )
        limiters: Limiters = request.app.state.limiters
        client = request.client.host if request.client else "unknown"
        wait = limiters.sign_in.retry_after(client)
        if wait:
            response = sign_in_form(
                request,
                next_path,
                error="Too many sign-in attempts from here. Try again later.",
                username=username,
                status=429,
            )
            response.headers["Retry-After"] = str(max(1, round(wait)))
            return response
        try:
            signed_in = accounts.sign_in(database, username, form.get("password", "")[:1024])
        except accounts.SignInRefused as e:
            if e.throttled:
                response = sign_in_form(
                    request,
                    next_path,
                    error="Too many failed attempts for this account. Try again later.",
                    username=username,
                    status=429,
                )
                if e.retry_after is not None:
                    seconds = max(1, round(e.retry_after.total_seconds()))
                    response.headers["Retry-After"] = str(seconds)
                return response
            return sign_in_form(request, next_path, error=str(e), username=username, status=401)
        if actor.signed_in:  # signing in again ends the session it replaces
            with database.transaction() as session:
                accounts.end_session(session, request.cookies.get(COOKIE, ""))
        redirect = RedirectResponse(next_path, status_code=303)
        set_session_cookie(request, redirect, signed_in.session.cookie)
        redirect.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
        return redirect

    @router.post("/sign-out", openapi_extra=SIGNED_IN)
    def sign_out(request: Request) -> Response:
        with database.transaction() as session:
            accounts.end_session(session, request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- forms -------------------------------------------------------------------------

    def form_page(
        request: Request,
        *,
        title: str,
        action: str,
        state: FormState,
        back: str,
        status_code: int = 200,
        version: int | None = None,
        submit: str = "Save",
        mission: Mapping[str, Any] | None = None,
    ) -> HTMLResponse:
        return render(
            request,
            "form.html",
            status_code,
            title=title,
            action=action,
            form=state,
            back=back,
            version=version,
            submit=submit,
            mission=mission,
        )

    async def submitted(request: Request) -> dict[str, str]:
        """The form's fields (``enforce`` has parsed the form already, for its CSRF token);
        the pages post ``application/x-www-form-urlencoded`` only."""
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return {}
        form = await request.form()
        return {k: v for k, v in form.multi_items() if isinstance(v, str)}

    def save_form(
        *,
        actor: Actor,
        res: Resource,
        fields: Sequence[Field],
        form: dict[str, str],
        fixed: dict[str, Any],
        key: Any,
        check: Callable[[Session, dict[str, Any]], None],
        done: Callable[[dict[str, Any]], str],
        again: Callable[[FormState, int | None], HTMLResponse],
        choices: dict[str, Sequence[tuple[str, str]]],
    ) -> Response:
        """Check the rules on what is about to be written (``check``), then save it as
        ``actor`` in the same transaction, so the audit entry names them."""
        model: type[BaseModel] = res.create
        payload = to_payload(fields, model, form, editing=key is not None) | fixed
        version = int(form["version"]) if form.get("version", "").isdigit() else None
        try:
            with database.transaction() as session:
                check(session, payload)
                saved = form_service.save(session, res, payload, key, version, actor=actor)
                if res is MISSIONS and key is None:
                    access.grant_creator(session, actor, saved["id"])
        except InvalidInput as e:
            state = FormState(fields, form, field_errors(e.problems, fields, form), choices)
            return again(state, version)
        except StaleVersion as e:
            problem = Problem(
                "",
                f"Someone else saved this record while you edited it (now version "
                f"{e.actual}). Your changes are kept below; check them and save again.",
            )
            state = FormState(fields, form, field_errors([problem], fields, form), choices)
            return again(state, e.actual)
        return RedirectResponse(done(saved), status_code=303)

    def _choices(pairs: Sequence[tuple[int, str]], none_label: str) -> Sequence[tuple[str, str]]:
        return [("", none_label), *((str(i), title) for i, title in pairs)]

    def _parent(value: Any) -> int | None:
        text = str(value or "").strip()
        return int(text) if text.isdigit() else None

    # Missions

    def mission_form(actor: Actor, key: int | None) -> tuple[FormState, dict[str, Any] | None]:
        with reading() as session:
            record = records.get(session, MISSIONS, key) if key is not None else None
            among = managed(actor)
            parent = record["parent_id"] if record else None
            hidden_parent: list[tuple[str, str]] = []
            if among is not None and parent is not None:
                # Editing keeps the current parent, even one the editor may not choose;
                # its title shows only to those who may read it.
                visible = readable(session, actor)
                if visible is None or parent in visible:
                    among = among | {parent}
                else:
                    hidden_parent = [(str(parent), "the current parent (not visible to you)")]
            pairs = form_service.mission_choices(session, key, among)
            choices: dict[str, Sequence[tuple[str, str]]] = {
                "parent_id": [*_choices(pairs, "— none —"), *hidden_parent]
            }
        values = (
            form_values(record, MISSION_FIELDS)
            if record
            else {"level": "national", "status": "active"}
        )
        return FormState(MISSION_FIELDS, values, {}, choices), record

    def may_create_mission(actor: Actor) -> None:
        """The new-mission form: administrators (top level) and owners (sub-missions)."""
        among = managed(actor)
        if among is None or among:
            return
        access.require(actor, "manage", Target(None), "mission")

    def check_new_mission(actor: Actor) -> Callable[[Session, dict[str, Any]], None]:
        def check(session: Session, payload: dict[str, Any]) -> None:
            parent = _parent(payload.get("parent_id"))
            where = access.target(session, parent) if parent is not None else Target(None)
            access.require(actor, "manage", where, "parent mission")

        return check

    @router.get("/missions/new", response_class=HTMLResponse, openapi_extra=WRITE)
    def new_mission(request: Request) -> HTMLResponse:
        actor = web_actor(request)
        may_create_mission(actor)
        state, _ = mission_form(actor, None)
        return form_page(
            request, title="New mission", action="/missions/new", state=state, back="/"
        )

    @router.post("/missions/new", response_class=HTMLResponse, openapi_extra=WRITE)
    async def create_mission(request: Request) -> Response:
        form = await submitted(request)
        actor = web_actor(request)
        state, _ = mission_form(actor, None)
        return save_form(
            actor=actor,
            res=MISSIONS,
            fields=MISSION_FIELDS,
            form=form,
            fixed={},
            key=None,
            check=check_new_mission(actor),
            done=lambda m: f"/missions/{m['slug']}",
            again=lambda s, v: form_page(
                request,
                title="New mission",
                action="/missions/new",
                state=s,
                back="/",
                status_code=422,
            ),
            choices=state.choices,
        )

    # --- missions ----------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse, openapi_extra=LIST)
    def index(request: Request) -> HTMLResponse:
        today = pages.today_of(request)
        actor = web_actor(request)
        with reading() as session:
            missions = cockpit.missions_overview(session, today, readable(session, actor))
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
            with reading() as session:
                mission_id = mission_for(session, actor, key, "read")
                data = cockpit.cockpit(session, mission_id, today, readable(session, actor))
                rights = mission_rights(session, actor, mission_id)
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
            return render(request, "cockpit.html", today=today, rights=rights, **data)

        return guarded(page)

    @router.get("/missions/{key}/findings", response_class=HTMLResponse, openapi_extra=READ)
    def findings(request: Request, key: str) -> Response:
        """The portfolio's headline findings as a page fragment (the cockpit loads it)."""

        def page() -> Response:
            with reading() as session:
                mission_id = mission_for(session, web_actor(request), key, "read")
                analysis = portfolio.portfolio_analysis(session, mission_id)
            return render(request, "findings.html", analysis=analysis)

        return guarded(page)

    @router.get("/missions/{key}/report", response_class=HTMLResponse, openapi_extra=READ)
    def report(request: Request, key: str) -> Response:
        """The portfolio report's sections (``portfolio_report``), in the site's layout."""

        def page() -> Response:
            actor = web_actor(request)
            with reading() as session:
                mission_id = mission_for(session, actor, key, "read")
                mission = cockpit.mission_header(
                    session, mission_id, pages.today_of(request), readable(session, actor)
                )
                analysis = portfolio.portfolio_analysis(session, mission_id)
            sections = portfolio_report.report_sections(analysis)
            return render(request, "report.html", mission=mission, sections=sections)

        return guarded(page)

    @router.get("/missions/{key}/report.{kind}", openapi_extra=READ)
    def report_file(request: Request, key: str, kind: str) -> Response:
        """The same report as a standalone HTML page or a workbook, to mail to a board."""

        def page() -> Response:
            with reading() as session:
                mission_id = mission_for(session, web_actor(request), key, "read")
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
            with reading() as session:
                mission_id = mission_for(session, web_actor(request), key, "read")
                tree = maps.mission_map(session, mission_id)
            return render(
                request,
                "map.html",
                map=tree,
                mission=tree["mission"],
                today=pages.today_of(request),
            )

        return guarded(page)

    # --- explorer ----------------------------------------------------------------------

    def _explorer_input(request: Request, key: str) -> tuple[dict[str, Any], explorer.Filters]:
        actor = web_actor(request)
        with reading() as session:
            mission_id = mission_for(session, actor, key, "read")
            mission = cockpit.mission_header(
                session, mission_id, pages.today_of(request), readable(session, actor)
            )
        return mission, explorer.Filters.parse(dict(request.query_params))

    @router.get("/missions/{key}/portfolio", response_class=HTMLResponse, openapi_extra=READ)
    def explorer_page(request: Request, key: str) -> Response:
        def page() -> Response:
            mission, f = _explorer_input(request, key)
            with reading() as session:
                result = explorer.explore(session, mission["id"], f)
                options = explorer.facets(session, mission["id"])
            currency = options["currency"]

            def link(**changes: Any) -> str:
                params = f.query_params(**changes)
                return f"?{urlencode(params)}" if params else "?"

            def sort_link(column: str) -> str:
                current = f.sort
                wanted = column if current != column else f"-{column}"
                if column in ("budget", "total_cost") and current != f"-{column}":
                    wanted = f"-{column}"
                return link(sort=wanted, page=1)

            export = urlencode(f.query_params(page=1))
            return render(
                request,
                "explorer.html",
                mission=mission,
                f=f,
                result=result,
                options=options,
                currency=currency,
                link=link,
                sort_link=sort_link,
                export_query=f"?{export}" if export else "",
                errors={p.path: p.message for p in f.problems},
            )

        return guarded(page)

    def _export(request: Request, key: str, kind: str) -> Response:
        mission, f = _explorer_input(request, key)
        if f.problems:
            return Response(
                "; ".join(str(p) for p in f.problems), status_code=422, media_type="text/plain"
            )
        name = f"{mission['slug']}-activities.{kind}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        if kind == "xlsx":
            with reading() as session:
                body = explorer.to_xlsx(explorer.export_rows(session, mission["id"], f))
            return Response(
                body,
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers=disposition,
            )

        def stream() -> Iterator[str]:
            with reading() as session:
                yield from explorer.to_csv(explorer.export_rows(session, mission["id"], f))

        return StreamingResponse(
            stream(), media_type="text/csv; charset=utf-8", headers=disposition
        )

    @router.get("/missions/{key}/portfolio.csv", openapi_extra=READ)
    def export_csv(request: Request, key: str) -> Response:
        return guarded(lambda: _export(request, key, "csv"))

    @router.get("/missions/{key}/portfolio.xlsx", openapi_extra=READ)
    def export_xlsx(request: Request, key: str) -> Response:
        return guarded(lambda: _export(request, key, "xlsx"))

    def edit_mission_page(
        request: Request, record: dict[str, Any], state: FormState, version: int | None,
        status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        return form_page(
            request,
            title=f"Edit mission: {record['title']}",
            action=f"/missions/{record['id']}/edit",
            state=state,
            back=f"/missions/{record['slug']}",
            version=version,
            status_code=status_code,
        )

    @router.get("/missions/{key}/edit", response_class=HTMLResponse, openapi_extra=WRITE)
    def edit_mission(request: Request, key: str) -> Response:
        def page() -> Response:
            actor = web_actor(request)
            with reading() as session:
                mission_id = mission_for(session, actor, key, "edit")
            state, record = mission_form(actor, mission_id)
            assert record is not None
            return edit_mission_page(request, record, state, record["version"])

        return guarded(page)

    def check_mission_change(
        actor: Actor, stored: dict[str, Any]
    ) -> Callable[[Session, dict[str, Any]], None]:
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

    @router.post("/missions/{key}/edit", response_class=HTMLResponse, openapi_extra=WRITE)
    async def update_mission(request: Request, key: str) -> Response:
        form = await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            with reading() as session:
                mission_id = mission_for(session, actor, key, "edit")
            state, record = mission_form(actor, mission_id)
            assert record is not None
            return save_form(
                actor=actor,
                res=MISSIONS,
                fields=MISSION_FIELDS,
                form=form,
                fixed={},
                key=mission_id,
                check=check_mission_change(actor, record),
                done=lambda m: f"/missions/{m['slug']}",
                again=lambda s, v: edit_mission_page(request, record, s, v, 422),
                choices=state.choices,
            )

        return guarded(page)

    # Objectives, indicators and activities belong to a mission: one pattern for all three.

    def child_form(
        res: Resource, fields: Sequence[Field], mission_id: int, key: int | None
    ) -> tuple[FormState, dict[str, Any] | None]:
        with reading() as session:
            objectives = form_service.objective_choices(
                session, mission_id, key if res is OBJECTIVES else None
            )
            record = records.get(session, res, key) if key is not None else None
        if record is not None and record["mission_id"] != mission_id:
            raise NotFound(f"no {res.label} {key} in this mission")
        choices: dict[str, Sequence[tuple[str, str]]] = {}
        if res is OBJECTIVES:
            choices["parent_id"] = _choices(objectives, "— top level —")
        if res is INDICATORS:
            choices["objective_id"] = _choices(objectives, "— the mission as a whole —")
        defaults = {
            OBJECTIVES.name: {"position": "0"},
            INDICATORS.name: {"method": "statcan", "direction": "increase"},
            ACTIVITIES.name: {"kind": "project", "instrument": "grant", "status": "active",
                              "currency": "EUR"},
        }[res.name]  # fmt: skip
        values = form_values(record, fields) if record else defaults
        return FormState(fields, values, {}, choices), record

    def mount_child(
        res: Resource, fields: Sequence[Field], segment: str, noun: str, page_of: str
    ) -> None:
        def new_url(mission_key: str) -> str:
            return f"/missions/{mission_key}/{segment}/new"

        def editable(request: Request, mission_key: str | int) -> dict[str, Any]:
            """The mission's heading, once the rules let ``actor`` edit its content."""
            actor = web_actor(request)
            with reading() as session:
                mission_id = mission_for(session, actor, mission_key, "edit")
                return cockpit.mission_header(
                    session, mission_id, dt.date.today(), readable(session, actor)
                )

        def check_edit(actor: Actor, mission_id: int) -> Callable[[Session, dict[str, Any]], None]:
            def check(session: Session, payload: dict[str, Any]) -> None:
                access.require(actor, "edit", access.target(session, mission_id), res.label)

            return check

        @router.get(
            f"/missions/{{key}}/{segment}/new", response_class=HTMLResponse, openapi_extra=WRITE
        )
        def new_child(request: Request, key: str) -> Response:
            def page() -> Response:
                mission = editable(request, key)
                state, _ = child_form(res, fields, mission["id"], None)
                return form_page(
                    request,
                    title=f"New {noun}",
                    action=new_url(key),
                    state=state,
                    back=f"/missions/{mission['slug']}",
                    mission=mission,
                )

            return guarded(page)

        async def create_child(request: Request, key: str) -> Response:
            form = await submitted(request)

            def page() -> Response:
                mission = editable(request, key)
                state, _ = child_form(res, fields, mission["id"], None)
                return save_form(
                    actor=web_actor(request),
                    res=res,
                    fields=fields,
                    form=form,
                    fixed={"mission_id": mission["id"]},
                    key=None,
                    check=check_edit(web_actor(request), mission["id"]),
                    done=lambda r: f"/{page_of}/{r['id']}",
                    again=lambda s, v: form_page(
                        request,
                        title=f"New {noun}",
                        action=new_url(key),
                        state=s,
                        back=f"/missions/{mission['slug']}",
                        mission=mission,
                        status_code=422,
                    ),
                    choices=state.choices,
                )

            return guarded(page)

        router.add_api_route(
            f"/missions/{{key}}/{segment}/new",
            create_child,
            methods=["POST"],
            response_class=HTMLResponse,
            openapi_extra=WRITE,
        )

        def record_of(request: Request, record_id: int) -> dict[str, Any]:
            with reading() as session:
                found: dict[str, Any] = record_for(
                    session, web_actor(request), res, record_id, "edit"
                )
                return found

        @router.get(f"/{page_of}/{{record_id}}/edit", response_class=HTMLResponse,
                    openapi_extra=WRITE)  # fmt: skip
        def edit_child(request: Request, record_id: int) -> Response:
            def page() -> Response:
                record = record_of(request, record_id)
                mission = editable(request, record["mission_id"])
                state, _ = child_form(res, fields, record["mission_id"], record_id)
                return form_page(
                    request,
                    title=f"Edit {noun}: {record.get('title') or record.get('name')}",
                    action=f"/{page_of}/{record_id}/edit",
                    state=state,
                    back=f"/{page_of}/{record_id}",
                    version=record["version"],
                    mission=mission,
                )

            return guarded(page)

        async def update_child(request: Request, record_id: int) -> Response:
            form = await submitted(request)

            def page() -> Response:
                record = record_of(request, record_id)
                mission = editable(request, record["mission_id"])
                state, _ = child_form(res, fields, record["mission_id"], record_id)
                return save_form(
                    actor=web_actor(request),
                    res=res,
                    fields=fields,
                    form=form,
                    fixed={},
                    key=record_id,
                    check=check_edit(web_actor(request), record["mission_id"]),
                    done=lambda r: f"/{page_of}/{r['id']}",
                    again=lambda s, v: form_page(
                        request,
                        title=f"Edit {noun}: {record.get('title') or record.get('name')}",
                        action=f"/{page_of}/{record_id}/edit",
                        state=s,
                        back=f"/{page_of}/{record_id}",
                        version=v,
                        mission=mission,
                        status_code=422,
                    ),
                    choices=state.choices,
                )

            return guarded(page)

        router.add_api_route(
            f"/{page_of}/{{record_id}}/edit",
            update_child,
            methods=["POST"],
            response_class=HTMLResponse,
            openapi_extra=WRITE,
        )

    mount_child(OBJECTIVES, OBJECTIVE_FIELDS, "objectives", "objective", "objectives")
    mount_child(INDICATORS, INDICATOR_FIELDS, "indicators", "indicator", "indicators")
    mount_child(ACTIVITIES, ACTIVITY_FIELDS, "activities", "activity", "activities")

    # --- record pages ------------------------------------------------------------------

    @router.get("/objectives/{record_id}", response_class=HTMLResponse, openapi_extra=READ)
    def objective_page(request: Request, record_id: int) -> Response:
        def page() -> Response:
            today = pages.today_of(request)
            actor = web_actor(request)
            with reading() as session:
                record = record_for(session, actor, OBJECTIVES, record_id, "read")
                data = cockpit.objective_page(session, record_id, today)
                data["mission"] = cockpit.mission_header(
                    session, record["mission_id"], today, readable(session, actor)
                )
                rights = mission_rights(session, actor, record["mission_id"])
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
        today = pages.today_of(request)
        actor = web_actor(request)
        with reading() as session:
            record = record_for(session, actor, INDICATORS, record_id, "read")
            card = cockpit.indicator_page(session, record_id, today)
            card["mission"] = cockpit.mission_header(
                session, record["mission_id"], today, readable(session, actor)
            )
            rights = mission_rights(session, actor, record["mission_id"])
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
            with reading() as session:  # 404 or 403 before parsing input
                record_for(session, actor, INDICATORS, record_id, "report")
            if form.get("mode") == "batch":
                text = form.get("csv", "")
                try:
                    rows = form_service.parse_observation_csv(text)
                    with database.transaction() as session:
                        record_for(session, actor, INDICATORS, record_id, "report")
                        form_service.add_observations(session, record_id, rows, actor)
                except InvalidInput as e:
                    batch = {"text": text, "errors": [_row_message(p) for p in e.problems]}
                    return indicator_view(request, record_id, batch=batch, status_code=422)
            else:
                row = {f.name: form.get(f.name, "").strip() for f in OBSERVATION_FIELDS}
                try:
                    with database.transaction() as session:
                        record_for(session, actor, INDICATORS, record_id, "report")
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
            today = pages.today_of(request)
            actor = web_actor(request)
            with reading() as session:
                record = record_for(session, actor, ACTIVITIES, record_id, "read")
                data = cockpit.activity_page(session, record_id, today)
                data["mission"] = cockpit.mission_header(
                    session, record["mission_id"], today, readable(session, actor)
                )
                rights = mission_rights(session, actor, record["mission_id"])
            return render(request, "activity.html", rights=rights, **data)

        return guarded(page)

    @router.get("/organisations/{record_id}", response_class=HTMLResponse, openapi_extra=LIST)
    def organisation_page(request: Request, record_id: int) -> Response:
        """Organisations are shared by every mission; their activities are listed only
        from the missions the reader may see."""

        def page() -> Response:
            actor = web_actor(request)
            with reading() as session:
                organisation = records.get(session, ORGANISATIONS, record_id)
                activities = cockpit.organisation_activities(
                    session, record_id, readable(session, actor)
                )
            return render(
                request, "organisation.html", organisation=organisation, activities=activities
            )

        return guarded(page)

    return router
