"""Learning from reviewers: accepted and rejected suggestions adjust later scores.

Per label, a tiny logistic model on three numbers — the mapper's own log-odds, the
text's best cosine to that label's accepted examples and to its rejected examples — is
fitted to the reviewers' decisions. Its weights are pulled toward (1, 0, 0), i.e. "trust
the mapper", so a handful of decisions nudge scores and many decisions can overrule
them. Nothing heavy is retrained; fitting takes microseconds per label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from missionkit.mapping.calibrate import fit_logistic, logit, sigmoid
from missionkit.mapping.embed import Matrix

PRIOR = np.array([1.0, 0.0, 0.0])


@dataclass(frozen=True)
class Decision:
    """A reviewer's verdict on one suggested (text, label) pair."""

    text: str
    label: str
    accepted: bool
    score: float  # the mapper's score when it was suggested


@dataclass
class _LabelModel:
    accepted: Matrix
    rejected: Matrix
    coef: NDArray[np.float64]
    intercept: float


@dataclass
class ReviewerModel:
    """Per-label adjustments learned from decisions; apply with `apply`."""

    labels: dict[str, _LabelModel] = field(default_factory=dict)
    strength: float = 4.0

    @classmethod
    def fit(
        cls,
        decisions: Sequence[Decision],
        embeddings: Matrix,
        *,
        strength: float = 4.0,
    ) -> ReviewerModel:
        """Fit from decisions and the embeddings of their texts (same order)."""
        model = cls(strength=strength)
        by_label: dict[str, list[int]] = {}
        for i, d in enumerate(decisions):
            by_label.setdefault(d.label, []).append(i)
        for label, rows in by_label.items():
            acc = np.array([decisions[i].accepted for i in rows])
            vectors = embeddings[rows]
            accepted, rejected = vectors[acc], vectors[~acc]
            # Leave-one-out similarities, so a decision does not explain itself.
            x = np.column_stack(
                [
                    logit(np.array([decisions[i].score for i in rows])),
                    _nearest(vectors, accepted, exclude_self=acc),
                    _nearest(vectors, rejected, exclude_self=~acc),
                ]
            )
            coef, intercept = fit_logistic(
                x,
                acc.astype(np.float64),
                l2=strength,
                prior=PRIOR,
                iterations=25,
                intercept_l2=strength,
            )
            model.labels[label] = _LabelModel(accepted, rejected, coef, intercept)
        return model

    def apply(
        self, probs: NDArray[np.float64], embeddings: Matrix, label_ids: Sequence[str]
    ) -> NDArray[np.float64]:
        """Adjusted (texts, labels) probabilities; labels without decisions are unchanged."""
        out = np.array(probs, dtype=np.float64, copy=True)
        for li, label in enumerate(label_ids):
            m = self.labels.get(label)
            if m is None:
                continue
            x = np.column_stack(
                [
                    logit(out[:, li]),
                    _nearest(embeddings, m.accepted),
                    _nearest(embeddings, m.rejected),
                ]
            )
            out[:, li] = sigmoid(x @ m.coef + m.intercept)
        return out


def _nearest(
    vectors: Matrix, examples: Matrix, exclude_self: NDArray[np.bool_] | None = None
) -> NDArray[np.float64]:
    """Best cosine of each vector to the examples (0 when there are none)."""
    if examples.shape[0] == 0:
        return np.zeros(vectors.shape[0])
    sims = (vectors @ examples.T).astype(np.float64)
    if exclude_self is not None:
        # Row i of `vectors` is example number (rank of i among the True rows).
        positions = np.cumsum(exclude_self) - 1
        for i in np.where(exclude_self)[0]:
            sims[i, positions[i]] = -np.inf
    best = sims.max(axis=1)
    return np.where(np.isfinite(best), best, 0.0)
