"""The nouns of the mission map as `Resource`s: their keys, references and rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from missionkit.domain.problems import Problem
from missionkit.domain.regions import lookup_region
from missionkit.services import shapes
from missionkit.services.records import Link, Ref, Resource, replace_links
from missionkit.services.regions import ensure_regions
from missionkit.store import tables as t


def _read_codes(table: type[t.Base], owner: str) -> Any:
    def read(session: Session, keys: list[Any]) -> dict[Any, list[Any]]:
        out: dict[Any, list[Any]] = defaultdict(list)
        column = getattr(table, owner)
        rows = session.execute(
            select(column, table.region).where(column.in_(keys)).order_by(column, table.position)  # type: ignore[attr-defined]
        )
        for key, code in rows:
            out[key].append(code)
        return out

    return read


def _write_codes(table: type[t.Base], owner: str) -> Any:
    def write(session: Session, key: Any, codes: list[str]) -> None:
        ensure_regions(session, codes)
        rows = [{owner: key, "region": c, "position": i} for i, c in enumerate(codes)]
        replace_links(session, table, owner, key, rows)

    return write


def _read_participations(session: Session, keys: list[Any]) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    rows = session.execute(
        select(t.Participation, t.Organisation.identifier, t.Organisation.name)
        .join(t.Organisation, t.Organisation.id == t.Participation.organisation_id)
        .where(t.Participation.activity_id.in_(keys))
        .order_by(t.Participation.activity_id, t.Participation.position)
    )
    for p, identifier, name in rows:
        out[p.activity_id].append(
            {
                "organisation_id": p.organisation_id,
                "organisation": identifier,
                "name": name,
                "role": p.role,
                "amount": p.amount,
            }
        )
    return out


def _write_participations(session: Session, key: Any, items: list[dict[str, Any]]) -> None:
    rows = [
        {
            "activity_id": key,
            "organisation_id": p["organisation_id"],
            "role": p["role"],
            "amount": p.get("amount"),
            "position": i,
        }
        for i, p in enumerate(items)
    ]
    replace_links(session, t.Participation, "activity_id", key, rows)


def _mission_of(session: Session, table: type[t.Base], key: Any) -> Any:
    return session.scalar(select(table.mission_id).where(table.id == key))  # type: ignore[attr-defined]


def _own_mission(_session: Session, data: dict[str, Any]) -> int | None:
    return data.get("mission_id")


def _mission_via(field: str, table: type[t.Base]) -> Any:
    """The mission of a record that belongs to one through its parent (indicator, activity)."""

    def mission(session: Session, data: dict[str, Any]) -> int | None:
        key = data.get(field)
        return None if key is None else _mission_of(session, table, key)

    return mission


def _in_missions(ids: Collection[int]) -> ColumnElement[bool]:
    return t.Mission.id.in_(ids)


def _in_own_missions(table: type[t.Base]) -> Any:
    def condition(ids: Collection[int]) -> ColumnElement[bool]:
        return table.mission_id.in_(ids)  # type: ignore[attr-defined, no-any-return]

    return condition


def _in_missions_via(field: str, parent: type[t.Base], table: type[t.Base]) -> Any:
    def condition(ids: Collection[int]) -> ColumnElement[bool]:
        owned = select(parent.id).where(parent.mission_id.in_(ids))  # type: ignore[attr-defined]
        return getattr(table, field).in_(owned)  # type: ignore[no-any-return]

    return condition


def _same_mission(field: str, table: type[t.Base], label: str) -> Any:
    """A reference must point into the record's own mission."""

    def check(session: Session, data: dict[str, Any], _row: Any) -> list[Problem]:
        key = data.get(field)
        if key is None:
            return []
        theirs = _mission_of(session, table, key)
        if theirs is not None and theirs != data["mission_id"]:
            return [Problem(field, f"{label} {key} belongs to another mission ({theirs})")]
        return []

    return check


def _no_cycle(table: type[t.Base], label: str) -> Any:
    """A record may not become its own ancestor through ``parent_id``."""

    def check(session: Session, data: dict[str, Any], row: Any) -> list[Problem]:
        if row is None or data.get("parent_id") is None:
            return []
        node: Any = data["parent_id"]
        for _ in range(10_000):
            if node is None:
                return []
            if node == row.id:
                return [Problem("parent_id", f"{label} {row.id} would become its own ancestor")]
            node = session.scalar(select(table.parent_id).where(table.id == node))  # type: ignore[attr-defined]
        return [Problem("parent_id", "parent chain too deep")]

    return check


def _contribution_same_mission(session: Session, data: dict[str, Any], _row: Any) -> list[Problem]:
    activity = _mission_of(session, t.Activity, data["activity_id"])
    objective = _mission_of(session, t.Objective, data["objective_id"])
    if activity is not None and objective is not None and activity != objective:
        return [
            Problem(
                "objective_id",
                f"objective {data['objective_id']} is in mission {objective}, "
                f"but activity {data['activity_id']} is in mission {activity}",
            )
        ]
    return []


def _participants_exist(session: Session, data: dict[str, Any], _row: Any) -> list[Problem]:
    wanted = [p["organisation_id"] for p in data.get("organisations", [])]
    known = set(session.scalars(select(t.Organisation.id).where(t.Organisation.id.in_(wanted))))
    found = []
    for i, key in enumerate(wanted):
        if key not in known:
            found.append(
                Problem(f"organisations[{i}].organisation_id", f"no organisation with id {key}")
            )
    pairs = [(p["organisation_id"], p["role"]) for p in data.get("organisations", [])]
    if len(set(pairs)) != len(pairs):
        found.append(Problem("organisations", "an organisation is listed twice in the same role"))
    return found


def _column_region(field: str) -> Any:
    def before(session: Session, data: dict[str, Any]) -> None:
        if data.get(field):
            ensure_regions(session, [data[field]])

    return before


def _derive_region(data: dict[str, Any]) -> dict[str, Any]:
    ref = lookup_region(data["code"])
    assert ref is not None  # validated by RegionFields
    return {
        "name": data.get("name") or ref.name,
        "level": ref.level,
        "parent_code": ref.parent,
        "country": ref.country,
    }


def _region_parents(session: Session, data: dict[str, Any]) -> None:
    ref = lookup_region(data["code"])
    if ref is not None and ref.parent:
        ensure_regions(session, [ref.parent])


MISSIONS = Resource(
    name="missions",
    in_missions=_in_missions,
    mission=lambda _s, d: d.get("id"),
    label="mission",
    table=t.Mission,
    create=shapes.MissionCreate,
    update=shapes.partial(shapes.MissionCreate, "MissionUpdate"),
    public=shapes.MissionPublic,
    unique=(("slug",),),
    filters=("status", "level", "parent_id", "slug"),
    sorts=("slug", "title", "start", "deadline", "status", "updated_at"),
    search=("title", "statement"),
    refs=(Ref("parent_id", t.Mission, "mission"),),
    links=(
        Link(
            "regions",
            _read_codes(t.MissionRegion, "mission_id"),
            _write_codes(t.MissionRegion, "mission_id"),
        ),
    ),
    checks=(_no_cycle(t.Mission, "mission"),),
    dependants=((t.Mission, "parent_id", "has child missions"),),
)

OBJECTIVES = Resource(
    name="objectives",
    in_missions=_in_own_missions(t.Objective),
    mission=_own_mission,
    label="objective",
    table=t.Objective,
    create=shapes.ObjectiveCreate,
    update=shapes.partial(shapes.ObjectiveCreate, "ObjectiveUpdate"),
    public=shapes.ObjectivePublic,
    unique=(("mission_id", "slug"),),
    filters=("mission_id", "parent_id", "slug"),
    sorts=("slug", "title", "position", "updated_at"),
    search=("title", "description"),
    refs=(Ref("mission_id", t.Mission, "mission"), Ref("parent_id", t.Objective, "objective")),
    checks=(
        _same_mission("parent_id", t.Objective, "objective"),
        _no_cycle(t.Objective, "objective"),
    ),
)

INDICATORS = Resource(
    name="indicators",
    in_missions=_in_own_missions(t.Indicator),
    mission=_own_mission,
    label="indicator",
    table=t.Indicator,
    create=shapes.IndicatorCreate,
    update=shapes.partial(shapes.IndicatorCreate, "IndicatorUpdate"),
    public=shapes.IndicatorPublic,
    unique=(("mission_id", "slug"),),
    filters=("mission_id", "objective_id", "slug", "direction", "unit"),
    sorts=("slug", "name", "target_date", "updated_at"),
    search=("name", "description"),
    refs=(Ref("mission_id", t.Mission, "mission"), Ref("objective_id", t.Objective, "objective")),
    checks=(_same_mission("objective_id", t.Objective, "objective"),),
)

OBSERVATIONS = Resource(
    name="observations",
    in_missions=_in_missions_via("indicator_id", t.Indicator, t.Observation),
    mission=_mission_via("indicator_id", t.Indicator),
    label="observation",
    table=t.Observation,
    create=shapes.ObservationCreate,
    update=shapes.partial(shapes.ObservationCreate, "ObservationUpdate"),
    public=shapes.ObservationPublic,
    unique=(("indicator_id", "date", "period_start", "region"),),
    filters=("indicator_id", "region", "date"),
    sorts=("date", "value", "updated_at"),
    refs=(Ref("indicator_id", t.Indicator, "indicator"),),
    before_write=_column_region("region"),
)

ACTIVITIES = Resource(
    name="activities",
    in_missions=_in_own_missions(t.Activity),
    mission=_own_mission,
    label="activity",
    table=t.Activity,
    create=shapes.ActivityCreate,
    update=shapes.partial(shapes.ActivityCreate, "ActivityUpdate"),
    public=shapes.ActivityPublic,
    unique=(("mission_id", "identifier"),),
    filters=(
        "mission_id",
        "instrument",
        "stage",
        "status",
        "kind",
        "call",
        "currency",
        "identifier",
    ),
    sorts=(
        "identifier",
        "title",
        "start",
        "end",
        "total_cost",
        "public_contribution",
        "updated_at",
    ),
    search=("title", "summary", "identifier"),
    refs=(Ref("mission_id", t.Mission, "mission"),),
    links=(
        Link(
            "regions",
            _read_codes(t.ActivityRegion, "activity_id"),
            _write_codes(t.ActivityRegion, "activity_id"),
        ),
        Link("organisations", _read_participations, _write_participations),
    ),
    checks=(_participants_exist,),
)

CONTRIBUTIONS = Resource(
    name="contributions",
    in_missions=_in_missions_via("activity_id", t.Activity, t.Contribution),
    mission=_mission_via("activity_id", t.Activity),
    label="contribution",
    table=t.Contribution,
    create=shapes.ContributionCreate,
    update=shapes.partial(shapes.ContributionCreate, "ContributionUpdate"),
    public=shapes.ContributionPublic,
    unique=(("activity_id", "objective_id"),),
    filters=("activity_id", "objective_id", "provenance"),
    sorts=("weight", "score", "updated_at"),
    refs=(
        Ref("activity_id", t.Activity, "activity"),
        Ref("objective_id", t.Objective, "objective"),
    ),
    checks=(_contribution_same_mission,),
)

ORGANISATIONS = Resource(
    name="organisations",
    label="organisation",
    table=t.Organisation,
    create=shapes.OrganisationCreate,
    update=shapes.partial(shapes.OrganisationCreate, "OrganisationUpdate"),
    public=shapes.OrganisationPublic,
    unique=(("identifier",),),
    filters=("type", "country", "region", "identifier"),
    sorts=("identifier", "name", "country", "updated_at"),
    search=("name", "identifier", "city"),
    before_write=_column_region("region"),
    dependants=((t.Participation, "organisation_id", "takes part in activities"),),
)

REGIONS = Resource(
    name="regions",
    label="region",
    table=t.Region,
    create=shapes.RegionCreate,
    update=shapes.partial(shapes.RegionCreate, "RegionUpdate"),
    public=shapes.RegionPublic,
    pk="code",
    unique=(("code",),),
    filters=("level", "country", "parent_code", "scoreboard_group"),
    sorts=("code", "name", "population", "gdp_per_head", "updated_at"),
    search=("name", "code"),
    derive=_derive_region,
    before_write=_region_parents,
    dependants=(
        (t.Region, "parent_code", "has sub-regions"),
        (t.ActivityRegion, "region", "is an activity's region"),
        (t.MissionRegion, "region", "is in a mission's scope"),
        (t.Observation, "region", "has observations"),
        (t.Organisation, "region", "is an organisation's region"),
    ),
)

WORK_ITEMS = Resource(
    name="work-items",
    in_missions=_in_missions_via("activity_id", t.Activity, t.WorkItem),
    mission=_mission_via("activity_id", t.Activity),
    label="work item",
    table=t.WorkItem,
    create=shapes.WorkItemCreate,
    update=shapes.partial(shapes.WorkItemCreate, "WorkItemUpdate"),
    public=shapes.WorkItemPublic,
    unique=(("tracker", "key"),),
    filters=("activity_id", "tracker", "status"),
    sorts=("key", "title", "status", "effort", "updated_at"),
    search=("title", "key"),
    refs=(Ref("activity_id", t.Activity, "activity"),),
)

REVIEWS = Resource(
    name="reviews",
    in_missions=_in_own_missions(t.Review),
    mission=_own_mission,
    label="review",
    table=t.Review,
    create=shapes.ReviewCreate,
    update=shapes.partial(shapes.ReviewCreate, "ReviewUpdate"),
    public=shapes.ReviewPublic,
    filters=("mission_id", "objective_id", "activity_id", "decision"),
    sorts=("date", "title", "decision", "updated_at"),
    search=("title", "evidence", "rationale"),
    refs=(
        Ref("mission_id", t.Mission, "mission"),
        Ref("objective_id", t.Objective, "objective"),
        Ref("activity_id", t.Activity, "activity"),
    ),
    checks=(
        _same_mission("objective_id", t.Objective, "objective"),
        _same_mission("activity_id", t.Activity, "activity"),
    ),
)

RESOURCES: tuple[Resource, ...] = (
    MISSIONS,
    OBJECTIVES,
    INDICATORS,
    OBSERVATIONS,
    ACTIVITIES,
    CONTRIBUTIONS,
    ORGANISATIONS,
    REGIONS,
    WORK_ITEMS,
    REVIEWS,
)
