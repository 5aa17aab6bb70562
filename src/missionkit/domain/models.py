"""Field sets of every noun, with every rule about them.

Each `*Fields` model holds a noun's own data and rules. Cross-field rules are field
validators on the later field, so a broken rule is reported at the field that breaks it
(e.g. ``deadline``), whichever interface the data came through. References to other
records are added by the API shapes (by id) and the document shapes (by natural key).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from missionkit.domain.money import is_known_currency, to_cents
from missionkit.domain.regions import lookup_region
from missionkit.domain.vocab import (
    ActivityKind,
    ActivityStatus,
    AssessmentMethod,
    Decision,
    Direction,
    Instrument,
    MissionLevel,
    MissionStatus,
    OrganisationType,
    ParticipationRole,
    Provenance,
    RegionLevel,
    ScoreboardGroup,
    Stage,
    Tracker,
)

Slug = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9-]{0,79}$"),
    Field(description="Lower-case letters, digits and hyphens; unique in its scope."),
]
MAX_INT = 2_147_483_647
"""The largest value the databases' integer columns hold (PostgreSQL ``integer``)."""
RecordId = Annotated[int, Field(ge=1, le=MAX_INT, description="A stored record's id.")]

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _known_region(code: str) -> str:
    code = code.strip()
    if lookup_region(code) is None:
        raise ValueError(
            f"unknown region code {code!r} (expected ISO 3166-1 alpha-2, ISO 3166-2 or NUTS 2021)"
        )
    return code


def _known_currency(code: str) -> str:
    code = code.strip().upper()
    if not is_known_currency(code):
        raise ValueError(f"unknown currency {code!r} (expected an ISO 4217 code such as EUR)")
    return code


def _country(code: str) -> str:
    code = code.strip().upper()
    ref = lookup_region(code)
    if ref is None or ref.level != "country":
        raise ValueError(f"unknown country code {code!r} (expected ISO 3166-1 alpha-2)")
    return code


def _money(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    if value != to_cents(value):
        raise ValueError("must be a whole number of cents")
    return value


RegionCode = Annotated[str, AfterValidator(_known_region)]
CountryCode = Annotated[str, AfterValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_known_currency)]
# Kept exact as Decimal; written to JSON as a number, as IATI and 360Giving do.
Money = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=2),
    AfterValidator(_money),
    PlainSerializer(float, return_type=float, when_used="json"),
]


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{v!r} is listed twice")
        seen.add(v)
    return values


Tags = Annotated[
    list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]],
    AfterValidator(_unique),
    Field(default_factory=list),
]
RegionCodes = Annotated[list[RegionCode], AfterValidator(_unique), Field(default_factory=list)]


class Strict(BaseModel):
    """Refuse unknown fields: a misspelt field is an error, not silently dropped data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MissionFields(Strict):
    slug: Slug
    title: Title
    statement: str = Field("", description="The bold, measurable, time-bound goal.")
    challenge: str | None = None
    owner: str | None = None
    level: MissionLevel = "national"
    status: MissionStatus = "active"
    regions: RegionCodes = Field(description="Scope regions.")
    sectors: Tags
    start: dt.date
    deadline: dt.date
    published: bool = Field(
        False, description="Readable by anyone, signed in or not; changing it takes an owner."
    )

    @field_validator("deadline")
    @classmethod
    def _deadline_after_start(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("start")
        if start is not None and v <= start:
            raise ValueError(f"deadline {v} must be after the start {start}")
        return v


class ObjectiveFields(Strict):
    slug: Slug
    title: Title
    description: str = ""
    keywords: Tags
    position: int = Field(0, ge=0, le=MAX_INT, description="Display order among siblings.")


class IndicatorFields(Strict):
    slug: Slug
    name: Title
    description: str = ""
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    direction: Direction
    baseline_value: float
    baseline_date: dt.date
    target_value: float | None = None
    target_date: dt.date | None = Field(None, validate_default=True)
    source: str | None = None
    method: AssessmentMethod = Field(
        "statcan", description="How progress is assessed: statcan (default), sdsn, projection."
    )
    natural_limit: float | None = Field(
        None, description="A bound the indicator cannot pass (e.g. 100 for a percentage)."
    )
    update_frequency_months: int | None = Field(
        None, ge=1, le=120, description="How often new data is expected; later is overdue."
    )

    @field_validator("target_value")
    @classmethod
    def _target_on_good_side(cls, v: float | None, info: ValidationInfo) -> float | None:
        base, direction = info.data.get("baseline_value"), info.data.get("direction")
        if v is None or base is None or direction is None:
            return v
        if direction == "increase" and v < base:
            raise ValueError(
                f"target {v:g} is below the baseline {base:g}, but this indicator should increase"
            )
        if direction == "decrease" and v > base:
            raise ValueError(
                f"target {v:g} is above the baseline {base:g}, but this indicator should decrease"
            )
        return v

    @field_validator("target_date")
    @classmethod
    def _target_date(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        has_target = info.data.get("target_value") is not None
        if has_target and v is None:
            raise ValueError("a target value needs a target date")
        if v is not None and not has_target and "target_value" in info.data:
            raise ValueError("a target date needs a target value")
        base = info.data.get("baseline_date")
        if v is not None and base is not None and v <= base:
            raise ValueError(f"target date {v} must be after the baseline date {base}")
        return v


class ObservationFields(Strict):
    date: dt.date = Field(description="The date the value refers to (end of its period).")
    period_start: dt.date | None = Field(
        None, description="Start of the period the value covers; empty for a point value."
    )
    value: float
    region: RegionCode | None = None
    provenance: str | None = Field(None, description="Where the value came from.")

    @field_validator("period_start")
    @classmethod
    def _period(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        end = info.data.get("date")
        if v is not None and end is not None and v > end:
            raise ValueError(f"period start {v} is after the observation date {end}")
        return v


class ParticipationFields(Strict):
    role: ParticipationRole = "participant"
    amount: Money | None = Field(None, description="This organisation's share of the budget.")


class ActivityFields(Strict):
    identifier: Key = Field(description="External identifier, e.g. a CORDIS or IATI id.")
    title: Title
    summary: str = ""
    kind: ActivityKind = "project"
    instrument: Instrument = "grant"
    stage: Stage | None = None
    trl_min: int | None = Field(None, ge=1, le=9)
    trl_max: int | None = Field(None, ge=1, le=9)
    total_cost: Money | None = None
    public_contribution: Money | None = None
    currency: CurrencyCode | None = Field(None, validate_default=True)
    start: dt.date | None = None
    end: dt.date | None = None
    status: ActivityStatus = "active"
    call: str | None = Field(None, description="The call or programme the activity came from.")
    regions: RegionCodes
    sectors: Tags
    url: str | None = None

    @field_validator("trl_max")
    @classmethod
    def _trl_range(cls, v: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("trl_min")
        if v is not None and low is not None and v < low:
            raise ValueError(f"trl_max {v} is below trl_min {low}")
        return v

    @field_validator("public_contribution")
    @classmethod
    def _within_total(cls, v: Decimal | None, info: ValidationInfo) -> Decimal | None:
        total = info.data.get("total_cost")
        if v is not None and total is not None and v > total:
            raise ValueError(f"public contribution {v} exceeds the total cost {total}")
        return v

    @field_validator("currency")
    @classmethod
    def _currency_needed(cls, v: str | None, info: ValidationInfo) -> str | None:
        has_money = any(info.data.get(k) is not None for k in ("total_cost", "public_contribution"))
        if v is None and has_money:
            raise ValueError("a budget needs an ISO 4217 currency")
        return v

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("start")
        if v is not None and start is not None and v < start:
            raise ValueError(f"end {v} is before the start {start}")
        return v


class ContributionFields(Strict):
    weight: float = Field(
        1.0, gt=0, le=1, description="Share of the activity serving the objective."
    )
    provenance: Provenance = "manual"
    score: float | None = Field(None, ge=0, le=1, validate_default=True)
    reviewed_by: str | None = None
    note: str | None = None

    @field_validator("score")
    @classmethod
    def _score_for_suggestions(cls, v: float | None, info: ValidationInfo) -> float | None:
        if info.data.get("provenance") == "suggested" and v is None:
            raise ValueError("a suggested contribution needs the mapping score")
        return v


class OrganisationFields(Strict):
    identifier: Key = Field(description="An org-id.guide style identifier, e.g. XI-PIC-999999999.")
    name: Title
    type: OrganisationType = "other"
    country: CountryCode | None = None
    region: RegionCode | None = None
    city: str | None = None
    identifiers: Tags = Field(description="Other identifiers of the same organisation.")


class RegionFields(Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_known_region)]
    name: Title | None = Field(None, description="Defaults to the reference name.")
    level: RegionLevel | None = Field(None, description="Defaults to the reference level.")
    population: int | None = Field(None, ge=0, le=MAX_INT)
    gdp_per_head: float | None = Field(None, ge=0, description="GDP per head (PPS or EUR).")
    rd_intensity: float | None = Field(None, ge=0, le=100, description="R&D spending, % of GDP.")
    scoreboard_group: ScoreboardGroup | None = None
    figures_year: int | None = Field(None, ge=1900, le=2200)

    @field_validator("level")
    @classmethod
    def _level_matches(cls, v: RegionLevel | None, info: ValidationInfo) -> RegionLevel | None:
        code = info.data.get("code")
        ref = lookup_region(code) if code else None
        if v is not None and ref is not None and v != ref.level:
            raise ValueError(f"{code} is a {ref.level} code, not {v}")
        return v


class WorkItemFields(Strict):
    tracker: Tracker
    key: Key = Field(description="The tracker's key, e.g. CLIMA-42 or owner/repo#17.")
    title: Title
    status: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = "open"
    effort: float | None = Field(None, ge=0, description="Story points or person-days.")
    url: str | None = None


class ReviewFields(Strict):
    date: dt.date
    title: Title
    evidence: str = ""
    decision: Decision
    authority: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        description="Who had the authority to decide."
    )
    rationale: str = ""
