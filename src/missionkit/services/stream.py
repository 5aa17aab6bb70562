"""Read a mission-map document in two streaming passes, so size is bounded by one batch.

Pass one builds everything except the activities (small); pass two yields activities
one at a time. Two passes make the reader indifferent to key order in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ijson

from missionkit.domain.problems import InvalidInput

ACTIVITY = "missions.item.activities.item"
# Events at an activity's own prefix that do not begin a new activity.
_NOT_A_START = frozenset({"end_map", "end_array", "map_key"})


@dataclass
class Skeleton:
    document: Any
    activity_counts: list[int]

    @property
    def activities(self) -> int:
        return sum(self.activity_counts)


def _inside(prefix: str) -> bool:
    return prefix == ACTIVITY or prefix.startswith(ACTIVITY + ".")


def _json_error(path: Path, error: Exception) -> InvalidInput:
    return InvalidInput.one("", f"{path.name} is not valid JSON: {error}")


def read_skeleton(path: Path) -> Skeleton:
    """The document with every mission's activities left out, and how many each has."""
    builder = ijson.ObjectBuilder()
    counts: list[int] = []
    try:
        with path.open("rb") as f:
            for prefix, event, value in ijson.parse(f):
                if prefix == "missions.item" and event == "start_map":
                    counts.append(0)
                if _inside(prefix):
                    if prefix == ACTIVITY and event not in _NOT_A_START:
                        counts[-1] += 1
                    continue
                builder.event(event, value)
    except (ijson.JSONError, ValueError) as e:
        raise _json_error(path, e) from None
    document = getattr(builder, "value", None)
    return Skeleton(document, counts)


def iter_activities(path: Path, counts: list[int]) -> Iterator[tuple[int, int, Any]]:
    """(mission index, activity index, raw activity) for every activity in the file.

    Activities are built by ijson's C backend; ``counts`` (from `read_skeleton`) says
    where one mission's activities end and the next one's begin.
    """
    missions = iter(enumerate(counts))
    mission, remaining = -1, 0
    index = 0
    try:
        with path.open("rb") as f:
            for raw in ijson.items(f, ACTIVITY):
                while remaining == 0:
                    mission, remaining = next(missions)
                    index = 0
                yield mission, index, raw
                index += 1
                remaining -= 1
    except (ijson.JSONError, ValueError) as e:
        raise _json_error(path, e) from None
