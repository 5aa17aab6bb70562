"""The pre-registered plan of an experiment, and its content hash.

A plan is locked by hashing its canonical JSON (keys sorted, no insignificant whitespace,
UTF-8) with SHA-256: the same plan always has the same hash, any change a different one, so
an analysis can state exactly which plan version it follows.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

MetricDirection = Literal["increase", "decrease"]
Randomisation = Literal["simple", "stratified", "clustered"]


class PlanArm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    weight: float = Field(default=1.0, gt=0)
    description: str = ""


class PlanMetric(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["mean", "proportion"]
    direction: MetricDirection = "increase"


class ExperimentPlan(BaseModel):
    """What will be compared, measured and concluded, fixed before the data are seen."""

    model_config = ConfigDict(extra="forbid")
    arms: list[PlanArm] = Field(min_length=2)
    control: str | None = None
    primary_metric: PlanMetric
    secondary_metrics: list[PlanMetric] = []
    minimum_detectable_effect: float | None = Field(default=None, gt=0)
    planned_sample: int | None = Field(default=None, ge=2)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    power: float = Field(default=0.8, gt=0, lt=1)
    randomisation: Randomisation = "simple"
    analysis: str = ""

    @model_validator(mode="after")
    def _arms_are_consistent(self) -> Self:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must be unique")
        if self.control is None:
            self.control = names[0]
        elif self.control not in names:
            raise ValueError(f"control {self.control!r} is not one of the arms")
        return self

    @property
    def weights(self) -> dict[str, float]:
        return {a.name: a.weight for a in self.arms}


def canonical_json(content: Any) -> str:
    """The one serialisation that is hashed: sorted keys, compact, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(plan: ExperimentPlan | dict[str, Any]) -> str:
    """SHA-256 hex digest of the plan's canonical JSON (defaults filled in)."""
    data = plan.model_dump(mode="json") if isinstance(plan, ExperimentPlan) else plan
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
