"""HTML forms for missions, objectives, indicators and activities.

A form is a list of `Field`s (label, control, help). Submitted text becomes a payload for
the catalogue's Create shape: empty optional fields become null (or the field's default),
lists are split on commas and new lines, and the domain models do every check, so a form
refuses exactly what the API refuses. Problems come back per field, to be shown next to
the control that caused them, with everything the user typed kept.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from missionkit.domain.problems import Problem
from missionkit.domain.vocab import (
    ActivityKind,
    ActivityStatus,
    AssessmentMethod,
    Direction,
    Instrument,
    MissionLevel,
    MissionStatus,
    Stage,
)

Control = Literal["text", "textarea", "select", "date", "number", "list", "url"]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    control: Control = "text"
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()
    required: bool = False
    step: str = "any"


def _options(literal: Any) -> tuple[tuple[str, str], ...]:
    return tuple((v, v.replace("_", " ")) for v in get_args(literal))


MISSION_FIELDS: tuple[Field, ...] = (
    Field("title", "Title", required=True),
    Field("slug", "Short name (slug)", required=True,
          help="Lower-case letters, digits and hyphens; used in addresses."),
    Field("statement", "Mission statement", "textarea",
          help="The bold, measurable, time-bound goal."),
    Field("challenge", "Challenge or theme"),
    Field("owner", "Owner", help="The agency, city or company accountable."),
    Field("level", "Level", "select", options=_options(MissionLevel)),
    Field("status", "Status", "select", options=_options(MissionStatus)),
    Field("parent_id", "Parent mission", "select",
          help="The mission this one contributes to (vertical coordination)."),
    Field("start", "Start", "date", required=True),
    Field("deadline", "Deadline", "date", required=True),
    Field("regions", "Scope regions", "list",
          help="ISO 3166 or NUTS 2021 codes, separated by commas, e.g. DE, FR10."),
    Field("sectors", "Sectors or policy fields", "list", help="Separated by commas."),
)  # fmt: skip

OBJECTIVE_FIELDS: tuple[Field, ...] = (
    Field("title", "Title", required=True),
    Field("slug", "Short name (slug)", required=True,
          help="Lower-case letters, digits and hyphens; unique in the mission."),
    Field("description", "Description", "textarea"),
    Field("keywords", "Keywords", "list",
          help="Separated by commas; they help map activities to this objective."),
    Field("parent_id", "Part of objective", "select"),
    Field("position", "Display order", "number", step="1"),
)  # fmt: skip

INDICATOR_FIELDS: tuple[Field, ...] = (
    Field("name", "Name", required=True),
    Field("slug", "Short name (slug)", required=True,
          help="Lower-case letters, digits and hyphens; unique in the mission."),
    Field("description", "Description", "textarea"),
    Field("objective_id", "Objective it measures", "select"),
    Field("unit", "Unit", required=True, help="e.g. %, µg/m³, regions, EUR million."),
    Field("direction", "Good direction", "select", required=True, options=_options(Direction)),
    Field("baseline_value", "Baseline value", "number", required=True),
    Field("baseline_date", "Baseline date", "date", required=True),
    Field("target_value", "Target value", "number"),
    Field("target_date", "Target date", "date", help="The deadline for the target."),
    Field("method", "Assessment method", "select", options=_options(AssessmentMethod),
          help="statcan: compound growth needed (Open SDG); sdsn: linear; projection: "
               "forecast at the deadline."),
    Field("natural_limit", "Natural limit", "number",
          help="A bound it cannot pass, e.g. 100 for a percentage."),
    Field("update_frequency_months", "New data expected every (months)", "number", step="1"),
    Field("source", "Source"),
)  # fmt: skip

ACTIVITY_FIELDS: tuple[Field, ...] = (
    Field("title", "Title", required=True),
    Field("identifier", "Identifier", required=True,
          help="External identifier, e.g. a CORDIS or IATI id; unique in the mission."),
    Field("summary", "Summary", "textarea"),
    Field("kind", "Kind", "select", options=_options(ActivityKind)),
    Field("instrument", "Instrument", "select", options=_options(Instrument)),
    Field("stage", "Innovation stage", "select", options=(("", "—"), *_options(Stage))),
    Field("trl_min", "TRL from", "number", step="1"),
    Field("trl_max", "TRL to", "number", step="1"),
    Field("public_contribution", "Public contribution", "number", step="0.01"),
    Field("total_cost", "Total cost", "number", step="0.01"),
    Field("currency", "Currency", help="ISO 4217, e.g. EUR."),
    Field("start", "Start", "date"),
    Field("end", "End", "date"),
    Field("status", "Status", "select", options=_options(ActivityStatus)),
    Field("call", "Call or programme"),
    Field("regions", "Regions", "list", help="ISO 3166 or NUTS 2021 codes, separated by commas."),
    Field("sectors", "Sectors", "list", help="Separated by commas."),
    Field("url", "Web address", "url"),
)  # fmt: skip

OBSERVATION_FIELDS: tuple[Field, ...] = (
    Field("date", "Date", "date", required=True, help="The date the value refers to."),
    Field("value", "Value", "number", required=True),
    Field("region", "Region", help="Empty for the whole area; or an ISO 3166 / NUTS code."),
    Field("provenance", "Source of this value"),
)

_SPLIT = re.compile(r"[,\n;]")


def _admits_none(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return type(None) in get_args(annotation)
    return annotation is type(None)


def to_payload(
    fields: Sequence[Field],
    model: type[BaseModel],
    form: Mapping[str, str],
    *,
    editing: bool,
) -> dict[str, Any]:
    """Form text as the Create shape's input; the model converts and checks it.

    An empty field is null where the shape allows null, its default where it has one,
    and otherwise left out (creating) or null (editing) so the model says it is required.
    """
    payload: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.name, "")
        spec = model.model_fields[f.name]
        if f.control == "list":
            payload[f.name] = [part.strip() for part in _SPLIT.split(raw) if part.strip()]
            continue
        text = raw.strip()
        if text:
            payload[f.name] = text
        elif _admits_none(spec.annotation):
            payload[f.name] = None
        elif not spec.is_required():
            payload[f.name] = spec.get_default(call_default_factory=True)
        elif editing:
            payload[f.name] = None
    return payload


def field_errors(
    problems: Sequence[Problem], fields: Sequence[Field], form: Mapping[str, str]
) -> dict[str, list[str]]:
    """Problems keyed by the form field they belong to; others under ``""`` (the form).

    A required field left empty gets one plain message instead of the model's type error.
    """
    by_name = {f.name: f for f in fields}
    out: dict[str, list[str]] = {}
    for p in problems:
        head = re.split(r"[.\[]", p.path, maxsplit=1)[0]
        spec = by_name.get(head)
        if spec is None:
            out.setdefault("", []).append(str(p))
            continue
        message = p.message
        if spec.required and not form.get(head, "").strip():
            message = "Required: enter a value."
        if message not in out.get(head, []):
            out.setdefault(head, []).append(message)
    return out


def form_values(record: Mapping[str, Any], fields: Sequence[Field]) -> dict[str, str]:
    """A stored record as the text its form fields show."""
    out: dict[str, str] = {}
    for f in fields:
        value = record.get(f.name)
        if value is None:
            out[f.name] = ""
        elif isinstance(value, list):
            out[f.name] = ", ".join(str(v) for v in value)
        elif hasattr(value, "isoformat"):
            out[f.name] = value.isoformat()
        elif isinstance(value, float) and value.is_integer():
            out[f.name] = str(int(value))
        else:
            out[f.name] = str(value)
    return out


@dataclass
class FormState:
    """What a form template needs: fields, values typed or stored, errors per field."""

    fields: Sequence[Field]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    choices: dict[str, Sequence[tuple[str, str]]] = field(default_factory=dict)

    def options(self, f: Field) -> Sequence[tuple[str, str]]:
        return self.choices.get(f.name, f.options)
