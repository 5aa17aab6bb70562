"""Mapping use cases: suggest contributions for a mission's activities, review them.

The store is read here and handed to the pure engine (`missionkit.mapping`) as plain
texts and label records; its suggestions come back as Contributions with provenance
"suggested" and the calibrated score. Accepting one makes it "reviewed"; rejecting one
deletes it and records the rejection (table ``mapping_rejections``) so that the pair is
never suggested again. Both kinds of decision feed the reviewer model of later runs,
and accepted contributions become the objectives' confirmed examples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor, system_actor
from missionkit.mapping import (
    Decision,
    Embedder,
    Mapper,
    Method,
    ReviewerModel,
    Taxonomy,
    TaxonomyError,
    load_taxonomy_file,
    objectives_taxonomy,
    sdg_taxonomy,
)
from missionkit.services import audit
from missionkit.services.errors import InvalidInput, NotFound
from missionkit.services.maps import mission_id_for
from missionkit.store import tables as t

CONFIRMED = ("manual", "reviewed")


def activity_text(title: str, summary: str | None) -> str:
    """The text an activity is mapped by: its title and summary."""
    summary = (summary or "").strip()
    return f"{title.strip()}. {summary}" if summary else title.strip()


def mission_taxonomy(session: Session, key: int | str) -> Taxonomy:
    """The mission's objectives as a taxonomy, with confirmed activities as examples."""
    mission_id = mission_id_for(session, key)
    slug = session.scalar(select(t.Mission.slug).where(t.Mission.id == mission_id))
    objectives = session.scalars(
        select(t.Objective).where(t.Objective.mission_id == mission_id).order_by(t.Objective.id)
    ).all()
    if not objectives:
        raise InvalidInput.one("mission", f"mission {slug} has no objectives to map to")
    examples: dict[str, list[str]] = {}
    rows = session.execute(
        select(t.Objective.slug, t.Activity.title, t.Activity.summary)
        .join(t.Contribution, t.Contribution.objective_id == t.Objective.id)
        .join(t.Activity, t.Activity.id == t.Contribution.activity_id)
        .where(t.Objective.mission_id == mission_id, t.Contribution.provenance.in_(CONFIRMED))
        .order_by(t.Contribution.id)
    )
    for objective, title, summary in rows:
        examples.setdefault(objective, []).append(activity_text(title, summary))
    records = [
        {"slug": o.slug, "title": o.title, "description": o.description, "keywords": o.keywords}
        for o in objectives
    ]
    return objectives_taxonomy(f"mission:{slug}", records, examples)


def resolve_taxonomy(session: Session | None, spec: str) -> Taxonomy:
    """``sdg``, ``mission:SLUG`` (needs a session) or the path of a CSV/JSON taxonomy file."""
    if spec == "sdg":
        return sdg_taxonomy()
    if spec.startswith("mission:"):
        if session is None:
            raise InvalidInput.one("taxonomy", "a mission taxonomy needs the database")
        return mission_taxonomy(session, spec.split(":", 1)[1])
    path = Path(spec)
    if not path.is_file():
        raise InvalidInput.one(
            "taxonomy", f"{spec!r} is not 'sdg', 'mission:SLUG' or an existing CSV/JSON file"
        )
    try:
        return load_taxonomy_file(path)
    except TaxonomyError as e:
        raise InvalidInput.one("taxonomy", str(e)) from None


def reviewer_model(session: Session, mission_id: int, mapper: Mapper) -> ReviewerModel | None:
    """Decisions reviewers made on this mission's suggestions, as a fitted adjustment."""
    accepted = session.execute(
        select(t.Objective.slug, t.Activity.title, t.Activity.summary, t.Contribution.score)
        .join(t.Contribution, t.Contribution.objective_id == t.Objective.id)
        .join(t.Activity, t.Activity.id == t.Contribution.activity_id)
        .where(
            t.Objective.mission_id == mission_id,
            t.Contribution.provenance == "reviewed",
            t.Contribution.score.is_not(None),
        )
    ).all()
    rejected = session.execute(
        select(t.Objective.slug, t.Activity.title, t.Activity.summary, t.MappingRejection.score)
        .join(t.MappingRejection, t.MappingRejection.objective_id == t.Objective.id)
        .join(t.Activity, t.Activity.id == t.MappingRejection.activity_id)
        .where(t.Objective.mission_id == mission_id)
    ).all()
    decisions = [
        Decision(activity_text(title, summary), slug, ok, 0.5 if score is None else float(score))
        for rows, ok in ((accepted, True), (rejected, False))
        for slug, title, summary, score in rows
    ]
    if not decisions or mapper.embedder is None:
        return None
    return ReviewerModel.fit(decisions, mapper.embed([d.text for d in decisions]))


@dataclass(frozen=True)
class SuggestReport:
    mission: str
    activities: int
    suggested: int
    replaced: int
    skipped_pairs: int
    learned_from: int


def suggest_contributions(
    session: Session,
    key: int | str,
    *,
    method: Method = "combined",
    embedder: Embedder | None = None,
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
    at_least_one: bool = False,
    actor: Actor | None = None,
) -> SuggestReport:
    """Suggest contributions for every activity of a mission (one transaction).

    Earlier unreviewed suggestions are replaced; pairs that already have a manual or
    reviewed contribution, or that a reviewer rejected, are never suggested. With
    ``at_least_one`` every activity gets its best objective even below the threshold
    (a fuller review queue; the score says how sure the mapper is).
    """
    mission_id = mission_id_for(session, key)
    slug = session.scalar(select(t.Mission.slug).where(t.Mission.id == mission_id)) or str(key)
    taxonomy = mission_taxonomy(session, mission_id)
    mapper = Mapper(taxonomy, method=method, embedder=embedder)
    adjust = reviewer_model(session, mission_id, mapper)
    if adjust is not None:
        mapper.adjust = adjust
    objective_ids = dict(
        session.execute(
            select(t.Objective.slug, t.Objective.id).where(t.Objective.mission_id == mission_id)
        ).all()
    )
    stale = delete(t.Contribution).where(
        t.Contribution.provenance == "suggested",
        t.Contribution.objective_id.in_(list(objective_ids.values())),
    )
    replaced = int(
        getattr(session.execute(stale.execution_options(synchronize_session=False)), "rowcount", 0)
    )
    blocked: dict[int, set[int]] = {}
    for activity_id, objective_id in session.execute(
        select(t.Contribution.activity_id, t.Contribution.objective_id).where(
            t.Contribution.objective_id.in_(list(objective_ids.values()))
        )
    ).all():
        blocked.setdefault(activity_id, set()).add(objective_id)
    for activity_id, objective_id in session.execute(
        select(t.MappingRejection.activity_id, t.MappingRejection.objective_id).where(
            t.MappingRejection.objective_id.in_(list(objective_ids.values()))
        )
    ).all():
        blocked.setdefault(activity_id, set()).add(objective_id)
    slug_of = {v: k for k, v in objective_ids.items()}
    total = session.scalar(
        select(func.count()).select_from(t.Activity).where(t.Activity.mission_id == mission_id)
    )
    done = suggested = skipped = 0
    query = (
        select(t.Activity.id, t.Activity.title, t.Activity.summary)
        .where(t.Activity.mission_id == mission_id)
        .order_by(t.Activity.id)
    )
    batch: list[tuple[int, str]] = []

    def flush() -> None:
        nonlocal suggested, skipped
        exclude = {
            i: {slug_of[o] for o in blocked.get(activity_id, set())}
            for i, (activity_id, _) in enumerate(batch)
        }
        skipped += sum(len(v) for v in exclude.values())
        results = mapper.map(
            [text for _, text in batch], exclude=exclude, at_least_one=at_least_one
        )
        rows = []
        for (activity_id, _), result in zip(batch, results, strict=True):
            for label, score in zip(result.labels, result.scores, strict=True):
                detail = result.detail(label)
                rows.append(
                    {
                        "activity_id": activity_id,
                        "objective_id": objective_ids[label],
                        "weight": round(1.0 / len(result.labels), 4),
                        "provenance": "suggested",
                        "score": round(min(max(score, 0.0), 1.0), 4),
                        "note": f"mapping ({method}): {detail.explanation()}"[:2000],
                        "version": 1,
                    }
                )
        if rows:
            session.execute(t.table_of(t.Contribution).insert(), rows)
        suggested += len(rows)

    for activity_id, title, summary in session.execute(query):
        batch.append((activity_id, activity_text(title, summary)))
        if len(batch) >= batch_size:
            flush()
            done += len(batch)
            batch = []
            if progress:
                progress(done, total or 0)
    if batch:
        flush()
        done += len(batch)
        if progress:
            progress(done, total or 0)
    learned = len(adjust.labels) if adjust is not None else 0
    report = SuggestReport(slug, done, suggested, replaced, skipped, learned)
    audit.record(
        session,
        actor or system_actor("python"),
        "suggest",
        "contributions",
        slug,
        mission_id,
        None,
        {"method": method, "at_least_one": at_least_one, **asdict(report)},
    )
    return report


def list_suggestions(
    session: Session,
    key: int | str,
    *,
    provenance: str = "suggested",
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A mission's contributions of one provenance, best score first (the review queue)."""
    mission_id = mission_id_for(session, key)
    rows = session.execute(
        select(
            t.Contribution,
            t.Activity.identifier,
            t.Activity.title,
            t.Objective.slug,
            t.Objective.title,
        )
        .join(t.Activity, t.Activity.id == t.Contribution.activity_id)
        .join(t.Objective, t.Objective.id == t.Contribution.objective_id)
        .where(t.Activity.mission_id == mission_id, t.Contribution.provenance == provenance)
        .order_by(t.Contribution.score.desc(), t.Contribution.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        _public(c, identifier, title, slug) | {"objective_title": objective}
        for c, identifier, title, slug, objective in rows
    ]


def count_suggestions(session: Session, key: int | str, *, provenance: str = "suggested") -> int:
    """How many contributions of one provenance the mission has (the queue's length)."""
    mission_id = mission_id_for(session, key)
    return int(
        session.scalar(
            select(func.count())
            .select_from(t.Contribution)
            .join(t.Activity, t.Activity.id == t.Contribution.activity_id)
            .where(t.Activity.mission_id == mission_id, t.Contribution.provenance == provenance)
        )
        or 0
    )


def _public(c: t.Contribution, identifier: str, title: str, slug: str) -> dict[str, Any]:
    return {
        "id": c.id,
        "activity_id": c.activity_id,
        "activity": identifier,
        "activity_title": title,
        "objective_id": c.objective_id,
        "objective": slug,
        "score": c.score,
        "weight": c.weight,
        "provenance": c.provenance,
        "reviewed_by": c.reviewed_by,
        "note": c.note,
        "version": c.version,
    }


def _suggestion(session: Session, contribution_id: int, key: int | str | None) -> t.Contribution:
    c = session.get(t.Contribution, contribution_id)
    if c is None:
        raise NotFound(f"no contribution {contribution_id}")
    if key is not None:
        mission_id = mission_id_for(session, key)
        owner = session.scalar(select(t.Activity.mission_id).where(t.Activity.id == c.activity_id))
        if owner != mission_id:
            raise NotFound(f"contribution {contribution_id} is not in mission {key}")
    if c.provenance != "suggested":
        raise InvalidInput.one(
            "provenance", f"contribution {contribution_id} is {c.provenance}, not a suggestion"
        )
    return c


def accept_suggestion(
    session: Session,
    contribution_id: int,
    *,
    reviewed_by: str | None = None,
    mission: int | str | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """A reviewer confirms a suggestion: it becomes a reviewed contribution."""
    c = _suggestion(session, contribution_id, mission)
    before = {"provenance": c.provenance, "reviewed_by": c.reviewed_by, "score": c.score}
    c.provenance = "reviewed"
    c.reviewed_by = reviewed_by
    c.version += 1
    session.flush()
    identifier, title, slug = session.execute(
        select(t.Activity.identifier, t.Activity.title, t.Objective.slug)
        .join(t.Objective, t.Objective.id == c.objective_id)
        .where(t.Activity.id == c.activity_id)
    ).one()
    accepted = _public(c, identifier, title, slug)
    _audit_review(session, actor, "accept", c, before, accepted)
    return accepted


def reject_suggestion(
    session: Session,
    contribution_id: int,
    *,
    reviewed_by: str | None = None,
    note: str | None = None,
    mission: int | str | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """A reviewer turns a suggestion down: it is removed and remembered as rejected."""
    c = _suggestion(session, contribution_id, mission)
    record = {
        "activity_id": c.activity_id,
        "objective_id": c.objective_id,
        "score": c.score,
        "reviewed_by": reviewed_by,
        "note": note,
    }
    existing = session.scalar(
        select(t.MappingRejection).where(
            t.MappingRejection.activity_id == c.activity_id,
            t.MappingRejection.objective_id == c.objective_id,
        )
    )
    if existing is None:
        session.add(t.MappingRejection(**record))
    session.delete(c)
    session.flush()
    rejected = {"rejected": contribution_id, **record}
    _audit_review(session, actor, "reject", c, record, rejected)
    return rejected


def _audit_review(
    session: Session,
    actor: Actor | None,
    action: str,
    c: t.Contribution,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    mission_id = session.scalar(select(t.Activity.mission_id).where(t.Activity.id == c.activity_id))
    audit.record(
        session,
        actor or system_actor("python"),
        action,
        "contributions",
        c.id,
        mission_id,
        before,
        after,
    )


@cache
def _sdg_mapper(method: Method) -> Mapper:
    """The SDG mapper is the same for every request: build (and embed prototypes) once."""
    return Mapper(sdg_taxonomy(), method=method)


def map_texts(
    session: Session | None,
    taxonomy_spec: str,
    texts: Sequence[str],
    *,
    method: Method = "combined",
    at_least_one: bool = False,
) -> list[dict[str, Any]]:
    """Map free texts against a taxonomy (for the API's one-text endpoint)."""
    if taxonomy_spec == "sdg":
        mapper = _sdg_mapper(method)
    else:
        mapper = Mapper(resolve_taxonomy(session, taxonomy_spec), method=method)
    return [s.to_dict() for s in mapper.map(list(texts), at_least_one=at_least_one)]
