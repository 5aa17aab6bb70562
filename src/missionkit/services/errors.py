"""Errors services raise; each edge turns them into its own words (HTTP status, exit code)."""

from missionkit.domain.problems import InvalidInput, Problem

__all__ = ["Conflict", "InvalidInput", "NotFound", "Problem", "StaleVersion"]


class NotFound(Exception):
    """No such record."""


class Conflict(Exception):
    """The change would duplicate a unique key or orphan dependent records."""


class StaleVersion(Exception):
    """The client edited an older version than the one stored; nothing was changed."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(f"record is at version {actual}, not {expected}; reload and retry")
