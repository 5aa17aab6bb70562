"""Service errors in HTTP's words: 422 with the field path, 401, 403, 404, 409, 412, 429."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from missionkit.api.auth import CsrfRefused, Throttled
from missionkit.domain.problems import InvalidInput
from missionkit.services.access import Refused
from missionkit.services.accounts import SignInRefused
from missionkit.services.errors import Conflict, NotFound, StaleVersion
from missionkit.web.pages import error_page

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_to_loc(path: str) -> list[str | int]:
    """``organisations[0].role`` -> ``["organisations", 0, "role"]`` like FastAPI's own errors."""
    return [int(index) if index else name for name, index in _PART.findall(path)]


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        """Unknown addresses and methods: FastAPI's JSON for the API, a page for pages."""
        if (page := error_page(request, exc)) is not None:
            return page
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
        if (page := error_page(request, exc)) is not None:
            return page
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(InvalidInput)
    async def invalid(request: Request, exc: InvalidInput) -> Response:
        if (page := error_page(request, exc)) is not None:  # pages answer in HTML
            return page
        detail = [
            {
                "loc": ["body", *path_to_loc(p.path)],
                "field": p.path,
                "msg": p.message,
                "type": "value_error",
            }
            for p in exc.problems
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if (page := error_page(request, exc)) is not None:  # pages answer in HTML
            return page
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        if (page := error_page(request, exc)) is not None:  # pages answer in HTML
            return page
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if (page := error_page(request, exc)) is not None:  # pages answer in HTML
            return page
        if exc.signed_in:
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return JSONResponse(
            {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(CsrfRefused)
    async def csrf(request: Request, exc: CsrfRefused) -> Response:
        if (page := error_page(request, exc)) is not None:  # pages answer in HTML
            return page
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(SignInRefused)
    async def sign_in_refused(request: Request, exc: SignInRefused) -> Response:
        if (page := error_page(request, exc)) is not None:  # pages answer in HTML
            return page
        if not exc.throttled or exc.retry_after is None:
            return JSONResponse({"detail": str(exc)}, status_code=401)
        seconds = max(1, round(exc.retry_after.total_seconds()))
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": str(seconds)}
        )

    @app.exception_handler(Throttled)
    async def throttled(request: Request, exc: Throttled) -> Response:
        if (page := error_page(request, exc)) is not None:  # pages answer in HTML
            return page
        seconds = max(1, round(exc.retry_after))
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": str(seconds)}
        )

    @app.exception_handler(StaleVersion)
    async def stale(request: Request, exc: StaleVersion) -> Response:
        if (page := error_page(request, exc)) is not None:  # pages answer in HTML
            return page
        return JSONResponse(
            {"detail": str(exc), "version": exc.actual},
            status_code=412,
            headers={"ETag": f'"{exc.actual}"'},
        )
