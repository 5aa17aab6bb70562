"""Tests for the offline region reference (missionkit.domain.regions).

Expected NUTS codes and names are from the Eurostat NUTS 2021 classification as packaged in
src/missionkit/reference/nuts2021.csv (GISCO Nuts2json 2021 release, eurostat/Nuts2json
commit 4320600c; see reference/SOURCE.md). ISO 3166 expectations come from pycountry.
"""

from __future__ import annotations

import csv
from collections import Counter
from importlib.resources import files

import pytest

from missionkit.domain.regions import (
    RegionRef,
    find_nuts_by_name,
    is_known_region,
    lookup_country_by_name,
    lookup_region,
)


def _chain(code: str) -> list[str]:
    chain = []
    ref = lookup_region(code)
    while ref is not None:
        chain.append(ref.code)
        ref = lookup_region(ref.parent) if ref.parent else None
    return chain


def test_nuts3_parent_chain_ends_at_iso_country() -> None:
    assert _chain("DE212") == ["DE212", "DE21", "DE2", "DE"]
    ref = lookup_region("DE212")
    assert ref == RegionRef("DE212", "München, Kreisfreie Stadt", "nuts3", "DE21", "DE")
    assert lookup_region("DE21") == RegionRef("DE21", "Oberbayern", "nuts2", "DE2", "DE")
    assert lookup_region("DE2") == RegionRef("DE2", "Bayern", "nuts1", "DE", "DE")


def test_nuts0_equal_to_iso_returns_country() -> None:
    assert lookup_region("DE") == RegionRef("DE", "Germany", "country", None, "DE")


def test_greece_and_uk_map_to_iso_country() -> None:
    el30 = lookup_region("EL30")
    assert el30 is not None
    assert (el30.level, el30.parent, el30.country, el30.name) == ("nuts2", "EL3", "GR", "Attiki")
    el3 = lookup_region("EL3")
    assert el3 is not None and el3.parent == "GR" and el3.country == "GR"
    el = lookup_region("EL")
    assert el is not None and (el.level, el.country) == ("nuts0", "GR")
    assert _chain("EL303") == ["EL303", "EL30", "EL3", "GR"]
    uki3 = lookup_region("UKI3")
    assert uki3 is not None and uki3.country == "GB"
    assert _chain("UKI31") == ["UKI31", "UKI3", "UKI", "GB"]


def test_iso_subdivisions() -> None:
    by = lookup_region("DE-BY")
    assert by == RegionRef("DE-BY", "Bayern", "subdivision", "DE", "DE")
    eng = lookup_region("GB-ENG")
    assert eng is not None and eng.parent == "GB" and eng.country == "GB"
    # A subdivision with a parent subdivision chains through it.
    assert _chain("GB-LND") == ["GB-LND", "GB-ENG", "GB"]


def test_whitespace_is_ignored_but_case_is_not() -> None:
    assert lookup_region("  DE21\n") == lookup_region("DE21")
    assert lookup_region("de21") is None
    assert lookup_region("de") is None
    assert lookup_region("de-by") is None


@pytest.mark.parametrize(
    "code", ["", "   ", "XX99", "DE-ZZ", "XX", "DE9999", "ZZ-1", "DE21-", "-", "EL-"]
)
def test_unknown_codes(code: str) -> None:
    assert lookup_region(code) is None
    assert is_known_region(code) is False


def test_known_codes() -> None:
    for code in ("DE", "GR", "EL", "UK", "GB", "DE-BY", "GB-ENG", "AL022", "FRY10", "DEZZZ"):
        assert is_known_region(code), code


def test_kosovo_is_a_country() -> None:
    xk = lookup_region("XK")
    assert xk is not None and xk.level == "country"
    assert lookup_country_by_name("Kosovo") == "XK"


def test_outermost_and_extra_regio_rows() -> None:
    assert _chain("ES709") == ["ES709", "ES70", "ES7", "ES"]
    assert _chain("PT200") == ["PT200", "PT20", "PT2", "PT"]
    zz = lookup_region("DEZZZ")
    assert zz is not None and zz.level == "nuts3" and zz.parent == "DEZZ"


def test_find_by_name_ignores_accents_and_case() -> None:
    hits = find_nuts_by_name("Tiranë", country="AL", level=3)
    assert [h.code for h in hits] == ["AL022"]
    assert [h.code for h in find_nuts_by_name("tirane")] == ["AL022"]
    assert [h.code for h in find_nuts_by_name("  MÜNCHEN,  kreisfreie stadt ")] == ["DE212"]
    assert [h.code for h in find_nuts_by_name("Lodzkie")] == ["PL71"]


def test_find_by_name_filters() -> None:
    # "Bremen" is NUTS1, NUTS2 (and its NUTS3 is "Bremen, Kreisfreie Stadt").
    assert [h.code for h in find_nuts_by_name("Bremen")] == ["DE5", "DE50"]
    assert [h.code for h in find_nuts_by_name("Bremen", level=2)] == ["DE50"]
    assert find_nuts_by_name("Bremen", country="AT") == []
    assert [h.code for h in find_nuts_by_name("Attiki", country="GR", level=1)] == ["EL3"]
    assert [h.code for h in find_nuts_by_name("Attiki", country="EL", level=1)] == ["EL3"]
    assert find_nuts_by_name("Atlantis") == []


def test_find_by_name_level0_returns_country_entry() -> None:
    hits = find_nuts_by_name("Deutschland", level=0)
    assert hits == [RegionRef("DE", "Germany", "country", None, "DE")]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Germany", "DE"),
        ("germany", "DE"),
        ("Federal Republic of Germany", "DE"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Czechia", "CZ"),
        ("Czech Republic", "CZ"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("North Macedonia", "MK"),
        ("Moldova", "MD"),
    ],
)
def test_country_by_name(name: str, code: str) -> None:
    assert lookup_country_by_name(name) == code


@pytest.mark.parametrize("name", ["", "Germani", "Bavaria", "Europe"])
def test_country_by_name_unknown(name: str) -> None:
    assert lookup_country_by_name(name) is None


def test_packaged_nuts_list_is_complete() -> None:
    """NUTS 2021 has 92 NUTS1, 242 NUTS2 and 1166 NUTS3 regions in the EU-27."""
    text = files("missionkit.reference").joinpath("nuts2021.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    eu = {
        *("BE", "BG", "CZ", "DK", "DE", "EE", "IE", "EL", "ES", "FR", "HR", "IT", "CY", "LV"),
        *("LT", "LU", "HU", "MT", "NL", "AT", "PL", "PT", "RO", "SI", "SK", "FI", "SE"),
    }
    counts = Counter(
        int(r["level"])
        for r in rows
        if r["code"][:2] in eu and not (len(r["code"]) > 2 and r["code"][2:].strip("Z") == "")
    )
    assert counts == Counter({0: 27, 1: 92, 2: 242, 3: 1166})
    codes = {r["code"] for r in rows}
    assert len(codes) == len(rows)
    for r in rows:
        if int(r["level"]) > 0:
            assert r["code"][:-1] in codes, r["code"]
