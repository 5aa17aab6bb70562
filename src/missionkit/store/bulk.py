"""Bulk inserts: COPY on PostgreSQL, executemany elsewhere.

A portfolio import writes hundreds of thousands of link rows; PostgreSQL's COPY takes
them in one stream, where an executemany pays a round of protocol work per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

import psycopg
from sqlalchemy import JSON, Table, insert, select
from sqlalchemy.orm import Session


def _scalar_defaults(table: Table) -> dict[str, Any]:
    return {
        c.name: c.default.arg  # type: ignore[attr-defined]
        for c in table.columns
        if c.default is not None and c.default.is_scalar
    }


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    defaults = {k: v for k, v in _scalar_defaults(table).items() if k not in rows[0]}
    columns = [*rows[0].keys(), *defaults]
    as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    raw = cast("psycopg.Connection[Any]", connection.connection.dbapi_connection)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            values = {**defaults, **row}
            copy.write_row([json.dumps(values[c]) if c in as_json else values[c] for c in columns])


def bulk_insert_ids(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: str,
    scope: dict[str, Any] | None = None,
) -> dict[Any, int]:
    """Insert ``rows`` and return ``{row[key]: new id}``; ``key`` is unique within ``scope``.

    PostgreSQL returns the ids from batched multi-row INSERT … RETURNING. SQLite would run
    that row by row, so there the rows go in by executemany and the ids are read back by
    key; the same read-back on PostgreSQL degrades as the table grows inside one
    transaction (a generic plan made while it was small scans it whole).
    """
    if not rows:
        return {}
    connection = session.connection()
    id_column, key_column = table.c.id, table.c[key]
    if connection.dialect.name == "postgresql":
        result = connection.execute(
            insert(table).returning(key_column, id_column, sort_by_parameter_order=True),
            list(rows),
        )
        return {k: i for k, i in result}
    connection.execute(insert(table), list(rows))
    query = select(key_column, id_column).where(
        key_column.in_([r[key] for r in rows]),
        *(table.c[c] == v for c, v in (scope or {}).items()),
    )
    return {k: i for k, i in connection.execute(query)}
