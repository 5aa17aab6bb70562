"""Signing in and out, and the static files every page links (public routes)."""

from __future__ import annotations

import hmac
import mimetypes
import secrets
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from missionkit.api.auth import COOKIE, CSRF_FIELD, Limiters, set_session_cookie
from missionkit.services import accounts
from missionkit.store.db import Database
from missionkit.web import pages
from missionkit.web.context import PUBLIC, SIGNED_IN, submitted, web_actor

STATIC = files("missionkit.web") / "static"

SIGN_IN_COOKIE = "missionkit_sign_in"
"""The pre-session CSRF token of the sign-in form (double-submit: cookie and field)."""


def static_router() -> APIRouter:
    """The pages' stylesheet, scripts and icon, from the installed package."""
    router = APIRouter(include_in_schema=False)

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

    return router


def sign_in_form(
    request: Request, next_path: str, *, error: str = "", username: str = "", status: int = 200
) -> HTMLResponse:
    actor = web_actor(request)
    token = getattr(request.state, "csrf_token", None) if actor.signed_in else None
    fresh = token is None
    token = token or secrets.token_urlsafe(32)
    response = pages.render(
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


def session_router(database: Database) -> APIRouter:
    """The sign-in form (its own CSRF cookie until a session exists) and sign-out."""
    router = APIRouter(include_in_schema=False)

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

    return router
