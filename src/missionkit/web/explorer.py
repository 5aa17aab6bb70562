"""The portfolio explorer of a mission: filtered, sorted activities, and their exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from missionkit.services import explorer
from missionkit.web import pages
from missionkit.web.context import READ, PageContext, guarded, web_actor


def explorer_router(ctx: PageContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def explorer_input(request: Request, key: str) -> tuple[dict[str, Any], explorer.Filters]:
        actor = web_actor(request)
        with ctx.reading() as session:
            mission_id = ctx.mission_for(session, actor, key, "read")
            mission = ctx.mission_header(session, actor, mission_id, pages.today_of(request))
        return mission, explorer.Filters.parse(dict(request.query_params))

    @router.get("/missions/{key}/portfolio", response_class=HTMLResponse, openapi_extra=READ)
    def explorer_page(request: Request, key: str) -> Response:
        def page() -> Response:
            mission, f = explorer_input(request, key)
            with ctx.reading() as session:
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
            return pages.render(
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

    def export(request: Request, key: str, kind: str) -> Response:
        mission, f = explorer_input(request, key)
        if f.problems:
            return Response(
                "; ".join(str(p) for p in f.problems), status_code=422, media_type="text/plain"
            )
        name = f"{mission['slug']}-activities.{kind}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        if kind == "xlsx":
            with ctx.reading() as session:
                body = explorer.to_xlsx(explorer.export_rows(session, mission["id"], f))
            return Response(
                body,
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers=disposition,
            )

        def stream() -> Iterator[str]:
            with ctx.reading() as session:
                yield from explorer.to_csv(explorer.export_rows(session, mission["id"], f))

        return StreamingResponse(
            stream(), media_type="text/csv; charset=utf-8", headers=disposition
        )

    @router.get("/missions/{key}/portfolio.csv", openapi_extra=READ)
    def export_csv(request: Request, key: str) -> Response:
        return guarded(lambda: export(request, key, "csv"))

    @router.get("/missions/{key}/portfolio.xlsx", openapi_extra=READ)
    def export_xlsx(request: Request, key: str) -> Response:
        return guarded(lambda: export(request, key, "xlsx"))

    return router
