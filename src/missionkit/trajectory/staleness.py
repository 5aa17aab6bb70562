"""Is an indicator's data overdue?

Each indicator has an expected update frequency (12 months for an annual statistic). The
next observation is due one period after the last one, plus the publication lag the
source usually needs, plus any grace days; after that the indicator is overdue, and its
trajectory answer is getting old. A year-only observation counts as 31 December of that
year (the end of its period, as missionkit's observations are dated).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Staleness:
    """When the next value was due, and whether (and by how many days) it is late."""

    last_observation: dt.date
    next_due: dt.date
    as_of: dt.date
    overdue: bool
    days_overdue: int


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def staleness(
    last_observation: dt.date | int,
    expected_frequency_months: int,
    as_of: dt.date,
    *,
    publication_lag_months: int = 0,
    grace_days: int = 0,
) -> Staleness:
    """Flag overdue data: due ``frequency + lag`` months after the last observation."""
    if expected_frequency_months < 1:
        raise ValueError(
            f"expected frequency must be at least 1 month, not {expected_frequency_months}"
        )
    if publication_lag_months < 0 or grace_days < 0:
        raise ValueError("publication lag and grace days cannot be negative")
    last = last_observation
    if not isinstance(last, dt.date):
        last = dt.date(last, 12, 31)
    due = add_months(last, expected_frequency_months + publication_lag_months)
    due += dt.timedelta(days=grace_days)
    late = (as_of - due).days
    return Staleness(last, due, as_of, late > 0, max(late, 0))
