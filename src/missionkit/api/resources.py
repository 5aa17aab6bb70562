"""CRUD routes for every noun, generated from the service catalogue (one rule set)."""

from __future__ import annotations

import inspect
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from sqlalchemy import Date, Integer
from sqlalchemy.orm import Session

from missionkit.api.auth import Who, rule
from missionkit.api.encoding import FastJSONResponse
from missionkit.api.params import Offset, RecordKey
from missionkit.domain.access import Action, Actor, Target
from missionkit.domain.models import MAX_INT
from missionkit.domain.problems import InvalidInput
from missionkit.services import access, records
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


def _write_action(res: Resource) -> Action:
    """Observations and work items are progress reports; the rest is editing."""
    return "report" if res.name in ("observations", "work-items") else "edit"


def _patch_action(res: Resource, change: dict[str, Any]) -> Action:
    """Publishing a mission or moving it under another parent takes its owner."""
    if res.name == "missions" and change.keys() & {"published", "parent_id"}:
        return "manage"
    return _write_action(res)


def _require(
    session: Session,
    actor: Actor,
    res: Resource,
    record: dict[str, Any],
    action: Action,
    creating: bool = False,
) -> None:
    """Ask the rules about one record, stored or about to be written."""
    if res.in_missions is None:  # organisations and regions: shared reference data
        if action != "read":
            access.require_shared(actor, adding=creating)
        return
    if res.name == "missions" and creating:
        parent = record.get("parent_id")
        where = access.target(session, parent) if parent is not None else Target(None)
        access.require(actor, "manage", where, "parent mission")
        return
    access.require(actor, action, access.record_target(session, res, record), res.label)


def _filter_type(res: Resource, name: str) -> Any:
    column_type = res.table.__table__.columns[name].type
    if isinstance(column_type, Integer):
        return Annotated[int | None, Query(ge=0, le=MAX_INT)]
    if isinstance(column_type, Date):
        return Annotated[date | None, Query()]
    return Annotated[str | None, Query(max_length=500)]


def _list_endpoint(db: Database, res: Resource) -> Any:
    def endpoint(
        limit: int = Query(50, ge=1, le=records.MAX_LIMIT),
        offset: Offset = 0,
        sort: str | None = Query(
            None, description=f"Comma-separated; '-' for descending. One of: {', '.join(res.sorts)}"
        ),
        q: str | None = Query(
            None, description=f"Text search in {', '.join(res.search) or 'nothing'}"
        ),
        actor: Actor = Who,
        **filters: Any,
    ) -> Any:
        with db.reading() as session:
            query = records.Query(
                {k: v for k, v in filters.items() if v is not None},
                q,
                sort,
                limit,
                offset,
                missions=access.readable_missions(session, actor),
            )
            return FastJSONResponse(records.list_page(session, res, query))

    params = [p for p in inspect.signature(endpoint).parameters.values() if p.kind != p.VAR_KEYWORD]
    params += [
        inspect.Parameter(
            f, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=_filter_type(res, f)
        )
        for f in res.filters
    ]
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return endpoint


def router_for(db: Database, res: Resource) -> APIRouter:
    router = APIRouter(prefix=f"/api/{res.name}", tags=[res.name])
    key_type = str if res.pk == "code" else RecordKey
    page_model = Page[res.public]  # type: ignore[name-defined]

    router.add_api_route(
        "",
        _list_endpoint(db, res),
        methods=["GET"],
        openapi_extra=rule("list"),
        response_model=page_model,
        summary=f"List {res.name}",
        description="Paginated; filter by the named fields, sort, and search text.",
    )

    def create(
        payload: Annotated[Any, Body()], request: Request, response: Response, actor: Actor = Who
    ) -> Any:
        data = payload.model_dump()
        with db.transaction() as session:
            _require(session, actor, res, data, _write_action(res), creating=True)
            item = records.create(session, res, data, actor=actor)
            if res.name == "missions":
                access.grant_creator(session, actor, item["id"])
        response.status_code = 201
        response.headers["Location"] = str(request.url_for(f"get_{res.name}", key=item[res.pk]))
        return _etag(response, item)

    create.__annotations__["payload"] = Annotated[res.create, Body()]
    router.add_api_route(
        "",
        create,
        methods=["POST"],
        openapi_extra=rule("write"),
        response_model=res.public,
        status_code=201,
        summary=f"Create a {res.label}",
        responses={409: {"description": "Duplicate key"}},
    )

    def read(key: Any, response: Response, actor: Actor = Who) -> Any:
        with db.reading() as session:
            item = records.get(session, res, key)
            _require(session, actor, res, item, "read")
            return _etag(response, item)

    read.__annotations__["key"] = key_type
    router.add_api_route(
        "/{key}",
        read,
        methods=["GET"],
        openapi_extra=rule("read"),
        response_model=res.public,
        name=f"get_{res.name}",
        summary=f"Read a {res.label}",
    )

    def patch(
        key: Any, payload: Any, response: Response, if_match: IfMatch = None, actor: Actor = Who
    ) -> Any:
        version = expected_version(if_match)
        change = payload.model_dump(exclude_unset=True)
        with db.transaction() as session:
            stored = records.get(session, res, key)
            action = _patch_action(res, change)
            _require(session, actor, res, stored, action)
            _require(session, actor, res, {**stored, **change}, action)  # where it moves to
            if res.name == "missions" and change.get("parent_id") is not None:
                where = access.target(session, change["parent_id"])
                access.require(actor, "manage", where, "parent mission")
            item = records.update(session, res, key, change, version, actor=actor)
        return _etag(response, item)

    patch.__annotations__["key"] = key_type
    patch.__annotations__["payload"] = Annotated[res.update, Body()]
    router.add_api_route(
        "/{key}",
        patch,
        methods=["PATCH"],
        openapi_extra=rule("write"),
        response_model=res.public,
        summary=f"Change a {res.label}",
        responses={412: {"description": "If-Match is stale: someone changed the record first"}},
    )

    def remove(key: Any, if_match: IfMatch = None, actor: Actor = Who) -> Response:
        version = expected_version(if_match)
        with db.transaction() as session:
            stored = records.get(session, res, key)
            action = "manage" if res.name == "missions" else _write_action(res)
            _require(session, actor, res, stored, action)
            records.remove(session, res, key, version, actor=actor)
        return Response(status_code=204)

    remove.__annotations__["key"] = key_type
    router.add_api_route(
        "/{key}",
        remove,
        methods=["DELETE"],
        openapi_extra=rule("write"),
        status_code=204,
        summary=f"Delete a {res.label}",
        responses={
            409: {"description": "Still referenced"},
            412: {"description": "Stale If-Match"},
        },
    )
    return router
