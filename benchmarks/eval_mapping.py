"""How well does the mapping engine label texts with SDGs? Held-out figures per method.

Runs 5-fold cross-validation on the hand-labelled development set
(tests/data/mapping/sdg_dev.csv, see its SOURCE.md) for keyword-only, embedding-only and
combined, and prints precision / recall / F1 per SDG, micro and macro averages, top-1
accuracy and the calibration error. ``--write-model`` then fits each method on the whole
set and writes src/missionkit/reference/sdg/combiner.json (the shipped combination).

    .venv/bin/python benchmarks/eval_mapping.py
    .venv/bin/python benchmarks/eval_mapping.py --embedder minilm --json results.json
    .venv/bin/python benchmarks/eval_mapping.py --write-model
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from missionkit.mapping import METHODS, Mapper, fit_model, get_embedder, sdg_taxonomy
from missionkit.mapping.evaluate import cross_validate, read_labelled_csv

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = ROOT / "tests" / "data" / "mapping" / "sdg_dev.csv"
MODEL = ROOT / "src" / "missionkit" / "reference" / "sdg" / "combiner.json"


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


def write_model(embedder_kind: str) -> None:
    """Fit each method on the whole development set; merge into combiner.json."""
    # As shipped: the development set's texts are the goals' examples; a text is never
    # its own example (the mapper masks it), so these features are leave-one-out.
    taxonomy = sdg_taxonomy(with_examples=True)
    data = read_labelled_csv(DEV_SET, taxonomy.ids)
    embedder = get_embedder(embedder_kind)
    feats = Mapper(taxonomy, method="combined", embedder=embedder).features(data.texts)
    existing = json.loads(MODEL.read_text(encoding="utf-8")) if MODEL.is_file() else {}
    models = [m for m in existing.get("models", []) if m["embedder"] != embedder.name]
    for method in METHODS:
        model = fit_model(
            feats.select(method), data.gold, data.label_ids, method=method, embedder=embedder.name
        )
        models.append(model.to_dict())
    payload = {
        "about": "Fitted by benchmarks/eval_mapping.py --write-model on tests/data/mapping/"
        "sdg_dev.csv (this project's own hand-labelled set; see docs/mapping.md).",
        "models": models,
    }
    MODEL.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODEL}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="static", choices=["static", "minilm"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="different fold splits, pooled")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--write-model", action="store_true", help="refit combiner.json")
    args = parser.parse_args(argv)
    if args.write_model:
        write_model(args.embedder)
    # Without the shipped examples (they are this very set): each fold's examples come
    # from the other folds only.
    taxonomy = sdg_taxonomy(with_examples=False)
    data = read_labelled_csv(DEV_SET, taxonomy.ids)
    embedder = get_embedder(args.embedder)
    print(
        f"Development set: {len(data.texts)} texts, {int(data.gold.sum())} labels; "
        f"{args.folds}-fold cross-validation x {args.repeats} splits (seed {args.seed}); "
        f"embedder {embedder.name}\n"
    )
    all_results = {}
    runs = (
        ("all texts; prototypes: official texts only", False, None),
        ("fresh texts only (labelled after the queries were frozen)", False, "fresh"),
        ("all texts; prototypes: official texts + reviewed examples", True, None),
        ("fresh texts; prototypes: official texts + reviewed examples", True, "fresh"),
    )
    for name, examples, batch in runs:
        results = cross_validate(
            data, taxonomy, embedder=embedder, folds=args.folds, seed=args.seed,
            repeats=args.repeats, with_examples=examples, report_batch=batch,
        )  # fmt: skip
        all_results[name] = results
        texts = next(iter(results.values()))["texts"]
        print(f"## Held-out results: {name} ({texts} texts)\n")
        print(table(results, data.label_ids))
        print()
    if args.json:
        args.json.write_text(json.dumps(all_results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
