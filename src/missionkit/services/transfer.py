"""Import whole mission maps as documents, streamed and in one transaction.

Import validates everything it reads through the domain models and the document checker;
if anything is wrong nothing is written, and every problem is reported with its path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor, system_actor
from missionkit.domain.document import (
    ActivityDoc,
    DocumentChecker,
    MissionHeader,
)
from missionkit.domain.models import OrganisationFields, RegionFields
from missionkit.domain.problems import InvalidInput, Problem, join_path
from missionkit.services import audit
from missionkit.services.regions import ensure_regions
from missionkit.services.stream import Skeleton, iter_activities, read_skeleton
from missionkit.store import tables as t
from missionkit.store.bulk import bulk_insert, bulk_insert_ids
from missionkit.store.db import Database
from missionkit.store.tables import table_of

# Called with (activities done, activities in all) as work proceeds.
Progress = Callable[[int, int], None]
BATCH = 2000


@dataclass
class ImportReport:
    missions: list[str] = field(default_factory=list)
    activities: int = 0
    experiments: int = 0
    organisations: int = 0
    regions: int = 0
    rows: int = 0


def _ordered_missions(headers: list[MissionHeader]) -> list[MissionHeader]:
    """Parents before children, so every parent id exists when a child is written."""
    by_slug = {m.slug: m for m in headers}
    done: set[str] = set()
    out: list[MissionHeader] = []

    def visit(m: MissionHeader) -> None:
        if m.slug in done:
            return
        done.add(m.slug)
        if m.parent in by_slug:
            visit(by_slug[m.parent])
        out.append(m)

    for m in headers:
        visit(m)
    return out


def _skeleton_parts(
    skeleton: Skeleton, checker: DocumentChecker
) -> tuple[list[RegionFields], list[OrganisationFields], list[MissionHeader | None]]:
    raw = skeleton.document
    if not isinstance(raw, dict):
        raise InvalidInput.one("", "a mission-map document must be a JSON object")
    regions, orgs = checker.parse_header(raw)
    missions_raw = raw.get("missions", [])
    if not isinstance(missions_raw, list):
        checker.problems.append(Problem("missions", "must be a list"))
        return regions, orgs, []
    for i, m in enumerate(missions_raw):
        if isinstance(m, dict) and not isinstance(m.get("activities", []), list):
            checker.problems.append(
                Problem(join_path("missions", i, "activities"), "must be a list")
            )
    return (
        regions,
        orgs,
        checker.parse_missions([m if isinstance(m, dict) else {} for m in missions_raw]),
    )


def check_document(path: Path, database: Database | None = None) -> list[Problem]:
    """Every problem in a document, without writing anything."""
    checker = DocumentChecker()
    if database is not None:
        with database.reading() as session:
            checker.known_organisations = set(session.scalars(select(t.Organisation.identifier)))
            checker.known_missions = set(session.scalars(select(t.Mission.slug)))
    try:
        skeleton = read_skeleton(path)
        _skeleton_parts(skeleton, checker)
        for mission, index, raw in iter_activities(path, skeleton.activity_counts):
            checker.parse_activity(mission, index, raw)
    except InvalidInput as e:
        return e.problems
    return checker.finish()


class _Writer:
    """Writes validated parts; holds the key maps that turn natural keys into ids."""

    def __init__(self, session: Session, report: ImportReport) -> None:
        self.s = session
        self.report = report
        self.known_regions: set[str] = set()
        self.org_ids: dict[str, int] = {}
        self.mission_ids: dict[int, int] = {}
        self.objective_ids: dict[int, dict[str, int]] = {}
        self.activity_ids: dict[int, dict[str, int]] = defaultdict(dict)

    def rows(self, table: type[t.Base], values: list[dict[str, Any]]) -> None:
        """Rows with every key present, through the store's bulk path (COPY on PostgreSQL)."""
        if values:
            bulk_insert(self.s, table_of(table), values)
            self.report.rows += len(values)

    def regions(self, regions: list[RegionFields]) -> None:
        ensure_regions(self.s, [r.code for r in regions], self.known_regions)
        for r in regions:
            figures = r.model_dump(exclude={"code", "level"})
            if figures["name"] is None:
                del figures["name"]
            self.s.execute(
                update(t.Region)
                .where(t.Region.code == r.code)
                .values(**figures, version=t.Region.version + 1)
            )
        self.report.regions += len(regions)

    def organisations(self, orgs: list[OrganisationFields]) -> None:
        ensure_regions(self.s, [o.region for o in orgs if o.region], self.known_regions)
        stored = dict(
            self.s.execute(
                select(t.Organisation.identifier, t.Organisation.id).where(
                    t.Organisation.identifier.in_([o.identifier for o in orgs])
                )
            ).all()
        )
        fresh = [o.model_dump() for o in orgs if o.identifier not in stored]
        for o in orgs:
            if o.identifier in stored:
                self.s.execute(
                    update(t.Organisation)
                    .where(t.Organisation.id == stored[o.identifier])
                    .values(**o.model_dump(), version=t.Organisation.version + 1)
                )
        for start in range(0, len(fresh), BATCH):
            self.rows(t.Organisation, fresh[start : start + BATCH])
        self.org_ids = self._lookup_orgs([o.identifier for o in orgs])
        self.report.organisations += len(orgs)

    def _lookup_orgs(self, identifiers: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(identifiers), BATCH):
            chunk = identifiers[start : start + BATCH]
            found.update(
                self.s.execute(
                    select(t.Organisation.identifier, t.Organisation.id).where(
                        t.Organisation.identifier.in_(chunk)
                    )
                ).all()
            )
        return found

    def mission(self, index: int, m: MissionHeader, parent_id: int | None) -> int:
        values = m.model_dump(
            exclude={"parent", "objectives", "indicators", "reviews", "experiments", "regions"}
        )
        mission_id = self.s.scalar(
            insert(t.Mission).values(**values, parent_id=parent_id).returning(t.Mission.id)
        )
        assert mission_id is not None
        self.report.rows += 1
        self.mission_ids[index] = mission_id
        ensure_regions(self.s, m.regions, self.known_regions)
        self.rows(
            t.MissionRegion,
            [
                {"mission_id": mission_id, "region": c, "position": i}
                for i, c in enumerate(m.regions)
            ],
        )
        self._objectives(index, mission_id, m)
        self._indicators(index, mission_id, m)
        self.report.missions.append(m.slug)
        return int(mission_id)

    def _objectives(self, index: int, mission_id: int, m: MissionHeader) -> None:
        ids: dict[str, int] = {}
        pending = list(m.objectives)
        while pending:
            ready = [o for o in pending if o.parent is None or o.parent in ids]
            for o in ready:
                values = o.model_dump(exclude={"parent"})
                new_id = self.s.scalar(
                    insert(t.Objective)
                    .values(**values, mission_id=mission_id, parent_id=ids.get(o.parent or ""))
                    .returning(t.Objective.id)
                )
                assert new_id is not None
                ids[o.slug] = new_id
            self.report.rows += len(ready)
            pending = [o for o in pending if o.slug not in ids]
        self.objective_ids[index] = ids

    def _indicators(self, index: int, mission_id: int, m: MissionHeader) -> None:
        objectives = self.objective_ids[index]
        for ind in m.indicators:
            values = ind.model_dump(exclude={"objective", "observations"})
            indicator_id = self.s.scalar(
                insert(t.Indicator)
                .values(
                    **values,
                    mission_id=mission_id,
                    objective_id=objectives.get(ind.objective or ""),
                )
                .returning(t.Indicator.id)
            )
            self.report.rows += 1
            ensure_regions(
                self.s, [o.region for o in ind.observations if o.region], self.known_regions
            )
            self.rows(
                t.Observation,
                [{**o.model_dump(), "indicator_id": indicator_id} for o in ind.observations],
            )

    def work_item_clashes(self, batch: list[ActivityDoc]) -> list[Problem]:
        """Work items already linked elsewhere in the database (keys are global per tracker)."""
        keys = {(w.tracker, w.key) for a in batch for w in a.work_items}
        if not keys:
            return []
        stored = self.s.execute(
            select(t.WorkItem.tracker, t.WorkItem.key).where(
                t.WorkItem.key.in_(sorted({k for _, k in keys}))
            )
        ).all()
        return [
            Problem(
                "work_items", f"work item {tracker}:{key} is already linked to another activity"
            )
            for tracker, key in stored
            if (tracker, key) in keys
        ]

    def activities(self, index: int, batch: list[ActivityDoc]) -> None:
        mission_id = self.mission_ids[index]
        objectives = self.objective_ids[index]
        ensure_regions(self.s, {c for a in batch for c in a.regions}, self.known_regions)
        missing = {p.organisation for a in batch for p in a.organisations} - self.org_ids.keys()
        if missing:
            self.org_ids.update(self._lookup_orgs(sorted(missing)))
        values = [
            {
                **a.model_dump(exclude={"organisations", "contributions", "work_items", "regions"}),
                "mission_id": mission_id,
            }
            for a in batch
        ]
        stored = bulk_insert_ids(
            self.s, table_of(t.Activity), values, "identifier", {"mission_id": mission_id}
        )
        ids = [stored[a.identifier] for a in batch]
        self.report.rows += len(ids)
        self.report.activities += len(ids)
        regions, people, contributions, work = [], [], [], []
        for activity_id, a in zip(ids, batch, strict=True):
            self.activity_ids[index][a.identifier] = activity_id
            regions += [
                {"activity_id": activity_id, "region": c, "position": i}
                for i, c in enumerate(a.regions)
            ]
            people += [
                {
                    "activity_id": activity_id,
                    "organisation_id": self.org_ids[p.organisation],
                    "role": p.role,
                    "amount": p.amount,
                    "position": i,
                }
                for i, p in enumerate(a.organisations)
            ]
            contributions += [
                {
                    **c.model_dump(exclude={"objective"}),
                    "activity_id": activity_id,
                    "objective_id": objectives[c.objective],
                }
                for c in a.contributions
            ]
            work += [{**w.model_dump(), "activity_id": activity_id} for w in a.work_items]
        self.rows(t.ActivityRegion, regions)
        self.rows(t.Participation, people)
        self.rows(t.Contribution, contributions)
        self.rows(t.WorkItem, work)

    def reviews(self, index: int, m: MissionHeader) -> None:
        objectives, activities = self.objective_ids[index], self.activity_ids[index]
        self.rows(
            t.Review,
            [
                {
                    **r.model_dump(exclude={"objective", "activity"}),
                    "mission_id": self.mission_ids[index],
                    "objective_id": objectives.get(r.objective or ""),
                    "activity_id": activities.get(r.activity or ""),
                }
                for r in m.reviews
            ],
        )

    def experiments(self, index: int, m: MissionHeader) -> None:
        """Each experiment with its locked plans, assignment and decisions, as exported.

        Plan hashes were checked against their content when the document was read."""
        objectives, activities = self.objective_ids[index], self.activity_ids[index]
        for e in m.experiments:
            own = e.model_dump(
                mode="json",
                exclude={"objective", "activity", "plan_versions", "assignments", "decisions"},
            )
            experiment_id = self.s.scalar(
                insert(t.Experiment)
                .values(
                    **own,
                    mission_id=self.mission_ids[index],
                    objective_id=objectives.get(e.objective or ""),
                    activity_id=activities.get(e.activity or ""),
                )
                .returning(t.Experiment.id)
            )
            self.report.rows += 1
            self.report.experiments += 1
            children: list[tuple[type[t.Base], list[Any]]] = [
                (t.ExperimentPlanVersion, e.plan_versions),
                (t.ExperimentAssignment, e.assignments),
                (t.ExperimentDecision, e.decisions),  # in order: the log is read by id
            ]
            for table, parts in children:
                self.rows(
                    table, [{**p.model_dump(), "experiment_id": experiment_id} for p in parts]
                )


def _clashes(session: Session, headers: list[MissionHeader | None], replace: bool) -> list[Problem]:
    slugs = [m.slug for m in headers if m]
    stored = set(session.scalars(select(t.Mission.slug).where(t.Mission.slug.in_(slugs))))
    if replace:
        return []
    return [
        Problem(
            join_path("missions", i, "slug"),
            f"mission {m.slug!r} already exists (use replace to overwrite it)",
        )
        for i, m in enumerate(headers)
        if m and m.slug in stored
    ]


def _drop_replaced(session: Session, slugs: list[str]) -> tuple[list[int], dict[str, list[int]]]:
    """Delete missions being replaced; remember their children to re-attach them."""
    rows = session.execute(
        select(t.Mission.id, t.Mission.slug).where(t.Mission.slug.in_(slugs))
    ).all()
    ids = [r.id for r in rows]
    children: dict[str, list[int]] = {}
    for mission_id, slug in rows:
        kids = list(
            session.scalars(
                select(t.Mission.id).where(
                    t.Mission.parent_id == mission_id, t.Mission.id.not_in(ids)
                )
            )
        )
        children[slug] = kids
        if kids:
            session.execute(update(t.Mission).where(t.Mission.id.in_(kids)).values(parent_id=None))
    if ids:
        session.execute(delete(t.Mission).where(t.Mission.id.in_(ids)))
    return ids, children


def import_document(
    database: Database,
    path: Path,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    batch_size: int = BATCH,
    actor: Actor | None = None,
) -> ImportReport:
    """Validate and write a whole document in one transaction; on any problem, write nothing.

    The audit trail gets one entry per imported mission (a summary, not every row)."""
    skeleton = read_skeleton(path)
    report = ImportReport()
    with database.transaction() as session:
        checker = DocumentChecker(
            known_organisations=set(session.scalars(select(t.Organisation.identifier))),
            known_missions=set(session.scalars(select(t.Mission.slug))),
        )
        regions, orgs, headers = _skeleton_parts(skeleton, checker)
        checker.problems += _clashes(session, headers, replace)
        writing = not checker.problems
        writer = _Writer(session, report)
        children: dict[str, list[int]] = {}
        index_of: dict[str, int] = {}
        if writing:
            _, children = _drop_replaced(session, [m.slug for m in headers if m] if replace else [])
            writer.regions(regions)
            writer.organisations(orgs)
            order = _ordered_missions([m for m in headers if m])
            index_of = {m.slug: i for i, m in enumerate(headers) if m}
            for m in order:
                parent_id = None
                if m.parent is not None:
                    parent_id = (
                        writer.mission_ids[index_of[m.parent]]
                        if m.parent in index_of
                        else session.scalar(select(t.Mission.id).where(t.Mission.slug == m.parent))
                    )
                writer.mission(index_of[m.slug], m, parent_id)
        pending: dict[int, list[ActivityDoc]] = defaultdict(list)
        total, done = skeleton.activities, 0

        def flush(mission: int) -> None:
            nonlocal done
            batch = pending.pop(mission, [])
            if batch and writing and not checker.problems:
                checker.problems += writer.work_item_clashes(batch)
            if batch and writing and not checker.problems:
                writer.activities(mission, batch)
            done += len(batch)
            if progress:
                progress(done, total)

        for mission, index, raw in iter_activities(path, skeleton.activity_counts):
            activity = checker.parse_activity(mission, index, raw)
            if activity is None or headers[mission] is None:
                done += 1
                continue
            pending[mission].append(activity)
            if len(pending[mission]) >= batch_size:
                flush(mission)
        for mission in list(pending):
            flush(mission)
        problems = checker.finish()
        if problems:
            raise InvalidInput(problems)
        for index, header in enumerate(headers):
            if header is not None:
                writer.reviews(index, header)
                writer.experiments(index, header)
        for slug, kids in children.items():
            new_id = writer.mission_ids[index_of[slug]]
            session.execute(
                update(t.Mission).where(t.Mission.id.in_(kids)).values(parent_id=new_id)
            )
        for index, header in enumerate(headers):
            if header is not None:
                summary = {"file": path.name, "replace": replace, **asdict(report)}
                audit.record(
                    session,
                    actor or system_actor("import"),
                    "import",
                    "missions",
                    header.slug,
                    writer.mission_ids[index],
                    None,
                    summary,
                )
    return report
