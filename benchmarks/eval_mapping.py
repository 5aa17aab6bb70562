"""How well does the mapping engine label texts with SDGs? Held-out figures per method.

Runs 5-fold cross-validation on the hand-labelled development set
(tests/data/mapping/sdg_dev.csv, see its SOURCE.md) for keyword-only, embedding-only and
combined, and prints precision / recall / F1 per SDG, micro and macro averages, top-1
accuracy and the calibration error. ``--write-model`` then fits each method on the whole
set and writes src/missionkit/reference/sdg/combiner.json (the shipped combination), after
copying the development set to reference/sdg/examples.csv (the shipped examples).

It also maps the official indicator texts (tests/data/mapping/sdg_indicators.csv: report
language, labelled by the UN numbering, not by this project) with the shipped models, each
indicator with its own target's indicators left out of the prototypes: a check on text
unlike the funders' project texts that the development set holds.

    .venv/bin/python benchmarks/eval_mapping.py
    .venv/bin/python benchmarks/eval_mapping.py --embedder minilm --json results.json
    .venv/bin/python benchmarks/eval_mapping.py --write-model
    # a newly labelled batch, before anything is fitted on it: the honest figure
    .venv/bin/python benchmarks/eval_mapping.py --shipped-on new-batch.csv
    # the MiniLM extra only: its models in combiner.json, nothing else
    .venv/bin/python benchmarks/eval_mapping.py --embedder minilm --compare-shipped \\
        --write-model --model-only
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from missionkit.mapping import (
    METHODS,
    Mapper,
    fit_model,
    get_embedder,
    sdg_taxonomy,
    shipped_model,
)
from missionkit.mapping.embed import Embedder
from missionkit.mapping.evaluate import cross_validate, metrics, read_labelled_csv
from missionkit.mapping.mapper import FEATURES

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = ROOT / "tests" / "data" / "mapping" / "sdg_dev.csv"
INDICATORS = ROOT / "tests" / "data" / "mapping" / "sdg_indicators.csv"
MODEL = ROOT / "src" / "missionkit" / "reference" / "sdg" / "combiner.json"
EXAMPLES = ROOT / "src" / "missionkit" / "reference" / "sdg" / "examples.csv"


def table(results: dict[str, dict[str, Any]], label_ids: list[str]) -> str:
    lines = ["| SDG | n | " + " | ".join(f"{m} P / R / F1" for m in results) + " |"]
    lines.append("|---|---|" + "---|" * len(results))
    for label in label_ids:
        support = next(iter(results.values()))["per_label"][label]["support"]
        cells = []
        for r in results.values():
            v = r["per_label"][label]
            cells.append(f"{v['precision']:.2f} / {v['recall']:.2f} / {v['f1']:.2f}")
        lines.append(f"| {label} | {support} | " + " | ".join(cells) + " |")
    for avg in ("micro", "macro"):
        cells = [
            f"{r[avg]['precision']:.3f} / {r[avg]['recall']:.3f} / {r[avg]['f1']:.3f}"
            for r in results.values()
        ]
        lines.append(f"| **{avg}** | | " + " | ".join(cells) + " |")
    lines.append(
        "| **top-1 accuracy** | | " + " | ".join(f"{r['accuracy']:.3f}" for r in results.values())
    )
    lines.append(
        "| **calibration error** | | "
        + " | ".join(f"{r['calibration_error']:.3f}" for r in results.values())
    )
    return "\n".join(lines)


def write_model(embedder: Embedder, *, model_only: bool = False) -> None:
    """Fit each method on the whole development set; merge into combiner.json.

    Without ``model_only`` the development set is first copied to examples.csv (the
    shipped examples). Either way only this embedder's models are replaced, in place, so
    the other embedders' entries stay byte for byte as they were. ``model_only`` leaves
    examples.csv untouched: refitting the MiniLM extra must not move the default path.
    """
    if not model_only:
        with DEV_SET.open(encoding="utf-8", newline="") as f:
            rows = [(r["id"], r["text"], r["sdgs"]) for r in csv.DictReader(f)]
        with EXAMPLES.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["id", "text", "sdgs"])
            writer.writerows(rows)
        sdg_taxonomy.cache_clear()
    # As shipped: the development set's texts are the goals' examples; a text is never
    # its own example (the mapper masks it), so these features are leave-one-out.
    taxonomy = sdg_taxonomy(with_examples=True)
    data = read_labelled_csv(DEV_SET, taxonomy.ids)
    feats = Mapper(taxonomy, method="combined", embedder=embedder).features(data.texts)
    fitted = {
        method: fit_model(
            feats.select(method), data.gold, data.label_ids, method=method, embedder=embedder.name
        ).to_dict()
        for method in METHODS
    }
    existing = json.loads(MODEL.read_text(encoding="utf-8")) if MODEL.is_file() else {}
    models: list[dict[str, Any]] = []
    for m in existing.get("models", []):
        if m["embedder"] != embedder.name:
            models.append(m)
        elif m["method"] in fitted:
            models.append(fitted.pop(m["method"]))  # same place in the file
    models.extend(fitted.values())  # methods this embedder had no model for yet
    payload = {
        "about": existing.get(
            "about",
            "Fitted by benchmarks/eval_mapping.py --write-model on tests/data/mapping/"
            "sdg_dev.csv (this project's own hand-labelled set; see docs/mapping.md).",
        ),
        "models": models,
    }
    MODEL.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODEL}", file=sys.stderr)


class CachedEmbedder:
    """An embedder that encodes each distinct text once.

    Cross-validation with examples builds a mapper per fold, which re-encodes the same
    ~1,300 prototype and development texts each time: free for the static table, minutes
    per fold for MiniLM on a CPU. Vectors are per text, so caching changes no figure.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.vectors: dict[str, NDArray[np.float32]] = {}

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            for text, vector in zip(missing, self.inner.encode(missing), strict=True):
                self.vectors[text] = vector
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.vectors[text]
        return out


def indicator_check(embedder: Embedder) -> dict[str, dict[str, float]]:
    """Top-1 accuracy and micro-F1 of the shipped models on the indicator texts.

    Each target's indicators are mapped by a taxonomy without that target's indicators
    (leave-target-out), so no indicator is compared with its own text.
    """
    full = sdg_taxonomy()
    data = read_labelled_csv(INDICATORS, full.ids)
    by_target: dict[str, list[int]] = {}
    for i, ident in enumerate(data.ids):
        for target in {x.rsplit(".", 1)[0] for x in ident.split(";")}:
            by_target.setdefault(target, []).append(i)
    hits = {m: np.zeros(len(data.texts), dtype=bool) for m in METHODS}
    chosen = {m: np.zeros(data.gold.shape, dtype=bool) for m in METHODS}
    done: set[int] = set()
    for _target, rows in sorted(by_target.items()):
        rows = [i for i in rows if i not in done]  # a repeated indicator: with all its targets
        if not rows:
            continue
        done.update(rows)
        targets = {x.rsplit(".", 1)[0] for i in rows for x in data.ids[i].split(";")}
        # One mapper's features serve all three methods' shipped models.
        mapper = Mapper(sdg_taxonomy(leave_out=frozenset(targets)), embedder=embedder)
        feats = mapper.features([data.texts[i] for i in rows])
        for method in METHODS:
            model = shipped_model(method, embedder.name)
            x = feats.select(model.features)
            probs = model.probability(x)
            raw = x @ np.asarray(model.coef)
            thresholds = np.array([model.threshold_for(lb) for lb in data.label_ids])
            for k, i in enumerate(rows):
                best = int(np.lexsort((-raw[k], -probs[k]))[0])
                hits[method][i] = data.gold[i, best]
                chosen[method][i] = probs[k] >= thresholds
                chosen[method][i, best] = True  # at least one label, as the CLI maps
    out: dict[str, dict[str, float]] = {}
    for method in METHODS:
        tp = int((chosen[method] & data.gold).sum())
        wrong = int((chosen[method] ^ data.gold).sum())
        out[method] = {
            "accuracy": float(hits[method].mean()),
            "micro_f1": 2 * tp / max(1, 2 * tp + wrong),
            "texts": len(data.texts),
        }
    return out


def shipped_check(path: Path, embedder: Embedder) -> dict[str, dict[str, Any]]:
    """The shipped engine as users get it (examples included) on a labelled CSV it never saw.

    The protocol for a new batch: label it, run this before anything is refitted with it
    (the honest figure), then add it to the development set.
    """
    taxonomy = sdg_taxonomy()
    data = read_labelled_csv(path, taxonomy.ids)
    out: dict[str, dict[str, Any]] = {}
    for method in METHODS:
        mapper = Mapper(taxonomy, method=method, embedder=embedder)
        chosen = np.zeros(data.gold.shape, dtype=bool)
        ranking = np.zeros(data.gold.shape)
        for i, s in enumerate(mapper.map(data.texts, at_least_one=True)):
            for label in s.labels:
                chosen[i, data.label_ids.index(label)] = True
            for rank, score in enumerate(s.ranked):
                ranking[i, data.label_ids.index(score.label)] = len(data.label_ids) - rank
        out[method] = metrics(data.gold, chosen, ranking, data.label_ids) | {
            "texts": len(data.texts)
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="static", choices=["static", "minilm"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="different fold splits, pooled")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--write-model", action="store_true", help="refit combiner.json")
    parser.add_argument(
        "--model-only",
        action="store_true",
        help="with --write-model: replace only this embedder's models; leave examples.csv",
    )
    parser.add_argument(
        "--compare-shipped",
        action="store_true",
        help="also cross-validate the shipped model's own feature list on the same folds",
    )
    parser.add_argument(
        "--shipped-on",
        type=Path,
        metavar="CSV",
        help="only map this labelled CSV (id,source,text,sdgs,batch) with the shipped engine",
    )
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(get_embedder(args.embedder))
    if args.shipped_on:
        found = shipped_check(args.shipped_on, embedder)
        print(f"## Shipped engine on {args.shipped_on} ({found['combined']['texts']} texts)\n")
        print("| method | top-1 accuracy | micro F1 | macro F1 |\n|---|---|---|---|")
        for method, r in found.items():
            print(
                f"| {method} | {r['accuracy']:.3f} | {r['micro']['f1']:.3f} | "
                f"{r['macro']['f1']:.3f} |"
            )
        if args.json:
            args.json.write_text(json.dumps(found, indent=1), encoding="utf-8")
        return 0
    # Read from the file before any refit (shipped_model would cache the old file for the
    # indicator check below): the feature list the shipped combination was fitted with.
    shipped = json.loads(MODEL.read_text(encoding="utf-8"))["models"]
    name = embedder.name
    shipped_features = next(
        (
            m["features"]
            for m in shipped
            if m["embedder"] == embedder.name and m["method"] == "combined"
        ),
        list(FEATURES["combined"]),
    )
    if args.write_model:
        write_model(embedder, model_only=args.model_only)
    # Without the shipped examples (they are this very set): each fold's examples come
    # from the other folds only.
    taxonomy = sdg_taxonomy(with_examples=False)
    data = read_labelled_csv(DEV_SET, taxonomy.ids)
    print(
        f"Development set: {len(data.texts)} texts, {int(data.gold.sum())} labels; "
        f"{args.folds}-fold cross-validation x {args.repeats} splits (seed {args.seed}); "
        f"embedder {embedder.name}\n"
    )
    all_results: dict[str, Any] = {}
    # Each batch was labelled after the engine it measures had been frozen (SOURCE.md):
    # "fresh" after the first queries, "fresh2" after the classifier, "fresh3" in session 4.
    batches = [b for b in ("fresh", "fresh2", "fresh3") if b in data.batches]
    runs = [
        (
            f"{'all texts' if batch is None else f'batch {batch}'}; prototypes: official texts"
            + (" + reviewed examples" if examples else " only"),
            examples,
            batch,
        )
        for examples in (False, True)
        for batch in (None, *batches)
    ]
    for name, examples, batch in runs:
        shipped_set = {"shipped": shipped_features} if args.compare_shipped else None
        results = cross_validate(
            data, taxonomy, embedder=embedder, folds=args.folds, seed=args.seed,
            repeats=args.repeats, with_examples=examples, report_batch=batch,
            feature_sets=shipped_set,
        )  # fmt: skip
        old = results.pop("shipped", None)
        all_results[name] = results
        texts = next(iter(results.values()))["texts"]
        print(f"## Held-out results: {name} ({texts} texts)\n")
        print(table(results, data.label_ids))
        print()
        if old is not None:
            all_results[f"{name}; shipped combination's features"] = old
            new = results["combined"]
            print(
                f"Combination over the shipped model's features ({', '.join(shipped_features)}),"
                f" same folds: micro F1 {old['micro']['f1']:.3f}, macro F1 "
                f"{old['macro']['f1']:.3f}, top-1 {old['accuracy']:.3f}, calibration error "
                f"{old['calibration_error']:.3f} (current combination: {new['micro']['f1']:.3f}"
                f", {new['macro']['f1']:.3f}, {new['accuracy']:.3f})\n"
            )
    check = indicator_check(embedder)
    all_results["indicators, leave-target-out, shipped models"] = check
    print(
        "## Official indicator texts, each without its own target's indicators (shipped models)\n"
    )
    print("| method | top-1 accuracy | micro F1 |\n|---|---|---|")
    for method, v in check.items():
        print(f"| {method} | {v['accuracy']:.3f} | {v['micro_f1']:.3f} |")
    print(f"\n({next(iter(check.values()))['texts']} distinct indicator texts)")
    if args.json:
        args.json.write_text(json.dumps(all_results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
