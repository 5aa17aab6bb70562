"""Mapping routes: map one text, run suggestions for a mission, and the review queue."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from missionkit.api.auth import Who, rule
from missionkit.api.encoding import FastJSONResponse
from missionkit.api.params import Offset, RecordKey
from missionkit.domain.access import Actor
from missionkit.services import access, mapping
from missionkit.store.db import Database


class MapRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=100_000, description="The text to map.")
    taxonomy: str = Field(
        "sdg",
        pattern=r"^(sdg|mission:[a-z0-9][a-z0-9-]{0,79})$",
        description="sdg, or mission:SLUG for a stored mission's objectives.",
    )
    method: Literal["combined", "keyword", "embedding"] = "combined"
    at_least_one: bool = Field(True, description="Return the best label even below threshold.")


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewed_by: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=2000, description="Why (kept with a rejection).")


def mapping_router(database: Database) -> APIRouter:
    """Routes over one database; services raise, `api.errors` turns that into 4xx."""
    router = APIRouter(tags=["mapping"])

    @router.post(
        "/api/map",
        openapi_extra=rule("read"),  # SDGs: anyone; a mission's objectives: its readers
        summary="Map one text to SDGs or a mission's objectives",
        description=(
            "Labels above their threshold (best first) with calibrated scores, and for each "
            "the matched query terms, the similarity and the nearest confirmed example."
        ),
    )
    def map_text(body: MapRequest, actor: Actor = Who) -> Any:
        with database.reading() as session:
            if body.taxonomy.startswith("mission:"):
                access.require_mission(
                    session, actor, body.taxonomy.removeprefix("mission:"), "read"
                )
            (result,) = mapping.map_texts(
                session,
                body.taxonomy,
                [body.text],
                method=body.method,
                at_least_one=body.at_least_one,
            )
        return FastJSONResponse(result)

    @router.post(
        "/api/missions/{key}/suggestions",
        openapi_extra=rule("write"),
        summary="Suggest contributions for every activity of the mission",
        description=(
            "Replaces earlier unreviewed suggestions; never suggests a pair that is already "
            "a contribution or that a reviewer rejected."
        ),
    )
    def run_suggestions(key: str, actor: Actor = Who) -> Any:
        with database.transaction() as session:
            access.require_mission(session, actor, key, "edit")
            report = mapping.suggest_contributions(session, key, actor=actor)
        return FastJSONResponse(report.__dict__)

    @router.get(
        "/api/missions/{key}/suggestions",
        openapi_extra=rule("read"),
        summary="The review queue: suggested contributions, best score first",
    )
    def list_suggestions(
        key: str,
        limit: int = Query(50, ge=1, le=1000),
        offset: Offset = 0,
        actor: Actor = Who,
    ) -> Any:
        with database.reading() as session:
            access.require_mission(session, actor, key, "read")
            items = mapping.list_suggestions(session, key, limit=limit, offset=offset)
        return FastJSONResponse(items)

    @router.post(
        "/api/missions/{key}/suggestions/{contribution_id}/accept",
        openapi_extra=rule("write"),
        summary="Accept a suggestion: it becomes a reviewed contribution",
    )
    def accept(
        key: str, contribution_id: RecordKey, body: Review | None = None, actor: Actor = Who
    ) -> Any:
        review = body or Review()
        with database.transaction() as session:
            access.require_mission(session, actor, key, "edit")
            item = mapping.accept_suggestion(
                session,
                contribution_id,
                reviewed_by=review.reviewed_by or actor.username,
                mission=key,
                actor=actor,
            )
        return FastJSONResponse(item)

    @router.post(
        "/api/missions/{key}/suggestions/{contribution_id}/reject",
        openapi_extra=rule("write"),
        summary="Reject a suggestion: removed, remembered, never suggested again",
    )
    def reject(
        key: str, contribution_id: RecordKey, body: Review | None = None, actor: Actor = Who
    ) -> Any:
        review = body or Review()
        with database.transaction() as session:
            access.require_mission(session, actor, key, "edit")
            item = mapping.reject_suggestion(
                session,
                contribution_id,
                reviewed_by=review.reviewed_by or actor.username,
                note=review.note,
                mission=key,
                actor=actor,
            )
        return FastJSONResponse(item)

    return router
