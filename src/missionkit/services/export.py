"""Export whole mission maps as documents, streamed, in a fixed order.

The order makes export → import → export give the same text: the lossless round trip
that lets users move a mission between databases and keep it under version control.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionkit.domain.document import FORMAT, FORMAT_VERSION, ActivityDoc, MissionHeader
from missionkit.domain.models import OrganisationFields, RegionFields
from missionkit.domain.problems import InvalidInput
from missionkit.domain.regions import lookup_region
from missionkit.services.transfer import BATCH, Progress
from missionkit.store import tables as t
from missionkit.store.db import Database


def _dump(model: Any) -> str:
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False)


def _mission_rows(session: Session, slugs: list[str] | None) -> list[t.Mission]:
    statement = select(t.Mission).order_by(t.Mission.slug)
    if slugs is not None:
        statement = statement.where(t.Mission.slug.in_(slugs))
        found = list(session.scalars(statement))
        missing = sorted(set(slugs) - {m.slug for m in found})
        if missing:
            raise InvalidInput.one("mission", f"no mission {', '.join(map(repr, missing))}")
        return found
    return list(session.scalars(statement))


def mission_header(session: Session, m: t.Mission) -> MissionHeader:
    objectives = session.scalars(
        select(t.Objective)
        .where(t.Objective.mission_id == m.id)
        .order_by(t.Objective.position, t.Objective.slug)
    ).all()
    slug_of = {o.id: o.slug for o in objectives}
    indicators = session.scalars(
        select(t.Indicator).where(t.Indicator.mission_id == m.id).order_by(t.Indicator.slug)
    ).all()
    observations: dict[int, list[t.Observation]] = defaultdict(list)
    for o in session.scalars(
        select(t.Observation)
        .join(t.Indicator, t.Indicator.id == t.Observation.indicator_id)
        .where(t.Indicator.mission_id == m.id)
        .order_by(
            t.Observation.date,
            t.Observation.period_start.asc().nulls_first(),
            t.Observation.region.asc().nulls_first(),
            t.Observation.id,
        )
    ):
        observations[o.indicator_id].append(o)
    reviews = session.execute(
        select(t.Review, t.Activity.identifier)
        .outerjoin(t.Activity, t.Activity.id == t.Review.activity_id)
        .where(t.Review.mission_id == m.id)
        .order_by(t.Review.date, t.Review.title, t.Review.id)
    ).all()
    parent = (
        session.scalar(select(t.Mission.slug).where(t.Mission.id == m.parent_id))
        if m.parent_id
        else None
    )
    experiments = _experiment_documents(session, m.id, slug_of)
    regions = session.scalars(
        select(t.MissionRegion.region)
        .where(t.MissionRegion.mission_id == m.id)
        .order_by(t.MissionRegion.position)
    ).all()
    return MissionHeader.model_validate(
        {
            **_columns(m),
            "parent": parent,
            "regions": list(regions),
            "objectives": [
                {**_columns(o), "parent": slug_of.get(o.parent_id or -1)} for o in objectives
            ],
            "indicators": [
                {
                    **_columns(i),
                    "objective": slug_of.get(i.objective_id or -1),
                    "observations": [_columns(o) for o in observations[i.id]],
                }
                for i in indicators
            ],
            "reviews": [
                {
                    **_columns(r),
                    "objective": slug_of.get(r.objective_id or -1),
                    "activity": identifier,
                }
                for r, identifier in reviews
            ],
            "experiments": experiments,
        }
    )


def _experiment_documents(
    session: Session, mission_id: int, slug_of: dict[int, str]
) -> list[dict[str, Any]]:
    """Each experiment with its whole history: locked plans, assignment, decisions."""
    rows = session.execute(
        select(t.Experiment, t.Activity.identifier)
        .outerjoin(t.Activity, t.Activity.id == t.Experiment.activity_id)
        .where(t.Experiment.mission_id == mission_id)
        .order_by(t.Experiment.slug)
    ).all()
    ids = [e.id for e, _ in rows]
    children: dict[str, dict[int, list[dict[str, Any]]]] = {}
    History = type[t.ExperimentPlanVersion | t.ExperimentAssignment | t.ExperimentDecision]
    parts: tuple[tuple[str, History, Any], ...] = (
        ("plan_versions", t.ExperimentPlanVersion, t.ExperimentPlanVersion.number),
        ("assignments", t.ExperimentAssignment, t.ExperimentAssignment.unit),
        ("decisions", t.ExperimentDecision, t.ExperimentDecision.id),
    )
    for name, table, order in parts:
        by_experiment: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for experiment_id, child in session.execute(
            select(table.experiment_id, table).where(table.experiment_id.in_(ids)).order_by(order)
        ):
            by_experiment[experiment_id].append(_columns(child))
        children[name] = by_experiment
    return [
        {
            **_columns(e),
            "objective": slug_of.get(e.objective_id or -1),
            "activity": identifier,
            **{name: found[e.id] for name, found in children.items()},
        }
        for e, identifier in rows
    ]


# Database ids and bookkeeping: never part of a document.
_INTERNAL = frozenset(
    {
        "id",
        "version",
        "created_at",
        "updated_at",
        "mission_id",
        "parent_id",
        "objective_id",
        "indicator_id",
        "activity_id",
        "organisation_id",
        "parent_code",
        "experiment_id",
    }
)


def _columns(row: Any) -> dict[str, Any]:
    """A row's own data, as the document shapes name it."""
    names = row.__table__.columns.keys()
    return {k: getattr(row, k) for k in names if k not in _INTERNAL}


def activity_documents(
    session: Session, mission_id: int, batch: int = BATCH
) -> Iterator[ActivityDoc]:
    objective_slug = dict(
        session.execute(
            select(t.Objective.id, t.Objective.slug).where(t.Objective.mission_id == mission_id)
        ).all()
    )
    ids = list(
        session.scalars(
            select(t.Activity.id)
            .where(t.Activity.mission_id == mission_id)
            .order_by(t.Activity.identifier)
        )
    )
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = {
            a.id: a for a in session.scalars(select(t.Activity).where(t.Activity.id.in_(chunk)))
        }
        regions: dict[int, list[str]] = defaultdict(list)
        for activity_id, code in session.execute(
            select(t.ActivityRegion.activity_id, t.ActivityRegion.region)
            .where(t.ActivityRegion.activity_id.in_(chunk))
            .order_by(t.ActivityRegion.activity_id, t.ActivityRegion.position)
        ):
            regions[activity_id].append(code)
        people: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for p, identifier in session.execute(
            select(t.Participation, t.Organisation.identifier)
            .join(t.Organisation, t.Organisation.id == t.Participation.organisation_id)
            .where(t.Participation.activity_id.in_(chunk))
            .order_by(t.Participation.activity_id, t.Participation.position)
        ):
            people[p.activity_id].append(
                {"organisation": identifier, "role": p.role, "amount": p.amount}
            )
        serves: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for c in session.scalars(
            select(t.Contribution).where(t.Contribution.activity_id.in_(chunk))
        ):
            serves[c.activity_id].append(
                {**_columns(c), "objective": objective_slug[c.objective_id]}
            )
        work: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for w in session.scalars(
            select(t.WorkItem)
            .where(t.WorkItem.activity_id.in_(chunk))
            .order_by(t.WorkItem.tracker, t.WorkItem.key)
        ):
            work[w.activity_id].append(_columns(w))
        session.expunge_all()
        for activity_id in chunk:
            yield ActivityDoc.model_validate(
                {
                    **_columns(rows[activity_id]),
                    "regions": regions[activity_id],
                    "organisations": people[activity_id],
                    "contributions": sorted(serves[activity_id], key=lambda c: c["objective"]),
                    "work_items": work[activity_id],
                }
            )


def export_document(
    database: Database,
    out: IO[str],
    slugs: list[str] | None = None,
    *,
    progress: Progress | None = None,
    batch_size: int = BATCH,
) -> int:
    """Write missions (all, or those named) as one document; returns the activity count.

    Output is deterministic (every list in a fixed order), so export → import → export
    gives the same text. Regions and organisations are those the missions use (all of
    them for a whole-database export).
    """
    count = 0
    with database.reading() as session:
        missions = _mission_rows(session, slugs)
        ids = [m.id for m in missions]
        total = session.scalar(select(func.count()).where(t.Activity.mission_id.in_(ids))) or 0
        org_query = select(t.Organisation).order_by(t.Organisation.identifier)
        region_query = select(t.Region).order_by(t.Region.code)
        if slugs is not None:
            used_orgs = (
                select(t.Participation.organisation_id)
                .join(t.Activity, t.Activity.id == t.Participation.activity_id)
                .where(t.Activity.mission_id.in_(ids))
            )
            org_query = org_query.where(t.Organisation.id.in_(used_orgs))
        orgs = [OrganisationFields.model_validate(_columns(o)) for o in session.scalars(org_query)]
        if slugs is not None:
            used = _used_regions(session, ids, orgs)
            region_query = region_query.where(t.Region.code.in_(used))
        regions = [
            RegionFields.model_validate({k: v for k, v in _columns(r).items() if k != "country"})
            for r in session.scalars(region_query)
        ]
        out.write(f'{{"format": "{FORMAT}", "version": {FORMAT_VERSION},\n"regions": [')
        out.write(",".join("\n" + _dump(r) for r in regions))
        out.write('\n],\n"organisations": [')
        out.write(",".join("\n" + _dump(o) for o in orgs))
        out.write('\n],\n"missions": [')
        for n, m in enumerate(missions):
            header = json.dumps(
                mission_header(session, m).model_dump(mode="json"), ensure_ascii=False
            )
            out.write(("," if n else "") + "\n" + header[:-1] + ', "activities": [')
            first = True
            for activity in activity_documents(session, m.id, batch_size):
                out.write(("" if first else ",") + "\n" + _dump(activity))
                first = False
                count += 1
                if progress and count % 1000 == 0:
                    progress(count, total)
            out.write("\n]}")
        out.write("\n]}\n")
    if progress:
        progress(count, total)
    return count


def _used_regions(
    session: Session, mission_ids: list[int], orgs: list[OrganisationFields]
) -> set[str]:
    used: set[str] = set()
    used |= set(
        session.scalars(
            select(t.MissionRegion.region).where(t.MissionRegion.mission_id.in_(mission_ids))
        )
    )
    used |= set(
        session.scalars(
            select(t.ActivityRegion.region)
            .join(t.Activity, t.Activity.id == t.ActivityRegion.activity_id)
            .where(t.Activity.mission_id.in_(mission_ids))
        )
    )
    used |= set(
        session.scalars(
            select(t.Observation.region)
            .join(t.Indicator, t.Indicator.id == t.Observation.indicator_id)
            .where(t.Indicator.mission_id.in_(mission_ids), t.Observation.region.is_not(None))
        )
    )
    used |= {o.region for o in orgs if o.region}
    closure = set()
    for code in used:
        ref = lookup_region(code)
        while ref is not None:
            closure.add(ref.code)
            ref = lookup_region(ref.parent) if ref.parent else None
    return closure
