"""Experiment statistics: honest numbers for pilots with small samples and clustered units.

Pure functions over plain data (numpy and scipy; no database, no web), one module each:

- :mod:`~missionkit.experiments.design`: power, sample size and minimum detectable effect for
  means and proportions, unequal allocation, clustering through the design effect.
- :mod:`~missionkit.experiments.frequentist`: Welch difference in means / proportions,
  absolute and relative (delta method) effects.
- :mod:`~missionkit.experiments.bayesian`: chance to win and expected loss (GrowthBook's
  effect-based approach, flat or normal prior).
- :mod:`~missionkit.experiments.cuped`: variance reduction with a pre-period covariate.
- :mod:`~missionkit.experiments.sequential`: always-valid intervals for continuous monitoring.
- :mod:`~missionkit.experiments.clustered`: cluster-robust comparison of randomised clusters.
- :mod:`~missionkit.experiments.srm`: sample-ratio mismatch test.
- :mod:`~missionkit.experiments.did`: two-way fixed effects, event study and
  Callaway–Sant'Anna for policy changes; :mod:`~missionkit.experiments.before_after` for
  the design without a comparison group.
- :mod:`~missionkit.experiments.ab`: a whole multi-arm A/B summary in one call.
- :mod:`~missionkit.experiments.plan` and :mod:`~missionkit.experiments.randomise`: the
  pre-registered plan with its content hash, and reproducible assignment.
- :mod:`~missionkit.experiments.plot`: the event-study chart as SVG.

Every result is a frozen dataclass carrying its assumptions and warnings;
:func:`~missionkit.experiments.types.to_plain` turns one into JSON-ready data. Methods,
formulas, priors and references: ``docs/experiments.md``.
"""

from missionkit.experiments.types import (
    ArmSummary,
    Estimate,
    ExperimentInputError,
    to_plain,
)

__all__ = ["ArmSummary", "Estimate", "ExperimentInputError", "to_plain"]
