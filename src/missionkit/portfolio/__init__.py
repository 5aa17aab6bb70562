"""Portfolio engine: does the portfolio cohere around the mission's objectives?

Pure functions over a columnar :class:`Portfolio` (Polars frames; no database, no web):

- :func:`coverage` / :func:`coverage_matrix`: budget and activities per any two of objective,
  instrument, stage, region (also sector, call, year); uncovered and thin objectives;
  activities serving no objective.
- :func:`directionality`: the share of the budget directed to the objectives, weighted by
  contribution weight and provenance, overall, per objective, call and year.
- :func:`stage_balance`: budget across the innovation cycle per objective, with the gaps.
- :func:`instrument_mix`: instrument shares per objective and per year, and the trend.
- :func:`diversity`: Shannon, Herfindahl–Hirschman and Rao–Stirling indices.
- :func:`spatial_equity`: funding per head, Gini, Theil (decomposed), regions left behind.
- :func:`coherence`: the collaboration network (scipy.sparse, igraph; networkx views).
- :func:`drift`: the above per year or call.
- :func:`headline_findings`: ranked plain sentences.

Every result is a frozen dataclass with ``to_dict()``. Methods, formulas and defaults:
``docs/portfolio.md``.
"""

from missionkit.portfolio.balance import (
    InstrumentMix,
    InstrumentTrend,
    MixCell,
    ObjectiveStages,
    StageBalance,
    StageShare,
    instrument_mix,
    stage_balance,
)
from missionkit.portfolio.coherence import (
    Bridge,
    Coherence,
    Community,
    NetworkSummary,
    activity_network,
    bipartite_network,
    coherence,
    organisation_communities,
    organisation_network,
)
from missionkit.portfolio.coverage import (
    Coverage,
    CoverageCell,
    CoverageMatrix,
    CoverageThresholds,
    ObjectiveCoverage,
    coverage,
    coverage_matrix,
    objective_coverage,
)
from missionkit.portfolio.data import (
    TRL_BANDS,
    Portfolio,
    PortfolioError,
    stage_from_trl,
)
from missionkit.portfolio.directionality import (
    Directionality,
    GroupDirection,
    ProvenanceWeights,
    directionality,
)
from missionkit.portfolio.diversity import (
    DistanceMatrix,
    Diversity,
    DiversityIndices,
    ObjectiveDiversity,
    cooccurrence_distance,
    cosine_distances,
    diversity,
    effective_number,
    hhi,
    indices,
    ordinal_distance,
    proportions,
    rao_stirling,
    shannon,
)
from missionkit.portfolio.drift import Drift, DriftPeriod, drift
from missionkit.portfolio.findings import Analyses, Finding, findings, headline_findings
from missionkit.portfolio.inequality import (
    TheilDecomposition,
    TheilGroup,
    gini,
    theil_decomposition,
    theil_t,
)
from missionkit.portfolio.parts import cross, dimension_parts
from missionkit.portfolio.spatial import RegionFunding, SpatialEquity, spatial_equity
from missionkit.portfolio.types import ALL, DIMENSIONS, NONE, Dimension, SpatialLevel

__all__ = [
    "ALL",
    "DIMENSIONS",
    "NONE",
    "TRL_BANDS",
    "Analyses",
    "Bridge",
    "Coherence",
    "Community",
    "Coverage",
    "CoverageCell",
    "CoverageMatrix",
    "CoverageThresholds",
    "Dimension",
    "Directionality",
    "DistanceMatrix",
    "Diversity",
    "DiversityIndices",
    "Drift",
    "DriftPeriod",
    "Finding",
    "GroupDirection",
    "InstrumentMix",
    "InstrumentTrend",
    "MixCell",
    "NetworkSummary",
    "ObjectiveCoverage",
    "ObjectiveDiversity",
    "ObjectiveStages",
    "Portfolio",
    "PortfolioError",
    "ProvenanceWeights",
    "RegionFunding",
    "SpatialEquity",
    "SpatialLevel",
    "StageBalance",
    "StageShare",
    "TheilDecomposition",
    "TheilGroup",
    "activity_network",
    "bipartite_network",
    "coherence",
    "cooccurrence_distance",
    "cosine_distances",
    "coverage",
    "coverage_matrix",
    "cross",
    "dimension_parts",
    "directionality",
    "diversity",
    "drift",
    "effective_number",
    "findings",
    "gini",
    "headline_findings",
    "hhi",
    "indices",
    "instrument_mix",
    "objective_coverage",
    "ordinal_distance",
    "organisation_communities",
    "organisation_network",
    "proportions",
    "rao_stirling",
    "shannon",
    "spatial_equity",
    "stage_balance",
    "stage_from_trl",
    "theil_decomposition",
    "theil_t",
]
