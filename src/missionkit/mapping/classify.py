"""A light supervised layer: a linear classifier trained on the labels' prototype texts.

Cosine to the nearest prototype treats every word of a label's texts alike; a classifier
learns which words and embedding directions tell the labels apart (e.g. "irrigation"
separates goal 2 from goal 6 although both mention water). It is a one-vs-rest linear
model on the centred static embedding plus TF-IDF of (lightly stemmed) words, fitted as
kernel ridge regression in its dual form: the prototypes number hundreds to a few
thousand, so one dense solve fits all labels at once, in milliseconds, with numpy only.

Ridge also gives exact leave-out predictions in closed form, which the mapper needs: a
text that is itself a confirmed example (the shipped SDG examples, reviewed activities
mapped again, fitting the combination on the development set) is scored as if its own
prototypes had not been in the training data, so its score is what an unseen text gets.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from missionkit.mapping.embed import Matrix

_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "which",
        "with",
        "will",
        "all",
        "also",
        "other",
        "such",
        "through",
        "including",
    ]
)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A crude English suffix strip so that 'farmers', 'farmer' and 'farming' meet."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def terms(tokens: Sequence[str]) -> list[str]:
    """Stemmed content words of a text's tokens (numbers and stop words dropped)."""
    return [stem(w) for w in tokens if len(w) > 2 and w not in _STOP and not w.isdigit()]


class PrototypeClassifier:
    """One-vs-rest kernel ridge on [embedding, TF-IDF] of the prototypes.

    ``owner[j]`` is the label of prototype ``j``. ``l2`` is the ridge penalty;
    ``word_weight`` scales the TF-IDF part of the kernel against the embedding part.

    ``balance`` evens out how many prototypes each label has. With one-hot targets a
    label's output grows with its number of prototypes (a prior: the SDGs have 13 to 46
    prototypes per goal from the official texts and queries, and the shipped examples
    add 0 to 95 more, 95 for goal 16 alone), which pulls text unlike the examples toward
    the labels that happen to have many. Label ``l``'s targets are scaled by
    ``(mean count / count_l) ** balance``: 0 is plain one-hot, 1 divides the prior out
    entirely, 0.5 (the square root) halves it in log terms. The ridge solution is linear
    in the targets, so this is the same as scaling each label's output column by that
    factor (``label_scale``), leave-out predictions included.
    """

    def __init__(
        self,
        embeddings: Matrix,
        tokens: Sequence[Sequence[str]],
        owner: NDArray[np.int64],
        n_labels: int,
        *,
        l2: float = 1.0,
        word_weight: float = 1.0,
        balance: float = 0.5,
    ) -> None:
        from scipy.linalg import cho_factor, cho_solve  # here: the keyword path needs no scipy

        n = len(tokens)
        self.word_weight = word_weight
        docs = [Counter(terms(t)) for t in tokens]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        self.vocab = {w: i for i, w in enumerate(sorted(df))}
        self.idf = np.array(
            [math.log((1 + n) / (1 + df[w])) + 1.0 for w in sorted(df)], dtype=np.float64
        )
        words = self._tfidf(docs)
        emb = np.asarray(embeddings, dtype=np.float64)
        kernel = emb @ emb.T + word_weight * (words @ words.T).toarray()
        counts = np.bincount(owner, minlength=n_labels).astype(np.float64)
        present = counts > 0
        scale = np.ones(n_labels)
        scale[present] = (counts[present].mean() / counts[present]) ** balance
        self.label_scale = scale  # per label: its targets' value, its outputs' factor
        targets = np.zeros((n, n_labels))
        targets[np.arange(n), owner] = scale[owner]
        self.targets = targets
        self.l2 = l2
        # K + l2 I is positive definite: one Cholesky factorisation (a third of an inverse)
        # gives the dual weights now and columns of the inverse later, only for the few
        # prototypes that a mapped text turns out to be.
        self.factor = cho_factor(kernel + l2 * np.eye(n), lower=True)
        dual = cho_solve(self.factor, targets)  # (prototypes, labels)
        self.fitted = kernel @ dual
        self.w_emb = (emb.T @ dual).astype(np.float32)  # (dim, labels)
        self.w_words = np.asarray(words.T @ dual)  # (vocabulary, labels)

    def _tfidf(self, docs: Sequence[Mapping[str, int]]) -> Any:
        """L2-normalised TF-IDF rows (a scipy CSR matrix) over the prototypes' vocabulary."""
        from scipy.sparse import csr_matrix

        rows, cols, vals = [], [], []
        for r, d in enumerate(docs):
            for w, c in d.items():
                i = self.vocab.get(w)
                if i is not None:
                    rows.append(r)
                    cols.append(i)
                    vals.append((1.0 + math.log(c)) * self.idf[i])
        m = csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.vocab)))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        scale = 1.0 / np.maximum(norms, 1e-12)
        return csr_matrix(m.multiply(scale[:, None]))

    def scores(
        self,
        embeddings: Matrix,
        tokens: Sequence[Sequence[str]],
        held_out: Sequence[Sequence[int]] = (),
    ) -> NDArray[np.float64]:
        """(texts, labels) classifier outputs (about ``label_scale`` for the right label,
        0 otherwise).

        ``held_out[t]`` lists the prototypes that are text ``t`` itself; those are left
        out of the fit for that text (exact leave-group-out, no refitting).
        """
        words = self._tfidf([Counter(terms(t)) for t in tokens])
        out = np.asarray(embeddings, dtype=np.float64) @ self.w_emb
        out += self.word_weight * np.asarray(words @ self.w_words)
        for t, group in enumerate(held_out):
            if group:
                out[t] = self.left_out(list(group))
        return np.asarray(out, dtype=np.float64)

    def left_out(self, group: list[int]) -> NDArray[np.float64]:
        """The prediction at prototypes ``group`` by the model fitted without them.

        Ridge identity: the residuals left out equal (I - H_GG)^-1 times the fitted
        residuals, and I - H = l2 * (K + l2 I)^-1.
        """
        y = self.targets[group]
        residual = y - self.fitted[group]
        unit = np.zeros((len(self.targets), len(group)))
        unit[group, np.arange(len(group))] = 1.0
        from scipy.linalg import cho_solve

        block = self.l2 * cho_solve(self.factor, unit)[group]  # l2 * (K + l2 I)^-1 [G, G]
        return np.asarray((y - np.linalg.solve(block, residual))[0], dtype=np.float64)
