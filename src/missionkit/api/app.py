"""The application factory: one FastAPI app serving the API, its docs and the pages."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.encoders import jsonable_encoder as jsonable
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from missionkit import __version__
from missionkit.api import errors
from missionkit.api.audit import audit_router
from missionkit.api.auth import Limiters, Limits, Who, enforce, rule, session_router
from missionkit.api.encoding import FastJSONResponse
from missionkit.api.experiments import experiments_router
from missionkit.api.limits import BodyLimit
from missionkit.api.mapping import mapping_router
from missionkit.api.portfolio import portfolio_router
from missionkit.api.resources import router_for
from missionkit.domain.access import Actor
from missionkit.services import access, maps, portfolio, progress
from missionkit.services.catalogue import RESOURCES
from missionkit.store.db import Database
from missionkit.web.routes import pages_router

DOCS_ASSETS = "/static/docs"


def create_app(database: Database, limits: Limits | None = None) -> FastAPI:
    """Build the app around one database; nothing happens at import time."""
    limits = limits or Limits()
    app = FastAPI(
        title="missionkit",
        version=__version__,
        description="The mission map: missions, objectives, indicators, portfolio, work items.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(enforce)],
    )
    app.state.database = database
    app.state.limiters = Limiters(limits)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    errors.install(app)
    app.mount(
        DOCS_ASSETS,
        StaticFiles(directory=str(files("fastapi_offline") / "static")),
        name="docs-assets",
    )

    @app.get("/openapi.json", include_in_schema=False, openapi_extra=rule("public"))
    def openapi() -> Any:
        return app.openapi()

    @app.get("/docs", include_in_schema=False, openapi_extra=rule("public"))
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="missionkit API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get(
        "/api/missions/{key}/map",
        tags=["missions"],
        openapi_extra=rule("read"),
        summary="The whole mission map",
        description=(
            "Mission → objectives (nested) → contributing activities → work items, with the "
            "indicators and their latest observation. `key` is the mission's id or slug."
        ),
    )
    def mission_map(key: str, actor: Actor = Who) -> Any:
        with database.reading() as session:
            access.require_mission(session, actor, key, "read")
            return FastJSONResponse(maps.mission_map(session, key))

    @app.get(
        "/api/missions/{key}/status",
        tags=["missions"],
        openapi_extra=rule("read"),
        summary="Is the mission on track?",
        description=(
            "Each indicator assessed by its method (statcan, sdsn or projection), rolled up "
            "to objectives and the mission with the indicators that drive the result, and "
            "overdue data flagged. `as_of` (ISO date) defaults to today."
        ),
    )
    def mission_status(key: str, as_of: dt.date | None = None, actor: Actor = Who) -> Any:
        with database.reading() as session:
            access.require_mission(session, actor, key, "read")
            result = progress.mission_progress(session, key, as_of)
        return FastJSONResponse(jsonable(result))

    @app.get(
        "/api/missions/{key}/portfolio",
        tags=["missions"],
        openapi_extra=rule("read"),
        summary="Does the portfolio cohere around the objectives?",
        description=(
            "Headline findings, then coverage, directionality, stage balance, instrument "
            "mix, diversity and the collaboration network (docs/portfolio.md)."
        ),
    )
    def mission_portfolio(key: str, actor: Actor = Who) -> Any:
        with database.reading() as session:
            access.require_mission(session, actor, key, "read")
            return FastJSONResponse(jsonable(portfolio.portfolio_analysis(session, key)))

    for resource in RESOURCES:
        app.include_router(router_for(database, resource))

    app.include_router(session_router(database, app.state.limiters.sign_in))
    app.include_router(audit_router(database))

    @app.get("/healthz", include_in_schema=False, openapi_extra=rule("public"))
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(experiments_router(database))
    app.include_router(mapping_router(database))
    app.include_router(portfolio_router(database))
    app.include_router(pages_router(database))

    return app
