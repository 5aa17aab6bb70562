"""The Baring Foundation's 2014-2015 grants framed as a demo mission (see :mod:`.build`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from missionkit.connectors.cordis import parse_day
from missionkit.demo.rule import ObjectiveSpec, suggest_contributions, text_points

BARING = "baring-arts-and-society"

BARING_OBJECTIVES = (
    ObjectiveSpec(
        "creative-ageing",
        "Arts with and for older people",
        "Participation of older people in the arts, including in care settings.",
        (
            "arts",
            "artist",
            "artists",
            "older people",
            "older men",
            "ageing",
            "care homes",
            "museums",
            "dance",
            "music",
            "poetry",
            "festival",
            "theatre",
            "choirs",
        ),
    ),
    ObjectiveSpec(
        "independent-voluntary-sector",
        "A strong, independent voluntary sector and access to advice",
        "Advice providers, advocacy and the independence of the voluntary sector.",
        (
            "advice",
            "advocacy",
            "legal",
            "justice",
            "judicial review",
            "welfare",
            "voluntary sector",
            "trafficking",
            "campaign",
        ),
    ),
    ObjectiveSpec(
        "rights-and-development",
        "Human rights and development, internationally",
        "Rights of marginalised people abroad (LGBTI rights, women's leadership) and "
        "development in sub-Saharan Africa.",
        (
            "international",
            "lgbt",
            "lgbti",
            "rights",
            "africa",
            "ethiopia",
            "south sudan",
            "women",
            "living wage",
        ),
    ),
)


def _grant_text(activity: dict[str, Any]) -> str:
    return " ".join(str(activity.get(k) or "") for k in ("title", "call", "summary"))


def _quarter_ends(first: date, last: date) -> list[date]:
    ends = []
    year, quarter = first.year, (first.month - 1) // 3 + 1
    while True:
        end_month = quarter * 3
        end = date(year, end_month, 31 if end_month in (3, 12) else 30)
        ends.append(end)
        if end >= last:
            return ends
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _baring_indicator(activities: list[dict[str, Any]], awards: dict[str, date]) -> dict[str, Any]:
    def serves(a: dict[str, Any]) -> bool:
        return bool(a["contributions"]) and a["contributions"][0]["objective"] == "creative-ageing"

    days = sorted(awards[a["identifier"]] for a in activities if serves(a))
    observations = [
        {
            "date": end.isoformat(),
            "value": sum(1 for d in days if d <= end),
            "provenance": "counted from baring.json award dates with this demo's keyword rule",
        }
        for end in _quarter_ends(days[0], days[-1])
    ]
    return {
        "slug": "arts-older-people-grants",
        "name": "Grants for arts with older people, cumulative",
        "unit": "grants",
        "direction": "increase",
        "baseline_value": 0,
        "baseline_date": "2014-01-01",
        "source": "The Baring Foundation 360Giving file (baring.json)",
        "objective": "creative-ageing",
        "observations": observations,
    }


def baring_mission(activities: list[dict[str, Any]], awards: dict[str, date]) -> dict[str, Any]:
    for activity in activities:
        points, total = text_points(_grant_text(activity), BARING_OBJECTIVES)
        activity["contributions"] = suggest_contributions(points, total, BARING_OBJECTIVES)
    return {
        "slug": BARING,
        "title": "Baring Foundation grants 2014-2015 as a portfolio (demo)",
        "statement": (
            "Framing generated for the demo, not the Foundation's words: by 2018, older people "
            "take part in the arts, advice and the voluntary sector stay strong and "
            "independent, and marginalised people abroad gain rights."
        ),
        "challenge": "Arts, advice and rights: the funder portfolio as a mission (generated)",
        "owner": "The Baring Foundation (GB-CHC-258583)",
        "level": "national",
        "status": "completed",
        "published": True,
        "regions": ["GB"],
        "sectors": ["arts", "voluntary sector", "international development"],
        "start": "2014-01-01",
        "deadline": "2018-12-31",
        "objectives": [o.as_doc(i) for i, o in enumerate(BARING_OBJECTIVES)],
        "indicators": [_baring_indicator(activities, awards)],
        "activities": activities,
    }


def award_dates(path: Path) -> dict[str, date]:
    """Award dates by grant id (an activity's start may be a later planned start)."""
    grants = json.loads(path.read_text(encoding="utf-8-sig"))["grants"]
    return {str(g["id"]).strip(): parse_day(str(g["awardDate"])) for g in grants}


# --- the document ---------------------------------------------------------------------------
