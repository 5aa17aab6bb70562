"""The demo mission map: two missions built offline from real published data.

``build_demo_document(data_dir)`` returns a plain, JSON-ready mission-map document (see
:mod:`missionkit.domain.document`). What is real and what is generated:

**Real** (read from ``data_dir``, see each folder's ``SOURCE.md``):

* the 46 projects of the EU Mission "Adaptation to Climate Change" (titles, dates, budgets,
  EU contributions, calls, types of action, the data author's tags) and its 908 participant
  rows (872 organisations by PIC, with NUTS regions), via :mod:`missionkit.connectors.cordis`;
* the 53 grants of the Baring Foundation's 2014-2015 360Giving file, via
  :mod:`missionkit.connectors.giving360`;
* the Mission's statement, launch date, owner and its objectives' names, which follow the
  Commission's implementation plan (objective 1 "preparing and planning for climate
  resilience", objective 2 "accelerating transformations", plus the enabling conditions);
* indicator ``charter-signatories``: Mission Charter signatories as announced by the
  Commission (118 on 7 June 2022; 215 from Member States plus 13 from associated countries
  on 29 September 2022; 308 on 7 March 2023);
* indicator ``climate-losses``: EEA estimates of economic losses from weather- and
  climate-related extremes in the EU (average 2011-2020, and 2021 and 2022);
* indicator ``demonstrations`` and the Baring indicator: counted from the data above.

**Derived by a transparent rule**: every contribution (activity -> objective) is a keyword
suggestion, provenance ``suggested`` with its score (see :func:`suggest_contributions`).

**Generated for the demo** (marked "generated" in the data itself):

* indicator ``resilience-pathways`` (its whole series and its per-country observations);
* the ``reviewed`` status of five adaptation contributions;
* the two reviews/decisions and the three GitHub work items;
* the framing of the Baring grants as a mission (statement, objectives, deadline).

The target of 75 demonstrations is recalled from the Mission implementation plan and could
not be re-checked offline; it is labelled illustrative in the indicator's description.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from missionkit.connectors.cordis import parse_day, read_cordis
from missionkit.connectors.giving360 import read_360giving_json
from missionkit.domain.document import FORMAT, FORMAT_VERSION

__all__ = ["ObjectiveSpec", "build_demo_document", "suggest_contributions"]

GENERATED = "generated for the demo"
ADAPTATION = "eu-climate-adaptation"
BARING = "baring-arts-and-society"
# fmt: off
EU27 = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)
# fmt: on
REVIEWED_ACRONYMS = ("REGILIENCE", "CLIMAAX", "PEERS", "SpongeScapes", "AGORA")
WORK_ITEM_ACRONYM = "CLIMAAX"


@dataclass(frozen=True)
class ObjectiveSpec:
    """An objective and the keywords its contributions are suggested by."""

    slug: str
    title: str
    description: str
    keywords: tuple[str, ...]

    def as_doc(self, position: int) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "keywords": list(self.keywords),
            "position": position,
        }


ADAPTATION_OBJECTIVES = (
    ObjectiveSpec(
        "prepare-and-plan",
        "Prepare and plan for climate resilience",
        "Implementation plan objective 1: help regions and communities understand, prepare "
        "for and manage their climate risks: knowledge and data, risk assessment, governance "
        "and mainstreaming adaptation into planning.",
        (
            "Support to regions",
            "Governance",
            "Mainstreaming adaptation",
            "Knowledge and data on adaptation",
            "climate risk assessment",
            "adaptation pathways",
        ),
    ),
    ObjectiveSpec(
        "accelerate-transformations",
        "Accelerate transformations: solutions and demonstrators",
        "Implementation plan objective 2: test and deploy innovative solutions on the ground, "
        "up to large-scale demonstrations of systemic transformation (infrastructure, health).",
        (
            "Transformative change",
            "Infrastructure",
            "Health and wellbeing",
            "demonstration",
            "systemic transformation",
        ),
    ),
    ObjectiveSpec(
        "nature-land-and-water",
        "Nature-based solutions, land and water",
        "Solutions that work with ecosystems: nature-based solutions, water management, "
        "land use and food systems under drought, flood and heat.",
        (
            "Ecosystems and nature-based solutions",
            "Water management",
            "Land use and food systems",
            "sponge landscapes",
        ),
    ),
    ObjectiveSpec(
        "engage-citizens",
        "Engage citizens and communities",
        "Enabling condition: citizens, stakeholders and local communities take part in "
        "designing and carrying out adaptation; behaviour change.",
        ("Behavioural change", "Stakeholder and citizen engagement", "co-creation"),
    ),
    ObjectiveSpec(
        "finance-and-investment",
        "Mobilise finance and investment",
        "Enabling condition: public and private money for adaptation, and local economies "
        "that stay viable as the climate changes.",
        (
            "Adaptation funding & finance",
            "Finance and local economic systems",
            "Local economic systems",
            "insurance",
        ),
    ),
)

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


# --- the keyword rule -----------------------------------------------------------------------


def suggest_contributions(
    points: dict[str, float], total: float, objectives: Sequence[ObjectiveSpec]
) -> list[dict[str, Any]]:
    """Contributions from keyword points per objective (the rule, stated once).

    ``points[slug]`` is what the activity's terms matched for that objective and ``total``
    all its terms. The best objective is suggested (ties go to the earlier objective); the
    runner-up too when it scored at least 2 points. Score = points / total; the weights
    split the activity between the chosen objectives in proportion to their points.
    """
    ranked = sorted(
        ((points.get(o.slug, 0.0), -i, o.slug) for i, o in enumerate(objectives)), reverse=True
    )
    chosen = [(p, slug) for p, _, slug in ranked[:2] if p > 0]
    if len(chosen) == 2 and chosen[1][0] < 2:
        chosen = chosen[:1]
    if not chosen or total <= 0:
        return []
    share = sum(p for p, _ in chosen)
    weights = [round(p / share, 2) for p, _ in chosen]
    if len(weights) == 2:
        weights[1] = round(1 - weights[0], 2)
    return [
        {
            "objective": slug,
            "weight": weight,
            "provenance": "suggested",
            "score": round(min(p / total, 1.0), 3),
        }
        for (p, slug), weight in zip(chosen, weights, strict=True)
    ]


def _tag_points(activity: dict[str, Any], category: str) -> tuple[dict[str, float], float]:
    """Adaptation rule: a tag equal to a keyword scores; the category tag counts twice."""
    weights: dict[str, float] = {category.casefold(): 2.0} if category else {}
    for tag in activity["sectors"]:
        weights.setdefault(tag.casefold(), 1.0)
    points = {
        o.slug: sum(weights.get(k.casefold(), 0.0) for k in o.keywords)
        for o in ADAPTATION_OBJECTIVES
    }
    return points, sum(weights.values())


def _text_points(text: str, objectives: Sequence[ObjectiveSpec]) -> tuple[dict[str, float], float]:
    """Text rule: each distinct keyword found as a whole word or phrase scores one point."""
    lowered = text.casefold()
    points: dict[str, float] = {}
    for o in objectives:
        hits = [k for k in o.keywords if re.search(rf"\b{re.escape(k.casefold())}\b", lowered)]
        points[o.slug] = float(len(hits))
    return points, sum(points.values())


def _category(activity: dict[str, Any]) -> str:
    match = re.search(r"Category: ([^.]*)\.", activity["summary"])
    return match.group(1).strip() if match else ""


# --- the adaptation mission -----------------------------------------------------------------


def _acronym(activity: dict[str, Any]) -> str:
    return str(activity["title"]).split(":", 1)[0]


def _map_adaptation(activities: list[dict[str, Any]]) -> None:
    for activity in activities:
        points, total = _tag_points(activity, _category(activity))
        contributions = suggest_contributions(points, total, ADAPTATION_OBJECTIVES)
        if _acronym(activity) in REVIEWED_ACRONYMS and contributions:
            contributions[0].update(
                provenance="reviewed",
                reviewed_by="demo reviewer (generated)",
                note=f"Review {GENERATED}; the score is the keyword rule's.",
            )
        activity["contributions"] = contributions


def _signatories() -> dict[str, Any]:
    source = "European Commission (DG CLIMA) announcements"
    return {
        "slug": "charter-signatories",
        "name": "Regions and local authorities signatory of the Mission Charter",
        "description": (
            "All signatories, from Member States and from countries associated with Horizon "
            "Europe. Real figures from Commission announcements. No target: the Mission's "
            "150 counts regions supported towards resilience, not signatures, and the "
            "Charter passed 150 signatories in 2022."
        ),
        "unit": "signatories",
        "direction": "increase",
        "baseline_value": 0,
        "baseline_date": "2021-09-29",
        "source": source,
        "objective": "engage-citizens",
        "observations": [
            {
                "date": "2022-06-07",
                "value": 118,
                "provenance": "EC, first signatories announced at the Mission forum, 7 June 2022",
            },
            {
                "date": "2022-09-29",
                "value": 228,
                "provenance": "EC DG CLIMA news, 29 Sep 2022: 215 from 24 Member States + 13",
            },
            {
                "date": "2023-03-07",
                "value": 308,
                "provenance": "EC DG CLIMA news, 7 Mar 2023: 291 from 25 Member States + 17",
            },
        ],
    }


def _losses() -> dict[str, Any]:
    return {
        "slug": "climate-losses",
        "name": "Economic losses from weather- and climate-related extremes, EU-27",
        "description": (
            "EEA indicator on economic losses from climate-related extremes. Real EEA "
            "figures, from two editions with different price bases (noted on each value). "
            "The EU aims to reduce these losses but sets no number, so there is no target."
        ),
        "unit": "EUR billion per year",
        "direction": "decrease",
        "baseline_value": 14.5,
        "baseline_date": "2020-12-31",
        "source": "European Environment Agency, economic losses from climate-related extremes",
        "observations": [
            {
                "date": "2020-12-31",
                "period_start": "2011-01-01",
                "value": 14.5,
                "provenance": "EEA 2021 edition: mean annual loss 2011-2020, inflation-corrected",
            },
            {
                "date": "2021-12-31",
                "period_start": "2021-01-01",
                "value": 59.4,
                "provenance": "EEA 2023 edition (1980-2022, 2022 prices)",
            },
            {
                "date": "2022-12-31",
                "period_start": "2022-01-01",
                "value": 52.3,
                "provenance": "EEA 2023 edition (1980-2022, 2022 prices)",
            },
        ],
    }


# Generated: countries' shares of the 2025 total of resilience pathways (sums to 48).
_PATHWAYS_2025 = {"ES": 9, "IT": 8, "GR": 6, "PT": 5, "FR": 5, "DE": 4, "NL": 3, "RO": 3}
_PATHWAYS_SERIES = (("2022-12-31", 6), ("2023-12-31", 19), ("2024-12-31", 34), ("2025-12-31", 48))


def _pathways() -> dict[str, Any]:
    observations = [{"date": d, "value": v, "provenance": GENERATED} for d, v in _PATHWAYS_SERIES]
    observations += [
        {"date": "2025-12-31", "value": v, "region": code, "provenance": GENERATED}
        for code, v in _PATHWAYS_2025.items()
    ]
    return {
        "slug": "resilience-pathways",
        "name": "Regions and communities with an adopted climate-resilience pathway",
        "description": (
            "Mission goal: at least 150 regions and communities climate resilient by 2030. "
            "The whole series, including the per-country values, is generated for the demo."
        ),
        "unit": "regions and communities",
        "direction": "increase",
        "baseline_value": 0,
        "baseline_date": "2022-01-01",
        "target_value": 150,
        "target_date": "2030-12-31",
        "source": GENERATED,
        "objective": "prepare-and-plan",
        "observations": observations,
    }


def _demonstrations(activities: list[dict[str, Any]]) -> dict[str, Any]:
    starts = sorted(a["start"] for a in activities if a["stage"] == "demonstration")
    years = range(int(starts[0][:4]), int(starts[-1][:4]) + 1)
    observations = [
        {
            "date": f"{year}-12-31",
            "value": sum(1 for s in starts if int(s[:4]) <= year),
            "provenance": "counted from projects.csv: Innovation Actions by start year",
        }
        for year in years
    ]
    return {
        "slug": "demonstrations",
        "name": "Demonstration projects (Innovation Actions) funded, cumulative",
        "description": (
            "Counted from the funded projects: Innovation Actions (IA, HORIZON-IA) by start "
            "date. The target of 75 large-scale demonstrations is recalled from the Mission "
            "implementation plan and is illustrative until checked against it."
        ),
        "unit": "projects",
        "direction": "increase",
        "baseline_value": 0,
        "baseline_date": "2021-09-29",
        "target_value": 75,
        "target_date": "2030-12-31",
        "source": "projects.csv (EU Adaptation Mission funded projects)",
        "objective": "accelerate-transformations",
        "observations": observations,
    }


def _serving(activities: list[dict[str, Any]], objective: str, by: str) -> tuple[int, float]:
    """Projects started by ``by`` that serve ``objective``, and their EU money (EUR M)."""
    chosen = [
        a
        for a in activities
        if a["start"] <= by and any(c["objective"] == objective for c in a["contributions"])
    ]
    money = sum(a["public_contribution"] or 0 for a in chosen) / 1e6
    return len(chosen), round(money, 1)


def _adaptation_reviews(activities: list[dict[str, Any]], climaax: str) -> list[dict[str, Any]]:
    day = "2024-10-15"
    n_fin, eur_fin = _serving(activities, "finance-and-investment", day)
    n_plan, eur_plan = _serving(activities, "prepare-and-plan", day)
    return [
        {
            "date": day,
            "title": "Portfolio review: finance and investment (generated example)",
            "objective": "finance-and-investment",
            "evidence": (
                f"Computed from the keyword mapping for projects started by {day}: {n_fin} "
                f"serve finance and investment (EUR {eur_fin} M EU contribution) against "
                f"{n_plan} for prepare-and-plan (EUR {eur_plan} M). The review is {GENERATED}."
            ),
            "decision": "iterate",
            "authority": "Mission Board (generated example)",
            "rationale": "Steer the next call towards adaptation finance and insurance.",
        },
        {
            "date": "2025-06-30",
            "title": "CLIMAAX cascading grants: mid-term check (generated example)",
            "activity": climaax,
            "evidence": (
                "The project's regions tag reads '69 regions supported through cascading "
                f"grants' (real tag). The check itself is {GENERATED}."
            ),
            "decision": "scale",
            "authority": "Mission Secretariat (generated example)",
            "rationale": "Risk-assessment support reaches many regions at low cost per region.",
        },
    ]


def _work_items() -> list[dict[str, Any]]:
    items = (
        ("Import the second round of cascading-grant regions", "closed", 3.0),
        ("Map regional risk assessments to NUTS 2 codes", "in progress", 5.0),
        ("Publish the risk-assessment handbook feedback survey", "open", 2.0),
    )
    return [
        {
            "tracker": "github",
            "key": f"missionkit-demo/adaptation#{n}",
            "title": f"{title} (generated example)",
            "status": status,
            "effort": effort,
        }
        for n, (title, status, effort) in enumerate(items, 1)
    ]


def _adaptation_mission(activities: list[dict[str, Any]]) -> dict[str, Any]:
    _map_adaptation(activities)
    climaax = next(a for a in activities if _acronym(a) == WORK_ITEM_ACRONYM)
    climaax["work_items"] = _work_items()
    return {
        "slug": ADAPTATION,
        "title": "EU Mission: Adaptation to Climate Change",
        "statement": (
            "Support at least 150 European regions and communities to become climate "
            "resilient by 2030."
        ),
        "challenge": "Adaptation to climate change",
        "owner": "European Commission (DG CLIMA)",
        "level": "international",
        "status": "active",
        "regions": list(EU27),
        "sectors": ["climate adaptation", "disaster risk reduction", "water", "nature"],
        "start": "2021-09-29",
        "deadline": "2030-12-31",
        "objectives": [o.as_doc(i) for i, o in enumerate(ADAPTATION_OBJECTIVES)],
        "indicators": [
            _signatories(),
            _pathways(),
            _demonstrations(activities),
            _losses(),
        ],
        "reviews": _adaptation_reviews(activities, climaax["identifier"]),
        "activities": activities,
    }


# --- the Baring portfolio -------------------------------------------------------------------


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


def _baring_mission(activities: list[dict[str, Any]], awards: dict[str, date]) -> dict[str, Any]:
    for activity in activities:
        points, total = _text_points(_grant_text(activity), BARING_OBJECTIVES)
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
        "regions": ["GB"],
        "sectors": ["arts", "voluntary sector", "international development"],
        "start": "2014-01-01",
        "deadline": "2018-12-31",
        "objectives": [o.as_doc(i) for i, o in enumerate(BARING_OBJECTIVES)],
        "indicators": [_baring_indicator(activities, awards)],
        "activities": activities,
    }


def _award_dates(path: Path) -> dict[str, date]:
    """Award dates by grant id (an activity's start may be a later planned start)."""
    grants = json.loads(path.read_text(encoding="utf-8-sig"))["grants"]
    return {str(g["id"]).strip(): parse_day(str(g["awardDate"])) for g in grants}


# --- the document ---------------------------------------------------------------------------


def _unique(orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for org in orgs:
        seen.setdefault(org["identifier"], org)
    return list(seen.values())


def build_demo_document(data_dir: Path) -> dict[str, Any]:
    """The demo mission-map document, JSON-ready, from the data sets under ``data_dir``."""
    cordis = read_cordis(data_dir / "eu-adaptation-mission")
    baring_file = data_dir / "360giving-samples" / "baring.json"
    baring = read_360giving_json(baring_file)
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "regions": [],
        "organisations": _unique(cordis.organisations + baring.organisations),
        "missions": [
            _adaptation_mission(cordis.activities),
            _baring_mission(baring.activities, _award_dates(baring_file)),
        ],
    }


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m missionkit.demo.build DATA_DIR`` writes the document to stdout."""
    args = list(sys.argv[1:] if argv is None else argv)
    data_dir = Path(args[0]) if args else Path("shared/data")
    json.dump(build_demo_document(data_dir), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
