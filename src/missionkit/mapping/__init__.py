"""The mapping engine: which labels (mission objectives, SDGs, any taxonomy) a text serves.

Pure: plain texts and taxonomies in, suggestions with calibrated scores and explanations
out; no database or web imports. See docs/mapping.md.
"""

from missionkit.mapping.embed import (
    Embedder,
    EmbedderUnavailable,
    MiniLMEmbedder,
    StaticEmbedder,
    get_embedder,
)
from missionkit.mapping.feedback import Decision, ReviewerModel
from missionkit.mapping.mapper import (
    FEATURES,
    METHODS,
    CombinerModel,
    LabelScore,
    Mapper,
    Method,
    Suggestion,
    fit_model,
    shipped_model,
)
from missionkit.mapping.query import Query, QuerySyntaxError, parse
from missionkit.mapping.taxonomy import (
    Label,
    Taxonomy,
    TaxonomyError,
    load_taxonomy_file,
    objectives_taxonomy,
    sdg_taxonomy,
    taxonomy_from_records,
)

__all__ = [
    "FEATURES",
    "METHODS",
    "CombinerModel",
    "Decision",
    "Embedder",
    "EmbedderUnavailable",
    "Label",
    "LabelScore",
    "Mapper",
    "Method",
    "MiniLMEmbedder",
    "Query",
    "QuerySyntaxError",
    "ReviewerModel",
    "StaticEmbedder",
    "Suggestion",
    "Taxonomy",
    "TaxonomyError",
    "fit_model",
    "get_embedder",
    "load_taxonomy_file",
    "objectives_taxonomy",
    "parse",
    "sdg_taxonomy",
    "shipped_model",
    "taxonomy_from_records",
]
