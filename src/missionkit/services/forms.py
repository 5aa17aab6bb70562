"""Writes that come from the web forms, through the same rules as the API.

Every write goes through ``records.create`` / ``records.update`` with the catalogue's
resources, so a form and the API accept and refuse exactly the same input. What this
module adds: the choices a form offers (read with one query each), batches of
observations pasted as CSV (all or nothing, problems named by row), and conflicts turned
into problems at the field that holds the duplicated key.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor
from missionkit.domain.problems import InvalidInput, Problem, join_path
from missionkit.services import records
from missionkit.services.catalogue import OBSERVATIONS
from missionkit.services.errors import Conflict
from missionkit.services.records import Resource
from missionkit.store import tables as t


def _key_field(res: Resource) -> str:
    """The field a user would change to resolve a duplicate (the unique key's own part)."""
    for columns in res.unique:
        for column in columns:
            if not column.endswith("_id"):
                return column
    return ""


def save(
    session: Session,
    res: Resource,
    payload: dict[str, Any],
    key: Any = None,
    expected_version: int | None = None,
    *,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Create (``key`` None) or update a record; a duplicate key is a problem at its field.
    ``actor`` is who the audit trail names (the caller has checked they may)."""
    try:
        if key is None:
            return records.create(session, res, payload, actor=actor)
        return records.update(session, res, key, payload, expected_version, actor=actor)
    except Conflict as e:
        raise InvalidInput([Problem(_key_field(res), str(e))]) from None


def mission_choices(
    session: Session, exclude: int | None = None, among: frozenset[int] | None = None
) -> list[tuple[int, str]]:
    """Missions a form may offer as a parent; ``among`` limits them (None: all)."""
    statement = select(t.Mission.id, t.Mission.title).order_by(t.Mission.title)
    if among is not None:
        statement = statement.where(t.Mission.id.in_(among))
    return [(i, title) for i, title in session.execute(statement) if i != exclude]


def objective_choices(
    session: Session, mission_id: int, exclude: int | None = None
) -> list[tuple[int, str]]:
    rows = session.execute(
        select(t.Objective.id, t.Objective.title)
        .where(t.Objective.mission_id == mission_id)
        .order_by(t.Objective.position, t.Objective.slug)
    )
    return [(i, title) for i, title in rows if i != exclude]


OBSERVATION_COLUMNS = ("date", "value", "region", "period_start", "provenance")


def parse_observation_csv(text: str) -> list[dict[str, Any]]:
    """Rows of ``date,value[,region[,period_start[,provenance]]]``; a header row is optional.

    A header naming the columns may put them in any order. Blank lines are skipped.
    Values stay text: the observation rules parse and check them.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InvalidInput.one("", "paste at least one row: date,value")
    reader = list(csv.reader(io.StringIO("\n".join(lines))))
    first = [c.strip().lower() for c in reader[0]]
    if "date" in first and "value" in first:
        unknown = [c for c in first if c not in OBSERVATION_COLUMNS]
        if unknown:
            expected = ", ".join(OBSERVATION_COLUMNS)
            raise InvalidInput.one(
                "rows[1]", f"unknown column {unknown[0]!r} (expected {expected})"
            )
        header, body, offset = first, reader[1:], 2
    else:
        header, body, offset = list(OBSERVATION_COLUMNS), reader, 1
    out = []
    problems = []
    for n, cells in enumerate(body, offset):
        if len(cells) > len(header):
            problems.append(
                Problem(join_path("rows", n), f"{len(cells)} cells, expected at most {len(header)}")
            )
            continue
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
        out.append({k: v for k, v in row.items() if v != ""} | {"_row": n})
    if problems:
        raise InvalidInput(problems)
    return out


def add_observations(
    session: Session, indicator_id: int, rows: list[dict[str, Any]], actor: Actor | None = None
) -> list[dict[str, Any]]:
    """All rows or none: every row is checked, each problem reported at ``rows[N].field``.

    N is the row's line in the pasted text (``_row``), or its position from 1.
    """
    created, problems = [], []
    for i, row in enumerate(rows):
        number = row.get("_row", i + 1)
        payload = {k: v for k, v in row.items() if k != "_row"} | {"indicator_id": indicator_id}
        try:
            # Rules and keys are checked before anything is written, so a refused row
            # leaves the session clean; the caller's transaction makes it all or nothing.
            created.append(records.create(session, OBSERVATIONS, payload, actor=actor))
        except InvalidInput as e:
            problems += [Problem(join_path("rows", number, p.path), p.message) for p in e.problems]
        except Conflict:
            where = f" in {row['region']}" if row.get("region") else ""
            problems.append(
                Problem(
                    join_path("rows", number, "date"),
                    f"there is already an observation for {row.get('date')}{where}",
                )
            )
    if problems:
        raise InvalidInput(problems)
    return created
