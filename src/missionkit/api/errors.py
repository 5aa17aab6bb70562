"""Service errors in HTTP's words: 422 with the field path, 401, 403, 404, 409, 412, 429."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from missionkit.api.auth import CsrfRefused, Throttled
from missionkit.domain.problems import InvalidInput
from missionkit.services.access import Refused
from missionkit.services.accounts import SignInRefused
from missionkit.services.errors import Conflict, NotFound, StaleVersion

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_to_loc(path: str) -> list[str | int]:
    """``organisations[0].role`` -> ``["organisations", 0, "role"]`` like FastAPI's own errors."""
    return [int(index) if index else name for name, index in _PART.findall(path)]


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidInput)
    async def invalid(_: Request, exc: InvalidInput) -> JSONResponse:
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
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        if exc.signed_in:
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return JSONResponse(
            {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(CsrfRefused)
    async def csrf(_: Request, exc: CsrfRefused) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(SignInRefused)
    async def sign_in_refused(_: Request, exc: SignInRefused) -> JSONResponse:
        if not exc.throttled or exc.retry_after is None:
            return JSONResponse({"detail": str(exc)}, status_code=401)
        seconds = max(1, round(exc.retry_after.total_seconds()))
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": str(seconds)}
        )

    @app.exception_handler(Throttled)
    async def throttled(_: Request, exc: Throttled) -> JSONResponse:
        seconds = max(1, round(exc.retry_after))
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": str(seconds)}
        )

    @app.exception_handler(StaleVersion)
    async def stale(_: Request, exc: StaleVersion) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "version": exc.actual},
            status_code=412,
            headers={"ETag": f'"{exc.actual}"'},
        )
