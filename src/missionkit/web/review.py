"""The review queue: a mission's suggested contributions, to accept or reject one by one.

Reading takes "read" on the mission (hidden → the same 404 page as everywhere); accepting,
rejecting and suggesting again take "edit", and go through ``services.mapping`` exactly as
the API's review routes do, with the pages named as the interface in the audit trail.
Each POST redirects (303) back to the queue with a short confirmation (``?done=``), chosen
from a fixed list so that nothing a link carries is echoed into the page.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from missionkit.services import access, mapping
from missionkit.services.errors import InvalidInput
from missionkit.web import pages
from missionkit.web.context import READ, WRITE, PageContext, guarded, submitted, web_actor

PAGE_SIZE = 50
MAX_NOTE = 2000

DONE = {
    "accepted": "Accepted: the link is now a reviewed contribution.",
    "rejected": "Rejected: the link is removed and will not be suggested again.",
    "suggested": "Suggestions renewed from the mission's objectives and reviewed examples.",
}


def queue_url(key: str, **query: str | int) -> str:
    path = f"/missions/{quote(key, safe='')}/suggestions"
    return f"{path}?{urlencode(query)}" if query else path


def review_router(ctx: PageContext) -> APIRouter:
    """The queue page and its three forms (accept, reject, suggest again)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/missions/{key}/suggestions", response_class=HTMLResponse, openapi_extra=READ)
    def queue(request: Request, key: str, offset: int = Query(0, ge=0), done: str = "") -> Response:
        def page() -> Response:
            actor = web_actor(request)
            with ctx.reading() as session:
                mission_id = ctx.mission_for(session, actor, key, "read")
                mission = ctx.mission_header(session, actor, mission_id, pages.today_of(request))
                total = mapping.count_suggestions(session, mission_id)
                items = mapping.list_suggestions(
                    session, mission_id, limit=PAGE_SIZE, offset=offset
                )
                rights = ctx.mission_rights(session, actor, mission_id)
            for item in items:
                item["why"] = _explanation(item["note"])
            return pages.render(
                request,
                "review.html",
                mission=mission,
                items=items,
                total=total,
                offset=offset,
                size=PAGE_SIZE,
                rights=rights,
                done=DONE.get(done),
                url=lambda **q: queue_url(mission["slug"], **q),
            )

        return guarded(page)

    @router.post("/missions/{key}/suggestions", response_class=HTMLResponse,
                 openapi_extra=WRITE)  # fmt: skip
    async def suggest_again(request: Request, key: str) -> Response:
        """Rerun the mapping over every activity (earlier unreviewed suggestions go)."""
        await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            with ctx.database.transaction() as session:
                access.require_mission(session, actor, key, "edit")
                report = mapping.suggest_contributions(session, key, actor=actor)
            return RedirectResponse(queue_url(report.mission, done="suggested"), status_code=303)

        return guarded(page)

    @router.post("/missions/{key}/suggestions/{contribution_id}/accept",
                 response_class=HTMLResponse, openapi_extra=WRITE)  # fmt: skip
    async def accept(request: Request, key: str, contribution_id: int) -> Response:
        await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            with ctx.database.transaction() as session:
                access.require_mission(session, actor, key, "edit")
                mapping.accept_suggestion(
                    session,
                    contribution_id,
                    reviewed_by=actor.username,
                    mission=key,
                    actor=actor,
                )
            return RedirectResponse(queue_url(key, done="accepted"), status_code=303)

        return guarded(page)

    @router.post("/missions/{key}/suggestions/{contribution_id}/reject",
                 response_class=HTMLResponse, openapi_extra=WRITE)  # fmt: skip
    async def reject(request: Request, key: str, contribution_id: int) -> Response:
        form = await submitted(request)

        def page() -> Response:
            actor = web_actor(request)
            note = form.get("note", "").strip() or None
            with ctx.database.transaction() as session:
                access.require_mission(session, actor, key, "edit")
                if note is not None and len(note) > MAX_NOTE:
                    raise InvalidInput.one("note", f"the note is longer than {MAX_NOTE} characters")
                mapping.reject_suggestion(
                    session,
                    contribution_id,
                    reviewed_by=actor.username,
                    note=note,
                    mission=key,
                    actor=actor,
                )
            return RedirectResponse(queue_url(key, done="rejected"), status_code=303)

        return guarded(page)

    return router


def _explanation(note: str | None) -> str:
    """The mapper's note without its ``mapping (method):`` prefix: the matched terms and
    the nearest example, as the mapping engine explained its suggestion."""
    text = (note or "").strip()
    if text.startswith("mapping (") and "): " in text:
        return text.split("): ", 1)[1]
    return text
