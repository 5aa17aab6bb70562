"""EU Mission "Adaptation to Climate Change": funded projects and participants as document parts.

Reads the two CSV files of ``data/eu-adaptation-mission`` (see its ``SOURCE.md``):

* ``projects.csv``, one row per funded project, becomes activity dicts shaped like
  :class:`~missionkit.domain.document.ActivityDoc`;
* ``participants.csv``, one row per organisation and funding programme, becomes
  organisation dicts shaped like :class:`~missionkit.domain.models.OrganisationFields`.

Every dict is JSON-ready (ISO dates, money as numbers to the cent) and has passed the domain
models. A row that cannot be imported raises :class:`ImportProblem`, which names the file,
the row (as a spreadsheet shows it: the header is row 1) and the column.

What the data cannot say, so this reader does not invent it:

* ``participants.csv`` is aggregated per organisation and has **no link to projects**. The
  only participation produced is each project's coordinator (role ``lead``), taken from the
  ``coordinator`` column of ``projects.csv``. No other organisation is attached to a project.
* There is no abstract. The summary is built from the data author's own tags (category,
  climate risks, main themes, regions) and says so.
* The ``regions`` tag is free text. A label becomes a region code only where a name resolves
  exactly: the country in parentheses (``"Murcia Region (Spain)"`` -> ``ES``), a label that
  is a country name (``"Malta"`` -> ``MT``), or a name equal to a NUTS 1 or NUTS 2 region of
  that country (``"La Réunion (France)"`` -> ``FRY4``). NUTS 3 names are not matched: most
  share their name with a city (``"Torino"``, ``"Burgas"``), and a city is not its province.
  A NUTS 2 name can still be a city's name (``"Dresden"`` -> ``DED2``, the region around it).
  Labels that resolve to nothing are listed in :attr:`ImportedParts.notes`.

Innovation stage from the Horizon "Type of Action" (the work programmes' definitions):

* RIA, Research and Innovation Action -> ``research``: new knowledge, or the feasibility of
  a new technology or solution;
* IA, Innovation Action -> ``demonstration``: plans and designs for new solutions, with
  prototyping, testing, demonstrating, piloting and large-scale validation;
* CSA, Coordination and Support Action -> ``diffusion``: standardisation, dissemination,
  awareness-raising, networking and policy dialogue, i.e. spreading what exists.

Amounts are rounded to the cent (the spreadsheet export carries float noise such as
``9999358.62999999``). A PIC listed twice (once per programme, H2020 and Horizon Europe)
becomes one organisation, described by its Horizon Europe row, the more recent registration.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from missionkit.domain.document import ActivityDoc
from missionkit.domain.models import OrganisationFields
from missionkit.domain.regions import find_nuts_by_name, lookup_country_by_name

__all__ = [
    "AS_OF",
    "ImportProblem",
    "ImportedParts",
    "ParticipantList",
    "SourceRow",
    "name_key",
    "parse_day",
    "read_cordis",
    "read_participants",
    "read_projects",
    "repair_mojibake",
    "resolve_region_label",
    "slugify",
]

AS_OF = date(2026, 11, 28)
"""The day project status is judged on: ended before it means ``completed``."""

PROJECTS_FILE = "projects.csv"
PARTICIPANTS_FILE = "participants.csv"

STAGE_BY_ACTION: dict[str, str] = {"RIA": "research", "IA": "demonstration", "CSA": "diffusion"}
ORG_TYPE_BY_CODE: dict[str, str] = {
    "PUB": "public",
    "PRC": "business",
    "HES": "academic",
    "REC": "research",
    "OTH": "other",
}
MISSING = frozenset({"", "-", "not available", "n/a"})
CENT = Decimal("0.01")

PARTICIPANT_COLUMNS = (
    "Legal Name",
    "Participant Identification Code",
    "Participant Type",
    "Funding programme",
    "Country/Territory",
    "CITY",
    "NUTS 1 Name",
    "NUTS 2 Name",
    "NUTS 3 Name",
)
PROJECT_COLUMNS = (
    "ACRONYM",
    "TITLE",
    "Project id",
    "Project Start Date",
    "Project End Date",
    "Total budget (euro)",
    "EU financial contribution (euro)",
    "TOPIC_CODE",
    "Type of Action",
    "category",
    "climate_risks",
    "main_themes",
    "regions",
    "coordinator",
    "website",
)
# Which column to blame when a domain rule rejects a field.
_ORGANISATION_COLUMN = {
    "identifier": "Participant Identification Code",
    "name": "Legal Name",
    "type": "Participant Type",
    "country": "Country/Territory",
    "region": "NUTS 3 Name",
    "city": "CITY",
}
_ACTIVITY_COLUMN = {
    "identifier": "Project id",
    "title": "TITLE",
    "summary": "category",
    "stage": "Type of Action",
    "total_cost": "Total budget (euro)",
    "public_contribution": "EU financial contribution (euro)",
    "start": "Project Start Date",
    "end": "Project End Date",
    "call": "TOPIC_CODE",
    "regions": "regions",
    "sectors": "main_themes",
    "url": "Project id",
    "organisations": "coordinator",
}


class ImportProblem(ValueError):
    """A value in an input file that cannot be imported, and exactly where it is."""

    def __init__(self, file: str, row: int, column: str, message: str) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.message = message
        super().__init__(f"{file}, row {row}, column {column!r}: {message}")


@dataclass
class ImportedParts:
    """Document parts read from one source: organisations, activities, and what was skipped."""

    organisations: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SourceRow:
    """One record of an input file; ``number`` is the row a spreadsheet shows (header = 1)."""

    file: str
    number: int
    values: Mapping[str, Any]

    def text(self, column: str) -> str:
        value = self.values.get(column)
        return repair_mojibake(str(value).strip()) if value is not None else ""

    def optional(self, column: str) -> str | None:
        value = self.text(column)
        return None if value.casefold() in MISSING else value

    def problem(self, column: str, message: str) -> ImportProblem:
        return ImportProblem(self.file, self.number, column, message)


# --- text helpers ---------------------------------------------------------------------------


def _repair_token(token: str) -> str:
    try:
        return token.encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return token


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was read as Mac Roman (``"R√©union"`` -> ``"Réunion"``).

    Each run of non-space characters is repaired on its own and kept unchanged when the
    repair fails, so correct text (``"Tiranë"``) passes through untouched.
    """
    if text.isascii():
        return text
    return re.sub(r"\S+", lambda m: _repair_token(m.group()), text)


_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe"})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_FOLD)


def name_key(name: str) -> str:
    """Comparison key for organisation names: case, accents, spacing and punctuation ignored."""
    return "".join(ch for ch in _fold(name) if ch.isalnum())


def slugify(text: str, limit: int = 60) -> str:
    """Lower-case ASCII words joined by hyphens (``"Stichting VU"`` -> ``"stichting-vu"``)."""
    words = re.findall(r"[a-z0-9]+", _fold(text).encode("ascii", "ignore").decode())
    return "-".join(words)[:limit].strip("-") or "unnamed"


def split_tags(text: str) -> list[str]:
    """``"a; b; a"`` -> ``["a", "b"]`` (order kept, repeats and blanks dropped)."""
    out: list[str] = []
    for part in text.split(";"):
        tag = part.strip()
        if tag and tag not in out:
            out.append(tag)
    return out


# --- value parsers --------------------------------------------------------------------------


def parse_money(row: SourceRow, column: str) -> float | None:
    """A non-negative amount rounded to the cent, as a JSON number; None when blank."""
    raw = row.optional(column)
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise row.problem(column, f"not an amount: {raw!r}") from None
    if not value.is_finite():
        raise row.problem(column, f"not an amount: {raw!r}")
    if value < 0:
        raise row.problem(column, f"must not be negative: {raw!r}")
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


_DAY_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def parse_day(text: str) -> date:
    """ISO 8601 (``2021-11-01``, optionally with a time) or ``dd/mm/yyyy`` (optionally timed).

    Raises ValueError for anything else; the time of day is dropped.
    """
    raw = text.strip()
    head = raw.split("T", 1)[0].split(" ", 1)[0]
    for fmt in _DAY_FORMATS:
        try:
            return datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {raw!r} (expected YYYY-MM-DD or dd/mm/yyyy)")


def parse_date(row: SourceRow, column: str) -> date | None:
    raw = row.optional(column)
    if raw is None:
        return None
    try:
        return parse_day(raw)
    except ValueError as error:
        raise row.problem(column, str(error)) from None


def add_months(day: date, months: int) -> date:
    """The day before the same date ``months`` later: the last day of that many months."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate) - timedelta(days=1)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")  # pragma: no cover


def status_on(start: date | None, end: date | None, as_of: date) -> str:
    """``completed`` once the end has passed, ``planned`` before the start, else ``active``."""
    if end is not None and end < as_of:
        return "completed"
    if start is not None and start > as_of:
        return "planned"
    return "active"


def validate(
    model: type[BaseModel], data: Mapping[str, Any], row: SourceRow, columns: Mapping[str, str]
) -> None:
    """Run the domain model over a built dict; a rejection names the offending column."""
    try:
        model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        loc = first["loc"]
        name = str(loc[0]) if loc else ""
        message = first["msg"].removeprefix("Value error, ")
        raise row.problem(columns.get(name, name), message) from None


def read_rows(path: Path, required: Sequence[str]) -> list[SourceRow]:
    """The rows of a UTF-8 CSV file, after checking that every required column is there."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column in required:
            if column not in header:
                raise ImportProblem(str(path), 1, column, "column is missing from the header")
        return [SourceRow(str(path), number, values) for number, values in enumerate(reader, 2)]


# --- participants ---------------------------------------------------------------------------


@dataclass
class ParticipantList:
    """Organisations from ``participants.csv`` and every legal name seen for each."""

    organisations: list[dict[str, Any]]
    by_name: dict[str, str]

    def find(self, name: str, country: str | None = None) -> str | None:
        """The identifier of the organisation with this legal name (and country, if given)."""
        identifier = self.by_name.get(name_key(name))
        if identifier is None or country is None:
            return identifier
        found = next(o for o in self.organisations if o["identifier"] == identifier)
        return identifier if found.get("country") in (None, country) else None


def _trailing_parenthesis(text: str) -> tuple[str, str] | None:
    """``"Бургас (Burgas)"`` -> ``("Бургас", "Burgas")``; nested parentheses are kept."""
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                return text[:i].strip(), text[i + 1 : -1].strip()
    return None


def _name_variants(name: str) -> list[str]:
    """The spellings to try for a NUTS name: as given, its Latin transliteration, its head."""
    variants = [name]
    split = _trailing_parenthesis(name)
    if split is not None:
        variants += [split[1], split[0]]
    variants += [re.sub(r"\s*/\s*", "/", v) for v in variants]
    return [v for i, v in enumerate(variants) if v and v not in variants[:i]]


def nuts_for_names(names: Iterable[tuple[int, str | None]], country: str) -> str | None:
    """The first (level, name) pair that names exactly one NUTS region of the country."""
    for level, name in names:
        if name is None:
            continue
        for variant in _name_variants(name):
            found = find_nuts_by_name(variant, country, level)
            if len(found) == 1:
                return found[0].code
    return None


def _country(row: SourceRow, column: str) -> str | None:
    name = row.optional(column)
    if name is None:
        return None
    code = lookup_country_by_name(name)
    if code is None:
        raise row.problem(column, f"unknown country {name!r}")
    return code


def _pic(row: SourceRow) -> str:
    column = "Participant Identification Code"
    match = re.search(r"(?<!\d)(\d{9})/?$", row.text(column))
    if match is None:
        raise row.problem(column, f"no 9-digit PIC at the end of {row.text(column)!r}")
    return match.group(1)


def _participant(row: SourceRow) -> dict[str, Any]:
    type_code = row.text("Participant Type").upper()
    if type_code not in ORG_TYPE_BY_CODE:
        known = ", ".join(ORG_TYPE_BY_CODE)
        raise row.problem("Participant Type", f"unknown type {type_code!r} (expected {known})")
    country = _country(row, "Country/Territory")
    levels = [(level, row.optional(f"NUTS {level} Name")) for level in (3, 2, 1)]
    org = {
        "identifier": f"XI-PIC-{_pic(row)}",
        "name": row.text("Legal Name"),
        "type": ORG_TYPE_BY_CODE[type_code],
        "country": country,
        "region": nuts_for_names(levels, country) if country else None,
        "city": row.optional("CITY"),
    }
    validate(OrganisationFields, org, row, _ORGANISATION_COLUMN)
    return org


def read_participants(path: Path) -> ParticipantList:
    """Organisations of ``participants.csv``, one per PIC; no participations (see module doc)."""
    chosen: dict[str, tuple[dict[str, Any], bool]] = {}
    by_name: dict[str, str] = {}
    for row in read_rows(path, PARTICIPANT_COLUMNS):
        org = _participant(row)
        is_horizon = row.text("Funding programme").upper() == "HORIZON"
        earlier = chosen.get(org["identifier"])
        if earlier is None or (is_horizon and not earlier[1]):
            chosen[org["identifier"]] = (org, is_horizon)
        by_name.setdefault(name_key(org["name"]), org["identifier"])
    return ParticipantList([org for org, _ in chosen.values()], by_name)


# --- projects -------------------------------------------------------------------------------


def _countries_in_parentheses(label: str) -> list[str]:
    codes: list[str] = []
    for group in re.findall(r"\(([^()]*)\)", label):
        found = [lookup_country_by_name(part.strip()) for part in group.split("/")]
        codes += [c for c in found if c is not None and c not in codes]
    return codes


def resolve_region_label(label: str) -> list[str]:
    """Region codes a free-text label names exactly; ``[]`` when nothing resolves.

    See the module docstring for the rule: country in parentheses, a country name, or a
    NUTS 1/2 name of that country. No fuzzy matching and no NUTS 3 (city-like) names.
    """
    label = label.strip()
    if "(" not in label:
        whole = lookup_country_by_name(label)
        return [whole] if whole else []
    name = label.split("(", 1)[0].strip()
    codes: list[str] = []
    for country in _countries_in_parentheses(label):
        nuts = nuts_for_names([(2, name), (1, name)], country)
        codes.append(nuts or country)
    return codes


def _regions(row: SourceRow, notes: list[str]) -> list[str]:
    codes: list[str] = []
    for label in split_tags(row.text("regions")):
        found = resolve_region_label(label)
        if not found:
            notes.append(f"{row.file}, row {row.number}: no region code for {label!r}")
        codes += [c for c in found if c not in codes]
    return codes


def _project_id(row: SourceRow) -> str:
    match = re.search(r"/project/id/(\d+)", row.text("Project id"))
    if match is None:
        raise row.problem("Project id", f"not a CORDIS project URL: {row.text('Project id')!r}")
    return match.group(1)


def _stage(row: SourceRow) -> str:
    action = row.text("Type of Action").upper()
    stage = STAGE_BY_ACTION.get(action.removeprefix("HORIZON-"))
    if stage is None:
        raise row.problem("Type of Action", f"unknown type of action {action!r}")
    return stage


def _summary(row: SourceRow) -> str:
    parts = ["Summary built from the data author's tags, not a CORDIS abstract."]
    for label, column in (
        ("Category", "category"),
        ("Climate risks", "climate_risks"),
        ("Main themes", "main_themes"),
        ("Regions named", "regions"),
    ):
        tags = split_tags(row.text(column))
        if tags:
            parts.append(f"{label}: {', '.join(tags)}.")
    website = row.optional("website")
    if website:
        parts.append(f"Website: {website}.")
    return " ".join(parts)


def _coordinator(
    row: SourceRow, participants: ParticipantList, new_orgs: dict[str, dict[str, Any]]
) -> str:
    """The lead organisation's identifier: a participant with that legal name, else a new one."""
    text = row.text("coordinator")
    name, _, country_name = text.rpartition(",")
    if not name.strip() or not country_name.strip():
        raise row.problem("coordinator", f"expected 'Organisation name, Country', got {text!r}")
    country = lookup_country_by_name(country_name)
    if country is None:
        raise row.problem("coordinator", f"unknown country {country_name.strip()!r}")
    found = participants.find(name.strip(), country)
    if found is not None:
        return found
    identifier = f"missionkit:org:{slugify(name)}"
    org = {"identifier": identifier, "name": name.strip(), "type": "other", "country": country}
    validate(OrganisationFields, org, row, {"name": "coordinator", "country": "coordinator"})
    new_orgs.setdefault(identifier, org)
    return identifier


def _project(
    row: SourceRow,
    participants: ParticipantList,
    new_orgs: dict[str, dict[str, Any]],
    notes: list[str],
    as_of: date,
) -> dict[str, Any]:
    start, end = parse_date(row, "Project Start Date"), parse_date(row, "Project End Date")
    total = parse_money(row, "Total budget (euro)")
    public = parse_money(row, "EU financial contribution (euro)")
    acronym, title = row.text("ACRONYM"), row.text("TITLE")
    activity = {
        "identifier": f"cordis:{_project_id(row)}",
        "title": f"{acronym}: {title}" if acronym else title,
        "summary": _summary(row),
        "kind": "project",
        "instrument": "grant",
        "stage": _stage(row),
        "total_cost": total,
        "public_contribution": public,
        "currency": "EUR" if total is not None or public is not None else None,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "status": status_on(start, end, as_of),
        "call": row.optional("TOPIC_CODE"),
        "regions": _regions(row, notes),
        "sectors": split_tags(row.text("main_themes")),
        "url": row.text("Project id"),
        "organisations": [
            {"organisation": _coordinator(row, participants, new_orgs), "role": "lead"}
        ],
    }
    validate(ActivityDoc, activity, row, _ACTIVITY_COLUMN)
    return activity


def read_projects(path: Path, participants: ParticipantList, as_of: date = AS_OF) -> ImportedParts:
    """Activities of ``projects.csv``; ``organisations`` holds only coordinators found nowhere
    in ``participants``; ``notes`` lists region labels that named no code."""
    new_orgs: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    activities: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row in read_rows(path, PROJECT_COLUMNS):
        activity = _project(row, participants, new_orgs, notes, as_of)
        if activity["identifier"] in seen:
            first = seen[activity["identifier"]]
            raise row.problem("Project id", f"project listed twice (first at row {first})")
        seen[activity["identifier"]] = row.number
        activities.append(activity)
    return ImportedParts(list(new_orgs.values()), activities, notes)


def read_cordis(folder: Path, as_of: date = AS_OF) -> ImportedParts:
    """Both files of ``folder``: every participant organisation, new coordinators, projects."""
    participants = read_participants(folder / PARTICIPANTS_FILE)
    projects = read_projects(folder / PROJECTS_FILE, participants, as_of)
    return ImportedParts(
        participants.organisations + projects.organisations, projects.activities, projects.notes
    )
