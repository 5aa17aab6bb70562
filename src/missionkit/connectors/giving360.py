"""360Giving grants (JSON ``{"grants": [...]}`` or the flat CSV) as mission-map document parts.

A minimal, tolerant reader written against the 2015-era publisher files in
``data/360giving-samples`` (Baring, Wolfson: JSON; Indigo Trust: CSV). Each grant becomes:

* an activity: ``identifier`` = grant id, ``title``, ``summary`` = description, kind
  ``project``, instrument ``grant``, ``public_contribution`` = amountAwarded, ``currency``,
  ``start`` = the first planned start date or else the award date, ``end`` = the planned end
  date or else start + planned duration (months) where given, ``status`` judged on
  :data:`~missionkit.connectors.cordis.AS_OF`, ``call`` = the first grant programme's title,
  ``regions`` = beneficiary-location country codes that are real ISO codes, ``url``;
* the recipient organisation (role ``lead``) and the funding organisation (role ``funder``).

Dates may be ``dd/mm/yyyy`` (optionally with a time) or ISO 8601. A grant whose end cannot
be derived (no end date, no duration) stays ``active``: the file does not say it ended.

A recipient identifier that is not an org-id (no ``SCHEME-`` prefix, e.g. the Indigo
file's placeholder ``DUMMY01``, shared by 76 different recipients) is replaced by
``missionkit:org:<slug of the name>``. An organisation's country comes from its org-id
prefix (``GB-CHC-...`` -> ``GB``) or else its address country. Organisation type is
``civil_society`` for UK charity registers (GB-CHC, GB-SC, GB-NIC), otherwise ``other``:
the files do not say more.

Errors raise :class:`~missionkit.connectors.cordis.ImportProblem` naming the file, the row
(the grant's position in the JSON list counting from 1, or the CSV row with the header as
row 1) and the field (a JSON path such as ``plannedDates[0].startDate``, or a CSV column).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from missionkit.connectors.cordis import (
    AS_OF,
    ImportedParts,
    ImportProblem,
    SourceRow,
    add_months,
    parse_date,
    parse_money,
    read_rows,
    slugify,
    status_on,
    validate,
)
from missionkit.domain.document import ActivityDoc
from missionkit.domain.models import OrganisationFields
from missionkit.domain.regions import lookup_country_by_name, lookup_region

__all__ = ["read_360giving", "read_360giving_csv", "read_360giving_json"]

# Logical field -> the flat CSV column that carries it (360Giving column titles).
CSV_COLUMNS: dict[str, str] = {
    "id": "Identifier",
    "title": "Title",
    "description": "Description",
    "currency": "Currency",
    "amount": "Amount Awarded",
    "award_date": "Award Date",
    "start": "Planned Dates:Start Date",
    "end": "Planned Dates:End Date",
    "duration": "Planned Dates:Duration (months)",
    "programme": "Grant Programme:Title",
    "recipient_id": "Recipient Org:Identifier",
    "recipient_name": "Recipient Org:Name",
    "recipient_country": "Recipient Org:Country",
    "funder_id": "Funding Org:Identifier",
    "funder_name": "Funding Org:Name",
    "beneficiary_country": "Beneficiary Location:Country Code",
    "url": "WebAddress",
}
REQUIRED = ("id", "title", "amount", "currency", "award_date", "recipient_name", "funder_name")
CHARITY_SCHEMES = ("GB-CHC-", "GB-SC-", "GB-NIC-")
_ACTIVITY_FIELD = {
    "identifier": "id",
    "title": "title",
    "summary": "description",
    "public_contribution": "amount",
    "currency": "currency",
    "start": "start",
    "end": "end",
    "call": "programme",
    "regions": "beneficiary_country",
    "url": "url",
}


class _Grant:
    """One grant's values by logical field, with the file's own name for each field."""

    def __init__(self, row: SourceRow, columns: Mapping[str, str]) -> None:
        self.row = row
        self.columns = columns

    def column(self, key: str) -> str:
        return self.columns.get(key, key)

    def text(self, key: str) -> str:
        return self.row.text(self.column(key))

    def optional(self, key: str) -> str | None:
        value = self.row.optional(self.column(key))
        return None if value is None or value.casefold() == "undefined" else value

    def problem(self, key: str, message: str) -> ImportProblem:
        return self.row.problem(self.column(key), message)


# --- JSON flattening ------------------------------------------------------------------------


def _first(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _json_values(grant: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A JSON grant as flat values keyed by JSON path, and the logical -> path map."""
    planned = _first(grant.get("plannedDates"))
    legacy = _first(grant.get("Planned Dates"))
    recipient = _first(grant.get("recipientOrganization"))
    funder = _first(grant.get("fundingOrganization"))
    locations = grant.get("beneficiaryLocation") or []
    if isinstance(locations, dict):
        locations = [locations]
    duration_path = "plannedDates[0].duration"
    duration = planned.get("duration")
    if duration is None:
        duration_path, duration = "Planned Dates.Duration months", legacy.get("Duration months")
    paths = {
        "id": "id",
        "title": "title",
        "description": "description",
        "currency": "currency",
        "amount": "amountAwarded",
        "award_date": "awardDate",
        "start": "plannedDates[0].startDate",
        "end": "plannedDates[0].endDate",
        "duration": duration_path,
        "programme": "grantProgramme[0].title",
        "recipient_id": "recipientOrganization[0].id",
        "recipient_name": "recipientOrganization[0].name",
        "recipient_country": "recipientOrganization[0].addressCountry",
        "funder_id": "fundingOrganization[0].id",
        "funder_name": "fundingOrganization[0].name",
        "beneficiary_country": "beneficiaryLocation[].countryCode",
        "url": "url",
    }
    codes = [str(loc.get("countryCode")) for loc in locations if isinstance(loc, dict)]
    values = {
        "id": grant.get("id"),
        "title": grant.get("title"),
        "description": grant.get("description"),
        "currency": grant.get("currency"),
        "amountAwarded": grant.get("amountAwarded"),
        "awardDate": grant.get("awardDate"),
        "plannedDates[0].startDate": planned.get("startDate"),
        "plannedDates[0].endDate": planned.get("endDate"),
        duration_path: duration,
        "grantProgramme[0].title": _first(grant.get("grantProgramme")).get("title"),
        "recipientOrganization[0].id": recipient.get("id"),
        "recipientOrganization[0].name": recipient.get("name"),
        "recipientOrganization[0].addressCountry": recipient.get("addressCountry"),
        "fundingOrganization[0].id": funder.get("id"),
        "fundingOrganization[0].name": funder.get("name"),
        "beneficiaryLocation[].countryCode": ";".join(c for c in codes if c != "None"),
        "url": grant.get("url"),
    }
    return values, paths


# --- organisations --------------------------------------------------------------------------


def _is_org_id(identifier: str | None) -> bool:
    return identifier is not None and re.match(r"^[A-Za-z0-9]+-[A-Za-z0-9]", identifier) is not None


def _country_of(identifier: str, address_country: str | None) -> str | None:
    prefix = identifier.split("-", 1)[0]
    ref = lookup_region(prefix) if len(prefix) == 2 else None
    if ref is not None and ref.level == "country":
        return ref.code
    return lookup_country_by_name(address_country) if address_country else None


def _organisation(grant: _Grant, who: str, notes: list[str]) -> dict[str, Any]:
    name = grant.text(f"{who}_name")
    if not name:
        raise grant.problem(f"{who}_name", "an organisation name is needed")
    given = grant.optional(f"{who}_id")
    identifier = given if given and _is_org_id(given) else f"missionkit:org:{slugify(name)}"
    if given and identifier != given:
        notes.append(
            f"{grant.row.file}, row {grant.row.number}: {given!r} is not an org-id; "
            f"{name!r} filed as {identifier!r}"
        )
    org = {
        "identifier": identifier,
        "name": name,
        "type": "civil_society" if identifier.startswith(CHARITY_SCHEMES) else "other",
        "country": _country_of(identifier, grant.optional(f"{who}_country")),
    }
    columns = {"identifier": grant.column(f"{who}_id"), "name": grant.column(f"{who}_name")}
    validate(OrganisationFields, org, grant.row, columns)
    return org


# --- activities -----------------------------------------------------------------------------


def _duration_months(grant: _Grant) -> int | None:
    raw = grant.optional("duration")
    if raw is None:
        return None
    match = re.match(r"^\s*(\d+)(?:\.0+)?\s*(?:months?)?\s*$", raw, re.IGNORECASE)
    if match is None:
        raise grant.problem("duration", f"not a number of months: {raw!r}")
    return int(match.group(1))


def _dates(grant: _Grant) -> tuple[date | None, date | None]:
    start = parse_date(grant.row, grant.column("start"))
    if start is None:
        start = parse_date(grant.row, grant.column("award_date"))
    end = parse_date(grant.row, grant.column("end"))
    months = _duration_months(grant)
    if end is None and start is not None and months:
        end = add_months(start, months)
    return start, end


def _regions(grant: _Grant, notes: list[str]) -> list[str]:
    codes: list[str] = []
    for code in re.split(r"[;,\s]+", grant.text("beneficiary_country").upper()):
        if not code or code in codes:
            continue
        ref = lookup_region(code)
        if ref is None:
            notes.append(f"{grant.row.file}, row {grant.row.number}: unknown country {code!r}")
        else:
            codes.append(code)
    return codes


def _activity(
    grant: _Grant, lead: str, funder: str, as_of: date, notes: list[str]
) -> dict[str, Any]:
    start, end = _dates(grant)
    amount = parse_money(grant.row, grant.column("amount"))
    currency = grant.optional("currency")
    activity = {
        "identifier": grant.text("id"),
        "title": grant.text("title") or grant.text("id"),
        "summary": grant.text("description"),
        "kind": "project",
        "instrument": "grant",
        "public_contribution": amount,
        "currency": currency.upper() if currency else None,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "status": status_on(start, end, as_of),
        "call": grant.optional("programme"),
        "regions": _regions(grant, notes),
        "url": grant.optional("url"),
        "organisations": [
            {"organisation": lead, "role": "lead"},
            {"organisation": funder, "role": "funder"},
        ],
    }
    columns = {k: grant.column(v) for k, v in _ACTIVITY_FIELD.items()}
    validate(ActivityDoc, activity, grant.row, columns)
    return activity


def _read_grants(grants: list[_Grant], as_of: date) -> ImportedParts:
    parts = ImportedParts()
    orgs: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for grant in grants:
        for key in REQUIRED:
            if not grant.text(key):
                raise grant.problem(key, "a value is needed")
        lead = _organisation(grant, "recipient", parts.notes)
        funder = _organisation(grant, "funder", parts.notes)
        for org in (lead, funder):
            orgs.setdefault(org["identifier"], org)
        activity = _activity(grant, lead["identifier"], funder["identifier"], as_of, parts.notes)
        if activity["identifier"] in seen:
            first = seen[activity["identifier"]]
            raise grant.problem("id", f"grant listed twice (first at row {first})")
        seen[activity["identifier"]] = grant.row.number
        parts.activities.append(activity)
    parts.organisations = list(orgs.values())
    return parts


def read_360giving_json(path: Path, as_of: date = AS_OF) -> ImportedParts:
    """Grants of a 360Giving JSON file (``{"grants": [...]}``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise ImportProblem(str(path), error.lineno, "", f"not JSON: {error.msg}") from None
    raw = data.get("grants") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise ImportProblem(str(path), 1, "grants", 'expected {"grants": [...]}')
    grants = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise ImportProblem(str(path), number, "grants", "each grant must be an object")
        values, paths = _json_values(item)
        grants.append(_Grant(SourceRow(str(path), number, values), paths))
    return _read_grants(grants, as_of)


def read_360giving_csv(path: Path, as_of: date = AS_OF) -> ImportedParts:
    """Grants of a 360Giving flat CSV file (standard column titles)."""
    rows = read_rows(path, [CSV_COLUMNS[key] for key in REQUIRED])
    return _read_grants([_Grant(row, CSV_COLUMNS) for row in rows], as_of)


def read_360giving(path: Path, as_of: date = AS_OF) -> ImportedParts:
    """Either format, chosen by the file's suffix (``.json`` or ``.csv``)."""
    if path.suffix.lower() == ".json":
        return read_360giving_json(path, as_of)
    return read_360giving_csv(path, as_of)
