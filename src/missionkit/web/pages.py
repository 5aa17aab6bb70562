"""What every page shares: the templates, who is signed in, and refusals as HTML pages.

The API answers refusals in JSON (``api/errors.py``); a page answers them as a page the
reader can act on: not signed in → the sign-in page (with ``next``) for a page, a 401
page for a form post; not allowed → 403; hidden or missing → the same 404 page, so that
an unpublished mission's existence does not leak.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException

from missionkit import __version__
from missionkit.domain.access import Actor
from missionkit.web import charts

JSON_PATHS = ("/api/", "/healthz", "/openapi.json")
HIDDEN = "No such page here, or you may not see it."


def _money(amount: Any, currency: str | None) -> str:
    if amount is None:
        return "–"
    value = float(amount)
    text = charts.format_number(value) if value >= 1e4 else f"{value:,.0f}"
    return f"{currency or ''} {text}".strip()


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


@cache
def templates() -> Environment:
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


def is_page(request: Request) -> bool:
    """Pages get HTML answers; the API (and health, schema) keep JSON."""
    path = request.url.path
    return not any(path == p.rstrip("/") or path.startswith(p) for p in JSON_PATHS)


def viewer(request: Request) -> Actor | None:
    """The request's actor once ``enforce`` has built it (None if it could not)."""
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, Actor) else None


def here(request: Request) -> str:
    """This page's local address, for ``next`` after signing in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def page_context(request: Request) -> dict[str, Any]:
    actor = viewer(request)
    return {
        "viewer": actor if actor is not None and actor.signed_in else None,
        "csrf_token": getattr(request.state, "csrf_token", None),
        "here": here(request),
    }


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Pages load only the app's own files (no inline script), cannot be framed by another
site (clickjacking on the forms) and post forms only to the app. Inline styles stay
allowed: the status badges and the time bar set their colour and width inline."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    page = page_context(request) | context
    html = templates().get_template(name).render(**page)
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    if page["viewer"] is not None or page.get("form_token"):
        # What a signed-in reader sees (and a form's token) stays out of shared caches.
        response.headers["Cache-Control"] = "private, no-store"
    return response


def safe_next(raw: str | None) -> str:
    """A local path to go to after signing in; anything else (another host, a scheme,
    ``//host``, backslashes, control characters) becomes ``/``: no open redirect."""
    if not raw or not raw.startswith("/") or raw.startswith("//"):
        return "/"
    if "\\" in raw or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    return raw


def sign_in_url(next_path: str) -> str:
    return "/sign-in?" + urlencode({"next": safe_next(next_path)})


def _wants_page(request: Request) -> bool:
    """A browser navigating (Accept names text/html); scripts and tests get the status."""
    return "text/html" in request.headers.get("accept", "")


def refusal(request: Request, message: str, signed_in: bool) -> Response:
    """Not signed in: GET pages send a browser to sign in; otherwise 401. Signed in: 403."""
    if signed_in:
        return render(request, "refused.html", 403, title="Not allowed", message=message)
    if request.method in ("GET", "HEAD") and _wants_page(request):
        return RedirectResponse(sign_in_url(here(request)), status_code=303)
    return render(
        request,
        "refused.html",
        401,
        title="Sign in first",
        message=message,
        sign_in=sign_in_url(here(request) if request.method == "GET" else "/"),
    )


def not_found(request: Request, message: str = HIDDEN) -> HTMLResponse:
    return render(request, "not_found.html", 404, message=message)


def problem_page(
    request: Request, status_code: int, title: str, message: str, retry_after: float | None = None
) -> HTMLResponse:
    response = render(request, "refused.html", status_code, title=title, message=message)
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
    return response


def today_of(request: Request) -> dt.date:
    """``?as_of=YYYY-MM-DD`` lets a user (and the tests) see the pages as of another day."""
    raw = request.query_params.get("as_of", "")
    try:
        return dt.date.fromisoformat(raw) if raw else dt.date.today()
    except ValueError:
        return dt.date.today()


def error_page(request: Request, exc: Exception) -> Response | None:
    """The page for an error raised while serving a page; None for the API (JSON there)."""
    from missionkit.api.auth import CsrfRefused, Throttled
    from missionkit.services.access import Refused
    from missionkit.services.accounts import SignInRefused
    from missionkit.services.errors import NotFound

    if not is_page(request):
        return None
    if isinstance(exc, Refused):
        return refusal(request, str(exc), exc.signed_in)
    if isinstance(exc, NotFound):
        return not_found(request)
    if isinstance(exc, CsrfRefused):
        return problem_page(
            request, 403, "The form expired", "The form was missing its security token or "
            "it no longer matches your session. Go back, reload the page and try again."
        )  # fmt: skip
    if isinstance(exc, Throttled):
        return problem_page(request, 429, "Too many requests", str(exc), exc.retry_after)
    if isinstance(exc, SignInRefused):
        return problem_page(request, 429 if exc.throttled else 401, "Sign-in refused", str(exc))
    if isinstance(exc, HTTPException):  # no such route, or a method it does not take
        if exc.status_code == 404:
            return not_found(request)
        return problem_page(request, exc.status_code, "This did not work", str(exc.detail))
    if isinstance(exc, RequestValidationError):  # e.g. /objectives/abc
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            return not_found(request)
        return problem_page(request, 422, "This did not work", "Some values are not valid.")
    status = {"InvalidInput": 422, "Conflict": 409, "StaleVersion": 412}
    return problem_page(request, status.get(type(exc).__name__, 400), "This did not work", str(exc))
