"""Controlled vocabularies shared by every layer (stored as plain strings)."""

from typing import Literal, get_args

# Progress-assessment methods are the trajectory engine's; named here for the models.
from missionkit.trajectory.types import Method as AssessmentMethod

MissionLevel = Literal["international", "national", "regional", "local"]
MissionStatus = Literal["draft", "active", "paused", "completed", "cancelled"]
Direction = Literal["increase", "decrease"]
ActivityKind = Literal["project", "call", "programme"]
Instrument = Literal[
    "grant",
    "procurement",
    "regulation",
    "loan",
    "equity",
    "guarantee",
    "prize",
    "sandbox",
    "other",
]
# The innovation cycle from DESIGN.md, in order.
Stage = Literal["research", "development", "demonstration", "deployment", "diffusion"]
ActivityStatus = Literal["planned", "active", "completed", "cancelled", "suspended"]
OrganisationType = Literal[
    "public", "business", "sme", "academic", "research", "civil_society", "other"
]
ParticipationRole = Literal["lead", "participant", "funder", "implementer", "associated"]
Provenance = Literal["manual", "suggested", "reviewed"]
RegionLevel = Literal["country", "subdivision", "nuts0", "nuts1", "nuts2", "nuts3"]
ScoreboardGroup = Literal[
    "innovation leader", "strong innovator", "moderate innovator", "emerging innovator"
]
Tracker = Literal["jira", "github", "gitlab", "azure", "linear", "other"]
Decision = Literal["continue", "scale", "iterate", "pivot", "stop"]

STAGES: tuple[str, ...] = get_args(Stage)

__all__ = ["STAGES", "AssessmentMethod"]
