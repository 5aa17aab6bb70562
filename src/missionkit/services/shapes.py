"""What a client may send (Create, Update) and what it sees (Public), per noun.

Create shapes are the domain field sets plus references by database id. Update shapes
are the same with every field optional; services merge an update into the stored record
and validate the whole again, so cross-field rules hold after a partial change too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from missionkit.domain.models import (
    ActivityFields,
    ContributionFields,
    IndicatorFields,
    MissionFields,
    ObjectiveFields,
    ObservationFields,
    OrganisationFields,
    ParticipationFields,
    RecordId,
    RegionFields,
    ReviewFields,
    WorkItemFields,
)

T = TypeVar("T")


class MissionCreate(MissionFields):
    parent_id: RecordId | None = Field(None, description="Parent mission (vertical coordination).")


class ObjectiveCreate(ObjectiveFields):
    mission_id: RecordId
    parent_id: RecordId | None = None


class IndicatorCreate(IndicatorFields):
    mission_id: RecordId
    objective_id: RecordId | None = None


class ObservationCreate(ObservationFields):
    indicator_id: RecordId


class ParticipationIn(ParticipationFields):
    organisation_id: RecordId


class ActivityCreate(ActivityFields):
    mission_id: RecordId
    organisations: list[ParticipationIn] = Field(default_factory=list)


class ContributionCreate(ContributionFields):
    activity_id: RecordId
    objective_id: RecordId


class OrganisationCreate(OrganisationFields):
    pass


class RegionCreate(RegionFields):
    pass


class WorkItemCreate(WorkItemFields):
    activity_id: RecordId


class ReviewCreate(ReviewFields):
    mission_id: RecordId
    objective_id: RecordId | None = None
    activity_id: RecordId | None = None


def partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The same fields, all optional and without defaults: only what is sent changes."""
    fields: dict[str, Any] = {
        n: (Optional[f.annotation], Field(None, description=f.description))  # noqa: UP045
        for n, f in model.model_fields.items()
    }
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


class Stamp(BaseModel):
    id: int
    version: int
    created_at: datetime
    updated_at: datetime


class MissionPublic(Stamp, MissionCreate):
    pass


class ObjectivePublic(Stamp, ObjectiveCreate):
    pass


class IndicatorPublic(Stamp, IndicatorCreate):
    pass


class ObservationPublic(Stamp, ObservationCreate):
    pass


class ParticipationPublic(ParticipationIn):
    organisation: str = Field(description="The organisation's identifier.")
    name: str


class ActivityPublic(Stamp, ActivityCreate):
    organisations: list[ParticipationPublic] = Field(default_factory=list)  # type: ignore[assignment]


class ContributionPublic(Stamp, ContributionCreate):
    pass


class OrganisationPublic(Stamp, OrganisationCreate):
    pass


class RegionPublic(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    country: str
    population: int | None
    gdp_per_head: float | None
    rd_intensity: float | None
    scoreboard_group: str | None
    figures_year: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class WorkItemPublic(Stamp, WorkItemCreate):
    pass


class ReviewPublic(Stamp, ReviewCreate):
    pass


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
