"""One generic pair of handlers for every create and edit form (missions and their records).

Each form page is the same cycle: GET loads the record and its choices and shows the
form; POST reads what was typed, loads the same form, checks the rules and saves, or
shows the form again with each problem next to its field (422). A page family supplies
only ``load``, which builds a ``Form`` (and does the access checks) for one request.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from missionkit.domain.access import Actor
from missionkit.services.records import Resource
from missionkit.web.context import (
    WRITE,
    Check,
    PageContext,
    form_page,
    guarded,
    submitted,
    web_actor,
)
from missionkit.web.forms import FormState


@dataclasses.dataclass(frozen=True)
class Form:
    """One form as shown and as saved; ``key`` None means a new record."""

    title: str
    action: str
    back: str
    state: FormState
    res: Resource
    key: int | None
    check: Check
    done: Callable[[dict[str, Any]], str]
    fixed: dict[str, Any] = dataclasses.field(default_factory=dict)
    version: int | None = None
    mission: Mapping[str, Any] | None = None

    def page(
        self, request: Request, state: FormState, version: int | None, status_code: int = 200
    ) -> HTMLResponse:
        return form_page(
            request,
            title=self.title,
            action=self.action,
            state=state,
            back=self.back,
            version=version,
            mission=self.mission,
            status_code=status_code,
        )


Load = Callable[[Request, Any], Form]
"""Builds the form for a request and the path's key (None where the path has none)."""


def mount_form(
    ctx: PageContext,
    router: APIRouter,
    path: str,
    load: Load,
    *,
    key: tuple[str, type] | None = None,
    opening: Callable[[Actor], None] | None = None,
    hide_missing: bool = True,
) -> None:
    """GET and POST ``path`` (access rule "write") as the form ``load`` builds.

    ``key`` names the path parameter and its type (validated as a typed handler argument
    would be); ``opening`` is a check made only before showing an empty form;
    ``hide_missing`` turns every 404 into the same page (see ``guarded``).
    """

    def run(handler: Callable[[], Response]) -> Response:
        return guarded(handler) if hide_missing else handler()

    def show(request: Request, **params: Any) -> Response:
        if opening is not None:
            opening(web_actor(request))

        def page() -> Response:
            form = load(request, params.get(key[0]) if key else None)
            return form.page(request, form.state, form.version)

        return run(page)

    async def save(request: Request, **params: Any) -> Response:
        typed = await submitted(request)

        def page() -> Response:
            form = load(request, params.get(key[0]) if key else None)
            return ctx.save_form(
                actor=web_actor(request),
                res=form.res,
                fields=form.state.fields,
                form=typed,
                fixed=form.fixed,
                key=form.key,
                check=form.check,
                done=form.done,
                again=lambda s, v: form.page(request, s, v if form.key is not None else None, 422),
                choices=form.state.choices,
            )

        return run(page)

    for handler, method in ((show, "GET"), (save, "POST")):
        handler.__signature__ = _signature(key)  # type: ignore[union-attr]
        router.add_api_route(
            path,
            handler,
            methods=[method],
            response_class=HTMLResponse,
            openapi_extra=WRITE,
        )


def _signature(key: tuple[str, type] | None) -> inspect.Signature:
    """What FastAPI reads to pass (and validate) the path's key, as for a typed handler
    ``(request: Request, *, key: str)``; the handlers take it through ``**params``."""
    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=Request)]  # fmt: skip
    if key is not None:
        params.append(inspect.Parameter(key[0], inspect.Parameter.KEYWORD_ONLY, annotation=key[1]))
    return inspect.Signature(params)
