"""The keyword rule that suggests the demo's contributions, stated once.

An objective's keywords score points when they appear in an activity's tags or text; the
best-scoring objective (and a strong runner-up) becomes a contribution with provenance
``suggested`` and the score. It is a transparent stand-in for the mapping engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["GENERATED", "ObjectiveSpec", "suggest_contributions", "text_points"]

GENERATED = "generated for the demo"


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


def text_points(text: str, objectives: Sequence[ObjectiveSpec]) -> tuple[dict[str, float], float]:
    """Text rule: each distinct keyword found as a whole word or phrase scores one point."""
    lowered = text.casefold()
    points: dict[str, float] = {}
    for o in objectives:
        hits = [k for k in o.keywords if re.search(rf"\b{re.escape(k.casefold())}\b", lowered)]
        points[o.slug] = float(len(hits))
    return points, sum(points.values())
