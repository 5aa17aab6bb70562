"""Create, read, update, delete and list for every noun, with one set of rules.

A `Resource` describes a noun: its table, its shapes, its unique keys (reported as
conflicts), the references it holds (checked to exist, and to lie in the same mission),
and the fields that live in link tables. The generic functions below do the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement, Select, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor, system_actor
from missionkit.domain.problems import InvalidInput, Problem, problems_from
from missionkit.services import audit
from missionkit.services.errors import Conflict, NotFound, StaleVersion
from missionkit.store.tables import Base, table_of

Row = Any
Check = Callable[[Session, dict[str, Any], Row | None], list[Problem]]


@dataclass(frozen=True)
class Ref:
    """A field holding the key of a record in another table."""

    field: str
    table: type[Base]
    label: str
    column: str = "id"


@dataclass(frozen=True)
class Link:
    """A list field stored in a link table rather than a column."""

    field: str
    read: Callable[[Session, list[Any]], dict[Any, list[Any]]]
    write: Callable[[Session, Any, list[Any]], None]


@dataclass(frozen=True)
class Resource:
    name: str
    label: str
    table: type[Base]
    create: type[BaseModel]
    update: type[BaseModel]
    public: type[BaseModel]
    pk: str = "id"
    unique: tuple[tuple[str, ...], ...] = ()
    filters: tuple[str, ...] = ()
    sorts: tuple[str, ...] = ("id",)
    search: tuple[str, ...] = ()
    refs: tuple[Ref, ...] = ()
    links: tuple[Link, ...] = ()
    checks: tuple[Check, ...] = ()
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    before_write: Callable[[Session, dict[str, Any]], None] | None = None
    dependants: tuple[tuple[type[Base], str, str], ...] = field(default=())
    mission: Callable[[Session, dict[str, Any]], int | None] = lambda _s, _d: None
    """The mission a record (in its public or create shape) belongs to: access rules and
    the audit trail are per mission. Installation-wide nouns (organisations, regions) give
    None."""
    in_missions: Callable[[Collection[int]], ColumnElement[bool]] | None = None
    """The same in SQL: rows of these missions, so lists show only what a reader may see."""

    @property
    def link_fields(self) -> set[str]:
        return {link.field for link in self.links}

    @property
    def columns(self) -> set[str]:
        return set(self.table.__table__.columns.keys())


MAX_LIMIT = 1000


def _pk_column(res: Resource) -> Any:
    return getattr(res.table, res.pk)


def _load(session: Session, res: Resource, key: Any) -> Row:
    row = session.get(res.table, key)
    if row is None:
        raise NotFound(f"no {res.label} with {res.pk} {key!r}")
    return row


def _row_dict(res: Resource, row: Row) -> dict[str, Any]:
    return {c: getattr(row, c) for c in res.columns}


def to_public(session: Session, res: Resource, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Rows as public dicts, with link fields loaded in one query per link for all rows."""
    keys = [getattr(row, res.pk) for row in rows]
    linked = {link.field: link.read(session, keys) for link in res.links}
    out = []
    for row, key in zip(rows, keys, strict=True):
        item = _row_dict(res, row)
        for name, values in linked.items():
            item[name] = values.get(key, [])
        out.append(item)
    return out


def get(session: Session, res: Resource, key: Any) -> dict[str, Any]:
    return to_public(session, res, [_load(session, res, key)])[0]


def _validate(res: Resource, data: dict[str, Any]) -> BaseModel:
    try:
        return res.create.model_validate(data)
    except ValidationError as e:
        raise InvalidInput(problems_from(e)) from None


def _check_refs(session: Session, res: Resource, data: dict[str, Any]) -> list[Problem]:
    found = []
    for ref in res.refs:
        value = data.get(ref.field)
        if value is None:
            continue
        exists = session.scalar(select(func.count()).where(getattr(ref.table, ref.column) == value))
        if not exists:
            found.append(Problem(ref.field, f"no {ref.label} with {ref.column} {value!r}"))
    return found


def _check_unique(
    session: Session, res: Resource, data: dict[str, Any], current: Row | None
) -> None:
    for columns in res.unique:
        query = select(_pk_column(res)).where(
            *(getattr(res.table, c) == data.get(c) for c in columns)
        )
        clash = session.scalar(query)
        if clash is not None and (current is None or clash != getattr(current, res.pk)):
            values = ", ".join(f"{c}={data.get(c)!r}" for c in columns)
            raise Conflict(f"a {res.label} with {values} already exists ({res.pk} {clash})")


def _write(session: Session, res: Resource, row: Row | None, model: BaseModel) -> Row:
    data = model.model_dump()
    problems = _check_refs(session, res, data)
    for check in res.checks:
        problems += check(session, data, row)
    if problems:
        raise InvalidInput(problems)
    _check_unique(session, res, data, row)
    if res.before_write:
        res.before_write(session, data)
    columns = {k: v for k, v in data.items() if k in res.columns}
    if res.derive:
        columns.update(res.derive(data))
    if row is None:
        row = res.table(**columns)
        session.add(row)
    else:
        for k, v in columns.items():
            setattr(row, k, v)
        row.version = row.version + 1
    try:
        session.flush()
    except IntegrityError as e:
        raise Conflict(f"{res.label} conflicts with a stored record: {e.orig}") from None
    for link in res.links:
        link.write(session, getattr(row, res.pk), data[link.field])
    session.flush()
    return row


def _audit(
    session: Session,
    res: Resource,
    actor: Actor | None,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Every change through these functions lands in the audit trail, in the same
    transaction; callers that do not say who acted are recorded as the library."""
    record = after if after is not None else before
    assert record is not None
    audit.record(
        session,
        actor or system_actor("python"),
        action,
        res.name,
        record[res.pk],
        res.mission(session, record),
        before,
        after,
    )


def create(
    session: Session, res: Resource, payload: dict[str, Any], *, actor: Actor | None = None
) -> dict[str, Any]:
    row = _write(session, res, None, _validate(res, payload))
    session.refresh(row)
    created = get(session, res, getattr(row, res.pk))
    _audit(session, res, actor, "create", None, created)
    return created


def _stored_input(res: Resource, current: dict[str, Any]) -> dict[str, Any]:
    """The stored record (``current``, its public shape) in the Create shape, so that an
    update can be merged and re-validated.

    Public link items carry extra, read-only keys (an organisation's name); only the keys
    the Create shape accepts are kept.
    """
    stored = {k: current[k] for k in res.create.model_fields if k in current}
    for name in res.link_fields:
        item_model = _item_model(res.create.model_fields[name].annotation)
        if item_model is not None:
            keep = item_model.model_fields.keys()
            stored[name] = [{k: v for k, v in item.items() if k in keep} for item in stored[name]]
    return stored


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """``list[Model]`` -> ``Model``; ``None`` for lists of plain values."""
    args = get_args(annotation)
    item = args[0] if args else None
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _check_version(row: Row, expected: int | None) -> None:
    if expected is not None and expected != row.version:
        raise StaleVersion(expected, row.version)


def update(
    session: Session,
    res: Resource,
    key: Any,
    patch: dict[str, Any],
    expected_version: int | None = None,
    *,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Merge ``patch`` into the stored record; a stale ``expected_version`` changes nothing."""
    row = _load(session, res, key)
    _check_version(row, expected_version)
    before = to_public(session, res, [row])[0]
    merged = {**_stored_input(res, before), **patch}
    _write(session, res, row, _validate(res, merged))
    session.refresh(row)
    after = get(session, res, key)
    _audit(session, res, actor, "update", before, after)
    return after


def remove(
    session: Session,
    res: Resource,
    key: Any,
    expected_version: int | None = None,
    *,
    actor: Actor | None = None,
) -> None:
    row = _load(session, res, key)
    _check_version(row, expected_version)
    before = to_public(session, res, [row])[0]
    for table, column, why in res.dependants:
        used = session.scalar(
            select(func.count()).where(getattr(table, column) == getattr(row, res.pk))
        )
        if used:
            raise Conflict(f"{res.label} {key!r} {why} ({used} records); remove those first")
    session.delete(row)
    try:
        session.flush()
    except IntegrityError as e:
        raise Conflict(f"{res.label} {key!r} is still referenced: {e.orig}") from None
    _audit(session, res, actor, "delete", before, None)


@dataclass(frozen=True)
class Query:
    filters: dict[str, Any] = field(default_factory=dict)
    search: str | None = None
    sort: str | None = None
    limit: int = 50
    offset: int = 0
    missions: Collection[int] | None = None
    """Only records of these missions (the reader's); None: no restriction."""


def _filtered(res: Resource, query: Query) -> Select[Any]:
    statement = select(res.table)
    if query.missions is not None and res.in_missions is not None:
        statement = statement.where(res.in_missions(query.missions))
    for name, value in query.filters.items():
        if name not in res.filters:
            raise InvalidInput.one(name, f"cannot filter {res.name} by {name!r}")
        column = getattr(res.table, name)
        if value is None:
            statement = statement.where(column.is_(None))
        else:
            statement = statement.where(column == value)
    if query.search:
        pattern = f"%{query.search.lower()}%"
        statement = statement.where(
            or_(*(func.lower(getattr(res.table, c)).like(pattern) for c in res.search))
        )
    return statement


def _ordering(res: Resource, sort: str | None) -> list[Any]:
    order = []
    for part in (sort or res.pk).split(","):
        name = part.strip().lstrip("-+")
        if name not in res.sorts and name != res.pk:
            allowed = ", ".join(sorted({*res.sorts, res.pk}))
            raise InvalidInput.one(
                "sort", f"cannot sort {res.name} by {name!r} (allowed: {allowed})"
            )
        column = getattr(res.table, name)
        # Explicit null placement: PostgreSQL and SQLite disagree on the default.
        descending = part.strip().startswith("-")
        order.append(column.desc().nulls_last() if descending else column.asc().nulls_first())
    order.append(_pk_column(res).asc())
    return order


def list_page(session: Session, res: Resource, query: Query) -> dict[str, Any]:
    """One page of records, with the total that matched, in a stable order."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidInput.one("limit", f"must be between 1 and {MAX_LIMIT}")
    if query.offset < 0:
        raise InvalidInput.one("offset", "must not be negative")
    if query.search and not res.search:
        raise InvalidInput.one("q", f"{res.name} have no text to search")
    statement = _filtered(res, query)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(
        statement.order_by(*_ordering(res, query.sort)).limit(query.limit).offset(query.offset)
    ).all()
    return {
        "items": to_public(session, res, rows),
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
    }


def replace_links(
    session: Session, table: type[Base], owner_column: str, owner: Any, rows: list[dict[str, Any]]
) -> None:
    """Link rows are replaced wholesale: the list a client sends is the list stored."""
    session.execute(delete(table).where(getattr(table, owner_column) == owner))
    if rows:
        session.execute(insert(table_of(table)), rows)
