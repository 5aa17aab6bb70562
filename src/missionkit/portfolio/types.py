"""Vocabularies and the JSON helper shared by the portfolio engine's results.

Every result is a frozen dataclass with ``to_dict()``; tuples become lists, nested results
become mappings, and non-finite floats become ``None`` so the output is valid JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Literal, get_args

Dimension = Literal["objective", "instrument", "stage", "region", "sector", "call", "year"]
"""What a budget can be broken down by. ``objective``, ``region`` and ``sector`` split an
activity's budget over several values; the others give each activity exactly one value."""

DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)

NONE = "(none)"
"""The value shown where an activity has none: no objective (or the part of its budget its
weights leave unallocated), no region, no sector, no call, no year or no known stage."""

ALL = "(all)"
"""The key of a row that covers the whole portfolio."""

SpatialLevel = Literal["country", "nuts1", "nuts2", "nuts3", "subdivision"]
SPATIAL_LEVELS: tuple[SpatialLevel, ...] = get_args(SpatialLevel)

CoverageStatus = Literal["none", "thin", "covered"]
PeriodKind = Literal["year", "call"]


def jsonable(value: object) -> object:
    """Plain JSON-ready data: dataclasses -> dicts, tuples -> lists, NaN/inf -> None."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Result:
    """Mixin giving frozen result dataclasses a ``to_dict()``."""

    __slots__ = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping of every field (see :func:`jsonable`)."""
        out = jsonable(self)
        assert isinstance(out, dict)
        return out


def share(part: float, total: float) -> float:
    """``part / total``; 0.0 when the total is zero (an empty portfolio has no shares)."""
    return part / total if total > 0 else 0.0
