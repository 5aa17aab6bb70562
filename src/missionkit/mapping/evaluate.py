"""Held-out evaluation of the mapping methods on a labelled set (pure; no I/O but reading).

Cross-validation: the texts are split into folds; for each fold the combination,
calibration and thresholds are fitted on the other folds only (and, with
``with_examples``, the other folds' texts become the labels' confirmed examples), then the
fold is scored. Every figure is therefore on texts the fitted parts never saw.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from missionkit.mapping.calibrate import expected_calibration_error
from missionkit.mapping.embed import Embedder
from missionkit.mapping.mapper import FEATURES, METHODS, Mapper, Method, fit_model
from missionkit.mapping.taxonomy import Taxonomy


@dataclass(frozen=True)
class LabelledSet:
    ids: list[str]
    texts: list[str]
    gold: NDArray[np.bool_]  # (texts, labels)
    label_ids: list[str]
    batches: list[str]  # e.g. "first" / "fresh": when each text was labelled


def read_labelled_csv(path: Path, label_ids: Sequence[str], column: str = "sdgs") -> LabelledSet:
    """A CSV with ``id``, ``text`` and a ``;``-separated label column."""
    ids, texts, rows, batches = [], [], [], []
    known = set(label_ids)
    with path.open(encoding="utf-8", newline="") as f:
        for line, record in enumerate(csv.DictReader(f), start=2):
            labels = [x.strip() for x in record[column].split(";") if x.strip()]
            unknown = [x for x in labels if x not in known]
            if unknown or not labels:
                raise ValueError(f"{path}, line {line}: labels {record[column]!r} not usable")
            ids.append(record["id"])
            batches.append(record.get("batch") or "")
            texts.append(record["text"])
            rows.append([lb in labels for lb in label_ids])
    return LabelledSet(ids, texts, np.array(rows, dtype=bool), list(label_ids), batches)


def metrics(
    gold: NDArray[np.bool_],
    predicted: NDArray[np.bool_],
    ranking: NDArray[np.float64],
    label_ids: Sequence[str],
) -> dict[str, Any]:
    """Per-label and micro/macro precision, recall, F1; top-1 and exact-set accuracy."""
    per_label = {}
    for li, label in enumerate(label_ids):
        g, p = gold[:, li], predicted[:, li]
        tp = int((g & p).sum())
        fp = int((~g & p).sum())
        fn = int((g & ~p).sum())
        per_label[label] = _prf(tp, fp, fn) | {"support": int(g.sum())}
    tp = int((gold & predicted).sum())
    fp = int((~gold & predicted).sum())
    fn = int((gold & ~predicted).sum())
    supported = [v for v in per_label.values() if v["support"] > 0]
    top = ranking.argmax(axis=1)
    return {
        "per_label": per_label,
        "micro": _prf(tp, fp, fn),
        "macro": {
            k: float(np.mean([v[k] for v in supported])) for k in ("precision", "recall", "f1")
        },
        # Accuracy as the SDG benchmarks report it: is the best-ranked label a right one?
        "accuracy": float(gold[np.arange(len(gold)), top].mean()),
        "exact_set_accuracy": float((gold == predicted).all(axis=1).mean()),
    }


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def cross_validate(
    data: LabelledSet,
    taxonomy: Taxonomy,
    *,
    embedder: Embedder | None = None,
    folds: int = 5,
    seed: int = 0,
    repeats: int = 1,
    with_examples: bool = False,
    methods: Sequence[Method] = METHODS,
    report_batch: str | None = None,
    feature_sets: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Out-of-fold metrics and calibration for each method.

    With ``repeats`` > 1 the cross-validation runs with that many different fold splits
    and the out-of-fold results are pooled (every text is scored ``repeats`` times), which
    steadies the comparison of methods on a small set. ``report_batch`` restricts the
    reported figures to the texts of that batch (all texts still take part in fitting).
    ``feature_sets`` names other feature lists to combine on the same folds and features
    (e.g. a shipped model's older list, to compare before refitting it).
    """
    n = len(data.texts)
    shape = (repeats * n, len(data.label_ids))
    # Each result: (the method its fit stands for, the features it combines).
    runs: dict[str, tuple[Method, Sequence[str]]] = {m: (m, FEATURES[m]) for m in methods}
    runs |= {name: ("combined", names) for name, names in (feature_sets or {}).items()}
    probs = {m: np.zeros(shape) for m in runs}
    ranks = {m: np.zeros(shape) for m in runs}
    predicted = {m: np.zeros(shape, dtype=bool) for m in runs}
    gold = np.tile(data.gold, (repeats, 1))
    base_mapper = None
    splits: list[tuple[int, NDArray[np.bool_], NDArray[np.bool_]]] = []
    for r in range(repeats):
        fold_of = np.random.default_rng(seed + r).permutation(n) % folds
        splits.extend((r, fold_of != f, fold_of == f) for f in range(folds))
    for r, train, test in splits:
        rows = np.zeros(repeats * n, dtype=bool)
        rows[r * n : (r + 1) * n] = test
        if with_examples or base_mapper is None:
            tax = taxonomy
            if with_examples:
                tax = taxonomy.with_examples(
                    {
                        lb: [data.texts[i] for i in np.where(train & data.gold[:, li])[0]]
                        for li, lb in enumerate(data.label_ids)
                    }
                )
            base_mapper = Mapper(tax, method="combined", embedder=embedder)
            feats = base_mapper.features(data.texts)
        for m, (method, names) in runs.items():
            x = feats.select(names)
            model = fit_model(
                x[train], data.gold[train], data.label_ids, method=method, embedder="evaluation"
            )
            probs[m][rows] = model.probability(x[test])
            ranks[m][rows] = x[test] @ np.asarray(model.coef) + model.intercept
            thresholds = np.array([model.threshold_for(lb) for lb in data.label_ids])
            predicted[m][rows] = probs[m][rows] >= thresholds
    keep = np.ones(repeats * n, dtype=bool)
    if report_batch is not None:
        keep = np.tile(np.array([b == report_batch for b in data.batches]), repeats)
    out: dict[str, dict[str, Any]] = {}
    for m in runs:
        g, p = gold[keep], probs[m][keep]
        result = metrics(g, predicted[m][keep], ranks[m][keep], data.label_ids)
        result["calibration_error"] = expected_calibration_error(
            p.reshape(-1), g.reshape(-1).astype(np.float64)
        )
        result["reliability"] = reliability(p.reshape(-1), g.reshape(-1))
        result["texts"] = int(keep.sum() // repeats)
        out[m] = result
    return out


def reliability(probs: NDArray[np.float64], gold: NDArray[np.bool_]) -> list[dict[str, float]]:
    """Observed frequency of a right label per band of predicted score (for the docs)."""
    bands = []
    for low in np.arange(0.0, 1.0, 0.2):
        mask = (probs >= low) & (probs < low + 0.2 + (1e-9 if low >= 0.8 else 0))
        if mask.any():
            bands.append(
                {
                    "from": round(float(low), 1),
                    "to": round(float(low + 0.2), 1),
                    "pairs": int(mask.sum()),
                    "mean_score": float(probs[mask].mean()),
                    "observed": float(gold[mask].mean()),
                }
            )
    return bands
