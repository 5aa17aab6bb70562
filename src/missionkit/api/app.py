"""The application factory: one FastAPI app serving the API, its docs and the pages."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder as jsonable
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from missionkit import __version__
from missionkit.api import errors
from missionkit.api.encoding import FastJSONResponse
from missionkit.api.experiments import experiments_router
from missionkit.api.mapping import mapping_router
from missionkit.api.portfolio import portfolio_router
from missionkit.api.resources import router_for
from missionkit.services import maps, portfolio, progress
from missionkit.services.catalogue import RESOURCES
from missionkit.store.db import Database
from missionkit.web.routes import pages_router

DOCS_ASSETS = "/static/docs"


def create_app(database: Database) -> FastAPI:
    """Build the app around one database; nothing happens at import time."""
    app = FastAPI(
        title="missionkit",
        version=__version__,
        description="The mission map: missions, objectives, indicators, portfolio, work items.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.database = database
    errors.install(app)
    app.mount(
        DOCS_ASSETS,
        StaticFiles(directory=str(files("fastapi_offline") / "static")),
        name="docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
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
        summary="The whole mission map",
        description=(
            "Mission → objectives (nested) → contributing activities → work items, with the "
            "indicators and their latest observation. `key` is the mission's id or slug."
        ),
    )
    def mission_map(key: str) -> Any:
        with database.reading() as session:
            return FastJSONResponse(maps.mission_map(session, key))

    @app.get(
        "/api/missions/{key}/status",
        tags=["missions"],
        summary="Is the mission on track?",
        description=(
            "Each indicator assessed by its method (statcan, sdsn or projection), rolled up "
            "to objectives and the mission with the indicators that drive the result, and "
            "overdue data flagged. `as_of` (ISO date) defaults to today."
        ),
    )
    def mission_status(key: str, as_of: dt.date | None = None) -> Any:
        with database.reading() as session:
            result = progress.mission_progress(session, key, as_of)
        return FastJSONResponse(jsonable(result))

    @app.get(
        "/api/missions/{key}/portfolio",
        tags=["missions"],
        summary="Does the portfolio cohere around the objectives?",
        description=(
            "Headline findings, then coverage, directionality, stage balance, instrument "
            "mix, diversity and the collaboration network (docs/portfolio.md)."
        ),
    )
    def mission_portfolio(key: str) -> Any:
        with database.reading() as session:
            return FastJSONResponse(jsonable(portfolio.portfolio_analysis(session, key)))

    for resource in RESOURCES:
        app.include_router(router_for(database, resource))

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(experiments_router(database))
    app.include_router(mapping_router(database))
    app.include_router(portfolio_router(database))
    app.include_router(pages_router(database))

    return app
