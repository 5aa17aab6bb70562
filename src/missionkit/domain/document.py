"""The mission-map document: the JSON a whole mission travels in (export, import, check).

Records refer to each other by natural keys (mission and objective slugs, activity and
organisation identifiers, region codes), never by database ids, so a document moves
between databases unchanged. Key order matters for streaming: ``activities`` come last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import Field, ValidationError

from missionkit.domain.experiments import ExperimentDoc
from missionkit.domain.models import (
    ActivityFields,
    ContributionFields,
    IndicatorFields,
    Key,
    MissionFields,
    ObjectiveFields,
    ObservationFields,
    OrganisationFields,
    ParticipationFields,
    RegionFields,
    ReviewFields,
    Slug,
    Strict,
    WorkItemFields,
)
from missionkit.domain.problems import Problem, join_path, problems_from

FORMAT: Final = "missionkit.mission-map"
FORMAT_VERSION: Final = 1


class ObjectiveDoc(ObjectiveFields):
    parent: Slug | None = None


class IndicatorDoc(IndicatorFields):
    objective: Slug | None = None
    observations: list[ObservationFields] = Field(default_factory=list)


class ParticipationDoc(ParticipationFields):
    organisation: Key


class ContributionDoc(ContributionFields):
    objective: Slug


class ActivityDoc(ActivityFields):
    organisations: list[ParticipationDoc] = Field(default_factory=list)
    contributions: list[ContributionDoc] = Field(default_factory=list)
    work_items: list[WorkItemFields] = Field(default_factory=list)


class ReviewDoc(ReviewFields):
    objective: Slug | None = None
    activity: Key | None = None


class MissionCore(MissionFields):
    parent: Slug | None = None


class MissionHeader(MissionCore):
    """A mission without its activities: what is read before activities stream in."""

    objectives: list[ObjectiveDoc] = Field(default_factory=list)
    indicators: list[IndicatorDoc] = Field(default_factory=list)
    reviews: list[ReviewDoc] = Field(default_factory=list)
    experiments: list[ExperimentDoc] = Field(default_factory=list)


class MissionDoc(MissionHeader):
    activities: list[ActivityDoc] = Field(default_factory=list)


class MissionMapDocument(Strict):
    format: Literal["missionkit.mission-map"] = FORMAT
    version: Literal[1] = FORMAT_VERSION
    regions: list[RegionFields] = Field(default_factory=list)
    organisations: list[OrganisationFields] = Field(default_factory=list)
    missions: list[MissionDoc] = Field(default_factory=list)


def _duplicates(keys: Iterable[tuple[str, Any]], what: str) -> list[Problem]:
    seen: dict[Any, str] = {}
    found = []
    for path, key in keys:
        if key in seen:
            found.append(Problem(path, f"{what} {key!r} appears twice (first at {seen[key]})"))
        else:
            seen[key] = path
    return found


def _cycles(parents: dict[str, str | None], path_of: dict[str, str], what: str) -> list[Problem]:
    found = []
    for start in parents:
        seen = {start}
        node = parents[start]
        while node is not None and node in parents:
            if node in seen:
                found.append(Problem(path_of[start], f"{what} {start!r} is its own ancestor"))
                break
            seen.add(node)
            node = parents[node]
    return found


@dataclass
class DocumentChecker:
    """Checks a document's cross-references as its parts arrive (activities may stream).

    ``known_organisations`` and ``known_missions`` hold keys already in the target
    database, so a document may refer to them without repeating them.
    """

    known_organisations: set[str] = field(default_factory=set)
    known_missions: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    organisations: set[str] = field(default_factory=set)
    objectives: dict[int, set[str]] = field(default_factory=dict)
    activities: dict[int, set[str]] = field(default_factory=dict)
    work_items: dict[tuple[str, str], str] = field(default_factory=dict)
    # (mission index, activity identifier, path): checked once every activity is seen.
    _activity_refs: list[tuple[int, str, str]] = field(default_factory=list)

    def parse_header(
        self, raw: dict[str, Any]
    ) -> tuple[list[RegionFields], list[OrganisationFields]]:
        """Validate the document's envelope, regions and organisations."""
        envelope = {k: raw.get(k) for k in ("format", "version") if k in raw}
        if raw.get("format") != FORMAT:
            self.problems.append(Problem("format", f"expected {FORMAT!r}"))
        try:
            MissionMapDocument.model_validate({**envelope, "regions": [], "organisations": []})
        except ValidationError as e:
            self.problems += [p for p in problems_from(e) if p.path != "format"]
        extra = set(raw) - {"format", "version", "regions", "organisations", "missions"}
        self.problems += [Problem(k, "unknown field") for k in sorted(extra)]
        regions = self._parse_list(raw.get("regions", []), RegionFields, "regions")
        self.problems += _duplicates(
            ((join_path("regions", i, "code"), r.code) for i, r in regions), "region"
        )
        orgs = self._parse_list(raw.get("organisations", []), OrganisationFields, "organisations")
        self.problems += _duplicates(
            ((join_path("organisations", i, "identifier"), o.identifier) for i, o in orgs),
            "organisation",
        )
        # Known by identifier even when invalid, so one bad record does not cascade.
        self.organisations = {
            o["identifier"]
            for o in raw.get("organisations", [])
            if isinstance(o, dict) and isinstance(o.get("identifier"), str)
        }
        return [r for _, r in regions], [o for _, o in orgs]

    def parse_missions(self, raw_missions: list[dict[str, Any]]) -> list[MissionHeader | None]:
        """Validate each mission without its activities; ``None`` marks an invalid one."""
        parsed: list[MissionHeader | None] = []
        for i, raw in enumerate(raw_missions):
            header, valid = self._parse_mission(i, raw)
            self._check_mission(i, header)
            parsed.append(header if valid else None)
        self.problems += _duplicates(
            ((join_path("missions", i, "slug"), m.slug) for i, m in enumerate(parsed) if m),
            "mission",
        )
        in_doc = {m.slug for m in parsed if m} | {
            m.get("slug") for m in raw_missions if isinstance(m.get("slug"), str)
        }
        for i, m in enumerate(parsed):
            if m and m.parent and m.parent not in in_doc | self.known_missions:
                self.problems.append(
                    Problem(join_path("missions", i, "parent"), f"unknown mission {m.parent!r}")
                )
        self.problems += _cycles(
            {m.slug: m.parent for m in parsed if m},
            {m.slug: join_path("missions", i, "parent") for i, m in enumerate(parsed) if m},
            "mission",
        )
        return parsed

    def _parse_mission(self, i: int, raw: dict[str, Any]) -> tuple[MissionHeader, bool]:
        """Validate a mission's own fields and each child record on its own.

        A problem in one part does not hide the others: the valid parts are still
        cross-checked, so a user sees every problem in one run.
        """
        lists = {
            "objectives": ObjectiveDoc,
            "indicators": IndicatorDoc,
            "reviews": ReviewDoc,
            "experiments": ExperimentDoc,
        }
        own = {k: v for k, v in raw.items() if k not in lists and k != "activities"}
        before = len(self.problems)
        try:
            core = MissionCore.model_validate(own)
        except ValidationError as e:
            self.problems += problems_from(e, "missions", i)
            core = MissionCore.model_construct(**own)
        parts = {
            name: [
                item
                for _, item in self._parse_list(
                    raw.get(name, []), model, join_path("missions", i, name)
                )
            ]
            for name, model in lists.items()
        }
        header = MissionHeader.model_construct(**{**dict(core), **parts})
        return header, len(self.problems) == before

    def _check_mission(self, i: int, m: MissionHeader) -> None:
        at = ("missions", i)
        slugs = {o.slug for o in m.objectives}
        self.objectives[i] = slugs
        self.activities[i] = set()
        self.problems += _duplicates(
            ((join_path(*at, "objectives", j, "slug"), o.slug) for j, o in enumerate(m.objectives)),
            "objective",
        )
        for j, o in enumerate(m.objectives):
            if o.parent is not None and o.parent not in slugs:
                self.problems.append(
                    Problem(
                        join_path(*at, "objectives", j, "parent"), f"unknown objective {o.parent!r}"
                    )
                )
        self.problems += _cycles(
            {o.slug: o.parent for o in m.objectives},
            {o.slug: join_path(*at, "objectives", j, "parent") for j, o in enumerate(m.objectives)},
            "objective",
        )
        self.problems += _duplicates(
            ((join_path(*at, "indicators", j, "slug"), x.slug) for j, x in enumerate(m.indicators)),
            "indicator",
        )
        for j, ind in enumerate(m.indicators):
            if ind.objective is not None and ind.objective not in slugs:
                self.problems.append(
                    Problem(
                        join_path(*at, "indicators", j, "objective"),
                        f"unknown objective {ind.objective!r}",
                    )
                )
            self.problems += _duplicates(
                (
                    (
                        join_path(*at, "indicators", j, "observations", k),
                        (o.date, o.period_start, o.region),
                    )
                    for k, o in enumerate(ind.observations)
                ),
                "observation for (date, period start, region)",
            )
        self.problems += _duplicates(
            (
                (join_path(*at, "experiments", j, "slug"), e.slug)
                for j, e in enumerate(m.experiments)
            ),
            "experiment",
        )
        # Reviews and experiments may name an objective and an activity of their mission.
        linked: list[tuple[str, Sequence[ReviewDoc | ExperimentDoc]]] = [
            ("reviews", m.reviews),
            ("experiments", m.experiments),
        ]
        for name, records in linked:
            for j, r in enumerate(records):
                if r.objective is not None and r.objective not in slugs:
                    self.problems.append(
                        Problem(
                            join_path(*at, name, j, "objective"),
                            f"unknown objective {r.objective!r}",
                        )
                    )
                if r.activity is not None:
                    self._activity_refs.append((i, r.activity, join_path(*at, name, j, "activity")))

    def parse_activity(self, mission: int, index: int, raw: Any) -> ActivityDoc | None:
        """Validate one streamed activity and its references to objectives and organisations."""
        at = ("missions", mission, "activities", index)
        identifier = raw.get("identifier") if isinstance(raw, dict) else None
        seen = self.activities.setdefault(mission, set())
        if isinstance(identifier, str):
            if identifier.strip() in seen:
                self.problems.append(
                    Problem(join_path(*at, "identifier"), f"activity {identifier!r} appears twice")
                )
            seen.add(identifier.strip())
        try:
            a = ActivityDoc.model_validate(raw)
        except ValidationError as e:
            self.problems += problems_from(e, *at)
            return None
        objectives = self.objectives.get(mission, set())
        roles: set[tuple[str, str]] = set()
        for j, p in enumerate(a.organisations):
            if p.organisation not in self.organisations and (
                p.organisation not in self.known_organisations
            ):
                self.problems.append(
                    Problem(
                        join_path(*at, "organisations", j, "organisation"),
                        f"unknown organisation {p.organisation!r}",
                    )
                )
            if (p.organisation, p.role) in roles:
                self.problems.append(
                    Problem(
                        join_path(*at, "organisations", j),
                        f"{p.organisation!r} is listed twice as {p.role}",
                    )
                )
            roles.add((p.organisation, p.role))
        targets: set[str] = set()
        for j, c in enumerate(a.contributions):
            if c.objective not in objectives:
                self.problems.append(
                    Problem(
                        join_path(*at, "contributions", j, "objective"),
                        f"unknown objective {c.objective!r}",
                    )
                )
            if c.objective in targets:
                self.problems.append(
                    Problem(
                        join_path(*at, "contributions", j, "objective"),
                        f"objective {c.objective!r} is listed twice",
                    )
                )
            targets.add(c.objective)
        for j, w in enumerate(a.work_items):
            key = (w.tracker, w.key)
            if key in self.work_items:
                self.problems.append(
                    Problem(
                        join_path(*at, "work_items", j, "key"),
                        f"work item {w.tracker}:{w.key} appears twice "
                        f"(first at {self.work_items[key]})",
                    )
                )
            else:
                self.work_items[key] = join_path(*at, "work_items", j)
        return a

    def finish(self) -> list[Problem]:
        """Checks that need every activity seen; returns all problems found."""
        for mission, identifier, path in self._activity_refs:
            if identifier not in self.activities.get(mission, set()):
                self.problems.append(Problem(path, f"unknown activity {identifier!r}"))
        self._activity_refs.clear()
        return self.problems

    def _parse_list(self, raw: Any, model: type[Any], name: str) -> list[tuple[int, Any]]:
        if not isinstance(raw, list):
            self.problems.append(Problem(name, "must be a list"))
            return []
        out = []
        for i, item in enumerate(raw):
            try:
                out.append((i, model.model_validate(item)))
            except ValidationError as e:
                self.problems += problems_from(e, name, i)
        return out
