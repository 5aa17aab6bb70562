"""Roll indicator answers up to objectives and the mission, and say what drives the result.

Default rule ``mean_score`` follows Open SDG's aggregation of several series into one
indicator (open-sdg ``docs/progress-methodology.md``, "Aggregated progress status"; sdg-build
``IndicatorProgress.get_indicator_progress``): the (weighted) mean of the -5..5 scores of
the assessed items is read against the bands ``[2.5, 5]`` on track, ``[0, 2.5)`` needs
acceleration, ``[-2.5, 0)`` limited progress, ``[-5, -2.5)`` wrong direction; "achieved"
only when every item has achieved its target. missionkit adds: items without a score
(``insufficient_data``) are left out of the mean and listed as ``unassessed``, and they
block "achieved" (an unknown cannot count as done); with nothing assessed the result is
``insufficient_data``. Nesting works the same way at every level (indicators -> objective
-> mission), each child weighing equally unless given a weight, as Open SDG's
"sub-indicator grouping" does.

Rule ``worst_status`` is the cautious alternative: the worst status among assessed items.

``drivers`` always names the assessed items with the worst status present, lowest score
first: the indicators behind a red (or merely amber) result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from missionkit.trajectory.types import STATUS_ORDER, Assessment, Status

RollupRule = Literal["mean_score", "worst_status"]
SCORE_BANDS: Final = (2.5, 0.0, -2.5)


@dataclass(frozen=True, slots=True)
class RollupItem:
    """One child of a roll-up: an indicator (or an objective already rolled up)."""

    id: str
    status: Status
    score: float | None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.status not in STATUS_ORDER:
            raise ValueError(f"unknown status {self.status!r}")
        if not self.weight > 0:
            raise ValueError(f"weight must be positive, not {self.weight!r}")

    @classmethod
    def of(cls, assessment: Assessment, id: str | None = None, weight: float = 1.0) -> RollupItem:
        """An item from an indicator's assessment (id defaults to the assessment's)."""
        return cls(id or assessment.id, assessment.status, assessment.score, weight)


@dataclass(frozen=True, slots=True)
class Rollup:
    """A roll-up's answer: status, mean score, the items driving it, and coverage."""

    status: Status
    score: float | None
    rule: RollupRule
    drivers: tuple[str, ...]
    unassessed: tuple[str, ...]
    items: tuple[RollupItem, ...]  # worst first

    @property
    def assessed(self) -> int:
        return len(self.items) - len(self.unassessed)

    def as_item(self, id: str, weight: float = 1.0) -> RollupItem:
        """This roll-up as one child of the next level up."""
        return RollupItem(id, self.status, self.score, weight)

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "score": self.score,
            "rule": self.rule,
            "drivers": list(self.drivers),
            "unassessed": list(self.unassessed),
            "items": [
                {"id": i.id, "status": i.status, "score": i.score, "weight": i.weight}
                for i in self.items
            ],
        }


def status_from_score(score: float) -> Status:
    """Open SDG's score bands, in the common status words."""
    if score >= SCORE_BANDS[0]:
        return "on_track"
    if score >= SCORE_BANDS[1]:
        return "needs_acceleration"
    if score >= SCORE_BANDS[2]:
        return "limited_progress"
    return "wrong_direction"


def _rank(item: RollupItem) -> tuple[int, float]:
    score = item.score if item.score is not None else float("inf")
    return (-STATUS_ORDER.index(item.status), score)


def _is_assessed(item: RollupItem) -> bool:
    return item.score is not None and item.status != "insufficient_data"


def rollup(items: Iterable[RollupItem], rule: RollupRule = "mean_score") -> Rollup:
    """Combine children into one status (see the module docstring for the rule)."""
    if rule not in ("mean_score", "worst_status"):
        raise ValueError(f"rule must be 'mean_score' or 'worst_status', not {rule!r}")
    all_items = tuple(sorted(items, key=_rank))
    assessed = [i for i in all_items if _is_assessed(i)]
    unassessed = tuple(i.id for i in all_items if not _is_assessed(i))
    if not assessed:
        return Rollup("insufficient_data", None, rule, unassessed, unassessed, all_items)
    total = sum(i.weight for i in assessed)
    mean = sum(i.weight * (i.score or 0.0) for i in assessed) / total
    worst = max(STATUS_ORDER.index(i.status) for i in assessed)
    drivers = tuple(i.id for i in assessed if STATUS_ORDER.index(i.status) == worst)
    status: Status
    if all(i.status == "achieved" for i in all_items):
        status = "achieved"
    elif rule == "worst_status":  # "achieved" needs every item, unassessed ones included
        status = STATUS_ORDER[max(worst, 1)]
    else:
        status = status_from_score(mean)
    return Rollup(status, mean, rule, drivers, unassessed, all_items)
