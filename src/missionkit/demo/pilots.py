"""Two pilots for the demo's adaptation mission, run through the experiment registry.

**Generated for the demo, not real pilots** (the titles and the learning say so): the
outline proposals, their regions and their outcomes are drawn from a seeded generator.
Everything else is the product's real path: the plans are registered and locked by the
registry's services, the units are randomised by its seeded, stratified assignment, the
outcomes are analysed against the locked plan, and the decision is recorded, so the
cockpit's learning log and the experiment pages show what a team would see.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import numpy as np

from missionkit.demo.adaptation import ADAPTATION
from missionkit.domain.access import Actor
from missionkit.services import experiments as registry
from missionkit.services.experiment_analysis import analyse_experiment
from missionkit.store.db import Database

SEED = 2024
OUTLINES = 240
# Chance that an outline becomes a full proposal, by arm and region group (generated).
FULL_PROPOSAL = {
    ("written-feedback-only", "lagging"): 0.24,
    ("written-feedback-only", "other"): 0.38,
    ("feedback-with-coaching", "lagging"): 0.40,
    ("feedback-with-coaching", "other"): 0.44,
}

COACHING: dict[str, Any] = {
    "slug": "outline-coaching",
    "title": "Coaching after stage-one outlines (demo pilot, generated data)",
    "question": "Does a coaching call after a stage-one outline raise the share of "
    "outlines that come back as full proposals, above all from lagging regions?",
    "hypothesis": "Coaching raises the share of full proposals by at least 8 points.",
    "stage": "process",
    "design": "ab",
    "unit": "stage-one outline proposal",
    "objective": "prepare-and-plan",
    "call": "HORIZON-MISS-2023-CLIMA-01",
    "plan": {
        "arms": [
            {"name": "written-feedback-only", "description": "today's written evaluation summary"},
            {
                "name": "feedback-with-coaching",
                "description": "the summary plus a 45-minute call with a mission adviser",
            },
        ],
        "primary_metric": {"name": "outline returns as a full proposal", "kind": "proportion"},
        "minimum_detectable_effect": 0.16,
        "planned_sample": OUTLINES,
        "randomisation": "stratified",
        "analysis": "Difference in proportions, two-sided, alpha 0.05, strata: lagging "
        "(regional innovation scoreboard 'emerging' or 'moderate') vs other regions.",
    },
}

PATHWAYS: dict[str, Any] = {
    "slug": "pathway-support-roll-out",
    "title": "Roll-out of regional pathway support (demo plan, no data yet)",
    "question": "Do regions that receive pathway support adopt a resilience pathway sooner "
    "than regions still waiting for it?",
    "hypothesis": "Support brings adoption forward by at least one year.",
    "stage": "instrument_choice",
    "design": "staggered",
    "unit": "NUTS 2 region",
    "objective": "prepare-and-plan",
    "plan": {
        "arms": [{"name": "waiting"}, {"name": "supported"}],
        "primary_metric": {"name": "resilience pathway adopted", "kind": "proportion"},
        "planned_sample": 150,
        "randomisation": "clustered",
        "analysis": "Callaway-Sant'Anna group-time effects, not-yet-treated regions as "
        "controls, simple and dynamic aggregations; pre-trend test at alpha 0.05.",
    },
}


def _outlines(rng: np.random.Generator) -> list[dict[str, str]]:
    return [
        {"unit": f"OUT-{i:03d}", "stratum": "lagging" if rng.random() < 0.45 else "other"}
        for i in range(1, OUTLINES + 1)
    ]


def run_demo_pilots(database: Database, actor: Actor) -> list[str]:
    """Register both pilots in the (freshly imported) adaptation mission; their slugs."""
    rng = np.random.default_rng(SEED)
    units = _outlines(rng)
    locked_at = dt.datetime(2024, 1, 15, 10, 0, tzinfo=dt.UTC)
    with database.transaction() as s:
        coaching = registry.create_experiment(s, ADAPTATION, COACHING, actor)["id"]
        registry.lock_plan(s, coaching, {"locked_by": "Mission secretariat"}, now=locked_at)
        registry.randomise_units(s, coaching, {"seed": SEED, "units": units}, actor)
        assigned = csv.DictReader(io.StringIO(registry.assignments_csv(s, coaching)))
        outcomes = [
            {
                "unit": a["unit"],
                "value": float(rng.random() < FULL_PROPOSAL[a["arm"], a["stratum"]]),
            }
            for a in assigned
        ]
        analysis = analyse_experiment(s, coaching, {"outcomes": outcomes}, actor)
        [arm] = analysis["report"]["arms"]
        effect = arm["absolute"]
        registry.record_decision(
            s,
            coaching,
            {
                "decision": "scale" if effect["ci_low"] > 0 else "iterate",
                "decided_by": "Mission board",
                "decided_on": "2024-09-30",
                "learning": (
                    "Demo, generated data. Coaching changed the share of outlines returning "
                    f"as full proposals by {effect['estimate'] * 100:+.1f} points "
                    f"(95% interval {effect['ci_low'] * 100:+.1f} to "
                    f"{effect['ci_high'] * 100:+.1f}; chance to beat written feedback "
                    f"{arm['chance_to_win']:.0%}). "
                    + (
                        "Scale: offer the call to every stage-one applicant."
                        if effect["ci_low"] > 0
                        else "Not conclusive at this size: run it again in the next call "
                        "with twice the outlines before deciding."
                    )
                ),
            },
            actor,
        )
        pathways = registry.create_experiment(s, ADAPTATION, PATHWAYS, actor)["id"]
        registry.lock_plan(s, pathways, {"locked_by": "Mission secretariat"}, now=locked_at)
    return [COACHING["slug"], PATHWAYS["slug"]]
