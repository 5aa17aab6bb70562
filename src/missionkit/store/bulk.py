"""Bulk inserts: COPY on PostgreSQL, executemany elsewhere.

A portfolio import writes hundreds of thousands of link rows; PostgreSQL's COPY takes
them in one stream, where an executemany pays a round of protocol work per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

import psycopg
from sqlalchemy import JSON, Table, insert
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
