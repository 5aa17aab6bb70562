"""The mapper: keyword queries and embeddings combined into calibrated label scores.

For each (text, label) pair the mapper computes a few features that mean the same thing
whatever the taxonomy (did the label's query match and with how many terms; how similar
is the text to the label's prototypes, and what a linear classifier trained on those
prototypes says, absolutely and relative to the other labels). A logistic regression
with weights shared by all labels combines them, an isotonic map calibrates the result
(a score of 0.8 is right about 80 % of the time on held-out data), and a per-label
threshold turns scores into a multi-label answer.

Because the weights are shared and the features taxonomy-neutral, a combination fitted
on one labelled set (the SDG development set) transfers to a mission's own objectives;
reviewers' decisions then adapt it per label (`missionkit.mapping.feedback`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from missionkit.mapping.calibrate import Isotonic, fit_logistic, sigmoid
from missionkit.mapping.classify import PrototypeClassifier
from missionkit.mapping.embed import Embedder, Matrix, get_embedder, normalise
from missionkit.mapping.query import LeafMatcher, Query, words
from missionkit.mapping.taxonomy import Taxonomy

Method = Literal["combined", "keyword", "embedding"]
METHODS: tuple[Method, ...] = ("combined", "keyword", "embedding")

KEYWORD_FEATURES = ("kw_match", "kw_terms", "kw_share", "kw_gap")
SIMILARITY_FEATURES = ("cos_max", "cos_mean", "cos_z", "cos_gap")
CLASSIFIER_FEATURES = ("clf", "clf_gap")
# "embedding" is everything learned from the labels' texts: cosines to the prototypes and
# the linear classifier trained on them (missionkit.mapping.classify). The combination
# takes the classifier's two features only: on held-out folds the cosines added nothing
# once the classifier was there (they are largely the same signal) and cost 1-6 points of
# top-1 accuracy; they stay as the explanation (similarity, nearest example).
EMBEDDING_FEATURES = SIMILARITY_FEATURES + CLASSIFIER_FEATURES
ALL_FEATURES = KEYWORD_FEATURES + EMBEDDING_FEATURES  # the order Features.values holds
FEATURES: dict[str, tuple[str, ...]] = {
    "keyword": KEYWORD_FEATURES,
    "embedding": EMBEDDING_FEATURES,
    "combined": KEYWORD_FEATURES + CLASSIFIER_FEATURES,
}


@dataclass(frozen=True)
class LabelScore:
    """One label's score for one text, with what supports it."""

    label: str
    score: float
    terms: tuple[str, ...] = ()
    similarity: float = 0.0
    nearest: str | None = None

    def explanation(self) -> str:
        parts = []
        if self.terms:
            parts.append("matched " + ", ".join(self.terms))
        if self.nearest:
            parts.append(f"nearest example: {self.nearest[:120]}")
        parts.append(f"similarity {self.similarity:.2f}")
        return "; ".join(parts)


@dataclass
class _Batch:
    """What a batch of texts was scored with; suggestions read their details from it."""

    label_ids: list[str]
    probs: NDArray[np.float64]
    order: NDArray[np.int64]  # per text, label indices best first
    terms: list[list[tuple[str, ...]]]
    similarity: NDArray[np.float64]
    nearest: NDArray[np.int64]
    examples: Mapping[int, str]  # prototype index -> example text (confirmed examples only)
    skip: Mapping[int, set[str]]

    def detail(self, t: int, i: int) -> LabelScore:
        return LabelScore(
            label=self.label_ids[i],
            score=float(self.probs[t, i]),
            terms=self.terms[t][i],
            similarity=float(self.similarity[t, i]),
            nearest=self.examples.get(int(self.nearest[t, i])),
        )


@dataclass(frozen=True)
class Suggestion:
    """The labels chosen for one text (best first) with their scores.

    Every label's score and explanation is available through `ranked` and `detail`,
    built on demand so that mapping millions of texts does not build millions of objects.
    """

    labels: tuple[str, ...]
    scores: tuple[float, ...]
    batch: _Batch = field(repr=False, compare=False)
    row: int = field(repr=False, compare=False)

    @property
    def ranked(self) -> tuple[LabelScore, ...]:
        """Every label (except excluded ones), best first."""
        skip = self.batch.skip.get(self.row, set())
        return tuple(
            self.batch.detail(self.row, int(i))
            for i in self.batch.order[self.row]
            if self.batch.label_ids[i] not in skip
        )

    def detail(self, label: str) -> LabelScore:
        try:
            i = self.batch.label_ids.index(label)
        except ValueError:
            raise KeyError(label) from None
        return self.batch.detail(self.row, i)

    def to_dict(self) -> dict[str, Any]:
        explanations = {}
        for label in self.labels:
            s = self.detail(label)
            explanations[label] = {
                "terms": list(s.terms),
                "similarity": round(s.similarity, 4),
                "nearest_example": s.nearest,
            }
        return {
            "labels": list(self.labels),
            "scores": [round(s, 4) for s in self.scores],
            "explanations": explanations,
        }


@dataclass(frozen=True)
class CombinerModel:
    """Fitted weights, calibration and thresholds for one method and one embedder."""

    method: Method
    embedder: str
    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    calibration: Isotonic
    threshold: float = 0.5
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def probability(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Calibrated probabilities for a (..., n_features) array of features."""
        raw = sigmoid(x @ np.asarray(self.coef) + self.intercept)
        return self.calibration(raw)

    def threshold_for(self, label: str) -> float:
        return self.thresholds.get(label, self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "embedder": self.embedder,
            "features": list(self.features),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "calibration": {"x": list(self.calibration.x), "y": list(self.calibration.y)},
            "threshold": self.threshold,
            "thresholds": dict(self.thresholds),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CombinerModel:
        return cls(
            method=d["method"],
            embedder=d["embedder"],
            features=tuple(d["features"]),
            coef=tuple(float(c) for c in d["coef"]),
            intercept=float(d["intercept"]),
            calibration=Isotonic(tuple(d["calibration"]["x"]), tuple(d["calibration"]["y"])),
            threshold=float(d.get("threshold", 0.5)),
            thresholds={str(k): float(v) for k, v in d.get("thresholds", {}).items()},
        )


@cache
def _shipped_models() -> dict[tuple[str, str], dict[str, Any]]:
    path = files("missionkit.reference") / "sdg" / "combiner.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {(m["embedder"], m["method"]): m for m in data["models"]}


def shipped_model(method: Method, embedder: str, *, taxonomy: str = "sdg") -> CombinerModel:
    """The combination fitted on the SDG development set (reference/sdg/combiner.json).

    Per-label thresholds only apply to the SDG taxonomy itself; other taxonomies use the
    global threshold until their own reviewers' decisions refine it. An embedder without a
    fitted model borrows the static embedder's (its features are relative, so it is a
    reasonable start), which the evaluation script can replace.
    """
    models = _shipped_models()
    found = models.get((embedder, method)) or models.get(("wordllama-l2-supercat-256", method))
    if found is None:
        raise LookupError(f"no fitted {method} model ships with missionkit (combiner.json)")
    model = CombinerModel.from_dict(found)
    if taxonomy != "sdg":
        model = CombinerModel(
            model.method,
            model.embedder,
            model.features,
            model.coef,
            model.intercept,
            model.calibration,
            model.threshold,
        )
    return model


@dataclass
class Features:
    """Features of a batch of texts against every label, plus what explains them."""

    values: NDArray[np.float64]  # (texts, labels, features) in ALL_FEATURES order
    terms: list[list[tuple[str, ...]]]  # per text, per label: matched terms
    similarity: NDArray[np.float64]  # (texts, labels): best prototype cosine
    nearest: NDArray[np.int64]  # (texts, labels): index of that prototype
    embeddings: Matrix | None = None

    def select(self, method: Method | Sequence[str]) -> NDArray[np.float64]:
        """The features of ``method``, or the named ones (a fitted model's own list)."""
        wanted = FEATURES[method] if isinstance(method, str) else method
        names = ALL_FEATURES
        return self.values[:, :, [names.index(n) for n in wanted]]


class Mapper:
    """Maps texts to the labels of a taxonomy. Pure: plain texts in, suggestions out."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        *,
        method: Method = "combined",
        embedder: Embedder | None = None,
        model: CombinerModel | None = None,
        adjust: Any | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.method = method
        self.label_ids = taxonomy.ids
        self.queries: list[Query | None] = [lb.compiled_query() for lb in taxonomy.labels]
        self.matcher = LeafMatcher([q for q in self.queries if q is not None])
        self.query_slot: dict[int, int] = {}
        slot = 0
        for i, q in enumerate(self.queries):
            if q is not None:
                self.query_slot[i] = slot
                slot += 1
        self.slot_label = {slot: li for li, slot in self.query_slot.items()}
        # Queries such as "NOT coal" hold for a text without any of their terms.
        self.matches_nothing = {
            slot
            for li, slot in self.query_slot.items()
            if self.queries[li].evaluate(frozenset())  # type: ignore[union-attr]
        }
        self.needs_embeddings = method != "keyword"
        self.embedder = embedder if embedder is not None or not self.needs_embeddings else None
        if self.needs_embeddings and self.embedder is None:
            self.embedder = get_embedder("static")
        self.prototype_texts: list[str] = []
        self.prototype_owner: list[int] = []
        self.prototype_is_example: list[bool] = []
        for li, label in enumerate(taxonomy.labels):
            protos = label.prototypes()
            query = self.queries[li]
            if query is not None:  # the query's words, as one more text standing for the label
                words_of_query = [" ".join(w for w, _ in leaf.parts) for leaf in query.leaves]
                terms = [w for i, w in enumerate(words_of_query) if i not in query.negated]
                protos.insert(1, " ".join(terms))
            n_examples = len(label.examples)
            for k, text in enumerate(protos):
                self.prototype_texts.append(text)
                self.prototype_owner.append(li)
                self.prototype_is_example.append(k >= len(protos) - n_examples)
        self.example_index: dict[str, list[int]] = {}
        for j, (text, is_example) in enumerate(
            zip(self.prototype_texts, self.prototype_is_example, strict=True)
        ):
            if is_example:
                self.example_index.setdefault(text, []).append(j)
        self.examples = {
            j: self.prototype_texts[j] for js in self.example_index.values() for j in js
        }
        self.owner = np.asarray(self.prototype_owner, dtype=np.int64)
        self.group_starts = np.searchsorted(self.owner, np.arange(len(self.label_ids)))
        self.prototypes: Matrix | None = None
        self.centroids: Matrix | None = None
        self.center: Matrix | None = None
        self.classifier: PrototypeClassifier | None = None
        if self.embedder is not None:
            # Static vectors share a common direction; removing the prototypes' mean makes
            # cosines discriminate between labels instead of measuring "is English text".
            encoded = self.embedder.encode(self.prototype_texts)
            self.center = encoded.mean(axis=0, keepdims=True)
            self.prototypes = self._centred(encoded)
            sums = np.add.reduceat(self.prototypes, self.group_starts, axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            self.centroids = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
            self.classifier = PrototypeClassifier(
                self.prototypes,
                [words(t) for t in self.prototype_texts],
                self.owner,
                len(self.label_ids),
            )
        self._model = model
        self.adjust = adjust

    def _centred(self, vectors: Matrix) -> Matrix:
        assert self.center is not None
        empty = ~vectors.any(axis=1)  # texts without a single token stay at zero
        out = normalise((vectors - self.center).astype(np.float32))
        out[empty] = 0.0
        return out

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Texts in the mapper's embedding space (centred and normalised)."""
        assert self.embedder is not None
        return self._centred(self.embedder.encode(texts))

    @property
    def model(self) -> CombinerModel:
        """The given model, else the one fitted on the SDG development set."""
        if self._model is None:
            name = self.embedder.name if self.embedder is not None else "none"
            kind = str(self.taxonomy.meta.get("kind", ""))
            self._model = shipped_model(self.method, name, taxonomy=kind)
        return self._model

    # -- features -----------------------------------------------------------------------
    def features(self, texts: Sequence[str], keep_embeddings: bool = False) -> Features:
        n, k = len(texts), len(self.label_ids)
        values = np.zeros((n, k, len(ALL_FEATURES)), dtype=np.float64)
        terms: list[list[tuple[str, ...]]] = []
        tokens = [words(text) for text in texts]
        for t in range(n):
            row: list[tuple[str, ...]] = [()] * k
            hits = self.matcher.hits(tokens[t])
            for slot, found in enumerate(hits):
                if not found and slot not in self.matches_nothing:
                    continue  # no term of this query occurs, and it needs one to match
                li = self.slot_label[slot]
                q = self.queries[li]
                assert q is not None
                if q.evaluate(found):
                    explained = tuple(q.explain(found))
                    row[li] = explained
                    values[t, li, 0] = 1.0
                    values[t, li, 1] = np.log1p(len(explained))
            terms.append(row)
        matched = values[:, :, 0].sum(axis=1, keepdims=True)
        values[:, :, 2] = values[:, :, 0] / np.maximum(matched, 1.0)
        values[:, :, 3] = values[:, :, 1] - values[:, :, 1].max(axis=1, keepdims=True)
        similarity = np.zeros((n, k), dtype=np.float64)
        nearest = np.zeros((n, k), dtype=np.int64)
        embeddings = None
        if self.embedder is not None and n:
            assert self.prototypes is not None and self.centroids is not None
            embeddings = self.embed(texts)
            sims = embeddings @ self.prototypes.T  # (n, prototypes)
            # A text never counts as its own example (reviewed texts mapped again, and
            # leave-one-out fitting): mask prototypes that are the text itself.
            held_out = [self.example_index.get(text, []) for text in texts]
            for t, group in enumerate(held_out):
                sims[t, group] = -1.0
            for li, start in enumerate(self.group_starts):
                stop = self.group_starts[li + 1] if li + 1 < k else sims.shape[1]
                best = np.argmax(sims[:, start:stop], axis=1)
                nearest[:, li] = start + best
                similarity[:, li] = sims[np.arange(n), start + best]
            mean = (embeddings @ self.centroids.T).astype(np.float64)
            values[:, :, 4] = similarity
            values[:, :, 5] = mean
            mu = similarity.mean(axis=1, keepdims=True)
            sd = similarity.std(axis=1, keepdims=True)
            values[:, :, 6] = (similarity - mu) / np.maximum(sd, 1e-6)
            values[:, :, 7] = similarity - similarity.max(axis=1, keepdims=True)
            assert self.classifier is not None
            clf = self.classifier.scores(embeddings, tokens, held_out)
            values[:, :, 8] = clf
            values[:, :, 9] = clf - clf.max(axis=1, keepdims=True)
        return Features(values, terms, similarity, nearest, embeddings if keep_embeddings else None)

    # -- scoring ------------------------------------------------------------------------
    def probabilities(self, feats: Features) -> NDArray[np.float64]:
        """Calibrated (texts, labels) probabilities, adjusted by reviewers' decisions."""
        probs = self.model.probability(feats.select(self.model.features))
        if self.adjust is not None and feats.embeddings is not None:
            probs = self.adjust.apply(probs, feats.embeddings, self.label_ids)
        return np.asarray(probs, dtype=np.float64)

    def map(
        self,
        texts: Sequence[str],
        *,
        at_least_one: bool = False,
        exclude: Mapping[int, set[str]] | None = None,
    ) -> list[Suggestion]:
        """Suggestions for each text; ``exclude`` maps a text's index to labels to skip."""
        if not texts:
            return []
        feats = self.features(texts, keep_embeddings=self.adjust is not None)
        probs = self.probabilities(feats)
        # Best first: by calibrated score, ties (isotonic steps) broken by the raw score.
        raw = feats.select(self.model.features) @ np.asarray(self.model.coef)
        order = np.lexsort((-raw, -probs), axis=1)
        thresholds = np.asarray([self.model.threshold_for(lb) for lb in self.label_ids])
        passes = probs >= thresholds
        batch = _Batch(
            self.label_ids,
            probs,
            order,
            feats.terms,
            feats.similarity,
            feats.nearest,
            self.examples,
            exclude or {},
        )
        out = []
        for t in range(len(texts)):
            skip = exclude.get(t) if exclude else None
            ranked: list[int] = order[t].tolist()
            if skip:
                ranked = [i for i in ranked if self.label_ids[i] not in skip]
            chosen = [i for i in ranked if passes[t, i]]
            if not chosen and at_least_one and ranked:
                chosen = ranked[:1]
            out.append(
                Suggestion(
                    labels=tuple(self.label_ids[i] for i in chosen),
                    scores=tuple(float(probs[t, i]) for i in chosen),
                    batch=batch,
                    row=t,
                )
            )
        return out

    def map_stream(
        self,
        records: Iterable[tuple[str, str]],
        *,
        batch_size: int = 1000,
        at_least_one: bool = False,
    ) -> Iterator[tuple[str, Suggestion]]:
        """(id, text) records in, (id, suggestion) out, one bounded batch at a time."""
        batch: list[tuple[str, str]] = []
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                yield from zip(
                    (i for i, _ in batch),
                    self.map([t for _, t in batch], at_least_one=at_least_one),
                    strict=True,
                )
                batch = []
        if batch:
            yield from zip(
                (i for i, _ in batch),
                self.map([t for _, t in batch], at_least_one=at_least_one),
                strict=True,
            )


# -- fitting --------------------------------------------------------------------------
def fit_model(
    features: NDArray[np.float64],
    gold: NDArray[np.bool_],
    label_ids: Sequence[str],
    *,
    method: Method,
    embedder: str,
    l2: float = 1e-2,
    min_positives: int = 5,
) -> CombinerModel:
    """Fit the shared weights, the isotonic calibration and the thresholds.

    ``features`` is (texts, labels, n_features) for ``method``; ``gold`` is (texts, labels).
    The calibration is fitted on cross-fitted scores (two halves, each scored by weights
    fitted on the other) so that it sees scores as they look on unseen texts.
    """
    n, k, f = features.shape
    x = features.reshape(n * k, f)
    y = gold.reshape(n * k).astype(np.float64)
    coef, intercept = fit_logistic(x, y, l2=l2)
    raw = np.empty(n)
    raw_all = np.empty((n, k))
    halves = np.arange(n) % 2
    for h in (0, 1):
        train, test = halves != h, halves == h
        w, b = fit_logistic(
            features[train].reshape(-1, f), gold[train].reshape(-1).astype(np.float64), l2=l2
        )
        raw_all[test] = sigmoid(features[test] @ w + b)
    del raw
    calibration = Isotonic.fit(raw_all.reshape(-1), y)
    probs = calibration(raw_all)
    grid = np.round(np.arange(0.1, 0.91, 0.05), 2)
    global_best, best_f1 = 0.5, -1.0
    for thr in grid:
        f1 = _f1(probs >= thr, gold)
        if f1 > best_f1 + 1e-12:
            global_best, best_f1 = float(thr), f1
    thresholds: dict[str, float] = {}
    for li, label in enumerate(label_ids):
        if int(gold[:, li].sum()) < min_positives:
            continue
        scores = [(_f1(probs[:, li] >= thr, gold[:, li]), -abs(thr - global_best)) for thr in grid]
        thresholds[label] = float(grid[max(range(len(grid)), key=lambda i: scores[i])])
    return CombinerModel(
        method=method,
        embedder=embedder,
        features=FEATURES[method],
        coef=tuple(float(c) for c in coef),
        intercept=intercept,
        calibration=calibration,
        threshold=global_best,
        thresholds=thresholds,
    )


def _f1(pred: NDArray[np.bool_], gold: NDArray[np.bool_]) -> float:
    tp = float(np.logical_and(pred, gold).sum())
    fp = float(np.logical_and(pred, ~gold).sum())
    fn = float(np.logical_and(~pred, gold).sum())
    return 2 * tp / max(1.0, 2 * tp + fp + fn)
