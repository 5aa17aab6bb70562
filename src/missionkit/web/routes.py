"""The web pages: a router of thin handlers, each one service call and one template.

No SQL here: reads come from the services (cockpit, explorer, maps, progress, portfolio),
writes go through ``services.forms`` to the same records and rules as the API. Forms
follow post/redirect/get; a refused form is shown again with what was typed and each
problem next to its field (status 422).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel
from sqlalchemy.orm import Session

from missionkit import __version__
from missionkit.domain.problems import InvalidInput, Problem
from missionkit.services import cockpit, explorer, maps, portfolio, portfolio_report, records
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
from missionkit.web import charts
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


def _money(amount: Any, currency: str | None) -> str:
    if amount is None:
        return "–"
    value = float(amount)
    text = charts.format_number(value) if value >= 1e4 else f"{value:,.0f}"
    return f"{currency or ''} {text}".strip()


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("missionkit.web", "templates"), autoescape=select_autoescape()
    )
    env.globals.update(
        version=__version__,
        status_style=charts.status_style,
        STATUS_STYLE=charts.STATUS_STYLE,
        fmt=charts.format_number,
    )
    env.filters.update(money=_money, pct=_pct)
    return env


def _today(request: Request) -> dt.date:
    """``?as_of=YYYY-MM-DD`` lets a user (and the tests) see the pages as of another day."""
    raw = request.query_params.get("as_of", "")
    try:
        return dt.date.fromisoformat(raw) if raw else dt.date.today()
    except ValueError:
        return dt.date.today()


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
    """Every page, bound to one database (as ``create_app`` binds the API)."""
    router = APIRouter(include_in_schema=False)
    env = _templates()

    def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code)

    @contextmanager
    def reading() -> Iterator[Session]:
        with database.reading() as session:
            yield session

    def not_found(message: str) -> HTMLResponse:
        return render("not_found.html", 404, message=message)

    def guarded(handler: Callable[[], Response]) -> Response:
        try:
            return handler()
        except NotFound as e:
            return not_found(str(e))

    # --- static files, from the installed package ---------------------------------------

    @router.get("/static/web/{name}")
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

    @router.get("/favicon.ico")
    def favicon() -> Response:
        return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml")

    # --- forms -------------------------------------------------------------------------

    def form_page(
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
        """The form's fields; the pages post ``application/x-www-form-urlencoded`` only."""
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return {}
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def save_form(
        *,
        res: Resource,
        fields: Sequence[Field],
        form: dict[str, str],
        fixed: dict[str, Any],
        key: Any,
        done: Callable[[dict[str, Any]], str],
        again: Callable[[FormState, int | None], HTMLResponse],
        choices: dict[str, Sequence[tuple[str, str]]],
    ) -> Response:
        model: type[BaseModel] = res.create
        payload = to_payload(fields, model, form, editing=key is not None) | fixed
        version = int(form["version"]) if form.get("version", "").isdigit() else None
        try:
            with database.transaction() as session:
                saved = form_service.save(session, res, payload, key, version)
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

    # Missions

    def mission_form(key: int | None) -> tuple[FormState, dict[str, Any] | None]:
        with reading() as session:
            choices = {
                "parent_id": _choices(form_service.mission_choices(session, key), "— none —")
            }
            record = records.get(session, MISSIONS, key) if key is not None else None
        values = (
            form_values(record, MISSION_FIELDS)
            if record
            else {"level": "national", "status": "active"}
        )
        return FormState(MISSION_FIELDS, values, {}, choices), record

    @router.get("/missions/new", response_class=HTMLResponse)
    def new_mission() -> HTMLResponse:
        state, _ = mission_form(None)
        return form_page(title="New mission", action="/missions/new", state=state, back="/")

    @router.post("/missions/new", response_class=HTMLResponse)
    async def create_mission(request: Request) -> Response:
        form = await submitted(request)
        state, _ = mission_form(None)
        return save_form(
            res=MISSIONS,
            fields=MISSION_FIELDS,
            form=form,
            fixed={},
            key=None,
            done=lambda m: f"/missions/{m['slug']}",
            again=lambda s, v: form_page(
                title="New mission", action="/missions/new", state=s, back="/", status_code=422
            ),
            choices=state.choices,
        )

    # --- missions ----------------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        today = _today(request)
        with reading() as session:
            missions = cockpit.missions_overview(session, today)
        return render("missions.html", missions=missions, today=today)

    @router.get("/missions/{key}", response_class=HTMLResponse)
    def mission_page(request: Request, key: str) -> Response:
        def page() -> Response:
            today = _today(request)
            with reading() as session:
                data = cockpit.cockpit(session, key, today)
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
            return render("cockpit.html", today=today, **data)

        return guarded(page)

    @router.get("/missions/{key}/findings", response_class=HTMLResponse)
    def findings(key: str) -> Response:
        """The portfolio's headline findings as a page fragment (the cockpit loads it)."""

        def page() -> Response:
            with reading() as session:
                analysis = portfolio.portfolio_analysis(session, key)
            return render("findings.html", analysis=analysis)

        return guarded(page)

    @router.get("/missions/{key}/report", response_class=HTMLResponse)
    def report(request: Request, key: str) -> Response:
        """The portfolio report's sections (``portfolio_report``), in the site's layout."""

        def page() -> Response:
            with reading() as session:
                mission = cockpit.mission_header(session, key, _today(request))
                analysis = portfolio.portfolio_analysis(session, key)
            sections = portfolio_report.report_sections(analysis)
            return render("report.html", mission=mission, sections=sections)

        return guarded(page)

    @router.get("/missions/{key}/report.{kind}")
    def report_file(key: str, kind: str) -> Response:
        """The same report as a standalone HTML page or a workbook, to mail to a board."""

        def page() -> Response:
            if kind not in ("html", "xlsx"):
                return not_found(f"no report format {kind!r} (html or xlsx)")
            with reading() as session:
                analysis = portfolio.portfolio_analysis(session, key)
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

    @router.get("/missions/{key}/map", response_class=HTMLResponse)
    def map_page(request: Request, key: str) -> Response:
        def page() -> Response:
            with reading() as session:
                tree = maps.mission_map(session, key)
            return render("map.html", map=tree, mission=tree["mission"], today=_today(request))

        return guarded(page)

    # --- explorer ----------------------------------------------------------------------

    def _explorer_input(request: Request, key: str) -> tuple[dict[str, Any], explorer.Filters]:
        with reading() as session:
            mission = cockpit.mission_header(session, key, _today(request))
        return mission, explorer.Filters.parse(dict(request.query_params))

    @router.get("/missions/{key}/portfolio", response_class=HTMLResponse)
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

    @router.get("/missions/{key}/portfolio.csv")
    def export_csv(request: Request, key: str) -> Response:
        return guarded(lambda: _export(request, key, "csv"))

    @router.get("/missions/{key}/portfolio.xlsx")
    def export_xlsx(request: Request, key: str) -> Response:
        return guarded(lambda: _export(request, key, "xlsx"))

    def _mission_id(key: str) -> int:
        with reading() as session:
            return maps.mission_id_for(session, key)

    @router.get("/missions/{key}/edit", response_class=HTMLResponse)
    def edit_mission(key: str) -> Response:
        def page() -> Response:
            state, record = mission_form(_mission_id(key))
            assert record is not None
            return form_page(
                title=f"Edit mission: {record['title']}",
                action=f"/missions/{record['id']}/edit",
                state=state,
                back=f"/missions/{record['slug']}",
                version=record["version"],
            )

        return guarded(page)

    @router.post("/missions/{key}/edit", response_class=HTMLResponse)
    async def update_mission(request: Request, key: str) -> Response:
        form = await submitted(request)

        def page() -> Response:
            mission_id = _mission_id(key)
            state, record = mission_form(mission_id)
            assert record is not None
            return save_form(
                res=MISSIONS,
                fields=MISSION_FIELDS,
                form=form,
                fixed={},
                key=mission_id,
                done=lambda m: f"/missions/{m['slug']}",
                again=lambda s, v: form_page(
                    title=f"Edit mission: {record['title']}",
                    action=f"/missions/{mission_id}/edit",
                    state=s,
                    back=f"/missions/{record['slug']}",
                    version=v,
                    status_code=422,
                ),
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

        def context(mission_key: str) -> dict[str, Any]:
            with reading() as session:
                return cockpit.mission_header(session, mission_key, dt.date.today())

        @router.get(f"/missions/{{key}}/{segment}/new", response_class=HTMLResponse)
        def new_child(key: str) -> Response:
            def page() -> Response:
                mission = context(key)
                state, _ = child_form(res, fields, mission["id"], None)
                return form_page(
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
                mission = context(key)
                state, _ = child_form(res, fields, mission["id"], None)
                return save_form(
                    res=res,
                    fields=fields,
                    form=form,
                    fixed={"mission_id": mission["id"]},
                    key=None,
                    done=lambda r: f"/{page_of}/{r['id']}",
                    again=lambda s, v: form_page(
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
        )

        def record_of(record_id: int) -> dict[str, Any]:
            with reading() as session:
                return records.get(session, res, record_id)

        @router.get(f"/{page_of}/{{record_id}}/edit", response_class=HTMLResponse)
        def edit_child(record_id: int) -> Response:
            def page() -> Response:
                record = record_of(record_id)
                mission = context(str(record["mission_id"]))
                state, _ = child_form(res, fields, record["mission_id"], record_id)
                return form_page(
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
                record = record_of(record_id)
                mission = context(str(record["mission_id"]))
                state, _ = child_form(res, fields, record["mission_id"], record_id)
                return save_form(
                    res=res,
                    fields=fields,
                    form=form,
                    fixed={},
                    key=record_id,
                    done=lambda r: f"/{page_of}/{r['id']}",
                    again=lambda s, v: form_page(
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
        )

    mount_child(OBJECTIVES, OBJECTIVE_FIELDS, "objectives", "objective", "objectives")
    mount_child(INDICATORS, INDICATOR_FIELDS, "indicators", "indicator", "indicators")
    mount_child(ACTIVITIES, ACTIVITY_FIELDS, "activities", "activity", "activities")

    # --- record pages ------------------------------------------------------------------

    @router.get("/objectives/{record_id}", response_class=HTMLResponse)
    def objective_page(request: Request, record_id: int) -> Response:
        def page() -> Response:
            today = _today(request)
            with reading() as session:
                data = cockpit.objective_page(session, record_id, today)
            for card in data["indicators"]:
                card["chart"] = indicator_chart(
                    card, f"chart-{card['id']}", data["mission"]["deadline"]
                )
            return render("objective.html", today=today, **data)

        return guarded(page)

    def indicator_view(
        request: Request,
        record_id: int,
        *,
        single: FormState | None = None,
        batch: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        today = _today(request)
        with reading() as session:
            card = cockpit.indicator_page(session, record_id, today)
        card["chart"] = indicator_chart(card, "chart-main", card["mission"]["deadline"])
        return render(
            "indicator.html",
            status_code,
            card=card,
            mission=card["mission"],
            single=single or FormState(OBSERVATION_FIELDS, {}, {}),
            batch=batch or {"text": "", "errors": []},
            today=today,
        )

    @router.get("/indicators/{record_id}", response_class=HTMLResponse)
    def indicator_page(request: Request, record_id: int) -> Response:
        return guarded(lambda: indicator_view(request, record_id))

    @router.post("/indicators/{record_id}/observations", response_class=HTMLResponse)
    async def add_observations(request: Request, record_id: int) -> Response:
        form = await submitted(request)

        def page() -> Response:
            with reading() as session:
                records.get(session, INDICATORS, record_id)  # 404 before parsing input
            if form.get("mode") == "batch":
                text = form.get("csv", "")
                try:
                    rows = form_service.parse_observation_csv(text)
                    with database.transaction() as session:
                        form_service.add_observations(session, record_id, rows)
                except InvalidInput as e:
                    batch = {"text": text, "errors": [_row_message(p) for p in e.problems]}
                    return indicator_view(request, record_id, batch=batch, status_code=422)
            else:
                row = {f.name: form.get(f.name, "").strip() for f in OBSERVATION_FIELDS}
                try:
                    with database.transaction() as session:
                        form_service.add_observations(
                            session, record_id, [{k: v for k, v in row.items() if v}]
                        )
                except InvalidInput as e:
                    problems = [Problem(_row_problem(p)[1], p.message) for p in e.problems]
                    state = FormState(
                        OBSERVATION_FIELDS, form, field_errors(problems, OBSERVATION_FIELDS, form)
                    )
                    return indicator_view(request, record_id, single=state, status_code=422)
            return RedirectResponse(f"/indicators/{record_id}#observations", status_code=303)

        return guarded(page)

    @router.get("/activities/{record_id}", response_class=HTMLResponse)
    def activity_page(request: Request, record_id: int) -> Response:
        def page() -> Response:
            with reading() as session:
                data = cockpit.activity_page(session, record_id, _today(request))
            return render("activity.html", **data)

        return guarded(page)

    @router.get("/organisations/{record_id}", response_class=HTMLResponse)
    def organisation_page(request: Request, record_id: int) -> Response:
        def page() -> Response:
            with reading() as session:
                organisation = records.get(session, ORGANISATIONS, record_id)
                activities = cockpit.organisation_activities(session, record_id)
            return render("organisation.html", organisation=organisation, activities=activities)

        return guarded(page)

    return router
