"""The audit trail over HTTP: per mission for its editors and owners, whole for admins."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from missionkit.api.auth import Who, rule
from missionkit.api.encoding import FastJSONResponse
from missionkit.api.params import Offset
from missionkit.domain.access import Actor
from missionkit.services import access, audit
from missionkit.store.db import Database

Format = Literal["json", "csv"]


def _answer(items: list[dict[str, Any]], format_: Format, name: str) -> Any:
    if format_ == "json":
        return FastJSONResponse({"items": items})
    return StreamingResponse(
        audit.csv_lines(items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-audit.csv"'},
    )


def audit_router(database: Database) -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get(
        "/api/missions/{key}/audit",
        openapi_extra=rule("read"),
        summary="A mission's audit trail",
        description="Who changed what, when, through which interface; newest first. "
        "Editors and owners of the mission. `format=csv` downloads it.",
    )
    def mission_audit(
        key: str,
        format: Format = "json",
        limit: int = Query(100, ge=1, le=10_000),
        offset: Offset = 0,
        actor: Actor = Who,
    ) -> Any:
        with database.reading() as session:
            mission_id = access.require_mission(session, actor, key, "audit")
            items = audit.entries(session, mission_id, limit, offset)
        return _answer(items, format, key)

    @router.get(
        "/api/audit",
        openapi_extra=rule("admin"),
        summary="The whole installation's audit trail (administrators)",
    )
    def installation_audit(
        format: Format = "json",
        limit: int = Query(100, ge=1, le=10_000),
        offset: Offset = 0,
    ) -> Any:
        with database.reading() as session:
            items = audit.entries(session, None, limit, offset)
        return _answer(items, format, "missionkit")

    return router
