"""The portfolio explorer: one mission's activities, searched, filtered, sorted, paged.

Filtering, sorting and paging happen in SQL, so a page of a 10,000-activity portfolio
reads 25 rows plus their links; exports stream the whole filtered set in chunks.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session

from missionkit.domain.problems import InvalidInput, Problem
from missionkit.domain.vocab import STAGES
from missionkit.store import tables as t

SORTS: dict[str, Any] = {
    "title": t.Activity.title,
    "identifier": t.Activity.identifier,
    "budget": t.Activity.public_contribution,
    "total_cost": t.Activity.total_cost,
    "start": t.Activity.start,
    "end": t.Activity.end,
    "instrument": t.Activity.instrument,
    "stage": t.Activity.stage,
    "status": t.Activity.status,
}
DEFAULT_SORT = "-budget"
PAGE_SIZES = (25, 50, 100)
EXPORT_COLUMNS = (
    "identifier",
    "title",
    "kind",
    "instrument",
    "stage",
    "status",
    "public_contribution",
    "total_cost",
    "currency",
    "start",
    "end",
    "call",
    "regions",
    "sectors",
    "objectives",
    "organisations",
    "summary",
)


@dataclass(frozen=True)
class Filters:
    """What the user asked for; every field optional. ``page`` counts from 1."""

    q: str = ""
    instrument: str = ""
    stage: str = ""
    region: str = ""
    sector: str = ""
    objective: int | None = None
    status: str = ""
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = PAGE_SIZES[0]
    problems: tuple[Problem, ...] = field(default=())

    @classmethod
    def parse(cls, params: dict[str, str]) -> Filters:
        """From query-string text; bad values are dropped and reported, never fatal."""
        problems: list[Problem] = []

        def text(name: str) -> str:
            return (params.get(name) or "").strip()

        def number(name: str) -> Decimal | None:
            raw = text(name).replace(",", "").replace("_", "")
            if not raw:
                return None
            try:
                value = Decimal(raw)
            except InvalidOperation:
                problems.append(Problem(name, f"{raw!r} is not a number"))
                return None
            if not value.is_finite() or value < 0:
                problems.append(Problem(name, "must be a number of at least 0"))
                return None
            return value

        def integer(name: str, default: int | None) -> int | None:
            raw = text(name)
            if not raw:
                return default
            if not raw.isdigit():
                problems.append(Problem(name, f"{raw!r} is not a whole number"))
                return default
            return int(raw)

        sort = text("sort") or DEFAULT_SORT
        if sort.lstrip("-") not in SORTS:
            problems.append(Problem("sort", f"cannot sort by {sort!r}"))
            sort = DEFAULT_SORT
        per_page = integer("per_page", PAGE_SIZES[0]) or PAGE_SIZES[0]
        if per_page not in PAGE_SIZES:
            per_page = min(PAGE_SIZES, key=lambda size: abs(size - per_page))
        low, high = number("budget_min"), number("budget_max")
        if low is not None and high is not None and low > high:
            problems.append(Problem("budget_max", "the maximum is below the minimum"))
        return cls(
            q=text("q")[:200],
            instrument=text("instrument"),
            stage=text("stage"),
            region=text("region").upper(),
            sector=text("sector"),
            objective=integer("objective", None),
            status=text("status"),
            budget_min=low,
            budget_max=high,
            sort=sort,
            page=max(1, integer("page", 1) or 1),
            per_page=per_page,
            problems=tuple(problems),
        )

    def query_params(self, **changes: Any) -> dict[str, str]:
        """The non-default filters as query parameters (for links that keep the filters)."""
        current = replace(self, **changes)
        out: dict[str, str] = {}
        for name in (
            "q",
            "instrument",
            "stage",
            "region",
            "sector",
            "objective",
            "status",
            "budget_min",
            "budget_max",
        ):
            value = getattr(current, name)
            if value not in ("", None):
                out[name] = str(value)
        if current.sort != DEFAULT_SORT:
            out["sort"] = current.sort
        if current.per_page != PAGE_SIZES[0]:
            out["per_page"] = str(current.per_page)
        if current.page != 1:
            out["page"] = str(current.page)
        return out


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _objective_and_descendants(session: Session, mission_id: int, root: int) -> list[int]:
    parents = dict(
        session.execute(
            select(t.Objective.id, t.Objective.parent_id).where(
                t.Objective.mission_id == mission_id
            )
        ).all()
    )
    children: dict[int | None, list[int]] = defaultdict(list)
    for child, parent in parents.items():
        children[parent].append(child)
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children[node])
    return found


def _statement(session: Session, mission_id: int, f: Filters) -> Select[Any]:
    """The filtered activities of the mission (ids only; callers pick columns)."""
    s = select(t.Activity.id).where(t.Activity.mission_id == mission_id)
    for term in f.q.lower().split():
        pattern = f"%{_like_escape(term)}%"
        s = s.where(
            or_(
                *(
                    func.lower(func.coalesce(column, "")).like(pattern, escape="\\")
                    for column in (
                        t.Activity.title,
                        t.Activity.summary,
                        t.Activity.identifier,
                        t.Activity.call,
                    )
                )
            )
        )
    for name in ("instrument", "stage", "status"):
        value = getattr(f, name)
        if value:
            column = getattr(t.Activity, name)
            s = s.where(column.is_(None) if value == "none" else column == value)
    if f.region:
        # NUTS and ISO 3166-2 codes start with their country's code, so a prefix match
        # finds an activity in Bavaria (DE2) when filtering for Germany (DE).
        s = s.where(
            select(t.ActivityRegion.activity_id)
            .where(
                t.ActivityRegion.activity_id == t.Activity.id,
                t.ActivityRegion.region.like(f"{_like_escape(f.region)}%", escape="\\"),
            )
            .exists()
        )
    if f.sector:
        # Sectors are a JSON list; its stored text holds each item JSON-encoded.
        encoded = _like_escape(json.dumps(f.sector))
        s = s.where(cast(t.Activity.sectors, String).like(f"%{encoded}%", escape="\\"))
    if f.objective is not None:
        ids = _objective_and_descendants(session, mission_id, f.objective)
        s = s.where(
            select(t.Contribution.activity_id)
            .where(
                t.Contribution.activity_id == t.Activity.id,
                t.Contribution.objective_id.in_(ids),
            )
            .exists()
        )
    if f.budget_min is not None:
        s = s.where(t.Activity.public_contribution >= f.budget_min)
    if f.budget_max is not None:
        s = s.where(t.Activity.public_contribution <= f.budget_max)
    return s


def _ordering(sort: str) -> list[Any]:
    column = SORTS[sort.lstrip("-")]
    first = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    return [first, t.Activity.id.asc()]


ROW_COLUMNS = (
    t.Activity.id,
    t.Activity.identifier,
    t.Activity.title,
    t.Activity.kind,
    t.Activity.instrument,
    t.Activity.stage,
    t.Activity.status,
    t.Activity.public_contribution,
    t.Activity.total_cost,
    t.Activity.currency,
    t.Activity.start,
    t.Activity.end,
    t.Activity.call,
    t.Activity.sectors,
    t.Activity.summary,
)


def _rows(session: Session, statement: Any) -> list[dict[str, Any]]:
    result = session.execute(statement)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def _attach_links(session: Session, rows: list[dict[str, Any]]) -> None:
    """Regions, objectives and organisations of the given rows, one query each."""
    ids = [r["id"] for r in rows]
    regions: dict[int, list[str]] = defaultdict(list)
    objectives: dict[int, list[dict[str, Any]]] = defaultdict(list)
    organisations: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        for activity_id, code in session.execute(
            select(t.ActivityRegion.activity_id, t.ActivityRegion.region)
            .where(t.ActivityRegion.activity_id.in_(ids))
            .order_by(t.ActivityRegion.activity_id, t.ActivityRegion.position)
        ):
            regions[activity_id].append(code)
        for activity_id, objective_id, title, weight in session.execute(
            select(
                t.Contribution.activity_id, t.Objective.id, t.Objective.title, t.Contribution.weight
            )
            .join(t.Objective, t.Objective.id == t.Contribution.objective_id)
            .where(t.Contribution.activity_id.in_(ids))
            .order_by(t.Contribution.activity_id, t.Objective.position, t.Objective.slug)
        ):
            objectives[activity_id].append({"id": objective_id, "title": title, "weight": weight})
        for activity_id, org_id, name, role in session.execute(
            select(
                t.Participation.activity_id,
                t.Organisation.id,
                t.Organisation.name,
                t.Participation.role,
            )
            .join(t.Organisation, t.Organisation.id == t.Participation.organisation_id)
            .where(t.Participation.activity_id.in_(ids))
            .order_by(t.Participation.activity_id, t.Participation.position)
        ):
            organisations[activity_id].append({"id": org_id, "name": name, "role": role})
    for r in rows:
        r["regions"] = regions.get(r["id"], [])
        r["objectives"] = objectives.get(r["id"], [])
        r["organisations"] = organisations.get(r["id"], [])


def explore(session: Session, mission_id: int, f: Filters) -> dict[str, Any]:
    """One page of matching activities, the total that matched and its budget."""
    ids = _statement(session, mission_id, f).subquery()
    total, budget = session.execute(
        select(func.count(), func.coalesce(func.sum(t.Activity.public_contribution), 0)).join(
            ids, ids.c.id == t.Activity.id
        )
    ).one()
    pages = max(1, -(-total // f.per_page))
    page = min(f.page, pages)
    rows = _rows(
        session,
        select(*ROW_COLUMNS)
        .join(ids, ids.c.id == t.Activity.id)
        .order_by(*_ordering(f.sort))
        .limit(f.per_page)
        .offset((page - 1) * f.per_page),
    )
    _attach_links(session, rows)
    return {
        "rows": rows,
        "total": total,
        "budget": Decimal(budget or 0),
        "page": page,
        "pages": pages,
        "per_page": f.per_page,
        "first": (page - 1) * f.per_page + 1 if total else 0,
        "last": min(total, page * f.per_page),
    }


def facets(session: Session, mission_id: int) -> dict[str, Any]:
    """The values each filter can take in this mission, with how many activities have each."""

    # One grouped scan gives the instrument, stage and status counts together.
    counts: dict[str, dict[str | None, int]] = {
        "instrument": {}, "stage": {}, "status": {}, "currency": {}
    }  # fmt: skip
    a = t.Activity
    for instrument, stage, status, currency, n in session.execute(
        select(a.instrument, a.stage, a.status, a.currency, func.count())
        .where(a.mission_id == mission_id)
        .group_by(a.instrument, a.stage, a.status, a.currency)
    ):
        for name, key in (
            ("instrument", instrument), ("stage", stage), ("status", status),
            ("currency", currency),
        ):  # fmt: skip
            counts[name][key] = counts[name].get(key, 0) + n
    currencies = {c: n for c, n in counts["currency"].items() if c is not None}

    def counted(name: str) -> list[tuple[str | None, int]]:
        return sorted(counts[name].items(), key=lambda kv: kv[0] or "")

    stage_order = {s: i for i, s in enumerate(STAGES)}
    stages = sorted(counted("stage"), key=lambda kv: stage_order.get(kv[0] or "", 99))
    regions = session.execute(
        select(t.Region.country, func.count(func.distinct(t.ActivityRegion.activity_id)))
        .join(t.Region, t.Region.code == t.ActivityRegion.region)
        .join(t.Activity, t.Activity.id == t.ActivityRegion.activity_id)
        .where(t.Activity.mission_id == mission_id)
        .group_by(t.Region.country)
        .order_by(t.Region.country)
    ).all()
    sector_counts: dict[str, int] = defaultdict(int)
    # Grouped by the stored JSON text: one row per distinct list, with how many have it.
    as_text = cast(t.Activity.sectors, String)
    for text, count in session.execute(
        select(as_text, func.count()).where(t.Activity.mission_id == mission_id).group_by(as_text)
    ):
        for sector in json.loads(text) if text else []:
            sector_counts[sector] += count
    objectives = session.execute(
        select(t.Objective.id, t.Objective.title, t.Objective.parent_id)
        .where(t.Objective.mission_id == mission_id)
        .order_by(t.Objective.position, t.Objective.slug)
    ).all()
    return {
        "instrument": counted("instrument"),
        "stage": stages,
        "status": counted("status"),
        "region": [(code, n) for code, n in regions],
        "sector": sorted(sector_counts.items()),
        "objective": [(o.id, o.title) for o in objectives],
        # The currency most activities are in, as the cockpit chooses it.
        "currency": min(currencies, key=lambda c: (-currencies[c], c)) if currencies else None,
    }


EXPORT_CHUNK = 2000


def export_rows(session: Session, mission_id: int, f: Filters) -> Iterator[dict[str, Any]]:
    """Every matching activity in the chosen order, flattened for a spreadsheet."""
    ids = _statement(session, mission_id, f).subquery()
    ordered = [
        r[0]
        for r in session.execute(
            select(t.Activity.id).join(ids, ids.c.id == t.Activity.id).order_by(*_ordering(f.sort))
        )
    ]
    for start in range(0, len(ordered), EXPORT_CHUNK):
        chunk = ordered[start : start + EXPORT_CHUNK]
        rows = {
            r["id"]: r for r in _rows(session, select(*ROW_COLUMNS).where(t.Activity.id.in_(chunk)))
        }
        batch = [rows[i] for i in chunk]
        _attach_links(session, batch)
        for r in batch:
            yield {
                "identifier": r["identifier"],
                "title": r["title"],
                "kind": r["kind"],
                "instrument": r["instrument"],
                "stage": r["stage"],
                "status": r["status"],
                "public_contribution": r["public_contribution"],
                "total_cost": r["total_cost"],
                "currency": r["currency"],
                "start": r["start"],
                "end": r["end"],
                "call": r["call"],
                "regions": "; ".join(r["regions"]),
                "sectors": "; ".join(r["sectors"] or []),
                "objectives": "; ".join(o["title"] for o in r["objectives"]),
                "organisations": "; ".join(
                    f"{o['name']} ({o['role']})" for o in r["organisations"]
                ),
                "summary": r["summary"],
            }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def to_csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """CSV text in pieces, header first; formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(_plain(row[c])) for c in EXPORT_COLUMNS])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def to_xlsx(rows: Iterator[dict[str, Any]]) -> bytes:
    """One sheet, numbers as numbers and dates as dates; formula-like text neutralised."""
    from openpyxl import Workbook  # imported here: only this export needs it

    book = Workbook(write_only=True)
    sheet = book.create_sheet("activities")
    sheet.append(list(EXPORT_COLUMNS))
    for row in rows:
        cells = []
        for c in EXPORT_COLUMNS:
            value = row[c]
            if isinstance(value, Decimal):
                value = float(value)
            cells.append(safe_cell(value))
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def check_filters(f: Filters) -> None:
    """Raise the problems found while parsing, for callers (exports) that must refuse."""
    if f.problems:
        raise InvalidInput(list(f.problems))
