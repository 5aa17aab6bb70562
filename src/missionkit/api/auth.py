"""Who is asking: the actor of each request, sign-in and sign-out, CSRF, and the rule
every route must declare (a route without one is refused to everyone).

A request is made by a token (``Authorization: Bearer mk_…``), by a signed-in browser
(the session cookie), or by nobody. Cookie-authenticated requests that change anything
must carry the session's CSRF token (header ``X-CSRF-Token`` or form field
``csrf_token``); token requests need none, since no browser sends them on its own.
"""

from __future__ import annotations

import hmac
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field

from missionkit.domain.access import ANONYMOUS, Actor, Interface, Verdict
from missionkit.services import accounts, tokens
from missionkit.services.access import Refused
from missionkit.store.db import Database

COOKIE = "missionkit_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RULE = "x-access"

Rule = Literal["public", "read", "list", "write", "signed-in", "admin"]
"""What a route declares. public: anyone (health, docs, sign-in); read: a mission's
pages and analyses (checked against the mission in the path); list: a list filtered to
the missions the reader may see; write: signed-in only, and the handler checks the
record it changes; signed-in: any signed-in user; admin: administrators only."""


def rule(kind: Rule) -> dict[str, Any]:
    """``openapi_extra`` for a route: ``@router.get(..., openapi_extra=rule("read"))``."""
    return {RULE: kind}


def declared_rule(route: Any) -> Rule | None:
    extra = getattr(route, "openapi_extra", None) or {}
    kind = extra.get(RULE)
    return kind


@dataclass(frozen=True)
class RouteRule:
    path: str
    method: str
    rule: Rule | None
    route: APIRoute


def route_table(app: FastAPI) -> list[RouteRule]:
    """Every API route of ``app`` (included routers flattened) with the rule it declares."""
    table = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            for method in sorted((context.methods or set()) - {"HEAD"}):
                table.append(RouteRule(context.path, method, declared_rule(route), route))
    return table


class CsrfRefused(Exception):
    """A cookie-authenticated change without the session's CSRF token."""


class Throttled(Exception):
    """Too many requests from one address or with one token; try again after a while."""

    def __init__(self, message: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class SlidingWindow:
    """At most ``attempts`` per key per ``window`` seconds, in this process (the
    per-account sign-in back-off in the database holds across processes)."""

    def __init__(self, attempts: int, window: float = 60.0) -> None:
        self.attempts, self.window = attempts, window
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, key: str, now: float | None = None) -> float:
        """Seconds to wait, or 0 and the attempt is counted."""
        now = time.monotonic() if now is None else now
        seen = self._seen[key]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.attempts:
            return seen[0] + self.window - now
        seen.append(now)
        return 0.0


@dataclass(frozen=True)
class Limits:
    """The app's limits; tests and operators may pass their own to ``create_app``."""

    sign_ins_per_minute: int = 10
    token_requests_per_minute: int = 1200
    max_body_bytes: int = 16 * 1024 * 1024


class Limiters:
    def __init__(self, limits: Limits) -> None:
        self.sign_in = SlidingWindow(limits.sign_ins_per_minute)
        self.tokens = SlidingWindow(limits.token_requests_per_minute)


def _interface(request: Request) -> Interface:
    return "api" if request.url.path.startswith("/api/") else "web"


def actor_of(request: Request) -> Actor:
    """The request's actor, computed once and kept on the request."""
    cached = getattr(request.state, "actor", None)
    if isinstance(cached, Actor):
        return cached
    database: Database = request.app.state.database
    actor = ANONYMOUS
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, presented = header.partition(" ")
        with database.transaction() as session:
            found = tokens.actor_for_token(session, presented.strip())
        if scheme.lower() != "bearer" or found is None:
            raise Refused(Verdict(False, "the token is unknown, revoked or expired"), False)
        limiters: Limiters = request.app.state.limiters
        wait = limiters.tokens.retry_after(presented.strip()[:24])
        if wait:
            raise Throttled("too many requests with this token", wait)
        actor = found
    elif cookie := request.cookies.get(COOKIE):
        with database.reading() as session:
            signed_in = accounts.session_user(session, cookie)
            if signed_in is not None:
                user, csrf = signed_in
                actor = accounts.actor_for(session, user, _interface(request))
                request.state.csrf_token = csrf
                if request.method not in SAFE_METHODS:
                    _check_csrf(request, csrf)
    if actor is ANONYMOUS:
        actor = Actor(user_id=None, username="anonymous", interface=_interface(request))
    request.state.actor = actor
    return actor


def _check_csrf(request: Request, expected: str) -> None:
    presented = request.headers.get(CSRF_HEADER) or getattr(request.state, "form_csrf", None)
    if not presented or not hmac.compare_digest(presented, expected):
        raise CsrfRefused("missing or wrong CSRF token; reload the page and try again")


async def enforce(request: Request) -> None:
    """App-wide dependency: refuse any route that declares no rule, and build the actor."""
    route = request.scope.get("route")
    kind = declared_rule(route) if isinstance(route, APIRoute) else "public"
    if kind is None:
        raise Refused(Verdict(False, "this route declares no access rule"), True)
    if request.method not in SAFE_METHODS and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        request.state.form_csrf = value if isinstance(value, str) else None
    actor = actor_of(request)
    if kind in ("signed-in", "write") and not actor.signed_in:
        # Nobody writes anonymously: say so before the body is even validated.
        raise Refused(Verdict(False, "sign in first"), False)
    if kind == "admin" and not actor.is_admin:
        raise Refused(Verdict(False, "only an administrator may do this"), actor.signed_in)


Who = Depends(actor_of)


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


def session_router(database: Database, limiter: SlidingWindow) -> APIRouter:
    router = APIRouter(prefix="/api/session", tags=["session"])

    @router.post("", openapi_extra=rule("public"), summary="Sign in")
    def sign_in(credentials: Credentials, request: Request, response: Response) -> Any:
        client = request.client.host if request.client else "unknown"
        wait = limiter.retry_after(client)
        if wait:
            raise Throttled("too many sign-in attempts from here", wait)
        signed_in = accounts.sign_in(database, credentials.username, credentials.password)
        set_session_cookie(request, response, signed_in.session.cookie)
        return {"username": signed_in.username, "csrf_token": signed_in.session.csrf_token}

    @router.get("", openapi_extra=rule("public"), summary="Who am I")
    def whoami(actor: Actor = Who) -> Any:
        return {
            "username": actor.username if actor.signed_in else None,
            "is_admin": actor.is_admin,
            "roles": {str(k): v for k, v in actor.roles.items()},
        }

    @router.delete("", openapi_extra=rule("signed-in"), status_code=204, summary="Sign out")
    def sign_out(request: Request, response: Response) -> Response:
        with database.transaction() as session:
            accounts.end_session(session, request.cookies.get(COOKIE, ""))
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    return router


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
