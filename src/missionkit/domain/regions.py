"""Offline reference for region codes: ISO 3166-1, ISO 3166-2 and Eurostat NUTS 2021.

Region codes arrive from users and importers in three families that never collide in
form: ISO 3166-1 alpha-2 country codes ("DE"), ISO 3166-2 subdivision codes (always with a
hyphen, "DE-BY") and NUTS codes ("DE21", "DE212"). This module answers "is this a real
code, what is it called, what is above it" without a network or a database, so domain
validation stays pure. ISO data comes from ``pycountry``; NUTS 2021 from the packaged
``missionkit/reference/nuts2021.csv`` (provenance in ``reference/SOURCE.md``).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pycountry

__all__ = [
    "RegionRef",
    "find_nuts_by_name",
    "is_known_region",
    "lookup_country_by_name",
    "lookup_region",
]

# NUTS level-0 codes that differ from ISO 3166-1 alpha-2 (Eurostat uses EL and UK).
_NUTS_TO_ISO: dict[str, str] = {"EL": "GR", "UK": "GB"}

# Codes ISO 3166-1 does not assign but the EU/Eurostat use as countries.
_EXTRA_COUNTRIES: dict[str, str] = {"XK": "Kosovo"}

# Common English spellings that are not pycountry's name, common_name or official_name.
_COUNTRY_NAME_VARIANTS: dict[str, str] = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "czech republic": "CZ",
    "czechia": "CZ",
    "turkey": "TR",
    "turkiye": "TR",
    "kosovo": "XK",
    "usa": "US",
    "u.s.a.": "US",
    "us": "US",
    "russia": "RU",
    "macedonia": "MK",
    "vatican": "VA",
    "holland": "NL",
}

# Latin letters that NFKD does not decompose, so stripping combining marks alone would
# keep them; importers usually write the plain-ASCII letter instead.
_FOLD = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ħ": "h",
        "’": "'",
        "‘": "'",
        "–": "-",
        "—": "-",
    }
)


@dataclass(frozen=True, slots=True)
class RegionRef:
    """One reference region.

    ``level`` is "country", "subdivision", "nuts0" (only EL/UK, whose NUTS code is not the
    ISO code), "nuts1", "nuts2" or "nuts3". ``country`` is always the ISO 3166-1 alpha-2
    code (GR for EL, GB for UK) so regions of all families group by the same key.
    ``parent`` is the next region up (None only for countries), so walking parents always
    ends at an ISO country.
    """

    code: str
    name: str
    level: str
    parent: str | None
    country: str


@dataclass(frozen=True, slots=True)
class _NutsRow:
    code: str
    name: str
    level: int


def _normalise(text: str) -> str:
    """Case-, accent- and whitespace-insensitive key, so "TIRANE" matches "Tiranë"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.translate(_FOLD).split())


def _iso_country(code: str) -> str:
    """ISO alpha-2 for the first two letters of a NUTS code (EL -> GR, UK -> GB)."""
    prefix = code[:2]
    return _NUTS_TO_ISO.get(prefix, prefix)


@cache
def _nuts_rows() -> dict[str, _NutsRow]:
    """The NUTS 2021 list, read once; packaged data so lookups never touch the network."""
    text = files("missionkit.reference").joinpath("nuts2021.csv").read_text(encoding="utf-8")
    rows: dict[str, _NutsRow] = {}
    for record in csv.DictReader(io.StringIO(text)):
        row = _NutsRow(record["code"], record["name"], int(record["level"]))
        rows[row.code] = row
    return rows


@cache
def _nuts_name_index() -> dict[str, tuple[str, ...]]:
    """Normalised NUTS name -> codes carrying it (names repeat across levels and countries)."""
    index: dict[str, list[str]] = {}
    for row in _nuts_rows().values():
        index.setdefault(_normalise(row.name), []).append(row.code)
    return {key: tuple(sorted(codes)) for key, codes in index.items()}


@cache
def _country_name_index() -> dict[str, str]:
    """Normalised English country names (name, common_name, official_name) -> alpha-2."""
    index: dict[str, str] = {}
    for country in pycountry.countries:
        alpha_2 = str(country.alpha_2)
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                index.setdefault(_normalise(str(value)), alpha_2)
    for code, name in _EXTRA_COUNTRIES.items():
        index.setdefault(_normalise(name), code)
    for variant, code in _COUNTRY_NAME_VARIANTS.items():
        index.setdefault(_normalise(variant), code)
    return index


def _country_ref(code: str) -> RegionRef | None:
    if code in _EXTRA_COUNTRIES:
        return RegionRef(code, _EXTRA_COUNTRIES[code], "country", None, code)
    if len(code) != 2 or not code.isascii() or not code.isupper():
        return None
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return None
    return RegionRef(code, str(country.name), "country", None, code)


@cache
def _subdivisions() -> dict[str, RegionRef]:
    """ISO 3166-2 entries keyed by their canonical (case-sensitive) code, built once.

    pycountry's own ``get`` matches case-insensitively; keying by the exact code keeps
    "de-by" unknown, like every other non-canonical spelling.
    """
    refs: dict[str, RegionRef] = {}
    for subdivision in pycountry.subdivisions:
        code = str(subdivision.code)
        country = str(subdivision.country_code)
        parent_code = getattr(subdivision, "parent_code", None)
        parent = str(parent_code) if parent_code else country
        refs[code] = RegionRef(code, str(subdivision.name), "subdivision", parent, country)
    return refs


def _nuts_ref(code: str) -> RegionRef | None:
    row = _nuts_rows().get(code)
    if row is None:
        return None
    country = _iso_country(code)
    if row.level == 0:
        # Only EL and UK get here: other level-0 codes are ISO codes, answered as countries.
        return RegionRef(code, row.name, "nuts0", country, country)
    parent = country if row.level == 1 else code[:-1]
    return RegionRef(code, row.name, f"nuts{row.level}", parent, country)


def lookup_region(code: str) -> RegionRef | None:
    """The reference entry for a canonical code, or None if it is not a known code.

    Codes are case-sensitive ("DE21", not "de21"); surrounding whitespace is ignored.
    A NUTS level-0 code equal to an ISO alpha-2 code ("DE") returns the ISO country entry.
    """
    code = code.strip()
    if not code:
        return None
    if "-" in code:
        return _subdivisions().get(code)
    return _country_ref(code) or _nuts_ref(code)


def is_known_region(code: str) -> bool:
    """True if ``code`` is an ISO 3166-1/3166-2 or NUTS 2021 code (see ``lookup_region``)."""
    return lookup_region(code) is not None


def find_nuts_by_name(
    name: str, country: str | None = None, level: int | None = None
) -> list[RegionRef]:
    """NUTS regions whose name equals ``name`` ignoring case, accents and spacing.

    For importers that carry NUTS names but no codes (e.g. "Tirane" -> AL022). Exact
    matching only: no fuzzy guesses, an empty list means "not found". ``country`` is an
    ISO alpha-2 filter (EL/UK are accepted too); ``level`` is the NUTS level 0-3. A level-0
    hit for a country whose NUTS code is its ISO code comes back as the country entry.
    """
    wanted_country = None
    if country is not None:
        wanted_country = _NUTS_TO_ISO.get(country.strip(), country.strip())
    rows = _nuts_rows()
    found: list[RegionRef] = []
    for code in _nuts_name_index().get(_normalise(name), ()):
        if level is not None and rows[code].level != level:
            continue
        if wanted_country is not None and _iso_country(code) != wanted_country:
            continue
        ref = lookup_region(code)
        if ref is not None:
            found.append(ref)
    return found


def lookup_country_by_name(name: str) -> str | None:
    """ISO 3166-1 alpha-2 for an English country name, or None.

    Matches pycountry's name, common_name or official_name ignoring case and accents, plus
    a few everyday variants ("UK", "Czech Republic", "Turkey", "Kosovo" -> "XK"). No fuzzy
    matching: a near miss returns None so callers can ask instead of guessing.
    """
    key = _normalise(name)
    if not key:
        return None
    return _country_name_index().get(key)
