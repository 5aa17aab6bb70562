"""The EU Mission "Adaptation to Climate Change" as a demo mission (see :mod:`.build`)."""

from __future__ import annotations

import re
from typing import Any

from missionkit.demo.rule import GENERATED, ObjectiveSpec, suggest_contributions

ADAPTATION = "eu-climate-adaptation"
# fmt: off
EU27 = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)
# fmt: on
REVIEWED_ACRONYMS = ("REGILIENCE", "CLIMAAX", "PEERS", "SpongeScapes", "AGORA")
WORK_ITEM_ACRONYM = "CLIMAAX"

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


def adaptation_mission(activities: list[dict[str, Any]]) -> dict[str, Any]:
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
        "published": True,
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
