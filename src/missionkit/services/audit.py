"""The audit trail: every change, who made it, when, through which interface, before/after.

Entries are only ever added (the database refuses UPDATE and DELETE on them). Values are
stored in their public JSON shape so that the trail reads like the API.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor
from missionkit.services.spreadsheet import safe_cell
from missionkit.store.tables import AuditEntry

COLUMNS = (
    "id", "at", "username", "user_id", "interface", "action", "entity", "entity_key",
    "mission_id", "before", "after",
)  # fmt: skip


def _plain(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else to_jsonable_python(value)


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    key: Any,
    mission_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one entry in the caller's transaction, so a rolled-back change leaves none."""
    session.add(
        AuditEntry(
            at=dt.datetime.now(dt.UTC),
            user_id=actor.user_id,
            username=actor.username,
            interface=actor.interface,
            action=action,
            entity=entity,
            entity_key=str(key),
            mission_id=mission_id,
            before=_plain(before),
            after=_plain(after),
        )
    )


def entries(
    session: Session, mission_id: int | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Newest first; ``mission_id`` None lists installation-wide entries too."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if mission_id is not None:
        query = query.where(AuditEntry.mission_id == mission_id)
    return [_public(row) for row in session.scalars(query)]


def _public(row: AuditEntry) -> dict[str, Any]:
    item = {name: getattr(row, name) for name in COLUMNS}
    item["at"] = row.at.isoformat()
    return item


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return safe_cell(value)


def csv_lines(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The entries as CSV text, a line at a time, safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = ([_cell(item[c]) for c in COLUMNS] for item in items)
    for row in chain([list(COLUMNS)], rows):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
