"""Sample-ratio mismatch: did randomisation deliver the planned split?

Pearson's chi-square goodness-of-fit test of the realised arm counts against the planned
weights (as GrowthBook's ``check_srm``). A very small p-value (GrowthBook flags p < 0.001)
means the assignment or the data pipeline is broken and effects should not be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from missionkit.experiments.types import ExperimentInputError

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    chi_square: float
    dof: int
    p_value: float
    mismatch: bool
    warnings: tuple[str, ...]
    assumptions: tuple[str, ...] = (
        "Pearson chi-square goodness of fit of the realised counts to the planned split",
        f"flagged below p = {SRM_THRESHOLD:g} (GrowthBook's threshold)",
    )


def check(
    counts: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    threshold: float = SRM_THRESHOLD,
) -> SrmResult:
    """Chi-square test of ``counts`` against planned ``weights`` (default: equal split)."""
    if len(counts) < 2:
        raise ExperimentInputError("counts", "need at least two arms")
    if any(c < 0 for c in counts):
        raise ExperimentInputError("counts", "must be >= 0")
    w = list(weights) if weights is not None else [1.0] * len(counts)
    if len(w) != len(counts):
        raise ExperimentInputError("weights", "need one weight per arm")
    if any(x < 0 for x in w) or sum(w) <= 0:
        raise ExperimentInputError("weights", "must be >= 0 with a positive total")
    total = sum(counts)
    expected = [x / sum(w) * total for x in w]
    if total == 0:
        return SrmResult(tuple(counts), tuple(expected), 0.0, len(counts) - 1, 1.0, False, ())
    chi = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True) if e > 0)
    dof = sum(1 for x in w if x > 0) - 1
    p = float(stats.chi2.sf(chi, dof))
    warnings: tuple[str, ...] = ()
    if p < threshold:
        warnings = (
            f"sample-ratio mismatch (chi-square p = {p:.2g} < {threshold:g}): the realised "
            "split does not match the plan; check assignment and data before reading effects",
        )
    return SrmResult(tuple(counts), tuple(expected), chi, dof, p, p < threshold, warnings)
