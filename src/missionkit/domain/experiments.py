"""An experiment as it travels in a mission-map document, and the registry's vocabularies.

A mission's experiments are part of its record: the pre-registered plan versions, the
realised assignment and the decisions are what make its learning trustworthy, so they move
with the mission. On the way in, every locked plan's SHA-256 is checked against its
content: a plan edited after locking does not pass as pre-registered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from missionkit.experiments.plan import ExperimentPlan, content_hash

Stage = Literal["mission_definition", "convening", "instrument_choice", "process"]
Design = Literal["ab", "multi_arm", "cluster", "did", "staggered", "before_after"]
Status = Literal["draft", "registered", "randomised", "analysed", "decided"]
Decision = Literal["scale", "iterate", "stop"]
SLUG = r"^[a-z0-9][a-z0-9-]*$"
SHA256 = r"^[0-9a-f]{64}$"

# Statuses that need a locked plan, an assignment, a decision.
_LOCKED = frozenset({"registered", "randomised", "analysed", "decided"})


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _plain(value: Any) -> Any:
    """JSON as ``json.loads`` gives it: the streaming reader hands numbers over as Decimal,
    which neither hashes as the plan was hashed nor fits a JSON column. The shortest float
    text round-trips exactly, so the hash is unchanged."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class PlanVersionDoc(_Doc):
    """A locked plan: its content exactly as hashed, and the hash."""

    number: int = Field(ge=1)
    content: dict[str, Any]
    content_hash: str = Field(pattern=SHA256)
    locked_at: dt.datetime
    locked_by: str = Field(min_length=1, max_length=200)
    note: str = ""

    _plain_content = field_validator("content", mode="before")(_plain)

    @field_validator("locked_at")
    @classmethod
    def _in_utc(cls, value: dt.datetime) -> dt.datetime:
        """SQLite hands times back without their zone; they were written in UTC."""
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _hash_matches_content(self) -> Self:
        try:
            ExperimentPlan.model_validate(self.content)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"content is not a valid plan ({where}: {first['msg']})") from None
        if content_hash(self.content) != self.content_hash:
            raise ValueError(
                "content_hash does not match the content: the plan was changed after locking"
            )
        return self

    @property
    def arms(self) -> set[str]:
        return {a["name"] for a in self.content["arms"]}


class AssignmentDoc(_Doc):
    unit: str = Field(min_length=1, max_length=200)
    arm: str = Field(min_length=1, max_length=80)
    stratum: str | None = Field(default=None, max_length=200)
    cluster: str | None = Field(default=None, max_length=200)


class DecisionDoc(_Doc):
    decision: Decision
    decided_by: str = Field(min_length=1, max_length=500)
    decided_on: dt.date
    learning: str = Field(min_length=1)
    plan_number: int | None = Field(default=None, ge=1)
    deviations: list[str] = Field(default_factory=list)
    analysis: dict[str, Any] = Field(default_factory=dict)

    _plain_analysis = field_validator("analysis", mode="before")(_plain)


class ExperimentFields(_Doc):
    """What registers an experiment; its objective and activity are named by key."""

    slug: str = Field(min_length=1, max_length=80, pattern=SLUG)
    title: str = Field(min_length=1, max_length=500)
    question: str = Field(min_length=1)
    hypothesis: str = ""
    stage: Stage
    design: Design
    unit: str = Field(min_length=1, max_length=200)
    objective: str | None = Field(default=None, description="objective slug")
    activity: str | None = Field(default=None, description="activity identifier")
    instrument: str | None = Field(default=None, max_length=16)
    call: str | None = Field(default=None, max_length=200)
    plan: ExperimentPlan


class ExperimentDoc(ExperimentFields):
    """One experiment with its whole history, as a mission-map document carries it."""

    status: Status = "draft"
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    randomised_plan: int | None = Field(default=None, ge=1)
    last_analysis: dict[str, Any] | None = None
    plan_versions: list[PlanVersionDoc] = Field(default_factory=list)
    assignments: list[AssignmentDoc] = Field(default_factory=list)
    decisions: list[DecisionDoc] = Field(default_factory=list)

    _plain_analysis = field_validator("last_analysis", mode="before")(_plain)

    @model_validator(mode="after")
    def _history_is_consistent(self) -> Self:
        """The history must be one the registry could have written, in its order."""
        numbers = [p.number for p in self.plan_versions]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"plan_versions must be numbered 1, 2, … in order (got {numbers})")
        if self.status in _LOCKED and not self.plan_versions:
            raise ValueError(f"status {self.status!r} needs at least one locked plan version")
        if self.assignments:
            self._check_assignment()
        elif self.seed is not None or self.randomised_plan is not None:
            raise ValueError("seed and randomised_plan belong to an assignment, and none is given")
        for d in self.decisions:
            if d.plan_number is not None and d.plan_number > len(numbers):
                raise ValueError(f"a decision follows plan version {d.plan_number}, not locked")
        if self.status == "decided" and not self.decisions:
            raise ValueError("status 'decided' needs at least one decision")
        return self

    def _check_assignment(self) -> None:
        if self.seed is None or self.randomised_plan is None:
            raise ValueError("an assignment needs its seed and randomised_plan")
        if self.randomised_plan > len(self.plan_versions):
            raise ValueError(f"randomised_plan {self.randomised_plan} is not a locked version")
        arms = self.plan_versions[self.randomised_plan - 1].arms
        units: set[str] = set()
        for i, a in enumerate(self.assignments):
            if a.unit in units:
                raise ValueError(f"assignments[{i}]: unit {a.unit!r} is assigned twice")
            if a.arm not in arms:
                raise ValueError(
                    f"assignments[{i}]: arm {a.arm!r} is not an arm of plan "
                    f"version {self.randomised_plan}"
                )
            units.add(a.unit)
        if self.status in ("draft", "registered"):
            raise ValueError(f"status {self.status!r} cannot have an assignment")
