"""One portfolio analysis at a time: ``GET /api/missions/{key}/portfolio/{analysis}``.

The whole report stays at ``/api/missions/{key}/portfolio``; a page or a script that needs
only the network or only the coverage asks for it here and waits for nothing else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder as jsonable

from missionkit.api.auth import Who, rule
from missionkit.api.encoding import FastJSONResponse
from missionkit.domain.access import Actor
from missionkit.portfolio import SpatialLevel
from missionkit.services import access, portfolio
from missionkit.services.portfolio import AnalysisName
from missionkit.store.db import Database


def portfolio_router(database: Database) -> APIRouter:
    """Routes for the single analyses of a mission's portfolio (docs/portfolio.md)."""
    router = APIRouter(tags=["missions"])

    @router.get(
        "/api/missions/{key}/portfolio/{analysis}",
        openapi_extra=rule("read"),
        summary="One analysis of the mission's portfolio",
        description=(
            "The same figures as the matching key of `/api/missions/{key}/portfolio`: "
            f"one of {', '.join(portfolio.ANALYSIS_NAMES)}. `level` is where spatial "
            "equity is measured (country, nuts1, nuts2, nuts3, subdivision)."
        ),
    )
    def mission_portfolio_analysis(
        key: str, analysis: AnalysisName, level: SpatialLevel = "country", actor: Actor = Who
    ) -> Any:
        with database.reading() as session:
            access.require_mission(session, actor, key, "read")
            result = portfolio.single_analysis(session, key, analysis, level=level)
        return FastJSONResponse(jsonable(result))

    return router
