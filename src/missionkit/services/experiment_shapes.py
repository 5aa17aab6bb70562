"""What the experiment registry accepts: the request shapes its API, CLI and pages share."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from missionkit.domain.experiments import Decision, Design, ExperimentFields, Stage
from missionkit.experiments.plan import ExperimentPlan


class ExperimentCreate(ExperimentFields):
    """What a client sends to register an experiment (the plan stays a draft until locked)."""


class ExperimentUpdate(BaseModel):
    """A partial change; every field optional. Locked plan versions never change."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=500)
    question: str | None = Field(default=None, min_length=1)
    hypothesis: str | None = None
    stage: Stage | None = None
    design: Design | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=200)
    instrument: str | None = Field(default=None, max_length=16)
    call: str | None = Field(default=None, max_length=200)
    plan: ExperimentPlan | None = None


class LockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locked_by: str = Field(min_length=1, max_length=200)
    note: str = ""


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1, max_length=200)
    stratum: str | None = Field(default=None, max_length=200)
    cluster: str | None = Field(default=None, max_length=200)


class RandomiseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int = Field(ge=0, le=2**31 - 1)  # stored in a 32-bit integer column
    units: list[UnitIn] = Field(min_length=2)


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Decision
    decided_by: str = Field(min_length=1, max_length=500)
    decided_on: dt.date
    learning: str = Field(min_length=1)
