"""CRUD routes for every noun, generated from the service catalogue (one rule set)."""

from __future__ import annotations

import inspect
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from sqlalchemy import Date, Integer

from missionkit.api.encoding import FastJSONResponse
from missionkit.domain.problems import InvalidInput
from missionkit.services import records
from missionkit.services.records import Resource
from missionkit.services.shapes import Page
from missionkit.store.db import Database

IfMatch = Annotated[
    str | None,
    Header(description="The ETag you read; a stale one gets 412 and changes nothing."),
]


def expected_version(if_match: str | None) -> int | None:
    """Parse ``If-Match: "3"`` (or ``W/"3"``); ``*`` or no header means any version."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    try:
        return int(value)
    except ValueError:
        raise InvalidInput.one(
            "If-Match", f'expected an ETag such as "3", got {if_match!r}'
        ) from None


def _etag(response: Response, item: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = f'"{item["version"]}"'
    return item


def _filter_type(res: Resource, name: str) -> Any:
    column_type = res.table.__table__.columns[name].type
    if isinstance(column_type, Integer):
        return int | None
    if isinstance(column_type, Date):
        return date | None
    return str | None


def _list_endpoint(db: Database, res: Resource) -> Any:
    def endpoint(
        limit: int = Query(50, ge=1, le=records.MAX_LIMIT),
        offset: int = Query(0, ge=0),
        sort: str | None = Query(
            None, description=f"Comma-separated; '-' for descending. One of: {', '.join(res.sorts)}"
        ),
        q: str | None = Query(
            None, description=f"Text search in {', '.join(res.search) or 'nothing'}"
        ),
        **filters: Any,
    ) -> Any:
        query = records.Query(
            {k: v for k, v in filters.items() if v is not None}, q, sort, limit, offset
        )
        with db.reading() as session:
            return FastJSONResponse(records.list_page(session, res, query))

    params = [p for p in inspect.signature(endpoint).parameters.values() if p.kind != p.VAR_KEYWORD]
    params += [
        inspect.Parameter(
            f, inspect.Parameter.KEYWORD_ONLY, default=Query(None), annotation=_filter_type(res, f)
        )
        for f in res.filters
    ]
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return endpoint


def router_for(db: Database, res: Resource) -> APIRouter:
    router = APIRouter(prefix=f"/api/{res.name}", tags=[res.name])
    key_type = str if res.pk == "code" else int
    page_model = Page[res.public]  # type: ignore[name-defined]

    router.add_api_route(
        "",
        _list_endpoint(db, res),
        methods=["GET"],
        response_model=page_model,
        summary=f"List {res.name}",
        description="Paginated; filter by the named fields, sort, and search text.",
    )

    def create(payload: Annotated[Any, Body()], request: Request, response: Response) -> Any:
        with db.transaction() as session:
            item = records.create(session, res, payload.model_dump())
        response.status_code = 201
        response.headers["Location"] = str(request.url_for(f"get_{res.name}", key=item[res.pk]))
        return _etag(response, item)

    create.__annotations__["payload"] = Annotated[res.create, Body()]
    router.add_api_route(
        "",
        create,
        methods=["POST"],
        response_model=res.public,
        status_code=201,
        summary=f"Create a {res.label}",
        responses={409: {"description": "Duplicate key"}},
    )

    def read(key: Any, response: Response) -> Any:
        with db.reading() as session:
            return _etag(response, records.get(session, res, key))

    read.__annotations__["key"] = key_type
    router.add_api_route(
        "/{key}",
        read,
        methods=["GET"],
        response_model=res.public,
        name=f"get_{res.name}",
        summary=f"Read a {res.label}",
    )

    def patch(key: Any, payload: Any, response: Response, if_match: IfMatch = None) -> Any:
        version = expected_version(if_match)
        with db.transaction() as session:
            item = records.update(
                session, res, key, payload.model_dump(exclude_unset=True), version
            )
        return _etag(response, item)

    patch.__annotations__["key"] = key_type
    patch.__annotations__["payload"] = Annotated[res.update, Body()]
    router.add_api_route(
        "/{key}",
        patch,
        methods=["PATCH"],
        response_model=res.public,
        summary=f"Change a {res.label}",
        responses={412: {"description": "If-Match is stale: someone changed the record first"}},
    )

    def remove(key: Any, if_match: IfMatch = None) -> Response:
        version = expected_version(if_match)
        with db.transaction() as session:
            records.remove(session, res, key, version)
        return Response(status_code=204)

    remove.__annotations__["key"] = key_type
    router.add_api_route(
        "/{key}",
        remove,
        methods=["DELETE"],
        status_code=204,
        summary=f"Delete a {res.label}",
        responses={
            409: {"description": "Still referenced"},
            412: {"description": "Stale If-Match"},
        },
    )
    return router
