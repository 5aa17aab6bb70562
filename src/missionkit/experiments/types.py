"""Typed inputs and results shared by the experiment statistics.

Frozen dataclasses so every edge (Python, CLI, API) speaks the same words. Arm summaries are
sufficient statistics (count, sum, sum of squares), the form in which experimentation
platforms such as GrowthBook pass data to their stats engine, so raw rows never have to
leave the store.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

MetricKind = Literal["mean", "proportion"]


class ExperimentInputError(ValueError):
    """Bad input to a statistics function; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _check(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ExperimentInputError(field, message)


@dataclass(frozen=True)
class ArmSummary:
    """One arm of an experiment as sufficient statistics.

    ``mean`` and ``variance`` are what the tests use; ``unadjusted_mean`` is the raw mean,
    which differs from ``mean`` only after a covariate adjustment (CUPED) and is the
    denominator of relative effects, as in gbstats.
    """

    n: int
    mean: float
    variance: float
    kind: MetricKind = "mean"
    unadjusted_mean: float | None = None

    @property
    def raw_mean(self) -> float:
        return self.mean if self.unadjusted_mean is None else self.unadjusted_mean

    @classmethod
    def from_sums(
        cls, n: int, total: float, sum_squares: float, *, field: str = "arm"
    ) -> ArmSummary:
        """Mean metric from count, sum and sum of squares (sample variance, n-1)."""
        _check(n >= 0, f"{field}.n", "must be >= 0")
        _check(math.isfinite(total), f"{field}.sum", "must be a finite number")
        _check(math.isfinite(sum_squares), f"{field}.sum_squares", "must be a finite number")
        _check(sum_squares >= 0, f"{field}.sum_squares", "must be >= 0")
        if n == 0:
            return cls(0, 0.0, 0.0, "mean")
        mean = total / n
        variance = 0.0 if n <= 1 else (sum_squares - total * total / n) / (n - 1)
        # Rounding can make a constant metric's variance a tiny negative number.
        _check(
            variance >= -1e-9 * max(1.0, abs(sum_squares)),
            f"{field}.sum_squares",
            "is smaller than sum**2/n, which no data can give",
        )
        return cls(n, mean, max(variance, 0.0), "mean")

    @classmethod
    def from_successes(cls, n: int, successes: float, *, field: str = "arm") -> ArmSummary:
        """Proportion metric; variance p(1-p) as in gbstats' ProportionStatistic."""
        _check(n >= 0, f"{field}.n", "must be >= 0")
        _check(successes >= 0, f"{field}.successes", "must be >= 0")
        _check(successes <= n, f"{field}.successes", "must be <= n")
        if n == 0:
            return cls(0, 0.0, 0.0, "proportion")
        p = successes / n
        return cls(n, p, p * (1 - p), "proportion")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error, interval and p-value.

    ``dof`` is the degrees of freedom of the reference t distribution (``None`` = normal).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    dof: float | None = None


@dataclass(frozen=True)
class Notes:
    """What a result assumes and what the reader should worry about."""

    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def to_plain(obj: Any) -> Any:
    """A dataclass result as JSON-ready dicts/lists (NaN and inf become ``None``)."""
    if hasattr(obj, "__dataclass_fields__"):
        return to_plain(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_plain(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
